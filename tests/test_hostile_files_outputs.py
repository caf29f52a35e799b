"""What the toolkit writes from a hostile sheet, and where: exports that never carry a live
formula, output paths that never overwrite an input, a report format that fits the campaign,
and the evidence written whatever happens to the report.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from factories import campaign_frame, clean_sheet
from openpyxl import load_workbook

from kyc_widgets.batch import BatchMode, BatchOptions, batch_create, read_campaign, verify_evidence
from kyc_widgets.batch.exports import csv_text, write_csv
from kyc_widgets.cli.batch import add_batch_parser

FORMULA_STARTS = ("=", "+", "-", "@")
HOSTILE_NOTES = [
    'Bob\r=HYPERLINK("http://evil.example","click")',  # a bare CR, then a formula
    "Ann\n+cmd|' /C calc'!A0",
    '  =HYPERLINK("http://evil.example")',  # leading spaces a spreadsheet may trim
    "\t@SUM(1+1)",
    "\r\n-2+3",
    "-100",  # a plain number stays as it is
    "plain",
]


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kyc-widgets")
    add_batch_parser(parser.add_subparsers())
    args = parser.parse_args(["batch", *argv])
    return int(args.handler(args))


def _live_formulas(text: str) -> list[str]:
    """Cells of a CSV text, re-read with Python's csv module, that start like a formula
    (after leading whitespace), plain numbers aside."""
    cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    return [
        cell
        for cell in cells
        if cell.lstrip().startswith(FORMULA_STARTS) and not _number(cell.strip())
    ]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _dry_run_report() -> Any:
    frame = campaign_frame(len(HOSTILE_NOTES))
    frame["Notes"] = HOSTILE_NOTES
    frame.loc[0, "legal_first_name"] = '  =HYPERLINK("http://evil.example")'
    return batch_create(None, frame, BatchOptions(mode=BatchMode.CHECK_ROWS, campaign="exports"))


def test_csv_exports_reparsed_hold_no_cell_that_starts_a_formula(tmp_path: Path) -> None:
    report = _dry_run_report()
    report.to_csv(tmp_path / "report.csv")
    written = (tmp_path / "report.csv").read_bytes().decode("utf-8-sig")  # no newline translation
    for text in (written, report.to_csv_string(), csv_text(report.corrected_sheet())[0]):
        assert _live_formulas(text) == []
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert len(rows) == len(HOSTILE_NOTES) + 1  # no row invented by a bare CR
    write_csv(report.corrected_sheet(), tmp_path / "fixed.csv")
    fixed = (tmp_path / "fixed.csv").read_bytes().decode("utf-8-sig")
    assert _live_formulas(fixed) == []
    notes = [row[-1] for row in csv.reader(io.StringIO(fixed, newline=""))][1:]
    assert notes[0] == HOSTILE_NOTES[0]  # a cell with a line break, quoted, read back whole
    assert notes[2] == "'" + HOSTILE_NOTES[2] and notes[5] == "-100"


def test_the_corrected_sheet_written_safely_reads_back_as_it_was(tmp_path: Path) -> None:
    report = _dry_run_report()
    write_csv(report.corrected_sheet(), tmp_path / "fixed.csv")
    again = read_campaign(tmp_path / "fixed.csv")
    assert again["Notes"].str.removeprefix("'").tolist() == HOSTILE_NOTES


def test_the_xlsx_report_holds_text_never_a_formula(tmp_path: Path) -> None:
    report = _dry_run_report()
    report.to_excel(tmp_path / "report.xlsx")
    sheet = load_workbook(tmp_path / "report.xlsx")["report"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


# --------------------------------------------------------------------------- output paths


@pytest.mark.parametrize(
    "outputs",
    [
        ["--report", "{sheet}"],
        ["--journal", "{sheet}"],
        ["--report", "{dir}/out.csv", "--journal", "{dir}/out.csv"],
        ["--report", "{dir}/link.csv"],  # a symbolic link to the sheet
        ["--report", "{dir}/../{dirname}/clean.csv"],
        ["--report", "{dir}/map.csv", "--mapping", "{dir}/map.csv"],
    ],
    ids=["report=sheet", "journal=sheet", "report=journal", "symlink", "dotdot", "report=mapping"],
)
def test_an_output_that_is_an_input_is_refused_before_anything_is_sent(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], outputs: list[str]
) -> None:
    sheet = clean_sheet(tmp_path)
    (tmp_path / "link.csv").symlink_to(sheet)
    (tmp_path / "map.csv").write_text('{"columns": {}}', encoding="utf-8")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    argv = [a.format(sheet=sheet, dir=tmp_path, dirname=tmp_path.name) for a in outputs]
    assert run([str(sheet), "--campaign", "paths", "--quiet", *argv]) == 2
    error = capsys.readouterr().err
    assert "is the same file as" in error and "Nothing was sent" in error
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    assert env.request_count() == 0


def test_the_evidence_summary_cannot_overwrite_an_input(env: Any, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    sheet = clean_sheet(tmp_path)
    page = tmp_path / "evidence.html"
    page.write_text("<p>kept</p>", encoding="utf-8")
    mapping = tmp_path / "evidence.json"  # no: the evidence itself named like the mapping
    mapping.write_text('{"columns": {}}', encoding="utf-8")
    code = run([str(sheet), "--campaign", "paths", "--quiet", "--mapping", str(mapping),
                "--evidence", str(mapping)])
    assert code == 2 and "--evidence" in capsys.readouterr().err
    assert mapping.read_text(encoding="utf-8") == '{"columns": {}}'
    assert env.request_count() == 0


def test_an_xlsx_report_the_campaign_cannot_fit_is_refused_at_preflight(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "wide.csv"
    width = 16_380  # readable (at most 16,384 columns), but the report adds its own
    sheet.write_text(
        ",".join(f"c{n}" for n in range(width)) + "\n" + ",".join("x" * width) + "\n", encoding="utf-8"
    )
    code = run([str(sheet), "--campaign", "wide", "--quiet", "--report", str(tmp_path / "r.xlsx")])
    error = capsys.readouterr().err
    assert code == 2
    assert "an .xlsx worksheet holds 1,048,576 rows and 16,384 columns" in error
    assert "write the report as .csv" in error and "Nothing was sent" in error
    assert not (tmp_path / "r.xlsx").exists() and env.request_count() == 0


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a disk that is always full)")
def test_the_evidence_is_written_when_the_report_cannot_be(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = clean_sheet(tmp_path)
    report = tmp_path / "report.csv"
    report.symlink_to("/dev/full")  # writing it fails as a full disk does: ENOSPC
    evidence = tmp_path / "evidence.json"
    code = run([str(sheet), "--campaign", "full", "--quiet", "--report", str(report),
                "--evidence", str(evidence)])
    captured = capsys.readouterr()
    assert code == 2
    assert "Created: 4" in captured.out  # the summary came first
    assert "the report could not be written" in captured.err
    assert evidence.exists() and verify_evidence(evidence).ok
    assert len(json.loads(evidence.read_text(encoding="utf-8"))["entries"]) == 4
    assert env.case_count() == 4


def test_rows_above_the_header_are_said_not_dropped(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KYC_API_TOKEN", raising=False)
    monkeypatch.delenv("KYC_API_BASE_URL", raising=False)
    sheet = tmp_path / "titled.csv"
    body = campaign_frame(2).to_csv(index=False)
    sheet.write_text("Remediation export\nRun on 2025-03-01\n" + body, encoding="utf-8")
    assert run([str(sheet), "--campaign", "titles", "--dry-run", "--quiet"]) == 0
    error = capsys.readouterr().err
    assert "2 row(s) above the header (row 3) were not read as data: row(s) 1-2" in error
    frame = read_campaign(sheet)
    assert frame.attrs["rows_above_header"] == [1, 2] and frame.index.tolist() == [4, 5]
    assert isinstance(frame, pd.DataFrame)
