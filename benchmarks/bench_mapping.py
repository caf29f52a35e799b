"""Pre-flight speed with a campaign mapping applied, against the same sheet without one.

Run: ``.venv/bin/python benchmarks/bench_mapping.py [--rows 100000]``

Two frames holding the same cases, measured in the same run:

- *without a mapping*: headers are field names, the campaign's agency,
  provider, programme and team are columns, enums are spelled as members;
- *with a mapping*: a core-banking export of the same rows (its own headers,
  no constant columns, its own vocabulary: "Periodic review", "P1"...) and a
  :class:`~kyc_widgets.batch.mapping.CampaignMapping` that translates it.

Then countries (issue 21), the same way: the same frame with its country
column as ISO codes (any of the 249), against the sheet with the country
names an export holds (one full name per country, 249 distinct, e.g. "Korea,
Republic of", "Holy See (Vatican City State)", a few local ones such as
"Deutschland") read
with the mapping :func:`~kyc_widgets.batch.mapping.suggest_mapping` proposes
for it, confirmed. The names frame must give the same codes.

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

import numpy as np
import pandas as pd
import pycountry
from bench_preflight import messy_frame

from kyc_widgets.batch import CampaignMapping, preflight, suggest_mapping
from kyc_widgets.countries import match_country

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


LOCAL_NAMES = {"DE": "Deutschland", "ES": "España", "AT": "Österreich", "CH": "Schweiz",
               "NL": "Nederland", "PL": "Polska"}


def country_frames(n: int) -> tuple[pd.DataFrame, pd.DataFrame, CampaignMapping]:
    """The same rows with codes, and with names, and the confirmed suggested mapping."""
    codes = sorted(c.alpha_2 for c in pycountry.countries)
    chosen = np.random.default_rng(21).choice(codes, n)
    with_codes = messy_frame(n).assign(country_of_onboarding=chosen)
    names = {code: _name_of(code) for code in codes}
    with_names = with_codes.assign(country_of_onboarding=with_codes["country_of_onboarding"].map(names))
    mapping = suggest_mapping(with_names).confirm()
    return with_codes, with_names, mapping


def _name_of(code: str) -> str:
    """A full name that means ``code`` alone ("Congo" is two countries: its official name)."""
    if code in LOCAL_NAMES:
        return LOCAL_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    for attr in ("name", "official_name", "common_name"):
        text = getattr(country, attr, None)
        if text and match_country(text).code == code:
            return str(text)
    raise LookupError(code)


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


def head_to_head(
    title: str, labels: tuple[str, str], runs: tuple[tuple[Any, ...], tuple[Any, ...]], repeat: int
) -> tuple[Any, Any]:
    """Time ``preflight(*args, **kwargs)`` for the two runs, alternating; print the ratio."""
    n = len(runs[0][0])
    for frame, kwargs in runs:
        preflight(frame.head(100), **kwargs)  # warm-up
    print(f"== {title} ==")
    best = [float("inf"), float("inf")]
    results: list[Any] = [None, None]
    for _ in range(repeat):  # alternate, so both see the same machine load
        for i, (frame, kwargs) in enumerate(runs):
            results[i], seconds = best_of(1, preflight, frame, **kwargs)
            best[i] = min(best[i], seconds)
    width = max(len(label) for label in labels)
    for label, seconds, result in zip(labels, best, results):
        print(f"{label:<{width}}  {seconds:6.2f} s CPU  {n / seconds:10,.0f} rows/s {result.counts()}")
    ratio = best[1] / best[0]
    print(f"ratio: {ratio:.2f} (target <= 1.20: {'met' if ratio <= 1.2 else 'NOT met'})")
    if results[0].counts() != results[1].counts():
        print("WARNING: the two frames do not give the same counts")
    same = results[0].values.reset_index(drop=True).equals(results[1].values.reset_index(drop=True))
    print(f"same validated values: {same}")
    return results[0], results[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="best of N, alternating the two")
    args = parser.parse_args()
    n = args.rows
    plain, export, mapping = frames(n)
    head_to_head(
        f"pre-flight of {n:,} rows, with and without a mapping",
        ("without a mapping (field-name headers):", "with a mapping (core-banking export):"),
        ((plain, {"campaign": "Bench 2025"}),
         (export, {"campaign": "Bench 2025", "mapping": mapping})),
        args.repeat,
    )
    with_codes, with_names, country_map = country_frames(n)
    distinct = with_names["country_of_onboarding"].nunique()
    mapped = len(country_map.values.get("country_of_onboarding", {}))
    print(f"(country names: {distinct} distinct, {mapped} in the suggested value map)")
    head_to_head(
        f"pre-flight of {n:,} rows, countries as codes and as names",
        ("countries as ISO codes:", "countries as names (suggested map):"),
        ((with_codes, {"campaign": "Bench 2025"}),
         (with_names, {"campaign": "Bench 2025", "mapping": country_map})),
        args.repeat,
    )


if __name__ == "__main__":
    main()
