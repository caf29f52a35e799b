"""`kyc-widgets plan`, `approve` and `batch --plan`: two analysts, two tokens, one campaign.

Each step runs ``kyc-widgets`` as a user would (``main([...])``), with the token of the
analyst at the keyboard in ``KYC_API_TOKEN``; what is printed is checked for the words an
analyst needs and for the absence of personal data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from factories import core_banking_frame

from kyc_widgets.batch.plan_file import read_plan
from kyc_widgets.cli.main import main
from kyc_widgets.sandbox import Sandbox

TOKENS = {"maker-token": "maker@sandbox", "checker-token": "checker@sandbox"}
PERSONAL = ("Zoë", "Müller", "Андрей", "000000000003")


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(tokens=TOKENS) as sandbox:
        monkeypatch.setenv("KYC_API_BASE_URL", sandbox.base_url)
        monkeypatch.delenv("KYC_REQUIRE_APPROVAL", raising=False)
        yield sandbox


def as_analyst(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("KYC_API_TOKEN", token)


def sheet_and_mapping(folder: Path) -> tuple[Path, Path]:
    sheet = folder / "export.csv"
    core_banking_frame(4).to_csv(sheet, index=False)
    mapping = folder / "core.json"
    mapping.write_text(json.dumps({
        "columns": {"Customer No": "user_internal_id", "Forename": "legal_first_name",
                    "Surname": "legal_last_name", "Customer type": "user_type",
                    "Review reason": "relationship_type", "Priority": "case_priority",
                    "Country": "country_of_onboarding", "Branch": None},
        "constants": {"agency_name": "Agency One", "regulated_provider_name": "Provider Ltd",
                      "programme_name": "Cards"},
        "values": {"relationship_type": {"Periodic review": "KYC_REFRESH",
                                         "Backbook": "REMEDIATION"},
                   "user_type": {"Private individual": "INDIVIDUAL",
                                 "Sole proprietor": "SOLE_TRADER"},
                   "case_priority": {"P1": "URGENT", "P2": "HIGH", "P3": "NORMAL", "P4": "LOW"}},
    }), encoding="utf-8")
    return sheet, mapping


def test_plan_approve_and_send_on_the_command_line(
    api: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sheet, mapping = sheet_and_mapping(tmp_path)
    plan = tmp_path / "plan.json"
    common = ["--campaign", "q1", "--mapping", str(mapping), "--set", "assigned_team=Refresh"]

    as_analyst(monkeypatch, "maker-token")
    assert main(["plan", str(sheet), *common, "-o", str(plan), "--quiet"]) == 0
    out = capsys.readouterr()
    assert f"Plan written to {plan}" in out.out
    assert "Made by maker@sandbox" in out.out and "Rows to send: 4" in out.out
    assert api.request_count(method="POST") == 0

    # the maker cannot approve; an unapproved plan sends nothing
    assert main(["approve", str(plan)]) == 1
    out = capsys.readouterr()
    assert "NOT approved:" in out.out and "you made this plan (maker@sandbox)" in out.out
    assert main(["batch", str(sheet), *common, "--plan", str(plan), "--quiet"]) == 2
    assert "the plan cannot be used: the plan is not approved" in capsys.readouterr().err
    assert api.request_count(method="POST") == 0

    as_analyst(monkeypatch, "checker-token")
    assert main(["approve", str(plan), "--review-only"]) == 0
    assert "Could be approved by checker@sandbox" in capsys.readouterr().out
    assert not read_plan(plan).approved
    assert main(["approve", str(plan)]) == 0
    out = capsys.readouterr()
    assert "column 'Forename' -> Legal first name" in out.out
    assert "Looked up again on the API: 4 row(s), 0 changed." in out.out
    assert "Approved by checker@sandbox at" in out.out
    assert f"Approval SHA-256: {read_plan(plan).head}" in out.out
    assert main(["approve", str(plan)]) == 1  # once is enough
    assert "approved already (by checker@sandbox" in capsys.readouterr().out

    as_analyst(monkeypatch, "maker-token")
    evidence = tmp_path / "evidence.json"
    assert main(["batch", str(sheet), *common, "--plan", str(plan), "--quiet",
                 "--evidence", str(evidence), "--require-approval"]) == 0
    assert "Created: 4" in capsys.readouterr().out
    assert api.request_count(method="POST") == 4
    assert main(["verify-evidence", str(evidence)]) == 0
    record = json.loads(evidence.read_text(encoding="utf-8"))
    assert (record["plan"]["maker"], record["plan"]["checker"]) == ("maker@sandbox",
                                                                   "checker@sandbox")
    printed = capsys.readouterr()
    for value in PERSONAL:
        assert value not in printed.out + printed.err
        assert value not in plan.read_text(encoding="utf-8")


def test_a_changed_cell_and_a_missing_plan_are_refused_before_sending(
    api: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sheet, mapping = sheet_and_mapping(tmp_path)
    plan = tmp_path / "plan.json"
    common = ["--campaign", "q1", "--mapping", str(mapping), "--set", "assigned_team=Refresh"]
    as_analyst(monkeypatch, "maker-token")
    assert main(["plan", str(sheet), *common, "-o", str(plan), "--quiet"]) == 0
    as_analyst(monkeypatch, "checker-token")
    assert main(["approve", str(plan)]) == 0
    as_analyst(monkeypatch, "maker-token")
    capsys.readouterr()

    frame = pd.read_csv(sheet, dtype=str)
    frame.loc[1, "Surname"] = "Mueller"
    frame.to_csv(sheet, index=False)
    assert main(["batch", str(sheet), *common, "--plan", str(plan), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "the sheet is not the one the plan was made from" in err
    assert "Nothing was sent." in err and "Mueller" not in err

    monkeypatch.setenv("KYC_REQUIRE_APPROVAL", "1")
    assert main(["batch", str(sheet), *common, "--quiet"]) == 2
    assert "this campaign needs an approved plan" in capsys.readouterr().err
    assert api.request_count(method="POST") == 0 and api.case_count() == 0


def test_usage_errors_exit_2(
    api: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sheet, mapping = sheet_and_mapping(tmp_path)
    monkeypatch.delenv("KYC_API_TOKEN", raising=False)
    out = ["-o", str(tmp_path / "plan.json")]
    assert main(["plan", str(sheet), "--mapping", str(mapping), *out]) == 2
    assert "no token" in capsys.readouterr().err
    as_analyst(monkeypatch, "no-such-token")
    assert main(["plan", str(sheet), "--campaign", "q1", "--mapping", str(mapping),
                 "--set", "assigned_team=Refresh", *out]) == 2
    assert "the API refused the token" in capsys.readouterr().err
    assert main(["approve", str(tmp_path / "missing.json")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["plan", str(sheet), "--campaign", "q1", "-o", str(tmp_path / "plan.txt")]) == 2
    assert not (tmp_path / "plan.json").exists()
