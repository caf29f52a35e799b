"""The Campaign section's words: field titles, never field names or Python.

Why: the batch's errors are written for whoever meets them first, and on the
command line that is someone who types ``--set agency_name=...``; a
:class:`~kyc_widgets.batch.mapping.CampaignColumnsError` there rightly says
"missing 5 required column(s): relationship_type, agency_name". An analyst in
the app never sees a field name: the form, the mapping step and the report
say "Relationship type". So every message the app shows from the batch goes
through :func:`analyst_message`, which speaks from the exception's data where
there is some (which fields are missing, which headers clash, guesses not
confirmed) and otherwise replaces any field name left in the text by its
title and drops Python spellings (``mapping.confirm()``, ``campaign='<name>'``).

Plain Python (no ipywidgets), so the campaign's state machine
(:mod:`.batch_flow`) uses it as well as the views. Tests walk every campaign
state and check the visible text with :data:`PROGRAMMER_WORDS`.
"""

from __future__ import annotations

import re

from kyc_widgets.batch.fields import FIELD_TITLES, FIELDS, or_list
from kyc_widgets.batch.identity import CampaignRequiredError
from kyc_widgets.batch.mapping import CampaignColumnsError, MappingError

__all__ = ["PROGRAMMER_WORDS", "analyst_message", "field_titles", "in_titles"]

_FIELD_NAME = re.compile(
    r"""(['"]?)\b(""" + "|".join(sorted(map(re.escape, FIELDS), key=len, reverse=True)) + r""")\b\1"""
)
_PYTHON = re.compile(
    r"\s*\((?:[^()]*\w+\.\w+\(\)[^()]*)\)|\s*\w+\.\w+\([^)]*\)|campaign='<name>'|"
    r"header_row=,?\s*(?:or\s*)?|--[a-z][\w-]*"
)

PROGRAMMER_WORDS = re.compile(
    r"\b(?:" + "|".join(map(re.escape, FIELDS)) + r")\b"  # a field name
    r"|\b\w+\(\)"  # a call
    r"|\b[a-z]+_[a-z_]+\b"  # a snake_case identifier
    r"|Traceback|\bNone\b|\bNaN\b|\bnan\b|<NA>|\bTrue\b|\bFalse\b|\bkwargs\b|\bself\b"
)
"""What no visible text of the Campaign section may contain (tests check every state)."""


def field_titles(names: list[str]) -> str:
    """``["agency_name", "programme_name"]`` -> ``"Agency name and Programme name"``."""
    return or_list([FIELD_TITLES.get(n, n) for n in names]).replace(" or ", " and ")


def in_titles(text: str) -> str:
    """``text`` with every field name replaced by its title and Python spellings dropped."""
    text = _PYTHON.sub("", text)
    return _FIELD_NAME.sub(lambda m: FIELD_TITLES[m.group(2)], text)


def analyst_message(error: BaseException | str) -> str:
    """What the app says about ``error`` (a batch exception, or a message), in analyst words."""
    if isinstance(error, CampaignColumnsError):
        return _columns_message(error)
    if isinstance(error, MappingError) and "nobody confirmed" in str(error):
        return (
            "Some columns are still guesses: check each column marked \u201cGuess\u201d in the "
            "column mapping and confirm it (or choose its field). Nothing was sent."
        )
    if isinstance(error, CampaignRequiredError) and "campaign=" in str(error):
        return (
            "Rows without an external case ID need a campaign name: enter one in the "
            "Campaign box. Their IDs are made from it, so keep the same name for re-runs."
        )
    return in_titles(str(error))


def _columns_message(error: CampaignColumnsError) -> str:
    parts = []
    if error.missing:
        parts.append(
            f"No column or campaign constant gives {field_titles(error.missing)} yet: choose "
            "a column for each in the column mapping, or enter the value used for every row "
            "under \u201cCampaign constants\u201d."
        )
    for name, headers in error.ambiguous.items():
        quoted = ", ".join(f"\u201c{h}\u201d" for h in headers)
        parts.append(
            f"The columns {quoted} all mean {FIELD_TITLES.get(name, name)}: set all but one "
            "of them to \u201cIgnore this column\u201d."
        )
    absent = getattr(error, "absent", None)
    if absent:
        quoted = ", ".join(f"\u201c{h}\u201d" for h in absent)
        parts.append(f"The mapping names column(s) this sheet does not have: {quoted}.")
    parts.append("Nothing was sent.")
    return " ".join(parts)
