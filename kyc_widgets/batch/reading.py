"""Reading a campaign spreadsheet (CSV or XLSX) as text, the way a person sees it.

Every column is read as text: ids such as ``00123`` keep their leading zeros
and nothing is turned into a float behind the analyst's back. Columns have
pandas' nullable ``string`` dtype, the same under pandas 2 and 3, and empty
cells are missing (``pd.NA``), never the text ``"nan"``, ``"None"`` or
``"<NA>"``.

The returned frame's index is the *spreadsheet row number* (the header is row
1, so the first data row is 2), named ``sheet_row``. Every report built from
it therefore points at the row a person sees in Excel, even after filtering,
and after fully blank rows (which people leave as gaps) have been dropped.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Union

import pandas as pd

__all__ = ["SHEET_ROW_INDEX_NAME", "CampaignReadError", "SheetNotFoundError", "read_campaign"]

SHEET_ROW_INDEX_NAME = "sheet_row"
"""Index name marking a frame whose index is already the spreadsheet row number."""

FIRST_DATA_ROW = 2
"""Row 1 is the header, so the first data row a person sees is row 2."""

_CSV_EXTENSIONS = frozenset({".csv", ".txt", ".tsv"})
_EXCEL_EXTENSIONS = frozenset({".xlsx", ".xlsm"})

PathOrBuffer = Union[str, "os.PathLike[str]", IO[bytes], IO[str]]


class CampaignReadError(ValueError):
    """The campaign file cannot be read as a CSV/XLSX sheet."""


class SheetNotFoundError(CampaignReadError, KeyError):
    """The requested worksheet does not exist; the message lists the ones that do."""

    def __init__(self, sheet: str, available: list[str]) -> None:
        self.sheet = sheet
        self.available = available
        listed = ", ".join(repr(name) for name in available) or "none"
        super().__init__(f"No worksheet named {sheet!r}. Available sheets: {listed}.")

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0])


def read_campaign(path_or_buffer: PathOrBuffer, *, sheet: str | None = None) -> pd.DataFrame:
    """Read a campaign sheet (CSV or XLSX) with every cell as text.

    ``path_or_buffer`` is a path (the extension picks the reader) or an open
    file/buffer (sniffed: XLSX files are ZIP archives starting with ``PK``).
    ``sheet`` names the worksheet of an XLSX file (default: the first one).

    Returns a DataFrame of ``string`` columns where empty cells are ``NA``, fully
    blank rows are dropped, and the index is the spreadsheet row number
    (named ``sheet_row``). Raises ``FileNotFoundError`` naming the file,
    :class:`CampaignReadError` (a ``ValueError``) for an unknown extension, and
    :class:`SheetNotFoundError` listing the available worksheets.
    """
    kind, source = _resolve(path_or_buffer)
    if kind == "csv":
        if sheet is not None:
            raise CampaignReadError("A CSV file has no worksheets; leave out the sheet name.")
        frame = _read_csv(source)
    else:
        frame = _read_excel(source, sheet)
    return _tidy(frame)


def _resolve(path_or_buffer: PathOrBuffer) -> tuple[str, PathOrBuffer]:
    if isinstance(path_or_buffer, (str, os.PathLike)):
        path = Path(path_or_buffer)
        suffix = path.suffix.lower()
        if suffix in _CSV_EXTENSIONS:
            kind = "csv"
        elif suffix in _EXCEL_EXTENSIONS:
            kind = "xlsx"
        elif suffix == ".xls":
            raise CampaignReadError(
                f"{path.name}: old .xls workbooks are not supported; save the sheet as .xlsx or .csv."
            )
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
    return "xlsx" if isinstance(head, bytes) and head.startswith(b"PK") else "csv"


def _read_csv(source: PathOrBuffer) -> pd.DataFrame:
    # The delimiter is taken from the header line (commas, or the semicolons of
    # European Excel exports, or tabs) so the fast C parser can be used;
    # utf-8-sig drops the BOM Excel writes. Blank lines are kept so that row
    # positions stay equal to spreadsheet rows; _tidy drops them afterwards.
    try:
        return pd.read_csv(
            source,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            sep=_delimiter(source),
            encoding="utf-8-sig",
        )
    except pd.errors.EmptyDataError as exc:
        raise CampaignReadError("The campaign file is empty: no header row was found.") from exc
    except UnicodeDecodeError as exc:
        raise CampaignReadError(
            "The campaign file is not UTF-8 text; save it as 'CSV UTF-8' or as .xlsx."
        ) from exc


def _delimiter(source: PathOrBuffer) -> str:
    """The most frequent of ``,``, ``;`` and tab in the header line (``,`` by default)."""
    head: str | bytes | None
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as handle:
                head = handle.readline(65536)
        except OSError:
            return ","
    else:
        head = _peek(source, lambda: source.readline(65536))
    if head is None:
        return ","
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    counts = {sep: text.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _read_excel(source: PathOrBuffer, sheet: str | None) -> pd.DataFrame:
    # Imported here: python-calamine loads only when a workbook is read.
    from kyc_widgets.batch.excel import read_excel_text

    cells = read_excel_text(source, sheet=sheet).cells
    frame = cells.iloc[1:]
    frame.columns = _header_names(cells.iloc[0] if len(cells) else [])
    return frame


def _header_names(header: Any) -> list[str]:
    """Row 1 as column names, the way pandas names them: ``Unnamed: 3`` for an empty
    header cell (counted from 0), ``name.1`` for the second ``name``."""
    names = [f"Unnamed: {i}" if pd.isna(text) else str(text) for i, text in enumerate(header)]
    seen: dict[str, int] = {}
    for position, name in enumerate(names):
        count = seen.get(name, 0)
        while count:
            seen[name] = count + 1
            name = f"{name}.{count}"
            count = seen.get(name, 0)
        names[position] = name
        seen[name] = count + 1
    return names


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [str(c) for c in frame.columns]
    frame.index = pd.RangeIndex(FIRST_DATA_ROW, FIRST_DATA_ROW + len(frame), name=SHEET_ROW_INDEX_NAME)
    if len(frame.columns):
        # "string", not astype(str): under pandas 2 that turns a missing cell (an empty
        # XLSX cell is None even with na_filter=False) into the text "None".
        frame = frame.astype("string").replace("", pd.NA)
    return frame.dropna(how="all")
