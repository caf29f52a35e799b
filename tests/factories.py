"""Synthetic test data: made-up people only, never anything real.

Import from tests with ``from factories import valid_case_input`` (pytest puts
``tests/`` on ``sys.path`` because it is not a package).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from kyc_widgets.sandbox.examples import synthetic_case_input

_serial = itertools.count(1)


def valid_case_input(**overrides: Any) -> dict[str, Any]:
    """A valid create body; each call gets a distinct ``user_internal_id``.

    Pass ``kyc_case_id=...`` to own the external id, or any field to override.
    """
    n = next(_serial)
    data = synthetic_case_input(
        legal_first_name="Testa",
        legal_last_name=f"Person{n:05d}",
        user_internal_id=f"U-{n:06d}",
        assigned_analyst_name="Sam Analyst",
        assigned_analyst_email="sam.analyst@example.org",
    )
    data.update(overrides)
    return data


def campaign_frame(
    n: int,
    *,
    prefix: str = "U",
    relationship_type: str = "kyc refresh",
    legal_last_name: str = "Ólafsdóttir",
) -> pd.DataFrame:
    """``n`` valid spreadsheet rows as people type them (lower-case enums), without ids."""
    import pandas as pd

    return pd.DataFrame(
        {
            "legal_first_name": [f"Testa{i}" for i in range(n)],
            "legal_last_name": legal_last_name,
            "user_internal_id": [f"{prefix}{i:05d}" for i in range(n)],
            "user_type": "individual",
            "relationship_type": relationship_type,
            "case_priority": "normal",
            "agency_name": "Agency",
            "regulated_provider_name": "Provider",
            "programme_name": "Cards",
            "country_of_onboarding": "GB",
            "assigned_team": "Team",
        }
    )
