"""BatchReport exports and display: no live formulas, optional personal data, bounded HTML."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from factories import campaign_frame
from openpyxl import load_workbook

from kyc_widgets.batch import BatchReport, batch_create, read_campaign
from kyc_widgets.batch.report import (
    STATUS_MARKS,
    STATUS_SHORT,
    STATUSES,
    neutralise_formulas,
    write_xlsx,
)
from kyc_widgets.widgets.report_html import html_table, readable, report_html

DATA = Path(__file__).parent / "data"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def messy_report(sandbox: Any, client: Any) -> BatchReport:
    return batch_create(client, read_campaign(DATA / "messy_campaign.csv"), campaign="Export",
                        progress=False)


def test_csv_export_has_no_cell_starting_a_formula(messy_report: BatchReport, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    messy_report.to_csv(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in cells
    assert "'+44 20 7946 0000" in cells
    assert "Zoë" in cells and "李" in cells  # personal data included by default


def test_xlsx_export_has_no_formula_cells(messy_report: BatchReport, tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    messy_report.to_excel(path)
    sheet = load_workbook(path).active
    values = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c for c in values if c.data_type == "f"]
    assert not [c for c in values if isinstance(c.value, str) and c.value.startswith(FORMULA_STARTS)]
    headers = [c.value for c in next(sheet.iter_rows())]
    assert headers[:3] == ["sheet_row", "kyc_case_id", "status"]


def test_export_without_personal_data(messy_report: BatchReport, tmp_path: Path) -> None:
    path = tmp_path / "safe.csv"
    messy_report.to_csv(path, include_personal_data=False)
    text = path.read_text(encoding="utf-8-sig")
    for personal in ("Zoë", "李", "Müller", "00123", "analyst@example.org", "HYPERLINK"):
        assert personal not in text
    frame = pd.read_csv(path, dtype=str)
    assert "Notes" not in frame.columns  # unknown columns may hold anything
    assert "programme_name" in frame.columns and "status" in frame.columns
    assert len(frame) == 11


def test_report_joined_with_input_on_index(messy_report: BatchReport) -> None:
    frame = messy_report.to_frame()
    assert frame.loc[8, "status"] == "created"
    assert frame.loc[8, "Legal first name"].startswith("=HYPERLINK")  # raw in memory (header trimmed)
    assert "kyc_case_id" in frame.columns and frame.loc[10, "kyc_case_id"] == "GIVEN-1"


def test_summary_is_a_dict_of_every_status(messy_report: BatchReport) -> None:
    summary = messy_report.summary()
    assert list(summary) == ["created", "exists", "conflict", "invalid", "duplicate_in_sheet",
                             "duplicate_id", "failed", "outcome_unknown", "not_attempted",
                             "would_create", "exists_differs"]
    # rows 10 and 11: two customers with one external case ID, neither sent
    assert summary["created"] == 5 and summary["invalid"] == 3 and summary["exists"] == 0
    assert summary["duplicate_id"] == 2
    assert sum(summary.values()) == 11


def test_html_shows_words_and_stays_bounded() -> None:
    n = 500
    results = pd.DataFrame(
        {
            "source_index": range(n), "sheet_row": range(2, n + 2), "kyc_case_id": "X",
            "status": ["created"] * (n - 1) + ["outcome_unknown"], "case_id": None,
            "http_status": 201, "error_code": None, "error_field": None,
            "error_message": ["<script>alert(1)</script>"] + [None] * (n - 1),
            "request_id": None, "attempts": 1, "note": None,
        }
    )
    report = BatchReport(results=results, source=pd.DataFrame(index=range(n)))
    page = report_html(report)
    assert "Created" in page and "Outcome unknown" in page
    assert "<script>" not in page
    assert page.count("<tr>") <= 60
    assert "450 more rows" in page


def test_neutralise_formulas_leaves_numbers_alone() -> None:
    frame = pd.DataFrame(
        {
            "a": ["=1+1", "ok", None, "-x", "@SUM", "\tx", "-100", "+2.5", "-1e5", "+44 20"],
            "n": [-1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        }
    )
    out = neutralise_formulas(frame)
    assert out["a"].fillna("<NA>").tolist() == [
        "'=1+1", "ok", "<NA>", "'-x", "'@SUM", "'\tx", "-100", "+2.5", "'-1e5", "'+44 20"
    ]
    assert out["n"].tolist() == list(range(-1, 11))[:1] + list(range(2, 11))


class _Shown:
    def __str__(self) -> str:
        return "=cmd|' /C calc'!A0"


def test_categorical_and_mixed_columns_are_neutralised(tmp_path: Path) -> None:
    frame = campaign_frame(3)
    frame["Notes"] = pd.Categorical(['=HYPERLINK("http://evil.example","x")', "fine", None])
    frame["legal_first_name"] = pd.Categorical(["@SUM(A1)", "Ann", "Bo"])
    frame["Mixed"] = pd.Series([_Shown(), 5, "-3"], dtype=object)
    report = batch_create(None, frame, campaign="cat", dry_run=True, progress=False)
    assert report.summary()["would_create"] == 3

    csv_path = tmp_path / "report.csv"
    report.to_csv(csv_path)
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS) and c != "-3"]
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in cells and "'@SUM(A1)" in cells
    assert "'=cmd|' /C calc'!A0" in cells and "-3" in cells and "5" in cells

    xlsx_path = tmp_path / "report.xlsx"
    report.to_excel(xlsx_path)
    cells_x = [cell for row in load_workbook(xlsx_path).active.iter_rows() for cell in row]
    assert not [c for c in cells_x if c.data_type == "f"]
    texts = [c.value for c in cells_x if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(FORMULA_STARTS) and t != "-3"]
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in texts


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_rerun_from_the_exported_report_creates_nothing(
    sandbox: Any, client: Any, tmp_path: Path, suffix: str
) -> None:
    frame = campaign_frame(4)
    frame["kyc_case_id"] = ["-100", "+200", "@300", "=400"]
    frame.loc[0, "legal_first_name"] = '=HYPERLINK("http://evil.example","x")'
    first = batch_create(client, frame, progress=False)
    assert first.summary()["created"] == 4

    path = tmp_path / f"report{suffix}"
    if suffix == ".csv":
        first.to_csv(path)
        text = path.read_text(encoding="utf-8-sig")
        assert ",-100," in text and ",'@300," in text  # numbers stay, formulas are quoted
    else:
        first.to_excel(path)
    again = read_campaign(path)
    second = batch_create(client, again, progress=False)
    assert second.results["kyc_case_id"].tolist() == ["-100", "+200", "@300", "=400"]
    assert second.summary()["created"] == 0
    assert second.summary()["exists"] == 4
    assert sandbox.case_count() == 4


def test_write_xlsx_stores_every_string_as_text(tmp_path: Path) -> None:
    """The writer alone, on cells neutralise_formulas would not have quoted (or quoted
    itself): none becomes a formula, a link or a number."""
    texts = ["=1+1", "{=SUM(A1:A2)}", "http://evil.example", "mailto:a@example.org", "1e5", "00123"]
    frame = pd.DataFrame(
        {
            "text": texts,
            "number": [1, 2.5, -3, 0, 10**11, 7],
            "flag": [True, False, None, True, False, True],
            "when": pd.to_datetime(["2024-01-05 13:30", None, None, None, None, None]),
        }
    )
    path = tmp_path / "cells.xlsx"
    write_xlsx(frame, path, sheet_name="cells")
    sheet = load_workbook(path)["cells"]
    rows = list(sheet.iter_rows(min_row=2))
    assert [row[0].value for row in rows] == texts
    assert {row[0].data_type for row in rows} == {"s"}
    assert not sheet._hyperlinks
    assert [row[1].value for row in rows] == [1, 2.5, -3, 0, 10**11, 7]
    assert [row[2].value for row in rows[:3]] == [True, False, None]
    assert rows[0][3].is_date and rows[0][3].value == pd.Timestamp("2024-01-05 13:30")
    assert rows[1][3].value is None
    assert [c.value for c in sheet[1]] == ["text", "number", "flag", "when"]
    back = read_campaign(path)
    assert back["text"].tolist() == texts and back.loc[6, "number"] == "100000000000"


def test_write_xlsx_refuses_a_frame_wider_than_a_worksheet(tmp_path: Path) -> None:
    frame = pd.DataFrame(columns=[f"c{i}" for i in range(16_385)])
    with pytest.raises(ValueError, match="write CSV"):
        write_xlsx(frame, tmp_path / "wide.xlsx", sheet_name="report")


def test_write_xlsx_failing_on_disk_raises_the_os_error(tmp_path: Path) -> None:
    """The CLI reports an OSError as "the report could not be written", without a traceback."""
    with pytest.raises(IsADirectoryError):
        write_xlsx(pd.DataFrame({"a": ["x"]}), tmp_path, sheet_name="report")

def test_readable_rows_use_short_statuses_field_titles_and_only_filled_columns() -> None:
    results = pd.DataFrame(
        {
            "source_index": [0, 1], "sheet_row": [2, 3], "kyc_case_id": [None, None],
            "status": ["invalid", "duplicate_in_sheet"], "case_id": None, "http_status": None,
            "error_code": None, "error_field": ["assigned_analyst_email", None],
            "error_message": ["Enter a valid e-mail address.", None], "request_id": None,
            "attempts": 0, "note": [None, "same case as sheet row 2"],
        }
    )
    shown = readable(results.drop(columns=["source_index"]))
    assert list(shown.columns) == ["Sheet row", "Status", "Error field", "Error message", "Note"]
    assert list(shown["Status"]) == ["Invalid", "Duplicate"]
    assert shown["Error field"][0] == "Assigned analyst e-mail"


def test_html_table_marks_statuses_in_text_and_wraps_only_messages() -> None:
    frame = readable(pd.DataFrame({
        "sheet_row": [2], "status": ["outcome_unknown"], "kyc_case_id": ["<b>X</b>"],
        "error_message": ["The answer was lost."],
    }))
    page = html_table(frame)
    assert '<span aria-hidden="true">?</span> Unknown' in page  # a marker, then the word
    assert 'title="Outcome unknown: check before re-sending"' in page
    assert "&lt;b&gt;X&lt;/b&gt;" in page and "<b>X" not in page
    assert '<td class="kyc-nowrap">&lt;b&gt;' in page  # ids stay on one line
    assert '<td class="kyc-wrap">The answer was lost.</td>' in page
    assert set(STATUS_SHORT) == set(STATUSES) == set(STATUS_MARKS)
    assert all(len(label) <= 12 for label in STATUS_SHORT.values())
