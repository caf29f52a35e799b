"""What every sheet reader shares: row numbering, the input types, the reading errors.

A leaf module, so :mod:`.reading` (CSV and the dispatch) and :mod:`.excel`
(workbooks) both build on it without importing each other.
"""

from __future__ import annotations

import os
from typing import IO, Union

__all__ = [
    "FIRST_DATA_ROW",
    "SAVE_AS",
    "SHEET_ROW_INDEX_NAME",
    "CampaignReadError",
    "PathOrBuffer",
    "SheetNotFoundError",
]

SHEET_ROW_INDEX_NAME = "sheet_row"
"""Index name marking a frame whose index is already the spreadsheet row number."""

FIRST_DATA_ROW = 2
"""With the header on row 1, the first data row a person sees is row 2."""

SAVE_AS = "save it as .xlsx (File > Save As > Excel Workbook) or as 'CSV UTF-8'"
"""How to save a file that cannot be read (said in the messages that refuse it)."""

PathOrBuffer = Union[str, "os.PathLike[str]", IO[bytes], IO[str]]
"""A file path, or an open file (binary for workbooks)."""


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
