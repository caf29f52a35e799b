"""batch.excel: workbooks read fast (python-calamine) as the text a person sees.

Where the text is the same, it is what openpyxl-based reading (``pd.read_excel``
with ``dtype=str``) gives; dates read as ISO dates and booleans as Excel shows
them, as tests/test_campaign_files.py asserts.

Fixture books are made with openpyxl; openpyxl saves a formula without its
value (``<f>..</f><v />``), and a cached value is put in by editing the
sheet's XML, as Excel would have saved it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook

from kyc_widgets.batch import CampaignReadError, SheetNotFoundError, read_campaign
from kyc_widgets.batch.excel import read_excel_text
from kyc_widgets.batch.limits import ReadLimits

DATA = Path(__file__).parent / "data"
SHEET_XML = "xl/worksheets/sheet1.xml"

HEADERS = [
    "text", "id_as_number", "int", "float", "negative", "whole_float", "tiny", "datetime",
    "microseconds", "date", "midnight", "time", "yes", "no", "duration", "error", "formula",
    "cached_formula", "empty", "spaces", "name", "name", None, "typed_text",
]
ROW = [
    "00123", 123456789012, 5, 0.5, -2.25, 7.0, 1e-07, dt.datetime(2024, 1, 5, 13, 30),
    dt.datetime(2024, 1, 5, 13, 30, 15, 500000), dt.date(2024, 1, 5), dt.datetime(2024, 1, 5),
    dt.time(9, 5), True, False, dt.timedelta(hours=26), "#N/A", "=1+1", "=2+2", None, " Zoë ",
    "李", "Ó Briain", "orphan", "00789",
]


def _rewrite(path: Path, member: str, edit: Callable[[str], str]) -> None:
    """Rewrite one member of a zip file, the others unchanged."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[member] = edit(members[member].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _cache_value(path: Path, formula: str, value: str) -> None:
    """Save ``value`` as the formula's cached value, as Excel does on save."""
    def edit(xml: str) -> str:
        edited = xml.replace(f"<f>{formula}</f><v />", f"<f>{formula}</f><v>{value}</v>")
        assert edited != xml
        return edited

    _rewrite(path, SHEET_XML, edit)


def _every_cell_type(tmp_path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "Cases"
    sheet.append(HEADERS)
    sheet.append(ROW)
    sheet.append([None] * len(ROW))  # a blank row people leave as a gap
    sheet.append(["00456", 42])
    sheet.cell(row=2, column=len(ROW)).number_format = "@"
    path = tmp_path / "types.xlsx"
    book.save(path)
    _cache_value(path, "2+2", "4")
    return path


def _openpyxl_reading(path: Path) -> pd.DataFrame:
    """What ``pd.read_excel`` with openpyxl gives for a workbook, as a campaign frame."""
    frame = pd.read_excel(
        path, engine="openpyxl", dtype=str, keep_default_na=False, na_filter=False
    )
    frame.columns = [str(c) for c in frame.columns]
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="sheet_row")
    frame = frame.astype(pd.StringDtype("pyarrow"))  # what the reader gives, under pandas 2 too
    return frame.replace("", pd.NA).dropna(how="all")


def test_every_cell_type_reads_as_a_person_sees_it(tmp_path: Path) -> None:
    path = _every_cell_type(tmp_path)
    frame = read_campaign(path)
    expected = _openpyxl_reading(path)
    # openpyxl gives "2024-01-05 00:00:00" and "True": the ISO date and Excel's words instead
    expected.loc[2, ["date", "midnight", "yes", "no"]] = ["2024-01-05", "2024-01-05", "TRUE", "FALSE"]
    pd.testing.assert_frame_equal(frame, expected)
    row = frame.loc[2]
    assert row["text"] == "00123" and row["typed_text"] == "00789"
    assert row["id_as_number"] == "123456789012"  # never 123456789012.0 or 1.23457E+11
    assert (row["int"], row["float"], row["negative"], row["whole_float"]) == ("5", "0.5", "-2.25", "7")
    assert (row["datetime"], row["date"], row["midnight"], row["time"]) == (
        "2024-01-05 13:30:00", "2024-01-05", "2024-01-05", "09:05:00"
    )
    assert row["microseconds"] == "2024-01-05 13:30:15.500000"
    assert (row["yes"], row["no"], row["duration"]) == ("TRUE", "FALSE", "1 day, 2:00:00")
    assert row["cached_formula"] == "4"
    assert pd.isna(row["formula"]) and pd.isna(row["error"]) and pd.isna(row["empty"])
    assert (row["spaces"], row["name"], row["name.1"], row["Unnamed: 22"]) == (
        " Zoë ", "李", "Ó Briain", "orphan"
    )
    assert list(frame.index) == [2, 4]


def test_grid_is_the_sheet_from_a1_with_excel_row_numbers(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet["B2"] = "Refresh campaign, March"  # a title row above the table
    sheet["C4"], sheet["D4"] = "user_internal_id", "legal_last_name"
    sheet["C5"], sheet["D5"] = "00123", "Lee"
    path = tmp_path / "titled.xlsx"
    book.save(path)
    cells, formulas, name = read_excel_text(path)
    assert name == "Sheet" and formulas == frozenset()
    assert cells.index.name == "sheet_row"
    assert list(cells.index) == [1, 2, 3, 4, 5]
    assert list(cells.columns) == [1, 2, 3, 4]
    assert cells.loc[2, 2] == "Refresh campaign, March"
    assert cells.loc[4, 3] == "user_internal_id" and cells.loc[5, 4] == "Lee"
    assert cells.loc[1].isna().all() and cells[1].isna().all()
    assert all(str(dtype) == "string" for dtype in cells.dtypes)


def test_formula_without_a_cached_value_is_reported(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["id", "total", "other"])
    sheet.append(["00123", "=1+1", "=2+2"])
    sheet["E9"] = "=SUM(A1:A2)"  # below and right of every value
    path = tmp_path / "formulas.xlsx"
    book.save(path)
    _cache_value(path, "2+2", "4")
    cells, formulas, _ = read_excel_text(path)
    assert formulas == {(2, 2), (9, 5)}
    assert pd.isna(cells.loc[2, 2]) and pd.isna(cells.loc[9, 5])
    assert cells.loc[2, 3] == "4"  # the cached value; a formula with one is not reported
    assert cells.shape == (9, 5)
    assert all(str(dtype) == "string" for dtype in cells.dtypes)


def test_a_sheet_of_formulas_without_values_only(tmp_path: Path) -> None:
    book = Workbook()
    book.active["B2"] = "=1+1"
    path = tmp_path / "only.xlsx"
    book.save(path)
    cells, formulas, _ = read_excel_text(path)
    assert formulas == {(2, 2)}
    assert cells.shape == (2, 2) and cells.isna().all().all()
    assert all(str(dtype) == "string" for dtype in cells.dtypes)


def test_shared_formulas_and_a_prefixed_namespace(tmp_path: Path) -> None:
    """Excel shares one formula down a column (``<f t="shared" si="0"/>``); some writers
    prefix the main namespace (``<x:c>``)."""
    book = Workbook()
    sheet = book.active
    sheet.append(["a", "b"])
    sheet.append([1, "=A2*2"])
    sheet.append([2, "=A3*2"])
    path = tmp_path / "shared.xlsx"
    book.save(path)

    def share_and_prefix(xml: str) -> str:
        xml = xml.replace("<f>A2*2</f><v />", '<f t="shared" ref="B2:B3" si="0">A2*2</f><v>2</v>')
        xml = xml.replace("<f>A3*2</f><v />", '<f t="shared" si="0"/>')
        xml = xml.replace('<worksheet xmlns="', '<worksheet xmlns:x="')
        return re.sub(r"<(/?)(?=[a-zA-Z])", r"<\1x:", xml)

    _rewrite(path, SHEET_XML, share_and_prefix)
    cells, formulas, _ = read_excel_text(path)
    assert formulas == {(3, 2)}
    assert cells.loc[2, 2] == "2" and cells.loc[3, 1] == "2"


def test_cells_without_references_are_counted_like_excel(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["a", "b", "c"])
    sheet.append(["x", "=1+1", "y"])
    path = tmp_path / "no_refs.xlsx"
    book.save(path)
    _rewrite(path, SHEET_XML, lambda xml: re.sub(r'(<c) r="[A-Z]+[0-9]+"', r"\1", xml))
    cells, formulas, _ = read_excel_text(path)
    assert formulas == {(2, 2)}
    assert cells.loc[2, 3] == "y"


def test_formulas_are_looked_up_in_the_sheet_that_was_read(tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "Cases"
    book.active.append(["id"])
    other = book.create_sheet("Totals")
    other.append(["sum"])
    other.append(["=SUM(Cases!A:A)"])
    book.move_sheet("Totals", offset=-1)  # Totals first in the book, on sheet2.xml
    path = tmp_path / "two.xlsx"
    book.save(path)
    assert read_excel_text(path, sheet="Cases").formulas_without_value == frozenset()
    totals = read_excel_text(path)  # the first sheet
    assert totals.sheet == "Totals" and totals.formulas_without_value == {(2, 1)}


def test_a_missing_sheet_lists_the_ones_there_are(tmp_path: Path) -> None:
    path = _every_cell_type(tmp_path)
    with pytest.raises(SheetNotFoundError, match="'Cases'") as info:
        read_excel_text(path, sheet="Nope")
    assert info.value.available == ["Cases"]


def test_a_buffer_reads_like_the_file_and_text_or_junk_is_refused(tmp_path: Path) -> None:
    path = _every_cell_type(tmp_path)
    from_buffer = read_excel_text(io.BytesIO(path.read_bytes()))
    from_path = read_excel_text(path)
    pd.testing.assert_frame_equal(from_buffer.cells, from_path.cells)
    assert from_buffer.formulas_without_value == from_path.formulas_without_value == {(2, 17)}
    with pytest.raises(CampaignReadError, match="binary"):
        read_excel_text(io.StringIO("a,b\n"))
    with pytest.raises(CampaignReadError, match="workbook"):
        read_excel_text(io.BytesIO(b"PK\x03\x04 not really a workbook"))


def test_xls_workbook_with_a_title_row() -> None:
    cells, formulas, name = read_excel_text(DATA / "campaign.xls", sheet="Cases")
    assert name == "Cases" and formulas == frozenset()
    assert cells.loc[2, 1] == "Cases to review" and cells.loc[3, 2] == "customer_number"
    assert list(cells.loc[4]) == ["00123", "123456789012", "Zoë", "0.5", "2024-01-05"]
    assert list(cells.loc[5, [1, 2, 3, 4]]) == ["00456", "7", "李", "-2"]


ODS_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet><table:table table:name="Cases">
<table:table-row><table:table-cell/></table:table-row>
<table:table-row>{header}</table:table-row>
<table:table-row>{row}</table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>"""
ODS_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
 manifest:version="1.2">
<manifest:file-entry manifest:full-path="/"
 manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""


def _ods_cell(value_type: str, shown: str, value: str = "") -> str:
    attribute = {"float": f' office:value="{value}"', "date": f' office:date-value="{value}"'}
    return (
        f'<table:table-cell office:value-type="{value_type}"{attribute.get(value_type, "")}>'
        f"<text:p>{shown}</text:p></table:table-cell>"
    )


def test_ods_workbook(tmp_path: Path) -> None:
    header = "".join(_ods_cell("string", h) for h in ("id", "customer_number", "review_date"))
    row = (
        _ods_cell("string", "00123")
        + _ods_cell("float", "123456789012", "123456789012")
        + _ods_cell("date", "05/01/2024", "2024-01-05")
    )
    path = tmp_path / "campaign.ods"
    with zipfile.ZipFile(path, "w") as archive:
        mimetype = "application/vnd.oasis.opendocument.spreadsheet"
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", ODS_MANIFEST)
        archive.writestr("content.xml", ODS_CONTENT.format(header=header, row=row))
    cells, formulas, name = read_excel_text(path)
    assert name == "Cases" and formulas == frozenset()
    assert list(cells.index) == [1, 2, 3] and cells.loc[1].isna().all()
    assert list(cells.loc[3]) == ["00123", "123456789012", "2024-01-05"]


def test_read_campaign_reads_xls_under_its_title_row_from_a_path_or_a_buffer() -> None:
    path = DATA / "campaign.xls"
    frame = read_campaign(path, sheet="Cases")
    assert frame.attrs["header_row"] == 3 and list(frame.index) == [4, 5]
    assert frame.loc[4, "customer_number"] == "123456789012"
    assert frame.loc[4, "review_date"] == "2024-01-05" and frame.loc[5, "legal_first_name"] == "李"
    # an XLS buffer (an OLE2 file, not a ZIP) is sniffed as a workbook, not read as CSV
    pd.testing.assert_frame_equal(read_campaign(io.BytesIO(path.read_bytes()), sheet="Cases"), frame)


def test_formulas_without_a_value_under_title_rows_keep_their_sheet_rows(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet["A1"] = "=TODAY()"  # a title formula above the table: not a cell of any row
    sheet.append([])
    sheet.append(["user_internal_id", "legal_first_name", "legal_last_name"])
    sheet.append(["00123", "Zoë", "=PROPER(\"lee\")"])
    sheet.append(["00456", "Ann", "Lee"])
    sheet["E5"] = "=1+1"  # right of the table, under no header
    path = tmp_path / "titled.xlsx"
    book.save(path)
    frame = read_campaign(path)
    assert frame.attrs["header_row"] == 3
    assert frame.attrs["formula_cells"] == [(4, "legal_last_name")]
    assert pd.isna(frame.loc[4, "legal_last_name"]) and frame.loc[5, "legal_last_name"] == "Lee"
    assert list(frame.columns) == ["user_internal_id", "legal_first_name", "legal_last_name"]


# -- a large sheet is read a slice of rows at a time (issue 22) ------------------------------


def _sliced(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every sheet count as large (slices of a few rows); returns how many slices
    calamine was given, to tell slicing from falling back to a whole read."""
    from kyc_widgets.batch import excel

    written: list[int] = []
    write = excel._write_workbook

    def counting(*args: Any) -> None:
        written.append(1)
        write(*args)

    monkeypatch.setattr(excel, "_SLICE_BYTES", 400)
    monkeypatch.setattr(excel, "_write_workbook", counting)
    return written


def _long_book(tmp_path: Path) -> Path:
    """Title rows, a header in column B, every kind of cell, formulas without a value,
    blank rows longer than a slice, a cell far to the right, and a second sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Cases"
    sheet["B1"] = "Refresh campaign, March"
    sheet.append([None, "id", "amount", "opened", "at", "active", "total", "note"])
    for row in range(3, 60):
        sheet.cell(row, 2, f"{row:05d}")
        sheet.cell(row, 3, row * 1.5 if row % 2 else row)
        sheet.cell(row, 4, dt.date(2024, 1, 1) + dt.timedelta(days=row))
        sheet.cell(row, 5, dt.datetime(2024, 1, 1, 9, 30) if row % 3 else dt.time(9, 5))
        sheet.cell(row, 6, row % 2 == 0)
        if row % 7 == 0:
            sheet.cell(row, 7, "=1+1")
        if row % 5:
            sheet.cell(row, 8, f" Zoë {row} ")
    sheet["J95"] = "far"
    sheet["K99"] = "=2+2"
    other = book.create_sheet("Other")
    for row in range(1, 40):
        other.append(["x", row])
    path = tmp_path / "long.xlsx"
    book.save(path)
    return path


def test_a_sheet_read_in_slices_is_the_sheet_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _long_book(tmp_path)
    whole = read_excel_text(path)
    other = read_excel_text(path, sheet="Other")
    written = _sliced(monkeypatch)
    sliced = read_excel_text(path)
    assert len(written) > 5  # really read in slices
    pd.testing.assert_frame_equal(sliced.cells, whole.cells)
    assert sliced.formulas_without_value == whole.formulas_without_value
    assert (7, 7) in sliced.formulas_without_value and (99, 11) in sliced.formulas_without_value
    assert sliced.cells.shape == (99, 11) and sliced.cells.loc[95, 10] == "far"
    assert sliced.cells.loc[4, 3] == "4" and sliced.cells.loc[5, 3] == "7.5"
    assert all(dtype == pd.StringDtype("pyarrow") for dtype in sliced.cells.dtypes)
    pd.testing.assert_frame_equal(read_excel_text(path, sheet="Other").cells, other.cells)
    frame = read_campaign(path)
    assert frame.attrs["header_row"] == 2 and frame.attrs["rows_above_header"] == [1]
    assert frame.attrs["formula_cells"][0] == (7, "total")
    assert frame.loc[3, "id"] == "00003" and pd.isna(frame.loc[5, "note"])


def test_shared_strings_and_a_buffer_read_in_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hostile_corpus import xlsx

    rows = "".join(
        f'<row r="{row}"><c r="A{row}" t="s"><v>{row % 3}</v></c><c r="B{row}"><v>{row}</v></c></row>'
        for row in range(1, 80)
    )
    strings = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main"><si><t>zero</t></si><si><t>one</t></si><si><t>two</t></si></sst>'
    )
    data = xlsx(rows, dimension="A1:B79", shared_strings=strings)
    whole = read_excel_text(io.BytesIO(data))
    written = _sliced(monkeypatch)
    sliced = read_excel_text(io.BytesIO(data))
    assert len(written) > 5
    pd.testing.assert_frame_equal(sliced.cells, whole.cells)
    assert list(sliced.cells.loc[78]) == ["zero", "78"]


def test_rows_without_numbers_are_read_whole_not_in_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _long_book(tmp_path)
    _rewrite(path, SHEET_XML, lambda xml: re.sub(r'<row r="[0-9]+"', "<row", xml))
    whole = read_excel_text(path)
    _sliced(monkeypatch)
    sliced = read_excel_text(path)
    pd.testing.assert_frame_equal(sliced.cells, whole.cells)
    assert sliced.formulas_without_value == whole.formulas_without_value


def test_refusals_in_a_later_slice_name_the_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _long_book(tmp_path)
    _rewrite(path, SHEET_XML, lambda xml: xml.replace(" Zoë 53 ", "x_x0000_y"))
    _sliced(monkeypatch)
    with pytest.raises(CampaignReadError, match="NUL") as refused:
        read_excel_text(path)
    assert refused.value.cell == "H53"
    _rewrite(path, SHEET_XML, lambda xml: xml.replace("x_x0000_y", "T_x0000_i_x0000_"))
    book = read_excel_text(path)
    assert book.cells.loc[53, 8] == "Ti" and book.cells.attrs["utf16_cells"] == 1
    _rewrite(path, SHEET_XML, lambda xml: xml.replace("T_x0000_i_x0000_", "y" * 40))
    with pytest.raises(CampaignReadError, match="max_cell_chars") as refused:
        read_excel_text(path, limits=ReadLimits(max_cell_chars=30))  # the title has 23
    assert refused.value.cell == "H53"


def test_formula_cells_without_references_are_read_whole_not_in_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _long_book(tmp_path)
    _rewrite(path, SHEET_XML, lambda xml: re.sub(r'(<c) r="G[0-9]+"', r"\1", xml))
    whole = read_excel_text(path)
    _sliced(monkeypatch)
    sliced = read_excel_text(path)
    pd.testing.assert_frame_equal(sliced.cells, whole.cells)
    assert sliced.formulas_without_value == whole.formulas_without_value
    assert (7, 7) in sliced.formulas_without_value
