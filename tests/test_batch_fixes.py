"""Problem rows fixed in the notebook: through BatchCreator as an analyst would, and in Python."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from factories import CORE_BANKING_CONSTANTS, campaign_frame, core_banking_frame

from kyc_widgets import CampaignMapping, FixError, suggest_mapping, verify_evidence
from kyc_widgets.batch import batch_create, read_campaign
from kyc_widgets.sandbox import Sandbox
from kyc_widgets.widgets.batch_creator import BatchCreator

DATA = Path(__file__).parent / "data"


def choose(dropdown: Any, label: str) -> None:
    """Pick an option by its visible label, as a user does."""
    dropdown.value = dict(dropdown.options)[label]


@pytest.fixture
def sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # the corrected sheet is written beside the "notebook"
    path = tmp_path / "messy_campaign.csv"
    shutil.copy(DATA / "messy_campaign.csv", path)
    return path


def test_fix_invalid_rows_in_the_creator_send_them_once_and_rerun_creates_nothing(
    sandbox: Sandbox, client: Any, sheet: Path
) -> None:
    ui = BatchCreator(client, sheet)
    ui.campaign.value = "Fix campaign"
    ui.create_button.click()
    assert ui.wait(30)
    report = ui.report
    assert report is not None and report.summary()["created"] == 5
    step = ui.fix_step
    assert step.layout.display == ""
    # every row neither created nor already there: 3 refused, 2 sharing one external id
    assert "Needs attention: 5 rows" in step.heading.value
    assert "Needs attention: 5 rows" in ui.summary.value
    labels = [label for label, _ in step.rows.options]
    assert labels == ["sheet row 4: Assigned analyst e-mail", "sheet row 5: Current status",
                      "sheet row 7: User internal ID",
                      "sheet row 10: External case ID (shared with another customer)",
                      "sheet row 11: External case ID (shared with another customer)"]
    assert step.send_button.disabled and step.send_button.description == "Send 0 fixed rows"

    # row 4: the form holds the row's values and its error sits on its field, naming the value
    step.rows.value = 4
    step.open_button.click()
    form = step.form
    assert form is not None
    assert form.fields["legal_first_name"].value == "Ólafur"
    assert form.fields["assigned_analyst_email"].value == "not-an-email"
    assert "Error" in form.error_widgets["assigned_analyst_email"].value
    assert "'not-an-email'" in form.field_errors["assigned_analyst_email"]
    assert form.error_widgets["assigned_analyst_email"].layout.display is None  # shown
    step.save_button.click()  # not corrected yet: refused, the error stays on the field
    assert "still has problems" in step.save_message.value
    assert "assigned_analyst_email" in form.field_errors
    form.fields["assigned_analyst_email"].value = "olafur.analyst@example.org"
    step.save_button.click()
    assert "Sheet row 4 fixed" in step.save_message.value
    assert step.rows.options[0][0].startswith("Fixed, not sent yet: sheet row 4")
    assert step.send_button.description == "Send 1 fixed row"

    # row 5: a final status is not creatable; choose one that is
    form = ui.fix(5)
    assert "Current status" in form.summary_text() or form.field_errors.get("current_status")
    choose(form.fields["current_status"], "Pending review")
    assert ui.save_fix()
    assert "Sheet row 4" not in step.save_message.value  # the older message is gone

    # row 7: the user id was missing
    step.rows.value = 7
    step.open_button.click()
    assert step.form is not None
    step.form.fields["user_internal_id"].value = "07000"
    step.save_button.click()

    # rows 10 and 11: two customers with one external id. Row 10 alone cannot keep it ...
    form = ui.fix(10)
    assert "also sheet row 11's" in step.form_note.value
    assert not ui.save_fix()
    assert "Same external case ID as sheet row 11" in form.field_errors["kyc_case_id"]
    # ... row 11 gets its own, then row 10 keeps its id and is sent as it is
    form = ui.fix(11)
    form.fields["kyc_case_id"].value = "GIVEN-2"
    assert ui.save_fix()
    form = ui.fix(10)
    assert "no longer shared" in step.form_note.value and not form.field_errors
    assert ui.save_fix()
    assert step.send_button.description == "Send 5 fixed rows" and not step.send_button.disabled

    sandbox.reset_counts()
    step.send_button.click()
    assert ui.wait(30)
    assert ui.state == "done"
    assert ui.report is report  # the same report, updated
    summary = report.summary()
    assert summary["created"] == 10 and summary["invalid"] == 0 and summary["duplicate_id"] == 0
    assert sandbox.request_count(method="POST") == 5 and sandbox.case_count() == 10
    assert "Created: 10" in ui.summary.value and "Needs attention: 0 rows" in ui.summary.value
    assert "Sent 5 fixed rows" in step.message.value and not step.save_message.value
    assert report.results.loc[[4, 5, 7, 10, 11], "status"].tolist() == ["created"] * 5
    assert step.rows.options == () or list(step.rows.options) == []
    with sandbox.client() as api:
        stored = api.get_case(report.results.loc[4, "kyc_case_id"]).case
        assert stored.assigned_analyst_email == "olafur.analyst@example.org"
        assert stored.legal_first_name == "Ólafur"
        assert api.get_case("GIVEN-1").case.legal_first_name == "Gil"
        assert api.get_case("GIVEN-2").case.legal_first_name == "Gia"

    # the report's download shows the fixed values and names the fields fixed in the app
    ui.include_personal_data.value = True
    made = ui.prepare_download()
    assert made is not None and made.name.endswith("-personal.csv")
    downloaded = pd.read_csv(io.BytesIO(made.data), dtype=str, encoding="utf-8-sig")
    row4 = downloaded[downloaded["sheet_row"] == "4"].iloc[0]
    assert row4["Assigned analyst e-mail"] == "olafur.analyst@example.org"
    assert row4["fixed_in_app"] == "Assigned analyst e-mail"
    row11 = downloaded[downloaded["sheet_row"] == "11"].iloc[0]
    assert row11["kyc_case_id"] == "GIVEN-2" and row11["fixed_in_app"] == "External case ID"
    assert downloaded[downloaded["sheet_row"] == "2"]["fixed_in_app"].isna().all()

    # the corrected sheet keeps the sheet's headers; running it again creates nothing
    corrected_file = step.sheet_download.click()
    assert corrected_file is not None and corrected_file.name == "messy_campaign-corrected.csv"
    corrected = read_campaign(io.BytesIO(corrected_file.data))
    assert list(corrected.columns) == list(read_campaign(sheet).columns)
    assert list(corrected.index) == list(read_campaign(sheet).index)  # rows on their own lines
    again = batch_create(client, corrected, campaign="Fix campaign", progress=False)
    assert again.summary()["created"] == 0 and again.summary()["exists"] == 10
    assert sandbox.case_count() == 10

    # the evidence covers both runs and names the fixed rows and fields, not their values
    record = report.evidence()
    assert verify_evidence(record).ok
    assert len(record["runs"]) == 2
    fixed = {f["sheet_row"]: f for f in record["fixed_in_notebook"]}
    assert list(fixed) == [4, 5, 7, 10, 11]
    assert fixed[4]["fields"] == ["assigned_analyst_email"] and fixed[10]["fields"] == []
    assert fixed[11]["fields"] == ["kyc_case_id"]
    assert fixed[4]["by"] == [sandbox.principal] and fixed[4]["sent_at"]
    assert "olafur.analyst@example.org" not in str(record)


def test_a_sent_row_cannot_be_fixed(sandbox: Sandbox, client: Any, sheet: Path) -> None:
    ui = BatchCreator(client, sheet, campaign="Fix campaign")
    ui.create_button.click()
    assert ui.wait(30)
    with pytest.raises(ValueError, match="only rows that were never sent"):
        ui.fix(2)  # created
    assert ui.report is not None
    with pytest.raises(FixError, match="was 'created'"):
        ui.report.apply_fixes({2: {"legal_last_name": "Other"}})
    assert not ui.send_fixes()  # nothing fixed yet


def test_apply_fixes_validates_and_keeps_nothing_on_error(sandbox: Sandbox, client: Any) -> None:
    report = batch_create(client, read_campaign(DATA / "messy_campaign.csv"), campaign="py",
                          progress=False)
    attention = report.needs_attention()
    assert list(attention.index) == [4, 5, 7, 10, 11]  # 10 and 11: one id, two customers
    assert attention.loc[5, "error_field"] == "current_status" and not attention["fixed"].any()

    with pytest.raises(FixError) as raised:
        report.apply_fixes({4: {"assigned_analyst_email": "still wrong"}, 5: {"current_status": "DRAFT"}})
    assert list(raised.value.errors) == [4]
    assert raised.value.errors[4][0][0] == "assigned_analyst_email"
    assert "still wrong" not in str(raised.value)
    assert report.fixes == {}
    with pytest.raises(FixError, match="sheet row 7 and sheet row 2"):
        report.apply_fixes({7: {"user_internal_id": "00123"}})  # row 2's customer: row 2's id
    assert report.fixes == {}

    rows = report.apply_fixes({4: {"assigned_analyst_email": "a@example.org"},
                               5: {"current_status": "DRAFT"}})
    assert list(rows.index) == [4, 5] and rows.index.name == "sheet_row"
    assert rows["kyc_case_id"].str.startswith("CMP-py-").all()  # the campaign's stable ids
    assert report.needs_attention()["fixed"].tolist() == [True, True, False, False, False]
    fixed = batch_create(client, rows, progress=False)
    assert fixed.results["sheet_row"].tolist() == [4, 5]
    report.merge(fixed)
    assert report.summary()["invalid"] == 1 and report.summary()["created"] == 7
    assert list(report.failed_rows().index) == [7, 10, 11]
    sheet = report.corrected_sheet()
    assert sheet.loc[4, "Assigned analyst e-mail"] == "a@example.org"
    assert list(sheet.columns) == list(report.source.columns)
    assert "kyc_sheet" not in sheet.attrs  # not the file that was read: no claim about its hash
    assert batch_create(client, sheet, campaign="py", dry_run=True, progress=False).evidence()[
        "sheet"]["sha256"] is None


def test_fixes_with_a_mapping_are_in_field_terms_and_keep_the_sheets_headers(
    sandbox: Sandbox, client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    frame = core_banking_frame()
    frame.loc[1, "Surname"] = ""  # sheet row 3: the last name is missing
    suggested = suggest_mapping(core_banking_frame())
    mapping = CampaignMapping(
        columns=suggested.columns, constants=CORE_BANKING_CONSTANTS, values=suggested.values
    )
    ui = BatchCreator(client, frame, campaign="mapped fixes", mapping=mapping)
    ui.create_button.click()
    assert ui.wait(30)
    report = ui.report
    assert report is not None and report.summary()["created"] == 5
    assert list(report.needs_attention().index) == [3]

    form = ui.fix(3)  # the row as the mapping reads it: value maps applied, constants filled in
    assert str(getattr(form.fields["relationship_type"].value, "value",
                       form.fields["relationship_type"].value)) == "REMEDIATION"  # "Backbook"
    assert form.fields["agency_name"].value == "Agency One"  # a campaign constant
    assert form.fields["legal_first_name"].value == "李"
    form.fields["legal_last_name"].value = "王"
    assert ui.save_fix()
    with pytest.raises(FixError, match="campaign constant"):
        report.apply_fixes({3: {"agency_name": "Another agency"}})  # the same for every row

    sandbox.reset_counts()
    assert ui.send_fixes()
    assert ui.wait(30)
    assert report.summary()["created"] == 6 and report.summary()["invalid"] == 0
    assert sandbox.request_count(method="POST") == 1 and sandbox.case_count() == 6
    stored = client.get_case(report.results.loc[1, "kyc_case_id"]).case
    assert stored.legal_last_name == "王" and stored.agency_name == "Agency One"
    assert stored.relationship_type == "REMEDIATION"

    # the corrected sheet is the export's own shape; with the mapping a re-run creates nothing
    corrected = report.corrected_sheet()
    assert list(corrected.columns) == list(frame.columns)
    assert corrected.loc[1, "Surname"] == "王" and corrected.loc[1, "Review reason"] == "Backbook"
    again = batch_create(client, corrected, campaign="mapped fixes", mapping=mapping, progress=False)
    assert again.summary()["created"] == 0 and again.summary()["exists"] == 6

    record = report.evidence()  # names the mapping the sheet was read with
    assert verify_evidence(record).ok
    assert record["mapping"]["campaign_mapping"]["fingerprint"] == mapping.fingerprint()
    assert record["mapping"]["columns"]["Surname"] == "legal_last_name"


def test_the_same_subject_twice_needs_the_box_ticked(sandbox: Sandbox, client: Any) -> None:
    frame = campaign_frame(3, prefix="S", relationship_type="remediation")
    frame.loc[2, "user_internal_id"] = frame.loc[0, "user_internal_id"]
    frame.loc[2, "user_type"] = "sole trader"
    ui = BatchCreator(client, frame, campaign="subjects")
    assert "1 repeat another row's customer and reason" in ui.preview.value
    assert "Same customer and reason as sheet row 2" in ui.preview.value
    assert ui.allow_same_subject.layout.display == ""
    assert ui.create_button.description == "Create 2 cases"
    ui.allow_same_subject.value = True
    assert ui.create_button.description == "Create 3 cases"
    ui.create_button.click()
    assert ui.wait(30)
    assert sandbox.case_count() == 3


def test_a_row_the_api_refused_with_400_is_fixed_and_sent() -> None:
    """A real API may have rules the sandbox (which shares our model) has not: a 400 for a
    row the pre-flight accepted. Only a stub can answer that, hence MockTransport here."""
    import asyncio
    import json as jsonlib

    import httpx

    from kyc_widgets.api.client import AsyncKycApiClient
    from kyc_widgets.batch import abatch_create

    def handler(request: httpx.Request) -> httpx.Response:
        body = jsonlib.loads(request.content)
        if body["legal_last_name"] == "Refused":
            error = {"error": {"code": "VALIDATION_FAILED", "message": "One field needs attention.",
                               "http_status": 400, "request_id": "req_400", "retryable": False,
                               "details": {"field": "legal_last_name", "errors": [
                                   {"field": "legal_last_name", "message": "Not accepted here."}]}}}
            return httpx.Response(400, json=error, headers={"x-request-id": "req_400"})
        now = "2026-01-01T00:00:00Z"
        case = {**body, "id": "case-" + body["kyc_case_id"], "row_version": 1,
                "created_by": "analyst@stub", "created_at": now, "updated_at": now}
        return httpx.Response(201, json={"principal": "analyst@stub", "case": case},
                              headers={"x-request-id": "req_ok"})

    frame = campaign_frame(3, prefix="R", relationship_type="remediation")
    frame.loc[1, "legal_last_name"] = "Refused"

    async def scenario() -> tuple[Any, Any]:
        async with AsyncKycApiClient("https://kyc.example.com", "t",
                                     transport=httpx.MockTransport(handler)) as api:
            report = await abatch_create(api, frame, campaign="stub", progress=False)
            assert report.results.loc[1, "status"] == "invalid"
            assert report.results.loc[1, "http_status"] == 400
            attention = report.needs_attention()
            assert list(attention.index) == [3]
            assert attention.loc[3, "error_field"] == "legal_last_name"
            # the API's refusal is in the problems table, at its field, with the API's code
            problems = report.problems
            assert problems["field"].tolist() == ["legal_last_name"]
            assert problems["code"].tolist() == ["VALIDATION_FAILED"]
            assert problems["sheet_row"].tolist() == [3]
            rows = report.apply_fixes({3: {"legal_last_name": "Accepted"}})
            return report, await abatch_create(api, rows, progress=False)

    report, fixed = asyncio.run(scenario())
    report.merge(fixed)
    assert report.summary()["created"] == 3 and report.ok
    assert report.problems.empty  # the fixed row's problem went with its new outcome
    assert report.results.loc[1, "request_id"] == "req_ok"
    assert report.corrected_sheet().loc[1, "legal_last_name"] == "Accepted"  # the input's labels: 1 is sheet row 3
