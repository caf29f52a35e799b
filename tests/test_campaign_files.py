"""The files Excel and people really write, through read_campaign.

The XLSX tests state the guarantees of :mod:`kyc_widgets.batch.excel` through
the public ``read_campaign`` only, so they hold unchanged for any XLSX reader.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from factories import CORE_BANKING_CONSTANTS, core_banking_frame
from openpyxl import Workbook

from kyc_widgets import suggest_mapping
from kyc_widgets.batch import CampaignReadError, preflight, read_campaign

NAMES = [("Zoë", "Müller"), ("李", "王"), ("Андрей", "Иванов"), ("Ngọc", "Nguyễn"), ("Søren", "Ó Briain")]
WESTERN = [("Zoë", "Müller"), ("François", "Lefèvre"), ("Søren", "Ó Briain"), ("Iñigo", "Núñez")]


def sheet_text(names: list[tuple[str, str]], sep: str = ",") -> str:
    lines = [sep.join(["Customer No", "Forename", "Surname"])]
    lines += [sep.join([f"{i:05d}", first, last]) for i, (first, last) in enumerate(names, 1)]
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize(
    ("encoding", "sep", "names", "assumed"),
    [
        ("utf-8", ",", NAMES, "utf-8"),
        ("utf-8-sig", ";", NAMES, "utf-8-sig"),  # Excel's "CSV UTF-8", European list separator
        ("utf-16", "\t", NAMES, "utf-16"),  # Excel's "Unicode text"
        ("cp1252", ";", WESTERN, "cp1252"),  # Excel's plain "CSV" on Western European Windows
    ],
)
def test_every_encoding_keeps_the_names(
    tmp_path: Path, encoding: str, sep: str, names: list[tuple[str, str]], assumed: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(sheet_text(names, sep).encode(encoding))
    for source in (path, io.BytesIO(path.read_bytes())):
        frame = read_campaign(source)
        assert list(frame.columns) == ["Customer No", "Forename", "Surname"]
        assert list(zip(frame["Forename"], frame["Surname"])) == names
        assert frame.loc[2, "Customer No"] == "00001"
        assert frame.attrs["encoding"] == assumed


def test_a_file_in_another_code_page_is_refused_not_garbled(tmp_path: Path) -> None:
    path = tmp_path / "cyrillic.csv"
    path.write_bytes(sheet_text([("Андрей", "Иванов"), ("Ольга", "Петрова")]).encode("cp1251"))
    with pytest.raises(CampaignReadError, match="CSV UTF-8"):
        read_campaign(path)
    frame = read_campaign(path, encoding="cp1251")  # told, it reads
    assert frame.loc[3, "Forename"] == "Ольга" and frame.attrs["encoding"] == "cp1251"
    for other in ("cp1250", "shift_jis"):
        path.write_bytes(sheet_text([("Łukasz", "Wiśniewski")] if other == "cp1250" else
                                    [("太郎", "山田")]).encode(other))
        with pytest.raises(CampaignReadError, match="garbled|neither"):
            read_campaign(path)
    path.write_bytes(sheet_text(NAMES).encode("utf-16-le"))  # UTF-16 without its mark
    with pytest.raises(CampaignReadError, match="byte-order mark"):
        read_campaign(path)
    with pytest.raises(CampaignReadError, match="not valid utf-8"):
        read_campaign(io.BytesIO("a,b\nZoë,1\n".encode("cp1252")), encoding="utf-8")


def test_title_rows_above_the_table_are_found_and_rows_keep_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    body = sheet_text(NAMES)
    path.write_text("Remediation campaign export\r\nRun on 2025-03-01,,\r\n\r\n" + body, encoding="utf-8")
    frame = read_campaign(path)
    assert frame.attrs["header_row"] == 4
    assert list(frame.columns) == ["Customer No", "Forename", "Surname"]
    assert frame.index[0] == 5 and frame.loc[6, "Forename"] == "李"
    # given explicitly, the same
    assert read_campaign(path, header_row=4).equals(frame)
    with pytest.raises(CampaignReadError, match="header_row"):
        read_campaign(path, header_row=0)


def test_the_report_points_at_the_rows_a_person_sees_under_title_rows(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Core banking export: periodic review"])
    sheet.append([])
    export = core_banking_frame(3)
    sheet.append(list(export.columns))
    for row in export.itertuples(index=False):
        sheet.append(list(row))
    path = tmp_path / "export.xlsx"
    book.save(path)
    frame = read_campaign(path)
    assert frame.attrs["header_row"] == 3
    mapping = suggest_mapping(frame).with_constants(CORE_BANKING_CONSTANTS)
    result = preflight(frame, campaign="titles", mapping=mapping)
    assert result.sheet_row.tolist() == [4, 5, 6]
    assert result.counts()["ready"] == 3


def _with_cached_values(path: Path, cached: dict[str, str]) -> None:
    """Store a calculated result for formula cells, as Excel does on saving (openpyxl cannot)."""
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
    for ref, value in cached.items():
        xml, count = re.subn(
            rf'<c r="{ref}"><f>(.*?)</f><v ?/>',
            lambda m, v=value: f'<c r="{ref}" t="str"><f>{m.group(1)}</f><v>{v}</v>',
            xml,
        )
        assert count == 1, ref
    parts["xl/worksheets/sheet1.xml"] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_xlsx_numbers_dates_and_formulas_read_as_a_person_sees_them(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["user_internal_id", "legal_first_name", "amount", "opened", "flag", "legal_last_name"])
    sheet.append([123456789012, "Zoë", 0.5, dt.datetime(2025, 1, 31), True, "=UPPER(\"li\")"])
    sheet.append([42.0, "李", 1e-3, dt.datetime(2025, 1, 31, 9, 30), False, "=UPPER(\"wang\")"])
    sheet.append(["00123", "Ann", 7, None, None, "Lee"])
    path = tmp_path / "typed.xlsx"
    book.save(path)
    _with_cached_values(path, {"F2": "LI"})  # F3 stays a formula saved without a result
    frame = read_campaign(path)
    assert frame["user_internal_id"].tolist() == ["123456789012", "42", "00123"]
    assert frame["amount"].tolist() == ["0.5", "0.001", "7"]
    assert frame.loc[2, "opened"] == "2025-01-31" and frame.loc[3, "opened"] == "2025-01-31 09:30:00"
    assert frame.loc[2, "flag"] == "TRUE" and frame.loc[3, "flag"] == "FALSE"
    assert frame.loc[2, "legal_last_name"] == "LI"  # the cached result, not the formula
    assert pd.isna(frame.loc[3, "legal_last_name"])
    assert frame.attrs["formula_cells"] == [(3, "legal_last_name")]


def test_a_formula_without_a_value_is_reported_as_such(tmp_path: Path) -> None:
    export = core_banking_frame(2)
    book = Workbook()
    sheet = book.active
    sheet.append(list(export.columns))
    for row in export.itertuples(index=False):
        sheet.append(list(row))
    sheet["C3"] = '=PROPER("lee")'  # Surname of the second row
    path = tmp_path / "formula.xlsx"
    book.save(path)
    mapping = suggest_mapping(path).with_constants(CORE_BANKING_CONSTANTS)
    result = preflight(read_campaign(path), campaign="f", mapping=mapping)
    assert result.status.tolist() == ["ready", "invalid"]
    assert "Legal last name: formula with no value" in result.error_message.loc[3]
    assert "empty" not in result.error_message.loc[3]


@pytest.mark.parametrize("suffix", [".xls", ".ods"])
def test_old_workbooks_are_read_or_refused_with_how_to_save(tmp_path: Path, suffix: str) -> None:
    import importlib.util

    engine = {".xls": "xlrd", ".ods": "odf"}[suffix]
    if importlib.util.find_spec(engine) is not None:
        pytest.skip(f"{engine} is installed: the file would be read")
    path = tmp_path / f"old{suffix}"
    path.write_bytes(b"not really")
    with pytest.raises(CampaignReadError, match=r"\.xlsx .*CSV UTF-8"):
        read_campaign(path)


def test_a_text_buffer_and_the_trailing_separators_excel_writes(tmp_path: Path) -> None:
    text = codecs.BOM_UTF8.decode("utf-8") + "Customer No;Forename;Surname;;\r\n00007;Zoë;Müller;;\r\n"
    frame = read_campaign(io.StringIO(text))
    assert list(frame.columns) == ["Customer No", "Forename", "Surname"]
    assert frame.loc[2, "Forename"] == "Zoë" and frame.attrs["encoding"] is None


def test_a_header_nothing_recognises_is_still_found_under_a_title(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("Quarterly list\nalpha,beta,gamma\n1,2,3\n4,5,6\n", encoding="utf-8")
    frame = read_campaign(path)
    assert list(frame.columns) == ["alpha", "beta", "gamma"] and frame.attrs["header_row"] == 2
    assert frame.loc[4, "gamma"] == "6"
