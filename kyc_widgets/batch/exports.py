"""Writing campaign tables to files people open in a spreadsheet: safe against formulas,
never failing on content.

Exports neutralise formulas (OWASP "CSV injection"): a text cell starting
with ``=``, ``+``, ``-`` or ``@``, also after leading spaces, tabs or line
breaks (a spreadsheet that trims them on import would run `` =cmd``), gets a
leading ``'`` unless it is a plain number such as ``-100`` (a number is never
run as a formula, and ids like ``-100`` must survive a round trip). Every non-numeric column is
checked, categorical and mixed ones included, and XLSX text cells are
stored as text, never as formulas (:func:`write_xlsx`). :func:`~.reading.read_campaign`
and the pre-flight drop that one ``'`` again, so a report can be fixed and re-run.

Exports never fail on content. A worksheet (XML 1.0) cannot hold the C0
control characters other than tab, line feed and carriage return, lone
surrogates, or ``U+FFFE``/``U+FFFF``. xlsxwriter does not refuse them: it
stores a control character as Excel's ``_x000B_`` escape (Excel then shows an
invisible character, openpyxl reads the escape back literally), ``U+FFFE`` as
``_xFFFE_`` (read back literally everywhere), and a lone surrogate makes the
whole write fail with ``UnicodeEncodeError``. The contract fields refuse them
on input, but the sheet's own columns that the API ignored, and a mapping
built from its headers, may hold anything. So :func:`write_xlsx` writes such
characters, in every sheet's cells and headers, as a visible escape,
``⟨U+000B⟩`` (:func:`kyc_widgets.text.marker`, the notation the screen uses
too). CSV gets the same treatment, so both files of one report hold the same
text and a CSV opened in a spreadsheet loses nothing silently; tab, line feed
and carriage return are kept (both formats hold them; CSV quotes the cell).
The writers return how many cells (headers included) were changed that way,
so a caller can say so; 0 means the file holds the data exactly.

CSV is written by :func:`write_csv` (and :func:`csv_text`): rows end in CRLF,
so *every* cell holding a carriage return or a line feed is quoted. pandas'
default ``"\n"`` line end left a cell such as ``Bob\r=HYPERLINK(...)``
unquoted: re-read, its bare CR started a new row with a live formula.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kyc_widgets.text import marker

from .csv_rows import csv_rows
from .memory import give_back_memory

__all__ = [
    "CSV_CHUNK_ROWS",
    "CSV_LINE_END",
    "UNWRITABLE_CHARACTERS",
    "csv_text",
    "escape_unwritable",
    "mapping_frame",
    "neutralise_formulas",
    "write_csv",
    "write_xlsx",
]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
CSV_LINE_END = "\r\n"
"""How CSV rows end: with CR and LF both line ends, a cell holding either is always quoted."""
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")

UNWRITABLE_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""What a worksheet cannot hold: the characters XML 1.0 refuses (C0 controls but tab, line
feed and carriage return; lone surrogates; ``U+FFFE`` and ``U+FFFF``)."""


def escape_unwritable(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """``frame`` with :data:`UNWRITABLE_CHARACTERS` written as ``⟨U+000B⟩``, and how many cells changed.

    Headers count as cells. Each text-holding column is searched once with a
    vectorised ``str.contains``; only the cells it finds are rewritten.
    """
    out = frame.copy(deep=False)  # cells are replaced column by column, never changed in place
    headers = [str(c) for c in out.columns]
    escaped_headers = [_escape(h) for h in headers]
    changed = sum(a != b for a, b in zip(headers, escaped_headers))
    if changed:
        out.columns = escaped_headers
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if _never_a_formula(column.dtype):
            continue
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = _own_categories(column)
            renamed = _by_category(column, _escape_cell, _UNWRITABLE_IN_UTF8)
            if renamed is not None:
                if renamed is not column:
                    changed += _cells_changed(column, renamed)
                    out.isetitem(position, renamed)
                continue
        pattern: re.Pattern[str] | str = UNWRITABLE_CHARACTERS
        if _is_arrow_text(column.dtype):
            pattern = _UNWRITABLE_IN_UTF8  # Arrow holds UTF-8: no lone surrogates
        else:
            column = column.astype(object)
        try:
            found = column.str.contains(pattern, na=False).to_numpy(dtype=bool)
        except AttributeError:  # the .str accessor refuses a column that holds no text at all
            continue
        if found.any():
            column = column.copy()
            column[found] = column[found].map(_escape)
            out.isetitem(position, column)
            changed += int(found.sum())
    return out, changed


def _escape_cell(value: Any) -> Any:
    """:func:`_escape` for a category: text is escaped, anything else is left as it is."""
    return _escape(value) if isinstance(value, str) else value


def _cells_changed(before: pd.Series, after: pd.Series) -> int:
    """How many cells of a categorical column had their category renamed."""
    old = before.cat.categories.tolist()
    new = after.cat.categories.tolist()
    moved = np.flatnonzero([a != b for a, b in zip(old, new)])
    return int(np.isin(before.cat.codes.to_numpy(), moved).sum())


_UNWRITABLE_IN_UTF8 = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
""":data:`UNWRITABLE_CHARACTERS` as Arrow's regular expressions take it (RE2 refuses a
surrogate range, and an Arrow string, being UTF-8, cannot hold a lone surrogate)."""


def _is_arrow_text(dtype: Any) -> bool:
    """An Arrow-backed text column (``string[pyarrow]``, pandas 3's ``str``): searched
    and rewritten in Arrow, never turned into a column of Python objects."""
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def _escape(text: str) -> str:
    return UNWRITABLE_CHARACTERS.sub(lambda found: marker(found.group()), text)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix cells (and headers) a spreadsheet would run as a formula with ``'``.

    Cells starting with ``=``, ``+``, ``-``, ``@``, tab or CR are the OWASP
    "CSV injection" set, and so are cells that start with one of ``=+-@``
    after spaces, tabs or line breaks: ``=HYPERLINK(...)`` typed into a name
    column must not become a live link in whoever opens the report. Every column that is not
    numeric, boolean or a date is checked, whatever its dtype (``object``,
    ``string``, categorical); its cells become text (``str``) except numbers
    and missing values. Plain numbers (``-100``, ``+2.5``) are left alone.
    """
    out = frame.copy(deep=False)  # columns are replaced, never changed in place
    out.columns = [_neutralise(str(c)) for c in out.columns]
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if _never_a_formula(column.dtype):
            continue
        out.isetitem(position, _neutral_column(column))
    return out


_MAYBE_FORMULA = r"[^A-Za-z0-9]"
"""A cell that may need a ``'``: it starts with anything but an ASCII letter or digit (a
superset of :data:`_FORMULA_STARTS` and whitespace, in a pattern Arrow's RE2 reads alike)."""


def _neutral_column(column: pd.Series) -> pd.Series:
    """One column of :func:`neutralise_formulas`.

    Why not ``map`` over every cell: a million-row report has a dozen text
    columns, and a Python call per cell was most of the time its CSV took.
    A text column (``string`` dtype, or ``object`` holding only ``str``) is
    searched once for cells that *may* start a formula (vectorised), and
    only their distinct values go through :func:`_neutralise`; a ``string``
    column stays one (Arrow-backed stays Arrow-backed). A categorical column
    (the report's statuses and ids) has its categories made safe
    (:func:`_by_category`). Anything else (mixed, numbers in ``object``) is
    mapped cell by cell as before.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        renamed = _by_category(column, _neutral_cell, f"^{_MAYBE_FORMULA}")
        if renamed is not None:
            return renamed
    if isinstance(column.dtype, pd.StringDtype):
        text = column
    elif column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) == "string":
        text = column
    else:
        return column.astype(object).map(_neutral_cell, na_action="ignore")
    candidates = text.str.match(_MAYBE_FORMULA, na=False).to_numpy(dtype=bool)
    if not candidates.any():
        return column
    cells = column[candidates]
    codes, uniques = pd.factorize(cells)
    table = np.array([_neutralise(str(value)) for value in uniques], dtype=object)
    out = column.copy()
    out[candidates] = table[codes]
    return out


def _by_category(
    column: pd.Series, rule: Callable[[Any], Any], may_change: str
) -> pd.Series | None:
    """``column`` (categorical) with ``rule`` applied to each category, not to each cell: a
    report's million ids are a million cells and as many categories at most, and its statuses
    a handful. Arrow text categories are searched for ``may_change`` (a pattern) first, in C,
    and only those found go through ``rule``. None when two categories would become one (the
    caller maps cell by cell)."""
    column = _own_categories(column)
    categories = column.cat.categories
    if _is_arrow_text(categories.dtype):
        found = np.flatnonzero(np.asarray(categories.str.contains(may_change), dtype=bool))
        if not len(found):
            return column
        renamed = categories.to_numpy(dtype=object)
        renamed[found] = [rule(value) for value in renamed[found].tolist()]
        values = renamed.tolist()
    else:
        values = [rule(value) for value in categories.tolist()]
    if all(new == old for new, old in zip(values, categories.tolist())):
        return column  # (a RowStatus equals its text, and is written as it)
    if len(set(values)) < len(values):
        return None
    return column.cat.rename_categories(values)


def _own_categories(column: pd.Series) -> pd.Series:
    """A chunk of a report's categorical column with only the categories its cells use (a
    chunk of 100,000 rows would otherwise carry, and rename, a million ids)."""
    if len(column.cat.categories) > len(column):
        return column.cat.remove_unused_categories()
    return column


def _never_a_formula(dtype: Any) -> bool:
    types = pd.api.types
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    return bool(
        types.is_bool_dtype(dtype)
        or types.is_numeric_dtype(dtype)
        or types.is_datetime64_any_dtype(dtype)
        or types.is_timedelta64_dtype(dtype)
    )


def _neutral_cell(value: Any) -> Any:
    if type(value) is str:  # most cells: skip the slower abstract Number check
        return _neutralise(value)
    if isinstance(value, numbers.Number):
        return value
    return _neutralise(str(value))


def _neutralise(value: str) -> str:
    if not value.startswith(_FORMULA_STARTS) and not value[:1].isspace():
        return value  # most cells: one C-level check
    visible = value.lstrip()
    if (value.startswith(_FORMULA_STARTS) or visible.startswith(_FORMULA_STARTS)) and not (
        _PLAIN_NUMBER.fullmatch(visible)
    ):
        return "'" + value
    return value


def write_csv(frame: pd.DataFrame, path: str | Path | Any, *, index: bool = False) -> int:
    """Write ``frame`` as CSV that is safe to open: UTF-8 with a BOM (Excel reads accents),
    formulas neutralised, unwritable characters escaped, every cell with a line break quoted.

    Returns how many cells were written with ``⟨U+000B⟩`` escapes (see the
    module docstring). The way to write a campaign table to CSV, e.g.
    ``write_csv(report.corrected_sheet(), "fixed.csv")``.
    """
    if not isinstance(path, (str, os.PathLike)) or len(frame) <= CSV_CHUNK_ROWS:
        safe, escaped = escape_unwritable(neutralise_formulas(frame))
        safe.to_csv(path, index=index, encoding="utf-8-sig", lineterminator=CSV_LINE_END)
        return escaped
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        return _write_csv_chunks(frame, handle, index=index, rows=CSV_CHUNK_ROWS)


CSV_CHUNK_ROWS = 10_000
"""Rows made safe and written at a time by :func:`write_csv` (a file, not a buffer). Measured
on a 1,000,000-row report after a run: 10,000 rows a chunk held 8 MB more than the report
while it was written, 25,000 rows 22 MB, for 0.5 s less of its 4.6 s."""


def _write_csv_chunks(frame: pd.DataFrame, handle: Any, *, index: bool, rows: int) -> int:
    """:func:`write_csv`'s body for a large frame: ``rows`` rows at a time, same bytes.

    Why: neutralising and escaping make text copies of the columns they
    change, and ``to_csv`` formats a whole frame as Python strings; a
    million-row report held all of that at once. Cells are made safe one by
    one (neither rule looks at other rows), so the chunks' text is the
    whole frame's text; the header is written once, and its escapes counted
    once. A chunk's rows are encoded by Arrow (:func:`~.csv_rows.csv_rows`, the
    same bytes, a third of the time) unless a column is of a kind only pandas is
    trusted with.
    """
    headers = [_neutralise(str(c)) for c in frame.columns]
    header_escapes = sum(_escape(h) != h for h in headers)
    escaped = 0
    for start in range(0, max(len(frame), 1), rows):
        safe, changed = escape_unwritable(neutralise_formulas(frame.iloc[start : start + rows]))
        if start:
            changed -= header_escapes
        escaped += changed
        encoded = None if index else csv_rows(safe, line_end=CSV_LINE_END)
        if encoded is None:
            safe.to_csv(handle, index=index, header=start == 0, lineterminator=CSV_LINE_END)
        else:
            if start == 0:
                safe.iloc[:0].to_csv(handle, index=False, lineterminator=CSV_LINE_END)
            handle.flush()  # (the header and its BOM in the file before the rows' bytes)
            for part in encoded:
                handle.buffer.write(part)
        del safe, encoded
        give_back_memory()  # the chunk's text (Python's heap and Arrow's pool), before the next
    return escaped


def csv_text(frame: pd.DataFrame, *, index: bool = False) -> tuple[str, int]:
    """:func:`write_csv` into a string (no BOM), and the number of escaped cells."""
    safe, escaped = escape_unwritable(neutralise_formulas(frame))
    return str(safe.to_csv(index=index, lineterminator=CSV_LINE_END)), escaped


def mapping_frame(mapping: Any) -> pd.DataFrame:
    """A mapping as rows (what, sheet, field, value) for the report's ``mapping`` sheet."""
    rows: list[tuple[str, str, str, str]] = [
        ("mapping", "", "", mapping.describe()),
    ]
    rows += [("column", header, name or "(ignored)", "") for header, name in mapping.columns.items()]
    rows += [("constant", "", name, value) for name, value in mapping.constants.items()]
    rows += [
        ("value", sheet_value, name, api_value)
        for name, table in mapping.values.items()
        for sheet_value, api_value in table.items()
    ]
    return neutralise_formulas(pd.DataFrame(rows, columns=["what", "sheet", "field", "value"]))


def write_xlsx(
    frame: pd.DataFrame,
    path: str | Path | Any,
    *,
    sheet_name: str,
    more_sheets: Mapping[str, pd.DataFrame] | None = None,
) -> int:
    """Write ``frame`` (header row, then one row per record, no index) as an XLSX sheet,
    followed by ``more_sheets`` (sheet name -> frame) written the same way.

    xlsxwriter, driven row by row, writes a sheet several times faster than
    ``DataFrame.to_excel`` does. Text is always stored as a text cell: with
    ``strings_to_formulas``, ``strings_to_urls`` and ``strings_to_numbers``
    off, a string starting with ``=`` (or ``{=``) is not a formula, a URL is
    not a live link and ``"1e5"`` stays text. Missing values are empty
    cells, numbers and booleans keep their type, dates are shown as dates.

    Characters a worksheet cannot hold (:data:`UNWRITABLE_CHARACTERS`) are
    written as ``⟨U+000B⟩`` escapes in every sheet, headers included
    (:func:`escape_unwritable`); returns how many cells were changed that way.
    """
    import xlsxwriter  # imported here: only writing a workbook needs it
    import xlsxwriter.exceptions

    sheets = {sheet_name: frame, **(more_sheets or {})}
    escaped = 0
    for name, each in sheets.items():
        sheets[name], changed = escape_unwritable(each)
        escaped += changed
    for rows, columns in (each.shape for each in sheets.values()):
        if rows + 1 > _XLSX_MAX_ROWS or columns > _XLSX_MAX_COLUMNS:
            raise ValueError(
                f"A sheet of {rows} rows and {columns} columns does not fit in one XLSX "
                f"worksheet ({_XLSX_MAX_ROWS - 1} rows, {_XLSX_MAX_COLUMNS} columns); write CSV."
            )
    options = {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "nan_inf_to_errors": True,
        "default_date_format": "yyyy-mm-dd hh:mm:ss",
        "in_memory": True,  # no temporary files (of personal data) in the temp folder
    }
    target = str(path) if isinstance(path, (str, os.PathLike)) else path
    large = isinstance(path, (str, os.PathLike)) and len(frame) > CSV_CHUNK_ROWS
    with contextlib.ExitStack() as stack:
        if large:
            # xlsxwriter's constant-memory mode writes each row to a temporary file as it
            # goes (``in_memory`` would switch it off and hold every cell as a Python
            # object: gigabytes for a million rows). The temporary files hold the
            # report's data, so they go into a private folder beside the report itself,
            # removed when the workbook is written or the write fails.
            folder = stack.enter_context(tempfile.TemporaryDirectory(
                prefix=".kyc-report-", dir=Path(path).resolve().parent
            ))
            options.update(in_memory=False, constant_memory=True, tmpdir=folder)
        try:
            with xlsxwriter.Workbook(target, options) as book:
                book.use_zip64()  # a large sheet must not fail on the ZIP's 4 GB limit
                for name, each in sheets.items():
                    _write_sheet(book.add_worksheet(name), each)
        except xlsxwriter.exceptions.FileCreateError as exc:
            # The OSError itself (disk full, no permission), as any other file write raises it.
            cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else None
            raise (cause or OSError(str(exc))) from exc
    return escaped


def _write_sheet(sheet: Any, frame: pd.DataFrame) -> None:
    """The header row, then the rows in order (as constant-memory mode needs them), turned
    into Python values :data:`CSV_CHUNK_ROWS` rows at a time, never the whole frame at once."""
    for column, header in enumerate(frame.columns):
        sheet.write_string(0, column, str(header))
    for start in range(0, len(frame), CSV_CHUNK_ROWS):
        part = frame.iloc[start : start + CSV_CHUNK_ROWS]
        values = part.astype(object).where(part.notna(), None)
        for row, record in enumerate(values.itertuples(index=False, name=None), start=start + 1):
            sheet.write_row(row, 0, record)


_XLSX_MAX_ROWS = 1_048_576
_XLSX_MAX_COLUMNS = 16_384
