"""The shipped notebooks and the sample campaign sheet, as committed.

nbval (``make test`` runs ``pytest --nbval-lax notebooks/``) proves the notebooks run top
to bottom. These tests guard what nbval does not look at: that the committed files carry
no outputs, no saved widget state (where a typed token would leak) and nothing that looks
like a token, and that the sample sheet still holds the mistakes the notebooks and the
README talk about.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kyc_widgets.cli.app import NOTEBOOKS_DIR

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
SAMPLE = NOTEBOOKS_DIR / "data" / "remediation-campaign.csv"
TOKEN_LIKE = re.compile(r"\b(sbx_[\w-]{8,}|Bearer\s+\S{8,}|eyJ[\w-]{10,}\.[\w-]{10,})")


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_notebooks_are_shipped() -> None:
    names = [p.name for p in NOTEBOOKS]
    assert names == [
        "01-create-a-case.ipynb",
        "02-remediation-campaign.ipynb",
        "03-campaign-app.ipynb",
        "04-nested-form.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean(path: Path) -> None:
    nb = _load(path)
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], f"{path.name}: outputs committed"
        assert cell.get("execution_count") is None, f"{path.name}: execution count committed"
    # "Save widget state" writes every widget value (a typed token included) here.
    assert "widgets" not in nb.get("metadata", {}), f"{path.name}: widget state saved"
    assert not TOKEN_LIKE.search(path.read_text(encoding="utf-8")), f"{path.name}: token-like text"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_reads_the_token_from_the_environment_only(path: Path) -> None:
    source = "\n".join("".join(c["source"]) for c in _load(path)["cells"])
    if "KycApiClient" not in source and "token" not in source.lower():
        pytest.skip("this notebook talks to no API")
    assert "KycApiClient.from_env()" in source
    assert "getpass" not in source or "KYC_API_TOKEN" in source
    assert not re.search(r"token\s*=\s*['\"]", source), "a literal token in a notebook"


def test_sample_sheet_keeps_leading_zeros_and_its_mistakes() -> None:
    from kyc_widgets import read_campaign

    sheet = read_campaign(SAMPLE)
    assert 30 <= len(sheet) <= 60
    ids = sheet["user_internal_id"]
    assert ids.str.startswith("0").all(), "ids lost their leading zeros"

    def values(column: str) -> list[Any]:
        return sheet[column].tolist()

    assert "remediation" in values("relationship_type")  # lower-case enum
    assert "Kyc refresh" in values("relationship_type")
    assert any(isinstance(v, str) and v != v.strip() for v in values("legal_first_name"))
    assert "APPROVED" in values("current_status")  # a final status: not creatable
    assert any(isinstance(v, str) and "@@" in v for v in values("assigned_analyst_email"))
    assert sheet["assigned_team"].isna().any()  # a missing required cell
    case_ids = sheet["kyc_case_id"].dropna()
    assert case_ids.duplicated().any()  # an external id typed twice
    assert sheet["kyc_case_id"].isna().any()  # rows that rely on derived ids
    assert any(str(v).startswith(("=", "+", "-", "@")) for v in values("programme_name"))


def test_sample_sheet_dry_run_flags_exactly_the_planted_mistakes() -> None:
    from kyc_widgets import batch_create, read_campaign
    from kyc_widgets.sandbox import Sandbox

    with Sandbox() as sandbox:
        report = batch_create(
            sandbox.client(),
            read_campaign(SAMPLE),
            campaign="sample-check",
            dry_run=True,
            progress=False,
        )
        assert sandbox.case_count() == 0
    results = report.results
    invalid = results[results["status"] == "invalid"]
    assert sorted(invalid["error_field"]) == sorted(
        ["assigned_analyst_email", "assigned_team", "current_status", "legal_last_name"]
    )
    # rows 22 and 23: one external case ID typed for two customers, neither sent
    assert results.loc[results["status"] == "duplicate_id", "sheet_row"].tolist() == [22, 23]
    assert (results["status"] == "would_create").sum() == len(results) - 6
