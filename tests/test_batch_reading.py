"""read_campaign: CSV and XLSX as text, sheet row numbers, clear errors."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from kyc_widgets.batch import CampaignReadError, SheetNotFoundError, read_campaign

DATA = Path(__file__).parent / "data"


def test_csv_keeps_leading_zeros_and_marks_empty_cells_missing() -> None:
    frame = read_campaign(DATA / "messy_campaign.csv")
    assert frame.loc[2, "user internal id"] == "00123"
    assert frame.loc[2, "Legal first name"] == " Zoë "  # cells keep text as typed
    assert pd.isna(frame.loc[2, "Assigned analyst e-mail"])
    assert frame.loc[3, "Legal first name"] == "李"  # headers lose their surrounding spaces


def test_index_is_the_spreadsheet_row_and_blank_rows_are_dropped() -> None:
    frame = read_campaign(DATA / "messy_campaign.csv")
    assert frame.index.name == "sheet_row"
    assert frame.index[0] == 2
    assert 12 not in frame.index  # the blank row
    assert frame.loc[13, "LEGAL_LAST_NAME"] == "Lee"
    assert len(frame) == 11


def test_semicolon_csv_from_european_excel(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("\ufeffuser_internal_id;legal_last_name\n007;Ó Briain\n", encoding="utf-8")
    frame = read_campaign(path)
    assert list(frame.columns) == ["user_internal_id", "legal_last_name"]
    assert frame.loc[2, "user_internal_id"] == "007"


def _workbook(tmp_path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "Cases"
    sheet.append(["user_internal_id", "legal_first_name", "amount"])
    sheet.append(["00123", "Zoë", 5])
    sheet.append([None, None, None])
    sheet.append(["00456", "李", 0.5])
    cell = sheet.cell(row=5, column=1, value="00789")
    formula = sheet.cell(row=5, column=2, value='=HYPERLINK("http://x","y")')
    formula.data_type = "s"  # stored as text, as a spreadsheet export would
    cell.number_format = "@"
    book.create_sheet("Other").append(["a"])
    path = tmp_path / "campaign.xlsx"
    book.save(path)
    return path


def test_xlsx_reads_text_with_zeros_and_row_numbers(tmp_path: Path) -> None:
    frame = read_campaign(_workbook(tmp_path))
    assert frame.loc[2, "user_internal_id"] == "00123"
    assert frame.loc[2, "amount"] == "5"
    assert 3 not in frame.index
    assert frame.loc[4, "legal_first_name"] == "李"
    assert frame.loc[5, "legal_first_name"].startswith("=HYPERLINK")


def test_xlsx_sheet_by_name_and_from_a_buffer(tmp_path: Path) -> None:
    path = _workbook(tmp_path)
    assert list(read_campaign(path, sheet="Other").columns) == ["a"]
    frame = read_campaign(io.BytesIO(path.read_bytes()))
    assert frame.loc[2, "user_internal_id"] == "00123"


def test_missing_sheet_lists_the_available_ones(tmp_path: Path) -> None:
    with pytest.raises(SheetNotFoundError) as info:
        read_campaign(_workbook(tmp_path), sheet="Nope")
    assert "'Cases'" in str(info.value) and "'Other'" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothere.csv"):
        read_campaign(tmp_path / "nothere.csv")


def test_unknown_extension_is_a_clear_value_error(tmp_path: Path) -> None:
    path = tmp_path / "cases.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(CampaignReadError, match=r"\.pdf"):
        read_campaign(path)
    with pytest.raises(ValueError):
        read_campaign(path)
