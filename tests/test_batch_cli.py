"""`kyc-widgets batch`: exit codes, report files, privacy of what is printed."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from factories import clean_sheet

from kyc_widgets.cli.batch import add_batch_parser

DATA = Path(__file__).parent / "data"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kyc-widgets")
    add_batch_parser(parser.add_subparsers())
    args = parser.parse_args(["batch", *argv])
    return int(args.handler(args))


def test_clean_sheet_exits_0_and_rerun_too(env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = clean_sheet(tmp_path)
    assert run([str(sheet), "--campaign", "cli", "--quiet"]) == 0
    assert env.case_count() == 4
    assert "Created: 4" in capsys.readouterr().out
    assert run([str(sheet), "--campaign", "cli", "--quiet"]) == 0
    assert "Already existed: 4" in capsys.readouterr().out
    assert env.case_count() == 4


def test_messy_sheet_exits_1_and_writes_a_report(env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.xlsx"
    code = run([str(DATA / "messy_campaign.csv"), "--campaign", "cli", "--report", str(out),
                "--journal", str(tmp_path / "j.jsonl")])
    captured = capsys.readouterr()
    assert code == 1
    assert out.exists()
    # every row neither created nor already there: 3 invalid, 2 sharing one id (two customers)
    assert "5 row(s) need attention" in captured.out
    assert "Creating cases" in captured.err  # progress on stderr
    for personal in ("Zoë", "00123", "Müller"):
        assert personal not in captured.out + captured.err


def test_dry_run_needs_no_token_and_sends_nothing(sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("KYC_API_TOKEN", raising=False)
    monkeypatch.delenv("KYC_API_BASE_URL", raising=False)
    assert run([str(clean_sheet(tmp_path)), "--campaign", "dry", "--dry-run", "--quiet"]) == 0
    assert "Would be created (dry run): 4" in capsys.readouterr().out
    assert sandbox.request_count() == 0


def test_a_dry_run_lists_the_problems_one_per_line_without_their_values(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("KYC_API_TOKEN", raising=False)
    monkeypatch.delenv("KYC_API_BASE_URL", raising=False)
    sheet = clean_sheet(tmp_path)
    frame = pd.read_csv(sheet, dtype=str)
    frame.loc[1, "user_type"] = "Robot-Sécret"  # two bad fields in one row: two lines
    frame.loc[1, "legal_first_name"] = None
    frame.to_csv(sheet, index=False)
    assert run([str(sheet), "--campaign", "dry", "--dry-run", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "Problems (2):" in out
    lines = [line.strip() for line in out.splitlines() if line.startswith("  sheet row")]
    assert lines[0] == "sheet row 3: Legal first name: this column is required and the cell is empty"
    # a choice is named as the sheet spells it (vocabulary, not personal data) ...
    assert lines[1].startswith("sheet row 3: User type: 'Robot-Sécret' is not a user type; use")
    # ... but no other cell is: names, e-mails and ids stay out of the output
    frame.loc[1, "user_type"] = "individual"
    frame.loc[1, "assigned_analyst_email"] = "secret.person@@example.org"
    frame.to_csv(sheet, index=False)
    assert run([str(sheet), "--campaign", "dry", "--dry-run", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "Assigned analyst e-mail:" in out and "secret.person" not in out


def test_configuration_errors_exit_2(env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    sheet = clean_sheet(tmp_path)
    assert run([str(tmp_path / "missing.csv"), "--campaign", "x"]) == 2
    assert run([str(sheet), "--quiet"]) == 2  # rows without ids need --campaign
    assert "--campaign" in capsys.readouterr().err
    assert run([str(sheet), "--campaign", "x", "--report", str(tmp_path / "r.pdf")]) == 2
    bad = tmp_path / "bad.csv"
    pd.read_csv(sheet).drop(columns=["assigned_team"]).to_csv(bad, index=False)
    assert run([str(bad), "--campaign", "x"]) == 2
    monkeypatch.delenv("KYC_API_TOKEN")
    assert run([str(sheet), "--campaign", "x"]) == 2
    assert "KYC_API_TOKEN" in capsys.readouterr().err
    assert env.request_count(method="POST") == 0


def test_registered_on_the_main_command(env: Any, tmp_path: Path) -> None:
    from kyc_widgets.cli.main import main

    assert main(["batch", str(clean_sheet(tmp_path, 2)), "--campaign", "main", "--quiet"]) == 0
    assert env.case_count() == 2


def test_unwritable_report_or_journal_exits_2_before_sending(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = clean_sheet(tmp_path)
    assert run([str(sheet), "--campaign", "x", "--quiet", "--report", str(tmp_path / "no" / "r.csv")]) == 2
    assert "folder for --report does not exist" in capsys.readouterr().err
    (tmp_path / "taken.csv").mkdir()
    assert run([str(sheet), "--campaign", "x", "--quiet", "--report", str(tmp_path / "taken.csv")]) == 2
    assert "is a folder" in capsys.readouterr().err
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    assert run([str(sheet), "--campaign", "x", "--quiet", "--journal", str(not_a_folder / "j.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "cannot use the journal" in err and "Nothing was sent" in err and "Traceback" not in err
    assert env.request_count(method="POST") == 0


def test_a_refused_token_exits_2(env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KYC_API_TOKEN", "not-the-token")
    assert run([str(clean_sheet(tmp_path)), "--campaign", "x", "--quiet"]) == 2
    captured = capsys.readouterr()
    assert "Failed: 4" in captured.out  # the summary is still printed
    assert "KYC_API_TOKEN" in captured.err
    assert env.case_count() == 0


def test_a_report_that_cannot_be_written_keeps_the_summary(
    env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kyc_widgets.batch import BatchReport

    def disk_full(self: Any, path: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(BatchReport, "to_csv", disk_full)
    code = run([str(clean_sheet(tmp_path)), "--campaign", "x", "--quiet",
                "--report", str(tmp_path / "r.csv")])
    captured = capsys.readouterr()
    assert code == 2
    assert "Created: 4" in captured.out
    assert "No space left on device" in captured.err and "Traceback" not in captured.err
    assert env.case_count() == 4


def test_setting_errors_name_the_option_and_send_nothing(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = clean_sheet(tmp_path)
    for option, value in (("--concurrency", "0"), ("--max-concurrency", "0"), ("--max-rate", "-5")):
        assert run([str(sheet), "--campaign", "x", "--quiet", option, value]) == 2
        assert f"kyc-widgets batch: error: {option} must be" in capsys.readouterr().err
    assert run([str(sheet), "--campaign", "x", "--quiet", "--evidence", str(tmp_path / "no" / "e.json")]) == 2
    assert "folder for --evidence does not exist" in capsys.readouterr().err
    assert env.request_count(method="POST") == 0
