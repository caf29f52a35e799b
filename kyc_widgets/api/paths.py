"""Where the KYC API lives: its paths, and whether a host is this machine.

Defined once here because the client and the sandbox must agree on them; the
sandbox imports this module (it may use ``kyc_widgets.api``, never the widgets).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import quote

__all__ = ["CASES_PATH", "CASE_PATH_TEMPLATE", "case_path", "is_loopback_host"]

CASES_PATH = "/api/v1/kyc-cases"
"""Create (POST) a case."""

CASE_PATH_TEMPLATE = CASES_PATH + "/{case_id}"
"""Read (GET) one case; also what logs show instead of a real case URL (a case id is regulated data)."""


def case_path(kyc_case_id: str) -> str:
    """The path of one case, its id percent-encoded (an id may contain ``/`` or spaces)."""
    return CASE_PATH_TEMPLATE.format(case_id=quote(kyc_case_id, safe=""))


def is_loopback_host(host: str) -> bool:
    """True for names and addresses that never leave this machine.

    ``localhost`` and its ``*.localhost`` sub-names (RFC 6761), the common
    ``localhost.localdomain`` alias, and loopback addresses (127.0.0.0/8,
    ``::1``, with or without URL brackets). Used to decide where plain
    ``http://`` may carry a token and where the sandbox may listen without
    ``--allow-remote``.
    """
    name = host.strip().lower().rstrip(".")
    if name in ("localhost", "localhost.localdomain") or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False
