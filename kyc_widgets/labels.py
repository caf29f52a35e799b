"""Words for identifiers: ``KYC_REFRESH`` -> "KYC refresh", ``kyc_case_id`` -> "KYC case ID".

One function, so the form's labels and options, the workspace panel and the
batch report all read the same way. Acronyms stay upper-case: "Kyc refresh"
reads as a typo to a compliance analyst.
"""

from __future__ import annotations

__all__ = ["ACRONYMS", "words"]

ACRONYMS: frozenset[str] = frozenset({"kyc", "id", "api", "url", "http", "aml", "pep", "vat", "uk", "eu"})


def words(identifier: str) -> str:
    """A constant or field name as a short phrase: sentence case, acronyms kept."""
    parts = identifier.replace("_", " ").split()
    out = [p.upper() if p.lower() in ACRONYMS else p.lower() for p in parts]
    if out and out[0].lower() not in ACRONYMS:
        out[0] = out[0].capitalize()
    return " ".join(out) or identifier
