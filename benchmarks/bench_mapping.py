"""Pre-flight speed with a campaign mapping applied, against the same sheet without one.

Run: ``.venv/bin/python benchmarks/bench_mapping.py [--rows 100000]``

Two frames holding the same cases, measured in the same run:

- *without a mapping*: headers are field names, the campaign's agency,
  provider, programme and team are columns, enums are spelled as members;
- *with a mapping*: a core-banking export of the same rows (its own headers,
  no constant columns, its own vocabulary: "Periodic review", "P1"...) and a
  :class:`~kyc_widgets.batch.mapping.CampaignMapping` that translates it.

Both must give the same counts. Prints CPU seconds (``time.process_time``:
on a shared machine, wall time mostly measures the neighbours), rows per
second and the ratio (the target: within 1.20, i.e. a mapping costs at most
20 %), best of ``--repeat`` runs, the two alternating.
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

import pandas as pd
from bench_preflight import messy_frame

from kyc_widgets.batch import CampaignMapping, preflight

CONSTANTS = {
    "agency_name": "Agency One",
    "regulated_provider_name": "Provider Ltd",
    "programme_name": "Cards",
    "assigned_team": "Refresh team",
}
HEADERS = {
    "Legal first name": "Forename",
    "legal_last_name": "Surname",
    "user_internal_id": "Customer No",
    "user_type": "Customer type",
    "relationship_type": "Review reason",
    "current_status": "Case status",
    "case_priority": "Priority",
    "country_of_onboarding": "Country",
    "assigned_analyst_email": "Analyst e-mail",
    "Notes": "Branch notes",
}
VOCABULARY = {
    "user_type": {"individual": "Private individual", "Sole trader": "Sole proprietor",
                  "BENEFICIAL_OWNER": "UBO"},
    "relationship_type": {"kyc refresh": "Periodic review", "Remediation": "Backbook",
                          "kyc-refresh": "periodic review"},
    "case_priority": {"normal": "P3", "HIGH": "P2", "low": "P4"},
}


def frames(n: int) -> tuple[pd.DataFrame, pd.DataFrame, CampaignMapping]:
    plain = messy_frame(n).assign(**CONSTANTS)
    export = plain.drop(columns=list(CONSTANTS))
    for column, table in VOCABULARY.items():
        export[column] = export[column].replace(table)
    export = export.rename(columns=HEADERS)
    values = {
        field: {sheet: _member(typed) for typed, sheet in table.items()}
        for field, table in VOCABULARY.items()
    }
    mapping = CampaignMapping(
        columns={sheet: (None if header == "Notes" else _field(header)) for header, sheet in HEADERS.items()},
        constants=CONSTANTS,
        values=values,
    )
    return plain, export, mapping


def _member(typed: str) -> str:
    return typed.strip().upper().replace(" ", "_").replace("-", "_")


def _field(header: str) -> str:
    return header.lower().replace(" ", "_")


def best_of(repeat: int, func: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        gc.collect()
        started = time.process_time()
        result = func(*args, **kwargs)
        best = min(best, time.process_time() - started)
    return result, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="best of N, alternating the two")
    args = parser.parse_args()
    n = args.rows
    plain, export, mapping = frames(n)
    preflight(plain.head(100), campaign="warm-up")
    preflight(export.head(100), campaign="warm-up", mapping=mapping)
    print(f"== pre-flight of {n:,} rows, with and without a mapping ==")
    without_s = with_s = float("inf")
    for _ in range(args.repeat):  # alternate, so both see the same machine load
        without, seconds = best_of(1, preflight, plain, campaign="Bench 2025")
        without_s = min(without_s, seconds)
        mapped, seconds = best_of(1, preflight, export, campaign="Bench 2025", mapping=mapping)
        with_s = min(with_s, seconds)
    print(f"without a mapping (field-name headers): {without_s:6.2f} s CPU  {n / without_s:10,.0f} rows/s "
          f"{without.counts()}")
    print(f"with a mapping (core-banking export):   {with_s:6.2f} s CPU  {n / with_s:10,.0f} rows/s "
          f"{mapped.counts()}")
    ratio = with_s / without_s
    print(f"ratio with/without: {ratio:.2f} (target <= 1.20: {'met' if ratio <= 1.2 else 'NOT met'})")
    if without.counts() != mapped.counts():
        print("WARNING: the two frames do not give the same counts")
    same_values = without.values.reset_index(drop=True).equals(mapped.values.reset_index(drop=True))
    print(f"same validated values: {same_values}")


if __name__ == "__main__":
    main()
