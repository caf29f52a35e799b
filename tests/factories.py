"""Synthetic test data (made-up people only, never anything real) and a cancel on cue.

Import from tests with ``from factories import valid_case_input`` (pytest puts
``tests/`` on ``sys.path`` because it is not a package).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from kyc_widgets.sandbox import Sandbox

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


def lovelace_case_input(**overrides: Any) -> dict[str, Any]:
    """A fixed create body (Ada Lovelace, high priority, no analyst): one known case.

    For tests that read the values back (escaping, grouping, hostile text); unlike
    ``valid_case_input`` every call is the same person. Fields in ``overrides`` win.
    """
    return synthetic_case_input(
        **{
            "legal_first_name": "Ada",
            "legal_last_name": "Lovelace",
            "user_internal_id": "000123",
            "case_priority": "HIGH",
            "agency_name": "North Agency",
            "programme_name": "Current account",
            "assigned_team": "Onboarding A",
            **overrides,
        }
    )


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


def clean_sheet(tmp_path: Path, n: int = 4, *, prefix: str = "C") -> Path:
    """``clean.csv`` in ``tmp_path``: ``n`` valid remediation rows, all surnamed "Li"."""
    path = tmp_path / "clean.csv"
    frame = campaign_frame(n, prefix=prefix, relationship_type="remediation", legal_last_name="Li")
    frame.to_csv(path, index=False)
    return path


CORE_BANKING_CONSTANTS: dict[str, str] = {
    "agency_name": "Agency One",
    "regulated_provider_name": "Provider Ltd",
    "programme_name": "Cards",
    "assigned_team": "Refresh team",
}
"""The columns a core-banking export leaves out: the same for the whole campaign."""


def core_banking_frame(n: int = 6) -> pd.DataFrame:
    """A sheet shaped like a core-banking export: its own headers, its own vocabulary,
    no agency/provider/programme/team columns, and a column the API does not use."""
    import pandas as pd

    first = ["Zoë", "李", "Ólafur", "Андрей", "Søren", "Ngọc"]
    last = ["Müller", "王", "Jónsson", "Иванов", "Kierkegård", "Nguyễn"]
    kinds = ["Private individual", "Sole proprietor"]
    reasons = ["Periodic review", "Backbook", "periodic review"]
    priorities = ["P1", "P2", "P3", "P4"]
    return pd.DataFrame(
        {
            "Customer No": [f"{i:012d}" for i in range(1, n + 1)],
            "Forename": [first[i % len(first)] for i in range(n)],
            "Surname": [last[i % len(last)] for i in range(n)],
            "Customer type": [kinds[i % len(kinds)] for i in range(n)],
            "Review reason": [reasons[i % len(reasons)] for i in range(n)],
            "Priority": [priorities[i % len(priorities)] for i in range(n)],
            "Country": "GB",
            "Branch": "Leeds",
        }
    )


ADA_EXAMPLE: dict[str, Any] = synthetic_case_input(
    legal_first_name="Ada",
    legal_last_name="Example",
    user_internal_id="000417",
    relationship_type="KYC_REFRESH",
    agency_name="Northwind Compliance Services",
    programme_name="Everyday Current Account",
    assigned_team="Periodic Review",
)
"""One fixed person as a create body (contract values): the desk's and the browser's case.

The same person the browser tests type into the form by label (``browser_helpers.PERSON``).
Spread it (``{**ADA_EXAMPLE, ...}``) rather than changing it: it is shared.
"""


@contextlib.contextmanager
def cancel_when(
    sandbox: Sandbox, requests: int, **match: Any
) -> Iterator[tuple[threading.Event, list[int]]]:
    """A cancel that fires once the sandbox has counted ``requests`` requests like ``match``.

    Yields the event (for ``batch_create(..., cancel=...)``) and a list that receives the
    request count at the moment of the cancel, to compare with the count at the end.
    The watching thread is joined when the block ends.
    """
    cancel = threading.Event()
    count_at_cancel: list[int] = []

    def cancel_once_reached() -> None:
        while sandbox.request_count(**match) < requests:
            time.sleep(0.01)
        count_at_cancel.append(sandbox.request_count(**match))
        cancel.set()

    watcher = threading.Thread(target=cancel_once_reached, daemon=True)
    watcher.start()
    try:
        yield cancel, count_at_cancel
    finally:
        watcher.join()
