"""Reading a campaign spreadsheet (CSV, XLSX) as text, the way a person sees it.

Every column is read as text: ids such as ``00123`` keep their leading zeros
and nothing is turned into a float behind the analyst's back. Columns have
pandas' nullable ``string`` dtype, the same under pandas 2 and 3, and empty
cells are missing (``pd.NA``), never the text ``"nan"``, ``"None"`` or
``"<NA>"``.

The returned frame's index is the *spreadsheet row number* (the first data
row is the one under the header), named ``sheet_row``. Every report built
from it therefore points at the row a person sees in Excel, even after
filtering, after fully blank rows (which people leave as gaps) have been
dropped, and when title rows sit above the table.

The files Excel and people write, and how each is read:

- CSV in UTF-8 with or without BOM, Windows-1252 (Excel's plain "CSV" on
  Western European Windows) and UTF-16 "Unicode text": the encoding is
  decided by :mod:`.encoding` (never a silent guess that garbles names) and
  recorded in ``df.attrs["encoding"]``; the delimiter is the most frequent of
  ``,``, ``;`` and tab in the first lines. The text is split by
  :mod:`.delimited`: exactly, or refused naming the line (a row with another
  number of cells than the header, a row in another separator, a quote not
  closed or not doubled, a cell over 32,767 characters); any line ending reads.
  The rows are split a chunk at a time and each chunk becomes Arrow-backed
  columns (``pd.StringDtype("pyarrow")``) before the next is split, so a
  million-row file is read holding its text and its columns, never every
  row as Python lists.
- A header below title rows: the header row is the first of the first
  :data:`HEADER_SEARCH_ROWS` rows where at least two cells (and at least half
  as many as in the best row) are field names, titles or export synonyms, or
  failing that the first row at least half as wide as the table;
  ``header_row`` (the row number a person sees) overrides it. The row used
  is ``df.attrs["header_row"]``; the non-blank rows above a detected header
  are listed in ``df.attrs["rows_above_header"]`` and said in the pre-flight's
  warnings (:func:`~.sheet.reading_notes`), never dropped without a word.
  Headers lose a byte-order mark and surrounding spaces (``' id '`` is ``id``).
- XLSX, XLSM, XLS and ODS through :func:`~.excel.read_excel_text`
  (python-calamine: numbers as typed, dates as ISO dates, formula results);
  XLSX/XLSM formulas saved without a result are listed in
  ``df.attrs["formula_cells"]`` as ``(sheet_row, header)`` so the pre-flight
  reports "formula with no value" instead of an empty cell. A file that is
  not a workbook after all is refused with a message saying how to save it.
  ``.xlsb`` (Excel's binary workbook) is refused, by name or by content.

Every limit (:class:`~.limits.ReadLimits`: file size, rows, columns, cells,
characters per cell, a workbook's unpacked size) is checked before the
memory is asked for, so any file is read or refused within seconds and a
bounded amount of memory; ``limits=`` overrides them.
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from kyc_widgets.text import WHITESPACE

from .columns import empty_as_missing
from .delimited import Records, WidthCheck, guess_separator, split_chunks
from .encoding import UndecodableError, decode_text
from .fields import is_known_header
from .limits import DEFAULT_LIMITS, ReadLimits
from .memory import give_back_memory
from .sheet import (
    SAVE_AS,
    SHEET_ROW_INDEX_NAME,
    XLSB_REFUSED,
    CampaignReadError,
    PathOrBuffer,
    SheetNotFoundError,
    read_bounded,
)

__all__ = [
    "HEADER_SEARCH_ROWS",
    "SHEET_ROW_INDEX_NAME",
    "ReadLimits",
    "SAVE_AS",
    "CampaignReadError",
    "SheetNotFoundError",
    "read_campaign",
]

HEADER_SEARCH_ROWS = 30
"""How many rows from the top may hold the header (title rows above the table)."""

_CSV_EXTENSIONS = frozenset({".csv", ".txt", ".tsv"})
_WORKBOOK_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})
_WORKBOOK_MAGIC = (b"PK", b"\xd0\xcf\x11\xe0")
"""How a workbook buffer starts: a ZIP archive (XLSX, XLSM, ODS) or an OLE2 file (XLS)."""
_HEADER_TRIM = WHITESPACE + "\ufeff"
"""What a header loses at both ends: spaces, and a byte-order mark pasted into a cell."""


def read_campaign(
    path_or_buffer: PathOrBuffer,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    limits: ReadLimits | None = None,
) -> pd.DataFrame:
    """Read a campaign sheet (CSV, XLSX, XLSM, XLS, ODS) as text: exactly, or refused.

    ``path_or_buffer`` is a path (the extension picks the reader) or an open
    file/buffer (sniffed: XLSX and ODS files are ZIP archives starting with
    ``PK``, XLS files OLE2 files).
    ``sheet`` names the worksheet of a workbook (default: the first one).
    ``header_row`` is the row number (as Excel shows it) of the header,
    detected when not given; ``encoding`` is a CSV file's text encoding,
    detected when not given (see the module docstring). ``limits`` are the
    most the file may hold (:class:`~.limits.ReadLimits`; default
    :data:`~.limits.DEFAULT_LIMITS`), checked before memory is allocated.

    Returns a DataFrame of ``string`` columns where empty cells are ``NA``, fully
    blank rows are dropped, and the index is the spreadsheet row number
    (named ``sheet_row``); ``df.attrs`` holds ``encoding`` (CSV bytes only),
    ``header_row``, ``rows_above_header``, ``formula_cells`` and ``kyc_sheet``
    (the file's name and SHA-256, for the evidence record). Raises
    ``FileNotFoundError`` naming the file, :class:`CampaignReadError` (a
    ``ValueError``, with ``line``/``row``/``cell`` and ``reason``) for
    anything that cannot be read exactly: an unknown extension, an
    undecodable or malformed file, a file over the limits, a file that is
    not a workbook, a bad ``header_row`` (the message says what to do), and
    :class:`SheetNotFoundError` listing the available worksheets. Never a
    parser's own exception, never a cell altered.
    """
    limits = DEFAULT_LIMITS if limits is None else limits
    if header_row is not None and header_row < 1:
        raise CampaignReadError("header_row is a row number as Excel shows it: 1 or more.")
    kind, source = _resolve(path_or_buffer)
    if kind == "csv":
        if sheet is not None:
            raise CampaignReadError("A CSV file has no worksheets; leave out the sheet name.")
        if encoding is not None and isinstance(source, io.TextIOBase):
            raise CampaignReadError("This buffer is already text; leave out the encoding.")
        frame = _read_csv(source, header_row, encoding, limits)
    elif encoding is not None:
        raise CampaignReadError("A workbook has no text encoding; leave out the encoding.")
    else:
        frame = _read_workbook(source, sheet, header_row, limits)
    frame.attrs["kyc_sheet"] = _fingerprint(path_or_buffer)  # for the evidence record
    return frame


def _fingerprint(path_or_buffer: PathOrBuffer) -> dict[str, str | None]:
    """The file's name and SHA-256 (``None`` for a buffer that cannot be re-read from the start)."""
    import hashlib

    digest = hashlib.sha256()
    if isinstance(path_or_buffer, (str, os.PathLike)):
        path = Path(path_or_buffer)
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return {"file_name": path.name, "sha256": digest.hexdigest()}
    name = getattr(path_or_buffer, "name", None)
    whole = _peek(path_or_buffer, lambda: (path_or_buffer.seek(0), path_or_buffer.read())[1])
    if not isinstance(whole, bytes):
        return {"file_name": Path(name).name if isinstance(name, str) else None, "sha256": None}
    digest.update(whole)
    return {"file_name": Path(name).name if isinstance(name, str) else None, "sha256": digest.hexdigest()}


def _resolve(path_or_buffer: PathOrBuffer) -> tuple[str, PathOrBuffer]:
    if isinstance(path_or_buffer, (str, os.PathLike)):
        path = Path(path_or_buffer)
        suffix = path.suffix.lower()
        if suffix in _CSV_EXTENSIONS:
            kind = "csv"
        elif suffix in _WORKBOOK_EXTENSIONS:
            kind = "workbook"
        elif suffix == ".xlsb":
            raise CampaignReadError(f"{path.name}: {XLSB_REFUSED}")
        else:
            raise CampaignReadError(
                f"{path.name}: unknown file type {suffix or '(no extension)'!r}; "
                "use a .csv or .xlsx file."
            )
        if not path.is_file():
            raise FileNotFoundError(f"Campaign file not found: {path.name} (looked in {path.parent}).")
        return kind, path
    return _sniff(path_or_buffer), path_or_buffer


def _peek(buffer: Any, read: Callable[[], str | bytes]) -> str | bytes | None:
    """What ``read()`` returns, with the buffer left where it was; None if it cannot seek."""
    try:
        position = buffer.tell()
        head = read()
        buffer.seek(position)
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
    return head


def _sniff(buffer: IO[bytes] | IO[str]) -> str:
    if isinstance(buffer, io.TextIOBase):
        return "csv"
    head = _peek(buffer, lambda: buffer.read(4))
    return "workbook" if isinstance(head, bytes) and head.startswith(_WORKBOOK_MAGIC) else "csv"


# --------------------------------------------------------------------------- CSV


def _read_csv(
    source: PathOrBuffer, header_row: int | None, encoding: str | None, limits: ReadLimits
) -> pd.DataFrame:
    """A CSV file or buffer as a campaign frame, split a chunk of rows at a time (see
    :func:`_frame_from_chunks`) so that the reader holds the text and the Arrow columns,
    never every row as Python lists."""
    text, assumed = _csv_text(source, encoding, limits)
    sep = guess_separator(text, HEADER_SEARCH_ROWS)
    chunks, chars = split_chunks(text, sep, limits), len(text)
    del text  # the chunks hold it until the last row is split, then let go of it
    frame = _frame_from_chunks(chunks, header_row, sep, chars)
    frame.attrs.update(encoding=assumed, header_detected=header_row is None)
    return frame


def _csv_text(
    source: PathOrBuffer, encoding: str | None, limits: ReadLimits
) -> tuple[str, str | None]:
    """The file's text (without a byte-order mark) and the encoding assumed (``None`` when the
    buffer was text already), refused when undecodable, over the limits or empty."""
    raw = read_bounded(source, limits)
    assumed: str | None
    if isinstance(raw, str):
        text, assumed = raw, None  # already text: nothing to decode
    else:
        try:
            text, assumed = decode_text(raw, encoding)
        except UndecodableError as exc:
            raise CampaignReadError(str(exc)) from None
        del raw  # the text replaces it: one copy of the file in memory, not two
    text = text.removeprefix("\ufeff")
    if len(text) > limits.max_text_chars:
        raise CampaignReadError(
            f"The file holds {len(text):,} characters of text, more than {limits.max_text_chars:,} "
            "(ReadLimits.max_text_chars); split the campaign into smaller files, or pass larger "
            "limits."
        )
    if not text or text.isspace():  # (strip() would copy the whole text)
        raise CampaignReadError("The campaign file is empty: no header row was found.")
    return text, assumed


def _frame_from_chunks(
    chunks: Iterator[Records], header_row: int | None, sep: str, text_chars: int
) -> pd.DataFrame:
    """The rows under the header as Arrow-backed ``string`` columns (empty cells ``NA``), blank
    rows and columns with neither a header nor a value left out, indexed by sheet row.

    Each chunk of split rows is checked (:class:`~.delimited.WidthCheck`) and turned into
    columns (:class:`_CsvColumns`) before the next is split, so one chunk of Python lists
    is alive at a time. After a row of the wrong width the rest are only checked, for the
    refusal to list them. A header given far down costs nothing either: the rows above it
    are only looked at for ``rows_above_header``.
    """
    header_index, header, rest, above = _find_header(chunks, header_row)
    check = WidthCheck(header, header_index, sep)
    columns = _CsvColumns(header, text_chars)
    position = header_index + 1
    every = itertools.chain([rest], chunks)
    del rest  # (let go of by `every` once split further)
    for rows, lines in every:
        if check.feed(rows, lines, position):
            columns.add(rows, position)
        position += len(rows)
        del rows, lines  # before the next chunk is split
    check.close()
    frame = columns.frame()
    frame.attrs.update(
        header_row=header_index + 1, encoding=None, formula_cells=[], rows_above_header=above
    )
    return frame


def _find_header(
    chunks: Iterator[Records], header_row: int | None
) -> tuple[int, list[str], Records, list[int]]:
    """The header's position (from 0) and cells, the rest of its chunk (the rows under it)
    and the non-blank rows above it (row numbers), reading chunks until the header is known:
    the first :data:`HEADER_SEARCH_ROWS` rows, or down to ``header_row``."""
    rows: list[list[str]] = []  # the rows read and not yet placed, from position `start`
    lines: list[int] = []
    start = 0
    above: list[int] = []
    for chunk in chunks:
        rows.extend(chunk.rows)
        lines.extend(chunk.lines)
        del chunk
        if header_row is None and len(rows) < HEADER_SEARCH_ROWS:
            continue  # (only in a file of fewer rows than chunks hold)
        index = _header_index(rows[:HEADER_SEARCH_ROWS], None) if header_row is None else header_row - 1
        if index < start + len(rows):
            break
        above.extend(start + number for number in _rows_above(rows))
        start += len(rows)
        rows, lines = [], []
    else:  # the text ended
        index = _header_index(rows[:HEADER_SEARCH_ROWS], None) if header_row is None else header_row - 1
        if index >= start + len(rows):
            raise CampaignReadError(f"header_row {index + 1} is below the last row of the file.")
    at = index - start
    above.extend(start + number for number in _rows_above(rows[:at]))
    return index, rows[at], Records(rows[at + 1 :], lines[at + 1 :]), above


_RELEASE_AFTER = 32 << 20
"""How many bytes of Arrow chunks are let go of before they are handed back to the system."""


class _CsvColumns:
    """The rows under a CSV header, turned into Arrow string columns a chunk at a time.

    Why Arrow, built here: a million rows of twelve cells kept as Python ``str``
    cost a gigabyte before pandas copies them; an Arrow column holds the same
    text at its UTF-8 size, and ``pd.StringDtype("pyarrow")`` (the same under
    pandas 2 and 3) takes it without another conversion. Cells past the
    header's width are empty (:class:`~.delimited.WidthCheck` refused any other).
    """

    def __init__(self, header: list[str], text_chars: int) -> None:
        self.width = len(header)
        self.names = _unique_headers(header)
        # 32-bit offsets while the text is alive (half the size of pandas' 64-bit ones), when
        # no chunk of a column can reach 2 GiB of UTF-8 (4 bytes a character at most)
        self.type = pa.string() if text_chars * 4 < 2**31 else pa.large_string()
        self.pieces: list[list[Any]] = [[] for _ in header]
        """Each column's Arrow arrays, one per chunk."""
        self.numbers: list[Any] = []
        """The sheet row of each row kept, one ``int64`` array per chunk."""

    def add(self, rows: list[list[str]], position: int) -> None:
        """Add the rows of a chunk, the first at ``position`` (from 0) in the file."""
        filled = list(map(any, rows))  # a blank row is a gap people leave, not a record (in C)
        kept = rows if all(filled) else list(itertools.compress(rows, filled))
        width = self.width
        if set(map(len, kept)) - {width}:  # trailing separators past the header's width
            kept = [row[:width] + [""] * (width - len(row)) for row in kept]
        for piece, cells in zip(self.pieces, zip(*kept)):
            piece.append(_text_array(cells, self.type))
        self.numbers.append(np.flatnonzero(filled) + (position + 1))

    def frame(self) -> pd.DataFrame:
        """The columns as a frame; unnamed columns without a value (trailing separators) left out.

        Each column becomes one ``large_string`` array (what pandas keeps) of exactly
        its size, one column at a time (the text is gone by now), its chunks let go
        of as it is made: one array per column, not a hundred, is what the
        pre-flight's checks run fastest on.
        """
        numbers = np.concatenate(self.numbers) if self.numbers else np.empty(0, dtype="int64")
        data = {}
        freed = 0
        for name, piece in zip(self.names, self.pieces):
            column = pa.chunked_array(piece, type=self.type).cast(pa.large_string())
            piece.clear()
            if not (name.startswith("Unnamed: ") and column.null_count == len(column)):
                data[name] = pd.arrays.ArrowStringArray(column.combine_chunks())
            freed += column.nbytes
            del column
            if freed > _RELEASE_AFTER:
                # The chunks let go of would stay with Arrow's allocator (mimalloc) otherwise:
                # 100 MB more for a million rows, until the process ends. (A millisecond.)
                give_back_memory()
                freed = 0
        give_back_memory()
        return pd.DataFrame(
            data, index=pd.Index(numbers, dtype="int64", name=SHEET_ROW_INDEX_NAME), copy=False
        )


def _text_array(cells: Sequence[str], kind: Any) -> Any:
    """One chunk of a column as an Arrow array of type ``kind``, empty cells null.

    The nulls are set on the array as built (its validity bitmap is where the
    cells are not empty, computed in C), not by a Python test of every cell.
    The array is copied once, at its size: the one Arrow builds keeps the spare
    room it grew into (up to twice the text), a third more memory in all.
    """
    array = empty_as_missing(pa.array(cells, type=kind))
    return pa.concat_arrays([array])


# --------------------------------------------------------------------------- workbooks


def _read_workbook(
    source: PathOrBuffer, sheet: str | None, header_row: int | None, limits: ReadLimits
) -> pd.DataFrame:
    """XLSX/XLSM/XLS/ODS through :func:`~.excel.read_excel_text` (python-calamine)."""
    from .excel import read_excel_text  # python-calamine loads only when a workbook is read

    book = read_excel_text(source, sheet=sheet, limits=limits)
    frame = _frame_from_grid(book.cells, header_row, book.formulas_without_value)
    frame.attrs.update(utf16_cells=book.cells.attrs.get("utf16_cells", 0))
    return frame


def _frame_from_grid(
    cells: pd.DataFrame, header_row: int | None, no_value: frozenset[tuple[int, int]]
) -> pd.DataFrame:
    """A sheet's text grid (index: sheet row; columns: column number, both from 1) as a
    campaign frame; ``no_value`` holds the ``(row, column)`` of formulas saved without a value."""
    if all(column.isna().all() for _, column in cells.items()):  # (stops at the first value)
        raise CampaignReadError("The worksheet is empty: no header row was found.")
    top = cells.iloc[:HEADER_SEARCH_ROWS]
    sample = [[None if pd.isna(c) else c for c in row] for row in top.itertuples(index=False)]
    header_index = _header_index(sample, header_row)
    if header_index >= len(cells):
        raise CampaignReadError(f"header_row {header_index + 1} is below the last row of the sheet.")
    headers = _unique_headers([None if pd.isna(c) else c for c in cells.iloc[header_index]])
    body = cells.iloc[header_index + 1 :]  # Arrow slices of the grid's columns: no copy
    body.columns = headers
    frame = _tidy(body, header_index + 1)
    frame.attrs.update(
        formula_cells=[
            (row, headers[column - 1])
            for row, column in sorted(no_value)
            if row > header_index + 1 and headers[column - 1] in frame.columns
        ],
        rows_above_header=_rows_above(sample[:header_index]),
        header_detected=header_row is None,
    )
    return frame


def _unique_headers(cells: list[str | None] | list[str]) -> list[str]:
    """Headers without surrounding spaces or a byte-order mark, and unique by pandas' rules:
    an empty header is ``Unnamed: <position>``, a repeat gets ``.1``, ``.2``..."""
    out: list[str] = []
    used: set[str] = set()
    for position, cell in enumerate(cells):
        text = "" if cell is None else str(cell).strip(_HEADER_TRIM)
        name = text or f"Unnamed: {position}"
        candidate, count = name, 0
        while candidate in used:
            count += 1
            candidate = f"{name}.{count}"
        used.add(candidate)
        out.append(candidate)
    return out


# --------------------------------------------------------------------------- shared


def _rows_above(sample: Sequence[Sequence[str | None]]) -> list[int]:
    """Row numbers (from 1) of the rows above the header that hold something."""
    return [
        number
        for number, row in enumerate(sample, start=1)
        if any(cell is not None and str(cell).strip() for cell in row)
    ]


def _header_index(sample: list[list[str | None]] | list[list[str]], header_row: int | None) -> int:
    """0-based position of the header row among the first rows (see the module docstring)."""
    if header_row is not None:
        return header_row - 1

    filled = [[c for c in row if c is not None and str(c).strip()] for row in sample]
    widest = max((len(cells) for cells in filled), default=0)
    if widest <= 1:
        return next((i for i, cells in enumerate(filled) if cells), 0)
    matches = [sum(1 for c in cells if is_known_header(c)) for cells in filled]
    best = max(matches)
    if best >= 2:  # the first row that reads like a header (a data row may hold a synonym or two)
        return next(i for i, m in enumerate(matches) if m >= 2 and m * 2 >= best)
    return next(i for i, cells in enumerate(filled) if len(cells) * 2 >= widest and len(cells) >= 2)


def _tidy(frame: pd.DataFrame, header_row: int) -> pd.DataFrame:
    """The rows under the header (``header_row``) of a workbook's grid, numbered by sheet row,
    without blank rows or columns with neither a header nor a value.

    The grid's columns are already text (Arrow-backed ``string``) with empty cells
    missing (:mod:`.excel`), so nothing is converted or replaced here, and rows are
    only copied when there are blank rows to leave out: a million-row sheet is not
    copied whole again.
    """
    frame.columns = [str(c) for c in frame.columns]
    first = header_row + 1
    frame.index = pd.RangeIndex(first, first + len(frame), name=SHEET_ROW_INDEX_NAME)
    # columns with neither a header nor a value: formatting Excel stretched past the table
    unnamed = [c for c in frame.columns if c.startswith("Unnamed: ") and frame[c].isna().all()]
    if unnamed:
        frame = frame.drop(columns=unnamed)
    filled = np.zeros(len(frame), dtype=bool)
    for _, column in frame.items():  # a column at a time: no frame of booleans
        filled |= column.notna().to_numpy()
    if not filled.all():  # a blank row is a gap people leave, not a record
        frame = frame[filled]
    frame.attrs.update(header_row=header_row, encoding=None, formula_cells=[])
    return frame
