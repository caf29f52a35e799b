"""Problems as data: one row per failing (sheet row, field), the way pandera keeps ``failure_cases``.

Why a table: a row can fail on several fields at once, and each failure is
shown in several places (the preview, the report's table and its exports, the
fix form next to the field it concerns, the command line, the evidence
record). When the pre-flight joined them into one sentence and the fix form
split it back apart, a hint that itself held ``"; "`` was cut off its field.
Here each failure is a row with its own columns, and messages for people are
*rendered* from the row (:func:`render`), never parsed back.

The table (:data:`PROBLEM_COLUMNS`), indexed by the input frame's labels (a
label repeats when its row fails on several fields):

- ``sheet_row``: the row number a person sees in the sheet;
- ``field``: the contract field (``None`` for a problem of the whole row);
- ``code``: what went wrong, as data: a :class:`ProblemCode` or pydantic's
  error type (``string_too_long``, ``value_error``, ...), or the API's error
  code for a row the API refused;
- ``message``: the words of the problem, without the field's title;
- ``value``: the cell's value as the pre-flight read it (``None`` when empty).
  It can be personal data: it stays in memory for the fix form, and never goes
  into exports, logs or the evidence record;
- ``hint``: more words that belong with the message (``None`` mostly), e.g.
  which sheet values a mapping translates.
"""

from __future__ import annotations

from collections.abc import Hashable
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd

from kyc_widgets.enums import TextEnum

from .columns import compact, compact_missing
from .fields import FIELDS, field_title, quote_value

__all__ = [
    "PROBLEM_COLUMNS",
    "ProblemCode",
    "concat_problems",
    "empty_problems",
    "field_problems",
    "messages",
    "render",
    "row_problems",
    "summarise",
    "with_value",
]

PROBLEM_COLUMNS: tuple[str, ...] = ("sheet_row", "field", "code", "message", "value", "hint")
"""The columns of a problems table, in order."""


class ProblemCode(TextEnum):
    """The problems this project names itself (others are pydantic's or the API's codes)."""

    MISSING = "missing"
    """A required cell is empty."""
    ENUM = "enum"
    """Not one of the field's members."""
    FORMULA_WITHOUT_VALUE = "formula_without_value"
    """A workbook formula saved without its calculated result."""
    DUPLICATE_IN_SHEET = "duplicate_in_sheet"
    """Another (earlier) row of the sheet has the same external case ID, customer and reason."""
    DUPLICATE_ID = "duplicate_id"
    """Another row of the sheet has the same external case ID for another customer or reason."""


WHOLE_SENTENCES: frozenset[str] = frozenset(
    {ProblemCode.DUPLICATE_IN_SHEET.value, ProblemCode.DUPLICATE_ID.value}
)
"""Codes whose message is a whole sentence that names its field: rendered without a title."""

_FIELD_ORDER = {name: position for position, name in enumerate(FIELDS)}


def empty_problems() -> pd.DataFrame:
    """A problems table with no rows."""
    return pd.DataFrame({name: pd.Series(dtype=object) for name in PROBLEM_COLUMNS})


def field_problems(
    labels: pd.Index,
    field: str | None,
    code: Any,
    message: Any,
    value: Any = None,
    hint: Any = None,
) -> pd.DataFrame:
    """A problems table for rows ``labels`` of one field; each other column a scalar or a list.

    ``sheet_row`` is filled in later by :func:`concat_problems`.
    """
    n = len(labels)

    def column(value: Any) -> np.ndarray:
        if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
            return np.asarray(list(value), dtype=object)
        out = np.empty(n, dtype=object)
        out[:] = [value] * n
        return out

    data = {
        "sheet_row": column(None),
        "field": column(field),
        "code": column(str(code) if isinstance(code, Enum) else code),
        "message": column(message),
        "value": column(value),
        "hint": column(hint),
    }
    return pd.DataFrame(data, index=labels)


def concat_problems(parts: list[pd.DataFrame], sheet_row: pd.Series) -> pd.DataFrame:
    """One table from ``parts``, in sheet order then the form's field order, with ``sheet_row``.

    ``sheet_row`` maps every label of the input frame to its sheet row.
    """
    parts = [part for part in parts if len(part)]
    if not parts:
        return empty_problems()
    table = pd.concat(parts)
    table["sheet_row"] = sheet_row.reindex(table.index).to_numpy()
    order = np.lexsort(
        (
            table["field"].map(lambda name: _FIELD_ORDER.get(name, len(FIELDS))).to_numpy(),
            sheet_row.index.get_indexer(table.index),
        )
    )
    return table.iloc[order]


def render(field: Any, message: Any, hint: Any = None, *, titled: bool = True) -> str:
    """A problem in words: ``"Case priority: use one of ...; the mapping translates 'P1'"``.

    ``titled=False`` leaves out the field's title, for a message shown next to its field.
    """
    text = str(message)
    if isinstance(hint, str) and hint:
        text = f"{text}; {hint}"
    if titled and isinstance(field, str) and field:
        return f"{field_title(field)}: {text}"
    return text


_NO_VALUE_CODES = frozenset(
    {ProblemCode.MISSING.value, ProblemCode.FORMULA_WITHOUT_VALUE.value}
) | WHOLE_SENTENCES
"""Problems whose cell is empty or is the external id another row has: nothing to quote."""


def with_value(code: Any, message: Any, value: Any) -> str:
    """``message`` naming the refused cell, as a screen shows it to the analyst.

    "'ada@@example' is not a valid e-mail address: ...": the analyst has to
    find the cell. Only for what is drawn on the analyst's own screen (the fix
    form, the app's tables): the stored messages (the report's columns, the
    command line, logs) quote nothing but choices and countries, which are not
    personal data (:func:`~.fields.field_message`). A message that already
    names the cell is left as it is.
    """
    text = str(message)
    if value is None or code in _NO_VALUE_CODES:
        return text
    try:
        if pd.isna(value):
            return text
    except (TypeError, ValueError):
        pass
    quoted = quote_value(value)
    if quoted in text or f"{str(value)!r}" in text:
        return text
    if text.startswith("value "):
        return quoted + text[len("value"):]
    if text[:1].isupper():
        return f"{quoted}: {text}"
    return f"{quoted}: {text[:1].upper()}{text[1:]}"


def messages(problems: pd.DataFrame, *, with_values: bool = False) -> list[str]:
    """Each problem in words, as :func:`summarise` joins them (a title unless the message
    names its field itself); ``with_values`` quotes the refused cells (:func:`with_value`:
    for a screen, never for a log or a file)."""
    texts = problems["message"].tolist()
    if with_values:
        texts = [
            with_value(c, m, v)
            for c, m, v in zip(problems["code"].tolist(), texts, problems["value"].tolist())
        ]
    return [
        render(f, m, h, titled=c not in WHOLE_SENTENCES)
        for f, c, m, h in zip(problems["field"].tolist(), problems["code"].tolist(),
                              texts, problems["hint"].tolist())
    ]


def summarise(problems: pd.DataFrame, index: pd.Index) -> tuple[pd.Series, pd.Series]:
    """The report's ``error_field`` and ``error_message`` columns, rendered from ``problems``.

    Per row: the fields in the form's order joined with ``", "``, and the
    rendered messages joined with ``"; "``; missing for rows with no problem.
    Compact columns (:mod:`.columns`): most rows of a campaign have no
    problem, and a pointer per row of a million-row sheet is 8 MB a column.
    """
    if problems.empty:
        return (compact_missing(index, "error_field"), compact_missing(index, "error_message"))
    rendered = messages(problems)
    frame = pd.DataFrame(
        {"field": problems["field"].to_numpy(), "text": rendered}, index=problems.index
    )
    grouped = frame.groupby(level=0, sort=False)
    names = grouped["field"].agg(lambda f: ", ".join(str(n) for n in f if isinstance(n, str)))
    texts = grouped["text"].agg("; ".join)
    return (_by_row(names.replace("", None), index, "error_field"),
            _by_row(texts, index, "error_message"))


def _by_row(found: pd.Series, index: pd.Index, name: str) -> pd.Series:
    """``found`` (by label, some rows) as a compact column on ``index``, missing elsewhere."""
    codes = np.full(len(index), -1, dtype=np.int64)
    codes[index.get_indexer(found.index)] = np.arange(len(found))
    return compact(found.tolist(), codes, index, name)


def row_problems(
    problems: pd.DataFrame, label: Hashable, *, for_form: bool = False
) -> list[tuple[str | None, str]]:
    """One row's problems as ``(field, message)`` pairs, the hint kept with its message.

    ``field`` is ``None`` for a problem of the whole row; the message has no
    title (it is shown next to its field). ``for_form``: as a fix form shows
    them beside the inputs, one sentence each, naming the refused cell
    (:func:`with_value`) and without the hint about the sheet's vocabulary
    of a choice (which values a mapping translates: in a form the value is
    chosen from the list, so that hint would stand alone under it).
    """
    if problems.empty or label not in problems.index:
        return []
    rows = problems.loc[[label]]
    out: list[tuple[str | None, str]] = []
    for field, code, message, value, hint in zip(
        rows["field"].tolist(), rows["code"].tolist(), rows["message"].tolist(),
        rows["value"].tolist(), rows["hint"].tolist(),
    ):
        name = field if isinstance(field, str) and field else None
        if for_form:
            hint = None if code == ProblemCode.ENUM.value else hint
            text = render(None, with_value(code, message, value), hint)
            out.append((name, text if text.endswith(".") else text + "."))
        else:
            out.append((name, render(None, message, hint)))
    return out
