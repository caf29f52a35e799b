"""The XLSX-specific part of reading a campaign: cells as the text a person sees.

Everything that depends on the XLSX reader library is in
:func:`read_xlsx_rows`, so the library can be swapped (for a faster one)
without touching the rest of :mod:`.reading`. ``tests/test_campaign_files.py``
states the guarantees any replacement must keep:

- a number typed as a number reads as the person typed it: an id
  ``123456789012`` is ``"123456789012"``, never ``"1.23457E+11"`` or
  ``"123456789012.0"``; ``0.5`` is ``"0.5"``;
- text cells are returned as stored (leading zeros, ``=`` at the start of a
  cell stored as text);
- a formula cell gives its cached (last calculated) value; a formula saved
  without one (files written by scripts, never opened in Excel) is reported
  in ``no_value``, so it is not mistaken for an empty cell;
- dates read as ISO dates (``2025-01-31``; with the time when there is one),
  booleans as ``TRUE``/``FALSE``;
- rows keep their spreadsheet numbers: ``rows[i]`` is sheet row ``i + 1``,
  blank rows included.

Why two passes over a workbook with formulas: openpyxl gives either the
formulas or their cached values. The first pass finds formula cells; only
when there are some is the file read again for their values.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import IO, Any

__all__ = ["XlsxRows", "cell_text", "read_xlsx_rows"]


@dataclass
class XlsxRows:
    """A worksheet as text: ``rows[i][j]`` is the cell at sheet row ``i + 1``, column ``j + 1``."""

    sheet_names: list[str]
    rows: list[list[str | None]]
    no_value: set[tuple[int, int]] = field(default_factory=set)
    """``(i, j)`` of formula cells saved without a calculated value (their text is None)."""


class SheetMissing(KeyError):
    """The requested worksheet is not in the workbook (:mod:`.reading` words the message)."""

    def __init__(self, sheet: str, available: list[str]) -> None:
        super().__init__(sheet)
        self.sheet = sheet
        self.available = available


def read_xlsx_rows(source: str | Any | IO[bytes], sheet: str | None = None) -> XlsxRows:
    """Read one worksheet (``sheet`` by name, default the first) as text cells."""
    from openpyxl import load_workbook

    if not isinstance(source, (str, bytes)) and hasattr(source, "read"):
        source = io.BytesIO(source.read())  # read twice when there are formulas
    book = load_workbook(source, read_only=True, data_only=False)
    try:
        names = [str(name) for name in book.sheetnames]
        if sheet is not None and sheet not in names:
            raise SheetMissing(sheet, names)
        worksheet = book[sheet if sheet is not None else names[0]]
        rows: list[list[str | None]] = []
        formulas: list[tuple[int, int]] = []
        for i, row in enumerate(worksheet.iter_rows()):
            cells: list[str | None] = []
            for j, cell in enumerate(row):
                if getattr(cell, "data_type", None) == "f":
                    formulas.append((i, j))
                    cells.append(None)
                else:
                    cells.append(cell_text(cell.value))
            rows.append(cells)
    finally:
        book.close()
    result = XlsxRows(names, rows)
    if formulas:
        if isinstance(source, io.BytesIO):
            source.seek(0)
        cached = load_workbook(source, read_only=True, data_only=True)
        try:
            wanted = set(formulas)
            sheet_values = cached[sheet if sheet is not None else names[0]]
            for i, row in enumerate(sheet_values.iter_rows(values_only=True)):
                for j, value in enumerate(row):
                    if (i, j) in wanted:
                        text = cell_text(value)
                        if text is None:
                            result.no_value.add((i, j))
                        rows[i][j] = text
        finally:
            cached.close()
    return result


def cell_text(value: Any) -> str | None:
    """A cell value as the text a person sees (see the module docstring)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))  # 123456789012.0 is the id 123456789012
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)
