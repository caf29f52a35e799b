"""Reading a workbook (XLSX, XLSM, XLS, ODS) fast, as the text a person sees.

This is the one place :func:`~.reading.read_campaign` reads workbooks.
openpyxl reads a sheet cell by cell in Python; python-calamine (the Rust
reader pandas also offers as ``engine="calamine"``) reads the same sheet
several times faster. This module turns what calamine returns into text
(``tests/test_campaign_files.py`` and ``tests/test_batch_excel.py`` state
these guarantees through ``read_campaign``):

* an integer-valued number reads as an integer (an id typed as a number,
  ``123456789012``, never ``123456789012.0`` or ``1.23457E+11``); other
  numbers as Python prints them (``0.5``, ``1e-07``);
* dates as ISO dates: ``2025-01-31`` (a date, or a date and time at
  midnight: calamine returns a date for those), ``2025-01-31 09:30:00`` with
  a time; times as ``09:05:00``, durations as ``1 day, 2:00:00``; booleans as
  ``TRUE`` / ``FALSE`` (as Excel shows them);
* text exactly as stored (leading zeros, spaces and a leading ``=`` kept);
  empty cells and error cells (``#N/A``) missing.

The grid is the sheet from cell A1: its index is the row number a person sees
(``sheet_row``, starting at 1) and its columns are the column numbers (A is 1),
so ``cells.loc[row, column]`` is that Excel cell. Title rows above a table and
blank rows stay where they are, which is what header detection needs. Its
columns are Arrow-backed text (``pd.StringDtype("pyarrow")``, under pandas 2 and
3) with empty cells missing (``pd.NA``, never ``""``).

Memory: calamine holds a whole sheet before it returns a row (about 120 bytes
a cell while reading: 1.2 GB for a million rows of 12 cells), so an XLSX/XLSM
worksheet of more than :data:`_SLICE_BYTES` of XML is given to it a slice of
whole rows at a time (each slice in a copy of the workbook with everything
else: shared strings, styles, the date system; a temporary file calamine reads
from disk), and each slice's cells become text before the next is read. A
sheet that slices could not read exactly (a slice whose first row does not say
its number, CDATA, rows out of order) is read whole. XLS and ODS sheets are read whole, and turned into text
:data:`_PIECE_ROWS` rows at a time.

Formula cells: calamine reads a formula's cached value (the value Excel saved
with it). A formula without one (files written by scripts, such as openpyxl,
are never calculated) reads as empty, so for XLSX/XLSM those cells are found
in the worksheet's XML and returned as ``formulas_without_value``. That scan
looks only at the ``<f>`` elements' own cells (a byte search over the sheet's
XML), not at every cell, and only when the limit checks saw an ``<f>`` at all.
``.xls`` and ``.ods`` files are read, but their formulas without a value are
not detected (they read as empty). ``.xlsb`` is refused, as its cells cannot
be checked before reading.

Limits first: before python-calamine opens a file, :mod:`.zip_guard` (XLSX,
XLSM, ODS) or :mod:`.xls_guard` (XLS) checks what it declares and holds
against :class:`~.limits.ReadLimits`, because calamine allocates what a file
declares and aborts the whole process when it cannot (no exception to catch).
Whatever calamine still raises (its own errors, a Rust panic) becomes a
:class:`~.sheet.CampaignReadError`.

Text stored as UTF-16 bytes in 8-bit strings (some ``.xls`` writers do it):
calamine returns ``"T\x00i\x00"``; such a cell is read as the text it
encodes when that is exact (every other character NUL, the rest Latin-1),
and the workbook is refused naming the cell otherwise. No other workbook
text may hold NUL.

Known difference from openpyxl: calamine reads every number as a float, so an
integer of more than 15-16 digits stored by a script (Excel itself keeps 15
significant digits) may come back rounded; such ids belong in text cells.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import itertools
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import python_calamine
from defusedxml import ElementTree as SafeTree
from defusedxml.common import DefusedXmlException

from .columns import ARROW_TEXT_TYPE, empty_as_missing
from .limits import DEFAULT_LIMITS, ReadLimits
from .memory import give_back_memory
from .sheet import (
    SAVE_AS,
    SHEET_ROW_INDEX_NAME,
    CampaignReadError,
    PathOrBuffer,
    SheetNotFoundError,
    check_file_size,
    read_bounded,
)
from .xls_guard import check_xls_workbook
from .zip_guard import SheetFacts, check_zip_workbook, sheet_members

__all__ = ["ExcelText", "read_excel_text"]

Cell = tuple[int, int]
"""An Excel cell as (row number, column number), both counted from 1."""


class ExcelText(NamedTuple):
    """One worksheet as text (see the module docstring)."""

    cells: pd.DataFrame
    """Arrow-backed ``string`` columns named by column number, empty cells missing; index:
    the sheet row (from 1).
    ``cells.attrs["utf16_cells"]`` counts the cells stored as UTF-16 bytes in 8-bit strings
    and read as the text they encode."""
    formulas_without_value: frozenset[Cell]
    """Cells holding a formula saved without its value (they are missing in ``cells``)."""
    sheet: str
    """The name of the worksheet that was read."""


def read_excel_text(
    path_or_buffer: PathOrBuffer, *, sheet: str | None = None, limits: ReadLimits | None = None
) -> ExcelText:
    """Read one worksheet (default: the first) of an XLSX/XLSM/XLS/ODS file as text.

    Raises :class:`~.reading.SheetNotFoundError` (listing the sheets that exist)
    for an unknown ``sheet``, and :class:`~.reading.CampaignReadError` for a file
    that is not a workbook, is password-protected, is over ``limits``
    (default :data:`~.limits.DEFAULT_LIMITS`, checked before calamine opens
    it) or cannot be read exactly.
    """
    limits = DEFAULT_LIMITS if limits is None else limits
    source = _bytes_source(path_or_buffer, limits)
    facts = _check_limits(source, sheet, limits)
    large = _large_worksheets(source)
    if large:  # an XLSX sheet over _SLICE_BYTES of XML is read a slice at a time
        with _calamine_errors(), python_calamine.CalamineWorkbook.from_object(_rewound(source)) as book:
            name = _sheet_name(book, sheet)
        if name in large:
            try:
                return _read_slices(source, name, large[name], facts.has_formulas, limits)
            except (_NotSliceable, zipfile.BadZipFile, zlib.error, EOFError, OSError):
                pass  # written in a way slices cannot keep exact (or no room for a slice): whole
    return _read_whole(source, sheet, facts.has_formulas, limits)


def _rewound(
    source: str | os.PathLike[str] | io.BytesIO,
) -> str | os.PathLike[str] | io.BytesIO:
    """The source ready to be read from its first byte (a buffer is read several times)."""
    if isinstance(source, io.BytesIO):
        source.seek(0)
    return source


def _read_whole(
    source: str | os.PathLike[str] | io.BytesIO, sheet: str | None, has_formulas: bool, limits: ReadLimits
) -> ExcelText:
    """The sheet as calamine reads it whole (XLS, ODS, an XLSX sheet of under
    :data:`_SLICE_BYTES`), turned into text :data:`_PIECE_ROWS` rows at a time."""
    grid = _Grid(limits)
    with _calamine_errors(), python_calamine.CalamineWorkbook.from_object(_rewound(source)) as book:
        name = _sheet_name(book, sheet)
        values = book.get_sheet_by_name(name)
        if values.start is not None:
            top, left = values.start
            rows = itertools.islice(values.iter_rows(), top, None)  # past the blank rows it adds
            while batch := list(itertools.islice(rows, _PIECE_ROWS)):
                grid.add(_Piece(top, left, batch))
                top += len(batch)
            del values, rows
    formulas = frozenset(_formulas_without_value(_rewound(source), name)) if has_formulas else frozenset()
    return ExcelText(grid.frame(formulas), formulas, name)


def _read_slices(
    source: str | os.PathLike[str] | io.BytesIO,
    name: str,
    member: str,
    has_formulas: bool,
    limits: ReadLimits,
) -> ExcelText:
    """A large XLSX worksheet read slice by slice (:func:`_xlsx_pieces`), formulas found
    per slice; :class:`_NotSliceable` when only a whole read is exact."""
    grid = _Grid(limits)
    formulas: set[Cell] = set()
    for piece in _xlsx_pieces(_rewound(source), name, member, formulas if has_formulas else None):
        if piece.top < grid.height:
            raise _NotSliceable  # rows out of order: only a whole read places them
        grid.add(piece)
        del piece
        give_back_memory()  # what the slice freed, before the next one
    return ExcelText(grid.frame(frozenset(formulas)), frozenset(formulas), name)


@contextlib.contextmanager
def _calamine_errors() -> Iterator[None]:
    """python-calamine's errors (and panics) as refusals."""
    try:
        yield
    except python_calamine.PasswordError as exc:
        raise CampaignReadError(
            "The workbook is password-protected; save a copy without a password."
        ) from exc
    except (python_calamine.CalamineError, ValueError, OverflowError, UnicodeError) as exc:
        if isinstance(exc, CampaignReadError):
            raise
        raise CampaignReadError(
            f"The file cannot be read as a workbook ({_short(exc)}); {SAVE_AS}."
        ) from exc
    except BaseException as exc:  # a Rust panic (pyo3's PanicException is a BaseException)
        if type(exc).__name__ != "PanicException":
            raise
        raise CampaignReadError(
            f"The file cannot be read as a workbook (the reader failed on it); {SAVE_AS}."
        ) from None


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."


def _bytes_source(
    path_or_buffer: PathOrBuffer, limits: ReadLimits
) -> str | os.PathLike[str] | io.BytesIO:
    """A path as is; an open file read once into memory (calamine and zipfile both read it),
    refused before reading past ``limits.max_file_bytes``."""
    if isinstance(path_or_buffer, (str, os.PathLike)):
        check_file_size(path_or_buffer, limits)
        return path_or_buffer
    data = read_bounded(path_or_buffer, limits)
    if isinstance(data, str):
        raise CampaignReadError("A workbook must be opened in binary mode ('rb'), not as text.")
    return io.BytesIO(data)


def _check_limits(
    source: str | os.PathLike[str] | io.BytesIO, sheet: str | None, limits: ReadLimits
) -> SheetFacts:
    """:mod:`.zip_guard` or :mod:`.xls_guard`, by the file's first bytes."""
    if isinstance(source, io.BytesIO):
        data = source.getvalue()
    else:
        with open(source, "rb") as handle:
            data = handle.read(8)
    if data.startswith(b"PK"):
        return check_zip_workbook(source, sheet, limits)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        if not isinstance(source, io.BytesIO):
            with open(source, "rb") as handle:
                data = handle.read()  # an .xls is read whole anyway, and within max_file_bytes
        check_xls_workbook(data, limits)
    else:
        raise CampaignReadError(
            "The file is not a workbook: it does not start as an .xlsx, .xls or .ods file does "
            f"(a CSV file is named .csv); {SAVE_AS}."
        )
    return SheetFacts(has_formulas=False)


def _sheet_name(book: python_calamine.CalamineWorkbook, sheet: str | None) -> str:
    names = list(book.sheet_names)
    if sheet is not None:
        if sheet not in names:
            raise SheetNotFoundError(sheet, names)
        return sheet
    worksheets = [
        meta.name
        for meta in book.sheets_metadata
        if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
    ]
    if not worksheets:
        raise CampaignReadError("The workbook has no worksheet.")
    return worksheets[0]


# -- a large XLSX worksheet, a slice of its rows at a time ---------------------------------

_SLICE_BYTES = 4 << 20
"""A worksheet whose XML is larger is read in slices of about this much XML (whole rows)."""


class _NotSliceable(Exception):
    """A worksheet that only a whole read places exactly: rows without their number, rows
    out of order, CDATA, a formula cell without its reference."""


def _large_worksheets(source: str | os.PathLike[str] | io.BytesIO) -> dict[str, str]:
    """``{sheet name: ZIP member}`` of the XLSX/XLSM worksheets over :data:`_SLICE_BYTES`."""
    if not zipfile.is_zipfile(_rewound(source)):
        return {}
    with zipfile.ZipFile(_rewound(source)) as archive:
        return {
            name: member
            for name, member, worksheet in sheet_members(archive)
            if worksheet and archive.getinfo(member).file_size > _SLICE_BYTES
        }


def _xlsx_pieces(
    source: str | os.PathLike[str] | io.BytesIO, name: str, member: str, formulas: set[Cell] | None
) -> Iterator[_Piece]:
    """The worksheet ``member`` read by calamine one slice of whole rows at a time.

    calamine holds a whole sheet in memory before it returns a row (some 60
    bytes a cell, twice that while reading: 1.2 GB for a million rows of 12
    cells). A slice of the sheet's XML, put in a copy of the workbook that
    keeps everything else (shared strings, styles, the date system), reads as
    those rows at their own row numbers, in the memory of one slice. Formulas
    without a value (into ``formulas``) are found slice by slice too.
    """
    with zipfile.ZipFile(source) as archive:
        worksheets = {part for _, part, worksheet in sheet_members(archive) if worksheet}
        parts = [
            (info.filename, _EMPTY_SHEET if info.filename in worksheets else archive.read(info))
            for info in archive.infolist()
            if info.filename != member
        ]
        shared = sum(len(data) for part, data in parts if part.endswith("sharedStrings.xml"))
        # every slice reads the shared strings again: a slice is at least twice as long
        slices = _sheet_slices(archive, member, max(_SLICE_BYTES, 2 * shared))
        with tempfile.TemporaryDirectory(prefix="kyc-slice-") as folder:
            path = os.path.join(folder, "slice.xlsx")  # calamine reads it from disk, not a copy
            for xml in slices:
                if formulas is not None:
                    formulas.update(_formulas_in(xml))
                _write_workbook(path, parts, member, xml)
                del xml
                with _calamine_errors(), python_calamine.CalamineWorkbook.from_path(path) as book:
                    values = book.get_sheet_by_name(name)
                    start = values.start
                    rows = [] if start is None else values.to_python(skip_empty_area=True)
                    del values
                if start is not None and rows:
                    yield _Piece(start[0], start[1], rows)
                del rows


_EMPTY_SHEET = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData/></worksheet>"
)
"""What the other worksheets hold in a slice's workbook (only one sheet is read)."""


def _write_workbook(path: str, parts: list[tuple[str, bytes]], member: str, xml: bytes) -> None:
    """A workbook of ``parts`` with ``xml`` as ``member`` (stored, not compressed: read once)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as out:
        for part, data in parts:
            out.writestr(part, data)
        out.writestr(member, xml)


_ROOT = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?worksheet)[\s>]")
_DIMENSION = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?dimension[\s/>][^>]*?(?:/>|>\s*</(?:[A-Za-z_][\w.-]*:)?dimension\s*>)"
)
_HEAD_LIMIT = 8 << 20
"""How far into a worksheet's XML its ``<sheetData>`` may start (column widths, views...)."""


def _sheet_slices(archive: zipfile.ZipFile, member: str, size: int) -> Iterator[bytes]:
    """The worksheet's XML as worksheets of about ``size`` bytes of whole rows each.

    Each slice is the XML before ``<sheetData>`` (without ``<dimension>``, which
    would make calamine reserve room for the whole sheet), some whole rows and
    the closing tags; the rows keep their ``r="..."`` numbers, so calamine places
    them where they are in the sheet.
    """
    with archive.open(member) as stream:
        head = b""
        while (found := _SHEET_DATA.search(head)) is None and len(head) < _HEAD_LIMIT:
            block = stream.read(1 << 20)
            if not block:
                break
            head += block
        root = _ROOT.search(head)
        opened = -1 if found is None else head.find(b">", found.start()) + 1
        if found is None or root is None or opened <= 0 or head[opened - 2] == ord("/"):
            raise _NotSliceable  # no rows (or not where they belong): the whole read says
        prefix = found.group(1) or b""
        top = _DIMENSION.sub(b"", head[:opened])
        tail = b"</" + prefix + b"sheetData></" + root.group(1) + b">"
        rest, more = head[opened:], True
        end, row_end = b"</" + prefix + b"sheetData", b"</" + prefix + b"row>"
        del head
        while True:
            while more and len(rest) < size:
                block = stream.read(size)
                more, rest = bool(block), rest + block
            stop = rest.find(end)
            rows = len(rest) if stop < 0 else stop
            cut = rest.rfind(row_end, 0, min(size, rows))
            if cut < 0:
                cut = rest.find(row_end, 0, rows)  # a row longer than a slice
            if cut >= 0:
                cut += len(row_end)
            elif stop >= 0:
                cut = stop
            elif more:  # the row goes on past what was read
                block = stream.read(size)
                more, rest = bool(block), rest + block
                continue
            else:
                raise _NotSliceable  # no end to the rows: calamine says what is wrong
            xml = b""
            if rest.find(b"<", 0, cut) >= 0:  # some rows (not only white space)
                _check_sliceable(rest, cut, prefix)
                xml = b"".join((top, memoryview(rest)[:cut], tail))
            rest = b"" if cut == stop else rest[cut:]
            if xml:
                yield xml
            del xml
            if cut == stop:
                return


_NUMBERED_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\s[^>]*?(?<=\s)r\s*=")


def _check_sliceable(body: bytes, stop: int, prefix: bytes) -> None:
    """:class:`_NotSliceable` unless the slice's first row says its number and nothing
    can hide a ``</row>`` that is not one (CDATA).

    calamine numbers a row without ``r="..."`` as the one after the row before it,
    so only a slice's first row needs its number to be read as in the whole sheet.
    """
    if body.find(b"<![CDATA[", 0, stop) >= 0:
        raise _NotSliceable
    first = body.find(b"<" + prefix + b"row", 0, stop)
    if first >= 0 and not _NUMBERED_ROW.match(body, first, body.find(b">", first) + 1):
        raise _NotSliceable


# -- cells as text ---------------------------------------------------------------

_POOL = pa.system_memory_pool()
"""Where the text goes: malloc returns what a piece's scratch arrays took (Arrow's default
pool keeps it, some 50 MB more at the end of a million rows)."""


class _Piece(NamedTuple):
    """Rows of the sheet as calamine returns them: a rectangle of cell values."""

    top: int
    """The 0-based sheet row of ``rows[0]``."""
    left: int
    """The 0-based sheet column of each row's first value."""
    rows: list[list[Any]]


_PIECE_ROWS = 50_000
"""Rows turned into text at a time: the Python objects of one piece, not of the sheet."""


class _Grid:
    """The sheet's text from A1, built a piece at a time: per column, Arrow string chunks
    (a cell's text takes its length in bytes plus 8, not a Python object of 50 or more)."""

    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self.columns: list[list[pa.Array]] = []
        self.height = 0
        self.repaired = 0
        """Cells stored as UTF-16 bytes and read as their text (:func:`_checked_text`)."""

    def add(self, piece: _Piece) -> None:
        """Append ``piece``'s rows (blank rows above it, empty columns beside it: missing)."""
        count = len(piece.rows)
        if not count:
            return
        self._pad(piece.top - self.height)
        width = piece.left + len(piece.rows[0])
        while len(self.columns) < width:
            self.columns.append([pa.nulls(self.height, ARROW_TEXT_TYPE, memory_pool=_POOL)])
        for number, column in enumerate(zip(*piece.rows), piece.left + 1):  # one column at a time
            array, repaired = _text_array(column, piece.top + 1, number, self.limits)
            self.columns[number - 1].append(array)
            self.repaired += repaired
        for index, chunks in enumerate(self.columns):
            if not piece.left <= index < width:
                chunks.append(pa.nulls(count, ARROW_TEXT_TYPE, memory_pool=_POOL))
        self.height += count

    def _pad(self, rows: int) -> None:
        if rows > 0:
            for chunks in self.columns:
                chunks.append(pa.nulls(rows, ARROW_TEXT_TYPE, memory_pool=_POOL))
            self.height += rows

    def frame(self, formulas: frozenset[Cell]) -> pd.DataFrame:
        """The grid as a frame reaching every cell of ``formulas`` (see :class:`ExcelText`)."""
        self._pad(max([0, *(row for row, _ in formulas)]) - self.height)
        width = max([len(self.columns), *(column for _, column in formulas)])
        while len(self.columns) < width:
            self.columns.append([pa.nulls(self.height, ARROW_TEXT_TYPE, memory_pool=_POOL)])
        columns = {
            number: pd.arrays.ArrowStringArray(pa.chunked_array(chunks, type=ARROW_TEXT_TYPE))
            for number, chunks in enumerate(self.columns, 1)
        }
        self.columns = []
        index = pd.RangeIndex(1, self.height + 1, name=SHEET_ROW_INDEX_NAME)
        frame = pd.DataFrame(columns, index=index, copy=False)
        frame.attrs["utf16_cells"] = self.repaired
        return frame


def _text_array(
    column: tuple[Any, ...], top: int, number: int, limits: ReadLimits
) -> tuple[pa.Array, int]:
    """One column of a piece (``top``: the sheet row of its first cell) as Arrow text, empty
    cells missing; refused when a cell is too long; UTF-16 bytes read as their text.

    The checks look at the whole column at once (in Arrow's C++); cells are only
    looked at one by one when the column holds a C0 control character at all.
    """
    if set(map(type, column)) <= {str}:
        values: Sequence[str | None] = column  # the common case: no call per cell
    else:
        values = [_cell_text(value) for value in column]
    array = pa.array(values, type=ARROW_TEXT_TYPE, memory_pool=_POOL)
    lengths = pc.utf8_length(array, memory_pool=_POOL)  # characters, as len() counts them
    longest = pc.max(lengths).as_py() or 0
    if longest > limits.max_cell_chars:
        raise CampaignReadError(
            f"the cell is longer than {limits.max_cell_chars:,} characters "
            "(ReadLimits.max_cell_chars, what one Excel cell holds).",
            cell=_cell_name(top + pc.index(lengths, longest).as_py(), number),
        )
    repaired = 0
    if pc.any(pc.match_substring_regex(array, _CONTROL.pattern)).as_py():
        values, repaired = _checked_text(values, top, number)
        array = pa.array(values, type=ARROW_TEXT_TYPE, memory_pool=_POOL)
    return empty_as_missing(array, memory_pool=_POOL), repaired


def _checked_text(
    column: Sequence[str | None], top: int, number: int
) -> tuple[list[str | None], int]:
    """A column's text with UTF-16 bytes read as their text (:func:`_utf16_text`) and
    how many were; refused naming the cell when other text holds NUL."""
    out: list[str | None] = []
    repaired = 0
    for row, cell in enumerate(column, top):
        if cell and _CONTROL.search(cell):
            decoded = _utf16_text(cell)
            if decoded is not None:
                cell, repaired = decoded, repaired + 1
            elif "\x00" in cell:
                raise CampaignReadError(
                    "the cell holds NUL characters, which no text has: the workbook was written "
                    f"by a tool that stores its text wrongly; {SAVE_AS}.",
                    cell=_cell_name(row, number),
                )
        out.append(cell)
    return out, repaired


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # (a pattern RE2 reads too)
"""C0 controls but tab, line feed and carriage return: what UTF-16 read as bytes is full of."""


def _utf16_text(cell: str) -> str | None:
    """``"T\x00i\x00"`` (UTF-16 bytes read as 8-bit text) as ``"Ti"``; None unless it is that.

    Some ``.xls`` writers store UTF-16 in strings flagged 8-bit, and calamine
    returns one character per byte. The cell is taken for such bytes only when
    every character stands for one byte (all below U+0100), it has an even
    length, every high byte is below 0x20 (Latin, Greek, Cyrillic... up to
    U+1FFF) and the decoded text holds no control character; then the decoded
    text is exactly what was written. Big-endian bytes read the same way.
    """
    if len(cell) % 2 or max(cell) >= "\u0100":
        return None
    raw = cell.encode("latin-1")
    for high, encoding in ((raw[1::2], "utf-16-le"), (raw[0::2], "utf-16-be")):
        if max(high) < 0x20:
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                return None
            return None if _CONTROL.search(text) else text
    return None


def _cell_name(row: int, column: int) -> str:
    """``(7, 2)`` as ``"B7"``."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"{letters}{row}"


def _cell_text(value: Any) -> str | None:
    """A cell value as the text a person sees (see the module docstring)."""
    kind = type(value)
    if kind is str or value is None:
        return value or None
    if kind is float:
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))  # 123456789012.0 is the id 123456789012
        return repr(value)
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is dt.datetime:
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if kind is dt.date or kind is dt.time:
        return value.isoformat()
    return str(value)  # int, timedelta


# -- formulas without a cached value (XLSX/XLSM) -------------------------------------

_NAMESPACE_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_SHEET_DATA = re.compile(rb"<([A-Za-z_][\w.-]*:)?sheetData[\s/>]")
_CELL_START = re.compile(rb"<" + _NAMESPACE_PREFIX + rb"c\s[^>]*>\s*\Z")
_REFERENCE_ATTRIBUTE = re.compile(rb"""\sr\s*=\s*["']([^"']*)["']""")
_REFERENCE = re.compile(r"([A-Za-z]{1,3})([1-9][0-9]*)")
_CACHED_VALUE = re.compile(rb"<" + _NAMESPACE_PREFIX + rb"v(?:\s[^>]*)?>[^<]")
_AFTER_TAG_NAME = b" \t\r\n/>"


def _formulas_without_value(
    source: str | os.PathLike[str] | io.BytesIO, sheet: str
) -> Iterator[Cell]:
    """Cells of ``sheet`` with an ``<f>`` formula and no (or an empty) ``<v>`` value."""
    if not zipfile.is_zipfile(source):
        return  # .xls: a binary (CFB) workbook
    with zipfile.ZipFile(source) as archive:
        member = next((m for name, m, _ in sheet_members(archive) if name == sheet), None)
        if member is None:
            return  # .ods, or a sheet that is not a worksheet
        xml = archive.read(member)
    try:
        yield from list(_formulas_in(xml))
    except _NoReference:
        yield from _formulas_by_position(xml)


class _NoReference(_NotSliceable):
    """A formula cell without its ``r="A1"``: only counting every row and cell places it."""


def _formulas_in(xml: bytes) -> Iterator[Cell]:
    """The cells of a worksheet's XML with an ``<f>`` formula and no (or an empty) ``<v>``.

    openpyxl writes such a formula as ``<f>1+1</f><v />`` and reads it back as
    empty; an empty ``<v>`` therefore counts as no value here too. The XML is
    searched for ``<f`` with ``bytes.find`` (a sheet without formulas costs one
    pass in C); only the cells around each formula are looked at. Raises
    :class:`_NoReference` for a formula cell that does not say where it is.
    """
    sheet_data = _SHEET_DATA.search(xml)
    if sheet_data is None:
        return
    prefix = sheet_data.group(1) or b""  # "x:" in files that prefix the main namespace
    start = sheet_data.end()
    stop = xml.rfind(b"</" + prefix + b"sheetData", start)
    stop = len(xml) if stop < 0 else stop
    formula_tag, cell_close = b"<" + prefix + b"f", b"</" + prefix + b"c>"
    # Only cells hold <f> inside <sheetData>, and a formula is its cell's first child.
    position = xml.find(formula_tag, start, stop)
    while position >= 0:
        after = position + len(formula_tag)
        if after < stop and xml[after] in _AFTER_TAG_NAME:
            cell_tag = xml[xml.rfind(b"<", start, position) : position]
            attribute = _REFERENCE_ATTRIBUTE.search(cell_tag)
            cell = _reference(attribute.group(1).decode("ascii")) if attribute else None
            if not _CELL_START.match(cell_tag) or cell is None:
                raise _NoReference  # a writer that leaves out r="A1"
            cell_end = xml.find(cell_close, after, stop)
            if not _CACHED_VALUE.search(xml, after, stop if cell_end < 0 else cell_end):
                yield cell
        position = xml.find(formula_tag, after, stop)


def _formulas_by_position(xml: bytes) -> Iterator[Cell]:
    """The slow, complete way: a streaming parse that counts rows and cells like Excel."""
    row = column = 0
    in_formula_cell = has_value = False
    try:
        for event, element in _parse_events(xml):
            tag = element.tag.rpartition("}")[2]
            if event == "start":
                if tag == "row":
                    text = (element.get("r") or "").strip()
                    if text and not text.isdigit():
                        raise CampaignReadError(f"The sheet holds a row numbered {text[:20]!r}; {SAVE_AS}.")
                    row, column = (int(text) if text else row + 1), 0
                elif tag == "c":
                    cell = _reference(element.get("r", ""))
                    column = cell[1] if cell else column + 1
                    in_formula_cell = has_value = False
                elif tag == "f":
                    in_formula_cell = True
                continue
            if tag == "v" and element.text:
                has_value = True
            elif tag == "c":
                if in_formula_cell and not has_value:
                    yield row, column
                element.clear()
            elif tag == "row":
                element.clear()
    except (SafeTree.ParseError, DefusedXmlException) as exc:
        raise CampaignReadError(
            f"The sheet's XML cannot be read ({type(exc).__name__}); {SAVE_AS}."
        ) from None


def _reference(text: str) -> Cell | None:
    """``"C12"`` as ``(12, 3)``; None for anything else."""
    match = _REFERENCE.fullmatch(text)
    if match is None:
        return None
    column = 0
    for letter in match.group(1).upper():
        column = column * 26 + ord(letter) - ord("A") + 1
    return int(match.group(2)), column


def _parse_events(xml: bytes) -> Iterator[tuple[str, Any]]:
    """A streaming parse with :mod:`defusedxml`: no DTD, no entity expansion."""
    return SafeTree.iterparse(io.BytesIO(xml), events=("start", "end"))
