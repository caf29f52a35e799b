"""How many columns ``suggest_mapping`` gets right on realistic exports: headers alone vs
headers and values.

Five synthetic exports shaped like the sheets analysts receive (a core-banking export,
a CRM report, the issue's core-banking sheet with ambiguous "Client Ref"/"Client Kind",
a hand-made back-office sheet with short headers, a German export), each with the
values such columns hold (ids with leading zeros, export vocabularies, country names
and codes, e-mail addresses, names, free text) and the field each column really is
(or none: a column the API does not use). For each, ``suggest_mapping`` runs twice,
``read_values=False`` (the header-only suggestion of before) and ``read_values=True``,
and the figures are counted:

- right: the suggested field is the true one (an ignored column counts when it is left
  ignored);
- sure and wrong: applied without a person's confirmation (at or above ``CONFIDENT``)
  and wrong: the costly mistake;
- to confirm: right, but below ``CONFIDENT`` (a person confirms it).

Run: ``.venv/bin/python benchmarks/bench_suggest.py`` (no target: the figures are
printed side by side; the test suite checks the issue's two columns).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pandas as pd

from kyc_widgets.batch.mapping import CONFIDENT, suggest_mapping

ROWS = 200
Column = tuple[str, str | None, Callable[[random.Random, int], str]]
"""(header, the true field or None, a value for row i)."""


def pick(*options: str) -> Callable[[random.Random, int], str]:
    return lambda rnd, _i: rnd.choice(options)


def digits(width: int, start: int = 1) -> Callable[[random.Random, int], str]:
    return lambda _rnd, i: f"{start + i:0{width}d}"


FIRST = ("Ada", "Zoë", "Søren", "Ólafur", "Jörg", "Chloé", "Grace", "Björn", "Élodie", "Ann")
LAST = ("Lovelace", "Müller", "Kierkegård", "Jónsson", "Weiß", "Dubois", "Hopper", "Ekström")
TEAMS = ("Periodic Review", "Remediation Team A", "Refresh team")
EXPORTS: dict[str, list[Column]] = {
    "core banking": [
        ("Customer No", "user_internal_id", digits(12)),
        ("Forename", "legal_first_name", pick(*FIRST)),
        ("Surname", "legal_last_name", pick(*LAST)),
        ("Customer type", "user_type", pick("Private individual", "Sole proprietor")),
        ("Review reason", "relationship_type", pick("Periodic review", "Backbook")),
        ("Priority", "case_priority", pick("P1", "P2", "P3", "P4")),
        ("Country", "country_of_onboarding", pick("GB", "IE", "FR")),
        ("Branch", None, pick("Leeds", "York", "Dublin")),
    ],
    "CRM report": [
        ("Account ID", "user_internal_id", lambda rnd, i: f"0015g{i:08d}AB"),
        ("First Name", "legal_first_name", pick(*FIRST)),
        ("Last Name", "legal_last_name", pick(*LAST)),
        ("Contact Role", "user_type", pick("Director", "Authorised signatory", "UBO")),
        ("Case Reason", "relationship_type", pick("New client", "Onboarding")),
        ("Case Priority", "case_priority", pick("High", "Medium", "Low")),
        ("Mailing Country", "country_of_onboarding", pick("United Kingdom", "Germany", "France")),
        ("Owner", "assigned_analyst_name", pick("Grace Whitfield", "Tom Baker")),
        ("Owner Email", "assigned_analyst_email",
         pick("grace.whitfield@bank.example", "tom.baker@bank.example")),
        ("Created Date", None, lambda rnd, i: f"2025-01-{1 + i % 28:02d}"),
    ],
    "issue 25 sheet": [
        ("Case Ref", "kyc_case_id", lambda _rnd, i: f"KR-{i:05d}"),
        ("Client Ref", "user_internal_id", digits(7, 7512)),
        ("Client Kind", "user_type", pick("Retail individual", "Sole proprietor")),
        ("Given Name", "legal_first_name", pick(*FIRST)),
        ("Family Name", "legal_last_name", pick(*LAST)),
        ("Trigger", "relationship_type", pick("Periodic review", "Backbook")),
        ("Urgency", "case_priority", pick("Normal", "Urgent", "High")),
        ("Land", "country_of_onboarding", pick("DE", "FR", "GB")),
        ("Queue", "assigned_team", pick(*TEAMS)),
    ],
    "back-office sheet": [
        ("Ref", "kyc_case_id", lambda _rnd, i: f"REM24-{i:04d}"),
        ("ID", "user_internal_id", digits(6, 417)),
        ("Name", "legal_first_name", pick(*FIRST)),
        ("Last", "legal_last_name", pick(*LAST)),
        ("Type", "user_type", pick("individual", "sole trader")),
        ("Why", "relationship_type", pick("remediation", "kyc refresh")),
        ("Prio", "case_priority", pick("high", "normal")),
        ("Ctry", "country_of_onboarding", pick("GB", "IE")),
        ("Analyst mail", "assigned_analyst_email", pick("j.smith@bank.example")),
        ("Notes", None, pick("called twice", "see file", "")),
    ],
    "German export": [
        ("Kundennummer", "user_internal_id", digits(8, 12345)),
        ("Vorname", "legal_first_name", pick(*FIRST)),
        ("Nachname", "legal_last_name", pick(*LAST)),
        ("Land", "country_of_onboarding", pick("Deutschland", "Österreich", "Frankreich")),
        ("Dringlichkeit", "case_priority", pick("P1", "P2", "P3")),
        ("Sachbearbeiter E-Mail", "assigned_analyst_email", pick("m.maier@bank.example")),
        ("Filiale", None, pick("München", "Wien")),
    ],
}


def sheet(columns: list[Column], seed: int) -> pd.DataFrame:
    rnd = random.Random(seed)
    return pd.DataFrame(
        {header: [make(rnd, i) for i in range(ROWS)] for header, _truth, make in columns}
    )


def score(columns: list[Column], frame: pd.DataFrame, read_values: bool) -> dict[str, int]:
    mapping = suggest_mapping(frame, read_values=read_values)
    right = sure_wrong = to_confirm = 0
    for header, truth, _make in columns:
        got = mapping.columns.get(header)
        sure = mapping.confidence.get(header, 1.0 if got is not None else 0.0) >= CONFIDENT
        if got == truth:
            right += 1
            to_confirm += int(got is not None and not sure)
        elif got is not None and sure:
            sure_wrong += 1
    return {"right": right, "sure_wrong": sure_wrong, "to_confirm": to_confirm,
            "columns": len(columns)}


def main() -> None:
    totals = {False: [0, 0, 0, 0], True: [0, 0, 0, 0]}
    print(f"{'export':20} {'columns':>7}   {'headers only':>26}   {'headers and values':>26}")
    print(f"{'':20} {'':>7}   {'right  sure+wrong  confirm':>26}   {'right  sure+wrong  confirm':>26}")
    started = time.perf_counter()
    for seed, (name, columns) in enumerate(EXPORTS.items()):
        frame = sheet(columns, seed)
        line = f"{name:20} {len(columns):7}"
        for read_values in (False, True):
            got = score(columns, frame, read_values)
            for k, key in enumerate(("right", "sure_wrong", "to_confirm", "columns")):
                totals[read_values][k] += got[key]
            line += f"   {got['right']:5} {got['sure_wrong']:11} {got['to_confirm']:8}"
        print(line)
    elapsed = time.perf_counter() - started
    for read_values, label in ((False, "headers only"), (True, "headers and values")):
        right, sure_wrong, confirm, columns = totals[read_values]
        print(f"{label:20}: {right}/{columns} columns right ({right / columns:.0%}), "
              f"{sure_wrong} applied without confirmation and wrong, {confirm} right but to confirm")
    print(f"(both runs over {len(EXPORTS)} exports of {ROWS} rows: {elapsed * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
