"""The command line: batch --evidence, batch --dry-run --check-existing, verify-evidence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from factories import clean_sheet

from kyc_widgets.cli.main import main


def test_evidence_written_then_verified_then_tampering_exits_1(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = clean_sheet(tmp_path, prefix="V")
    out = tmp_path / "evidence.json"
    assert main(["batch", str(sheet), "--campaign", "cli", "--quiet", "--evidence", str(out)]) == 0
    printed = capsys.readouterr().out
    record = json.loads(out.read_text(encoding="utf-8"))
    assert f"chain head {record['chain']['head']}" in printed
    assert out.with_suffix(".html").is_file()
    assert record["sheet"]["file_name"] == "clean.csv" and record["counts"]["created"] == 4
    assert "Li" not in json.dumps(record["entries"]) and env.token not in out.read_text()

    assert main(["verify-evidence", str(out), "--head", record["chain"]["head"]]) == 0
    assert capsys.readouterr().out.startswith("OK: 4 entries")
    record["entries"][1]["status"] = "exists"
    out.write_text(json.dumps(record), encoding="utf-8")
    assert main(["verify-evidence", str(out)]) == 1
    assert "entry 1 (sheet row 3) was edited" in capsys.readouterr().out
    assert main(["verify-evidence", str(tmp_path / "missing.json")]) == 2


def test_verify_evidence_is_registered_on_the_command(env: Any, tmp_path: Path) -> None:
    out = tmp_path / "e.json"
    assert main(["batch", str(clean_sheet(tmp_path, 2, prefix="V")), "--campaign", "cli", "--quiet",
                 "--evidence", str(out)]) == 0
    done = subprocess.run([sys.executable, "-m", "kyc_widgets", "verify-evidence", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "OK: 2 entries" in done.stdout


def test_dry_run_check_existing_creates_nothing(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = clean_sheet(tmp_path, prefix="V")
    assert main(["batch", str(sheet), "--campaign", "cli", "--quiet"]) == 0
    capsys.readouterr()
    env.reset_counts()
    assert main(["batch", str(sheet), "--campaign", "cli", "--quiet", "--dry-run",
                 "--check-existing"]) == 0
    out = capsys.readouterr().out
    assert "Dry run: 4 rows" in out and "Already existed: 4" in out
    assert env.request_count(method="POST") == 0 and env.case_count() == 4

    assert main(["batch", str(sheet), "--campaign", "other", "--quiet", "--dry-run",
                 "--check-existing"]) == 0
    assert "Would be created (dry run): 4" in capsys.readouterr().out
    assert env.case_count() == 4

    assert main(["batch", str(sheet), "--campaign", "cli", "--check-existing"]) == 2
    monkeypatch.setenv("KYC_API_TOKEN", "wrong-token")
    assert main(["batch", str(sheet), "--campaign", "cli", "--quiet", "--dry-run",
                 "--check-existing"]) == 2  # a refused token stops the check like a real run
    monkeypatch.delenv("KYC_API_TOKEN")
    assert main(["batch", str(sheet), "--campaign", "cli", "--dry-run", "--check-existing"]) == 2
