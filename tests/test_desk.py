"""``CaseDesk``, the analyst app as one widget, driven like an analyst drives it.

Against the real sandbox: sections are found by their titles, values typed into the
visible controls, buttons clicked, and what the page says is read back.
"""

from __future__ import annotations

import filecmp
import tempfile
from pathlib import Path

import pytest
from factories import ADA_EXAMPLE

from kyc_widgets.sandbox import Sandbox
from kyc_widgets.widgets.desk import SECTIONS, CaseDesk, sample_sheet_path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "notebooks" / "data" / "remediation-campaign.csv"

PERSON = ADA_EXAMPLE


@pytest.fixture
def desk(sandbox: Sandbox) -> CaseDesk:
    return CaseDesk(sandbox.client(), is_sandbox=True)


def test_header_names_the_sandbox_and_the_status_but_never_the_token(
    sandbox: Sandbox, desk: CaseDesk
) -> None:
    header = desk.header.value
    assert "KYC case desk" in header
    assert f"Sandbox ({sandbox.base_url})" in header
    assert sandbox.token not in header + repr(desk) + desk.status_toggle.description
    # the API status says the token works; the header says so, without a name it does not know
    assert "Signed in as: <span data-testid='kyc-desk-principal'>yes (the API names the account" in header
    assert desk.status_toggle.description == "API status: OK (show details)"
    # Compact until asked: the four rows only show once the toggle is pressed.
    assert desk.status.layout.display == "none"
    desk.status_toggle.value = True
    assert desk.status.layout.display is None
    assert desk.status_toggle.description == "API status: OK (hide details)"
    assert desk.status.rows["Reachable"].startswith("OK")
    assert [desk.sections.get_title(i) for i in range(len(SECTIONS))] == list(SECTIONS)
    assert sandbox.case_count() == 0  # building the desk creates nothing


def test_a_configured_api_is_named_by_its_url_and_a_dead_one_reads_as_a_problem() -> None:
    from kyc_widgets.api.client import KycApiClient

    client = KycApiClient("http://127.0.0.1:9", "tok-not-shown-123", max_retries=0)
    desk = CaseDesk(client)
    assert "API: <span data-testid='kyc-desk-api'>http://127.0.0.1:9</span>" in desk.header.value
    assert "Sandbox" not in desk.header.value
    assert desk.status_toggle.description == "API status: problem (show details)"
    assert "tok-not-shown-123" not in desk.header.value + repr(desk)


def test_new_case_then_the_principal_is_known(sandbox: Sandbox, desk: CaseDesk) -> None:
    desk.creator.form.set_values({**PERSON, "kyc_case_id": "DESK-0001"})
    desk.creator.submit_button.click()
    assert desk.creator.state == "created"
    assert sandbox.case_count() == 1
    assert desk.principal == sandbox.principal
    assert f"Signed in as: <span data-testid='kyc-desk-principal'>{sandbox.principal}" in (
        desk.header.value
    )


def test_open_a_case_by_id_or_see_that_it_is_missing(sandbox: Sandbox, desk: CaseDesk) -> None:
    sandbox.client().create_case({**PERSON, "kyc_case_id": "DESK-0002"})
    desk.case_id.value = "DESK-0002"  # what Enter sends (continuous_update=False)
    assert desk.opened is not None and desk.opened.state == "loaded"
    assert "DESK-0002" in desk.case_area.children[0].panel.value
    assert desk.principal == sandbox.principal

    desk.case_id.value = "NO-SUCH-CASE"
    assert desk.opened.state == "missing"
    assert "No case with this ID was found" in desk.case_area.children[0].panel.value
    desk.open_button.click()  # the button opens the same id again
    assert desk.opened.state == "missing"


def test_campaign_from_the_sample_sheet_or_an_upload(
    sandbox: Sandbox, desk: CaseDesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert desk.campaign is None
    section = desk.sections.children[SECTIONS.index("Campaign")]
    assert "Create one case per row of a spreadsheet" in section.children[0].value
    assert desk.upload.accept == ".csv,.tsv,.txt,.xlsx,.xlsm,.xls,.ods"  # every format read
    assert desk.upload.label == "Upload a sheet…"  # no "(0)"
    template = desk.template.click()
    assert template is not None and template.name.endswith(".xlsx") and template.data[:2] == b"PK"

    desk.sample_button.click()
    panel = desk.campaign
    assert panel is not None and desk.campaign_area.children == (panel,)
    assert "remediation-campaign.csv (40 rows)" in panel.title.value
    panel.campaign.value = "desk-test"
    # rows 22 and 23 share an external case ID for two customers: neither is sent
    assert panel.create_button.description == "Create 34 cases"
    assert sandbox.case_count() == 0  # the preview sends nothing

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # any temporary file would land here
    desk.upload.receive("my sheet.csv", SAMPLE.read_bytes())  # the browser's bytes
    uploaded = desk.campaign
    assert uploaded is not panel and "my sheet.csv (40 rows)" in uploaded.title.value
    # The sheet's bytes do not stay in the widget (its state is what a notebook saves),
    # nor on disk: the upload is read in memory.
    assert "content" not in desk.upload.get_state() and "value" not in desk.upload.get_state()
    assert list(tmp_path.iterdir()) == []


def test_the_packaged_sample_sheet_is_the_tutorials_sheet() -> None:
    assert filecmp.cmp(sample_sheet_path(), SAMPLE, shallow=False)
