"""What every sheet reader shares: row numbering, the input types, the reading errors.

A leaf module, so :mod:`.reading` (CSV and the dispatch) and :mod:`.excel`
(workbooks) both build on it without importing each other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Union

from .limits import ReadLimits

__all__ = [
    "FIRST_DATA_ROW",
    "SAVE_AS",
    "SHEET_ROW_INDEX_NAME",
    "XLSB_REFUSED",
    "CampaignReadError",
    "PathOrBuffer",
    "SheetNotFoundError",
    "check_file_size",
    "read_bounded",
    "reading_notes",
]

SHEET_ROW_INDEX_NAME = "sheet_row"
"""Index name marking a frame whose index is already the spreadsheet row number."""

FIRST_DATA_ROW = 2
"""With the header on row 1, the first data row a person sees is row 2."""

SAVE_AS = "save it as .xlsx (File > Save As > Excel Workbook) or as 'CSV UTF-8'"
"""How to save a file that cannot be read (said in the messages that refuse it)."""

XLSB_REFUSED = (
    "an Excel binary workbook (.xlsb), which is not read: its size and cells cannot be "
    "checked before reading. Save it as .xlsx (File > Save As > Excel Workbook)."
)
"""Why ``.xlsb`` is refused, by its name and by its content alike."""

PathOrBuffer = Union[str, "os.PathLike[str]", IO[bytes], IO[str]]
"""A file path, or an open file (binary for workbooks)."""


class CampaignReadError(ValueError):
    """The campaign file cannot be read as a CSV/XLSX sheet: refused, with where and why.

    Errors as data: ``reason`` (what is wrong and what to do), and where, when
    the problem has a place: ``line`` (the line of a CSV file, as a text
    editor counts), ``row`` (the row number a spreadsheet shows) and ``cell``
    (``"B7"``). The message is rendered from them (``"Line 7 (sheet row 6):
    ..."``), so a caller can show either. It never holds a cell's value: the
    sheet holds personal data and the message ends up in logs.
    """

    def __init__(
        self,
        reason: str,
        *,
        line: int | None = None,
        row: int | None = None,
        cell: str | None = None,
    ) -> None:
        self.reason = reason
        self.line = line
        self.row = row
        self.cell = cell
        super().__init__(_render(reason, line, row, cell))

    def __reduce__(self) -> tuple[Any, ...]:
        # The keyword-only place would be lost by the default (type, args) pickling.
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _render(reason: str, line: int | None, row: int | None, cell: str | None) -> str:
    if line is not None:
        where = f"Line {line}" + (f" (sheet row {row})" if row is not None else "")
    elif cell is not None:
        where = f"Cell {cell}"
    elif row is not None:
        where = f"Sheet row {row}"
    else:
        return reason
    return f"{where}: {reason}"


def _rebuild(kind: type[CampaignReadError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = Exception.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error


class SheetNotFoundError(CampaignReadError, KeyError):
    """The requested worksheet does not exist; the message lists the ones that do."""

    def __init__(self, sheet: str, available: list[str]) -> None:
        self.sheet = sheet
        self.available = available
        listed = ", ".join(repr(name) for name in available) or "none"
        super().__init__(f"No worksheet named {sheet!r}. Available sheets: {listed}.")

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0])


def reading_notes(attrs: Mapping[str, Any]) -> list[str]:
    """What a person should know about how a sheet was read, from its frame's ``attrs``.

    Rows above a detected header are not data: they are listed here (never
    dropped without a word), because a header found one row too low would
    otherwise lose the first data row silently. The pre-flight adds these
    notes to its warnings, so the preview, the report and the CLI show them.
    """
    notes = []
    above = list(attrs.get("rows_above_header") or ())
    if above and attrs.get("header_detected", True):
        notes.append(
            f"{len(above)} row(s) above the header (row {attrs.get('header_row')}) were not read "
            f"as data: row(s) {_spans(above)}. If one of them is the header, give its row "
            "number (header_row=, or --header-row)."
        )
    repaired = int(attrs.get("utf16_cells") or 0)
    if repaired:
        notes.append(
            f"{repaired} cell(s) of this workbook were stored as UTF-16 bytes in 8-bit strings "
            "and were read as the text they encode."
        )
    return notes


def _spans(rows: list[int]) -> str:
    """``[1, 2, 3, 5]`` as ``"1-3, 5"``."""
    parts: list[str] = []
    start = previous = rows[0]
    for row in [*rows[1:], None]:
        if row is not None and row == previous + 1:
            previous = row
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if row is not None:
            start = previous = row
    return ", ".join(parts)


def check_file_size(path: str | os.PathLike[str], limits: ReadLimits) -> None:
    """Refuse a file over ``limits.max_file_bytes`` before a byte of it is read."""
    if os.stat(path).st_size > limits.max_file_bytes:
        raise _too_big(limits.max_file_bytes)


def read_bounded(source: PathOrBuffer, limits: ReadLimits) -> str | bytes:
    """The whole file or buffer; refused before reading past ``limits.max_file_bytes``."""
    limit = limits.max_file_bytes
    if isinstance(source, (str, os.PathLike)):
        check_file_size(source, limits)
        return Path(source).read_bytes()
    data = source.read(limit + 1)
    if len(data) > limit:
        raise _too_big(limit)
    return data


def _too_big(limit: int) -> CampaignReadError:
    return CampaignReadError(
        f"The file is larger than {limit:,} bytes (ReadLimits.max_file_bytes); split the "
        "campaign into smaller files, or pass larger limits."
    )
