"""`kyc-widgets mapping`, `batch --mapping/--set` and `template` on a core-banking export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from factories import CORE_BANKING_CONSTANTS, core_banking_frame

from kyc_widgets import CampaignMapping, batch_create
from kyc_widgets.cli.main import main


def export(tmp_path: Path) -> Path:
    path = tmp_path / "core-banking.csv"
    core_banking_frame().to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_suggest_save_and_run_gives_the_python_result(
    env: Any, client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = export(tmp_path)
    saved = tmp_path / "core-banking.json"
    assert main(["mapping", str(sheet), "-o", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "'Forename' -> legal_first_name" in out
    assert "'Branch': ignored" in out
    assert "Required fields no column gives: agency_name, regulated_provider_name" in out
    assert "Zoë" not in out and "000000000001" not in out  # no personal data printed

    # the person adds the campaign constants to the file
    data = json.loads(saved.read_text(encoding="utf-8"))
    data["constants"] = CORE_BANKING_CONSTANTS
    saved.write_text(json.dumps(data), encoding="utf-8")

    # the Python path first, then the command line with the saved file: the same cases
    frame = pd.read_csv(sheet, dtype=str)
    python_report = batch_create(client, frame, campaign="core banking",
                                 mapping=CampaignMapping.load(saved), progress=False)
    assert python_report.summary()["created"] == 6
    report_path = tmp_path / "report.csv"
    code = main(["batch", str(sheet), "--mapping", str(saved), "--campaign", "core banking",
                 "--report", str(report_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Already existed: 6" in out and "Mapping: core-banking.json" in out
    assert env.case_count() == 6
    cli_report = pd.read_csv(report_path, dtype=str, encoding="utf-8-sig")
    assert cli_report["kyc_case_id"].tolist() == python_report.results["kyc_case_id"].tolist()
    assert "Forename" in cli_report.columns  # the sheet's own headers next to the results


def test_set_adds_constants_and_bad_mappings_exit_2(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = export(tmp_path)
    saved = tmp_path / "m.yaml"
    assert main(["mapping", str(sheet), "-o", str(saved)]) == 0
    sets = [item for name, value in CORE_BANKING_CONSTANTS.items() for item in ("--set", f"{name}={value}")]
    assert main(["batch", str(sheet), "--mapping", str(saved), "--campaign", "c", "--quiet", *sets]) == 0
    assert "Created: 6" in capsys.readouterr().out
    # without the constants the required fields are named
    assert main(["batch", str(sheet), "--mapping", str(saved), "--campaign", "c", "--quiet"]) == 2
    assert "agency_name" in capsys.readouterr().err
    # a constant for a field the sheet has as a column
    assert main(["batch", str(sheet), "--mapping", str(saved), "--campaign", "c", *sets,
                 "--set", "country_of_onboarding=FR"]) == 2
    assert "both a campaign constant" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"columns": {"Surname": "surname"}}), encoding="utf-8")
    assert main(["batch", str(sheet), "--mapping", str(bad), "--campaign", "c"]) == 2
    assert "unknown field(s) 'surname'" in capsys.readouterr().err
    assert env.case_count() == 6


def test_mapping_to_stdout_and_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = core_banking_frame(2).rename(columns={"Customer No": "Customer Numbr"})
    sheet = tmp_path / "guess.csv"
    frame.to_csv(sheet, index=False)
    assert main(["mapping", str(sheet)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["columns"]["Customer Numbr"] == "user_internal_id"
    assert "Unsure, check before use" in captured.err and "'Customer Numbr'" in captured.err
    template = tmp_path / "campaign.xlsx"
    assert main(["template", str(template)]) == 0
    assert template.exists() and "Template written" in capsys.readouterr().out
    assert main(["template", str(tmp_path / "campaign.csv")]) == 2
