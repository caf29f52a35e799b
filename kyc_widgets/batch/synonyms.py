"""The words core-banking and CRM exports use for the API's fields and enum members.

One table each, in one place, so :func:`~.mapping.suggest_mapping`, the
header-row detection of :mod:`.reading` and the docs agree. Keys are the
*fields* (or members) of :class:`~kyc_widgets.models.KycCaseCreateInput`;
phrases are compared after :func:`phrase` (lower case, punctuation as
spaces), so ``"Customer No."`` and ``"customer_no"`` are the same phrase.

Add a phrase here when a real export uses it; a phrase must mean one field
only (a test checks that no phrase is listed twice).
"""

from __future__ import annotations

import re

__all__ = ["HEADER_SYNONYMS", "VALUE_SYNONYMS", "phrase"]

HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "legal_first_name": (
        "first name", "firstname", "forename", "forenames", "given name", "given names",
        "fname", "christian name", "customer first name", "client first name", "prenom",
    ),
    "legal_last_name": (
        "last name", "lastname", "surname", "family name", "lname",
        "customer surname", "client surname", "customer last name", "nom",
    ),
    "user_internal_id": (
        "customer id", "customer no", "customer number", "customer ref", "customer reference",
        "client id", "client no", "client number", "client reference", "cif", "cif number",
        "cif no", "party id", "party number", "contact id", "crm id", "user id", "account id",
        "customer code", "client code",
    ),
    "user_type": (
        "customer type", "client type", "party type", "customer category", "client category",
        "role", "party role", "customer role", "subject type",
    ),
    "relationship_type": (
        "review reason", "review type", "reason", "case reason", "case type", "trigger",
        "review trigger", "relationship", "reason for review",
    ),
    "current_status": ("status", "case status", "initial status", "start status"),
    "case_priority": ("priority", "urgency", "case urgency", "sla priority"),
    "agency_name": ("agency", "operating agency", "outsourcer", "vendor"),
    "regulated_provider_name": (
        "provider", "regulated provider", "regulated entity", "legal entity", "bank",
        "brand", "entity",
    ),
    "programme_name": ("programme", "program", "product", "product name", "scheme"),
    "country_of_onboarding": (
        "country", "country code", "onboarding country", "booking country", "jurisdiction",
    ),
    "assigned_team": ("team", "queue", "work queue", "owning team", "team name", "unit"),
    "assigned_analyst_name": ("analyst", "analyst name", "case owner", "owner", "assigned to"),
    "assigned_analyst_email": (
        "analyst email", "analyst e mail", "owner email", "case owner email", "assigned to email",
    ),
    "kyc_case_id": ("case id", "case ref", "case reference", "case number", "external id"),
}
"""Field -> header phrases that mean it in exports (besides its name and title)."""

VALUE_SYNONYMS: dict[str, dict[str, str]] = {
    "relationship_type": {
        "periodic review": "KYC_REFRESH",
        "periodic refresh": "KYC_REFRESH",
        "refresh": "KYC_REFRESH",
        "kyc review": "KYC_REFRESH",
        "scheduled review": "KYC_REFRESH",
        "new customer": "NEW_ONBOARDING",
        "new client": "NEW_ONBOARDING",
        "onboarding": "NEW_ONBOARDING",
        "back book": "REMEDIATION",
        "backbook": "REMEDIATION",
        "back book remediation": "REMEDIATION",
        "credit limit increase": "LIMIT_INCREASE",
        "dormant reactivation": "REACTIVATION",
        "reactivated": "REACTIVATION",
    },
    "user_type": {
        "private individual": "INDIVIDUAL",
        "natural person": "INDIVIDUAL",
        "person": "INDIVIDUAL",
        "retail": "INDIVIDUAL",
        "consumer": "INDIVIDUAL",
        "sole proprietor": "SOLE_TRADER",
        "self employed": "SOLE_TRADER",
        "director": "LEGAL_REPRESENTATIVE",
        "authorised signatory": "LEGAL_REPRESENTATIVE",
        "legal rep": "LEGAL_REPRESENTATIVE",
        "ubo": "BENEFICIAL_OWNER",
        "ultimate beneficial owner": "BENEFICIAL_OWNER",
    },
    "case_priority": {
        "p1": "URGENT",
        "p2": "HIGH",
        "p3": "NORMAL",
        "p4": "LOW",
        "critical": "URGENT",
        "medium": "NORMAL",
        "standard": "NORMAL",
    },
    "current_status": {
        "new": "DRAFT",
        "awaiting customer": "WAITING_FOR_CUSTOMER",
        "on hold": "SUSPENDED",
    },
}
"""Enum field -> {phrase -> member}: the vocabularies of exports (P1..P4 is the usual
incident-priority scale, P1 the most urgent)."""

_NOT_WORD = re.compile(r"[\W_]+")


def phrase(text: object) -> str:
    """``" Customer No. * "`` -> ``"customer no"``: how headers and values are compared.

    A trailing ``*`` (the template's required marker) and ``(required)`` are dropped.
    """
    cleaned = str(text).strip().casefold()
    cleaned = cleaned.removesuffix("(required)").rstrip().rstrip("*")
    return _NOT_WORD.sub(" ", cleaned).strip()
