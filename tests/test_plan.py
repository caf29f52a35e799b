"""Maker-checker plans against the real sandbox: made, approved by another analyst, sent exactly.

Two analysts, two tokens: ``maker@sandbox`` prepares the plan, ``checker@sandbox``
approves it; the principals are what the sandbox says, never what a test types. What
is refused is refused before a single create (counted on the sandbox).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from factories import CORE_BANKING_CONSTANTS, core_banking_frame

from kyc_widgets.batch import CampaignMapping, batch_create, read_campaign, verify_evidence
from kyc_widgets.batch.evidence import chain_entries
from kyc_widgets.batch.plan import (
    PlanRefusedError,
    approve_plan,
    make_plan,
    review_plan,
    whoami,
)
from kyc_widgets.batch.plan_file import CampaignPlan, read_plan
from kyc_widgets.batch.preflight import preflight
from kyc_widgets.batch.signing import generate_key, load_public_key, load_signing_key
from kyc_widgets.sandbox import Sandbox

TOKENS = {
    "maker-token": "maker@sandbox",
    "checker-token": "checker@sandbox",
    "other-token": "other@sandbox",
}
CAMPAIGN = "periodic review 2025"


@pytest.fixture
def api() -> Iterator[Sandbox]:
    with Sandbox(tokens=TOKENS) as sandbox:
        yield sandbox


@pytest.fixture
def clients(api: Sandbox) -> Iterator[dict[str, Any]]:
    made = {token.split("-")[0]: api.client(token=token) for token in TOKENS}
    try:
        yield made
    finally:
        for client in made.values():
            client.close()


def core_mapping() -> CampaignMapping:
    """The core-banking export's mapping, written out (not suggested: what is approved is
    this very mapping)."""
    return CampaignMapping(
        columns={
            "Customer No": "user_internal_id", "Forename": "legal_first_name",
            "Surname": "legal_last_name", "Customer type": "user_type",
            "Review reason": "relationship_type", "Priority": "case_priority",
            "Country": "country_of_onboarding", "Branch": None,
        },
        constants=CORE_BANKING_CONSTANTS,
        values={
            "relationship_type": {"Periodic review": "KYC_REFRESH", "Backbook": "REMEDIATION"},
            "user_type": {"Private individual": "INDIVIDUAL", "Sole proprietor": "SOLE_TRADER"},
            "case_priority": {"P1": "URGENT", "P2": "HIGH", "P3": "NORMAL", "P4": "LOW"},
        },
    )


def write_campaign(folder: Path, n: int = 6) -> tuple[Path, Path]:
    """A core-banking sheet of ``n`` rows plus a repeated row and an invalid one, and its
    saved mapping: ``(sheet, mapping)``."""
    frame = core_banking_frame(n)
    repeat = frame.iloc[[0]]
    invalid = frame.iloc[[1]].assign(**{"Customer No": "999999999999", "Country": "Narnia"})
    sheet = folder / "export.csv"
    pd.concat([frame, repeat, invalid], ignore_index=True).to_csv(sheet, index=False)
    mapping = core_mapping().save(folder / "core-banking.json")
    return sheet, mapping


def planned(
    clients: dict[str, Any], folder: Path, *, approve: bool = True, **options: Any
) -> tuple[Path, Path, Path]:
    """``(sheet, mapping, plan)``: a plan made by the maker, approved by the checker."""
    sheet, mapping = write_campaign(folder)
    plan = make_plan(clients["maker"], sheet, campaign=CAMPAIGN, mapping=mapping, **options)
    path = plan.save(folder / "plan.json")
    if approve:
        approve_plan(clients["checker"], path)
    return sheet, mapping, path


def send(clients: dict[str, Any], sheet: Path | pd.DataFrame, mapping: Any, plan: Any,
         **keywords: Any) -> Any:
    frame = read_campaign(sheet) if isinstance(sheet, Path) else sheet
    return batch_create(clients["maker"], frame, campaign=CAMPAIGN, mapping=mapping, plan=plan,
                        progress=False, **keywords)


def refused(call: Any) -> str:
    with pytest.raises(PlanRefusedError) as caught:
        call()
    return " | ".join(caught.value.problems)


# ------------------------------------------------------------------------------ the happy path


def test_an_approved_plan_sends_exactly_its_rows_and_the_evidence_names_both_analysts(
    api: Sandbox, clients: dict[str, Any], tmp_path: Path
) -> None:
    sheet, mapping = write_campaign(tmp_path)
    # one case of the campaign exists already, with another priority: "exists but differs"
    pre = preflight(read_campaign(sheet), campaign=CAMPAIGN, mapping=mapping)
    body = pre.body(pre.source.index[2])
    clients["other"].create_case({**body, "case_priority": "LOW"
                                  if body["case_priority"] != "LOW" else "HIGH"})

    plan = make_plan(clients["maker"], sheet, campaign=CAMPAIGN, mapping=mapping)
    assert (plan.maker, plan.approved) == ("maker@sandbox", False)
    assert plan.counts == {"invalid": 1, "duplicate_in_sheet": 1, "would_create": 5,
                           "exists_differs": 1}
    assert plan.to_send == 6
    assert [(r["sheet_row"], r["differs"]) for r in plan.differing_rows()] == [
        (4, ["case_priority"])]
    path = plan.save(tmp_path / "plan.json")
    api.reset_counts()

    approved = approve_plan(clients["checker"], path)
    assert (approved.checker, approved.maker) == ("checker@sandbox", "maker@sandbox")
    assert read_plan(path).checker == "checker@sandbox"  # written back into the file
    assert api.request_count(method="POST") == 0

    report = send(clients, sheet, mapping, path)
    planned_ids = {r["kyc_case_id"] for r in plan.rows if r["send"]}
    sent = report.results[report.results["attempts"].fillna(0) > 0]
    assert set(sent["kyc_case_id"]) == planned_ids
    assert api.request_count(method="POST") == 6  # the planned rows, nothing else
    assert api.case_count() == 1 + 5
    assert report.summary()["created"] == 5

    evidence = tmp_path / "evidence.json"
    report.to_evidence(evidence, sheet=sheet)
    check = verify_evidence(evidence)
    assert check.ok, check.problems
    facts = json.loads(evidence.read_text(encoding="utf-8"))["plan"]
    assert facts["maker"] == "maker@sandbox" and facts["checker"] == "checker@sandbox"
    assert facts["sha256"] == approved.sha256 and facts["approval_sha256"] == approved.head
    assert facts["made_at"] == approved.made_at and facts["approved_at"] == approved.approved_at
    summary = evidence.with_suffix(".html").read_text(encoding="utf-8")
    assert "Plan approved by" in summary and "checker@sandbox" in summary


def test_the_plan_holds_no_personal_data(clients: dict[str, Any], tmp_path: Path) -> None:
    sheet, _mapping, path = planned(clients, tmp_path)
    text = path.read_text(encoding="utf-8")
    frame = pd.read_csv(sheet, dtype=str)
    for column in ("Customer No", "Forename", "Surname"):
        for value in frame[column]:
            assert value not in text, (column, value)
    record = json.loads(text)
    assert all(set(row) <= {"sheet_row", "kyc_case_id", "status", "send", "values_hmac",
                            "case_id", "differs", "problems"} for row in record["rows"])
    assert record["mapping"]["content"]["constants"] == CORE_BANKING_CONSTANTS  # campaign-wide


def test_the_principal_comes_from_the_api(clients: dict[str, Any]) -> None:
    assert whoami(clients["maker"]) == "maker@sandbox"
    assert whoami(clients["checker"]) == "checker@sandbox"


# ------------------------------------------------------------------------------ refusals


def test_the_maker_cannot_approve_their_own_plan(
    api: Sandbox, clients: dict[str, Any], tmp_path: Path
) -> None:
    sheet, mapping, path = planned(clients, tmp_path, approve=False)
    before = path.read_bytes()
    words = refused(lambda: approve_plan(clients["maker"], path))
    assert "you made this plan (maker@sandbox): another analyst must approve it" in words
    assert path.read_bytes() == before
    # nor can a forged approval in the maker's name get through
    plan = read_plan(path)
    header = {k: v for k, v in plan.record.items() if k not in ("entries", "chain")}
    forged = CampaignPlan(chain_entries(header, [{"kind": "approval", "checker": "maker@sandbox",
                                                  "approved_at": plan.made_at,
                                                  "rechecked": False}]))
    assert "approved by its maker" in refused(lambda: send(clients, sheet, mapping, forged))
    assert api.request_count(method="POST") == 0 and api.case_count() == 0


def test_unapproved_edited_and_mismatched_plans_create_nothing(
    api: Sandbox, clients: dict[str, Any], tmp_path: Path
) -> None:
    sheet, mapping, path = planned(clients, tmp_path, approve=False)
    unapproved = path.read_bytes()
    approve_plan(clients["checker"], path)
    assert "the plan is not approved" in refused(lambda: send(clients, sheet, mapping, unapproved))

    # one byte of the approved plan: a digit of a row's hash
    data = path.read_bytes()
    at = data.index(b'"values_hmac": "') + len(b'"values_hmac": "')
    edited = tmp_path / "edited.json"
    edited.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1:])
    assert "edited after it was made" in refused(lambda: send(clients, sheet, mapping, edited))

    # one cell of the sheet, in the file and in memory
    frame = pd.read_csv(sheet, dtype=str)
    frame.loc[3, "Forename"] = "Zoé"
    changed = tmp_path / "changed.csv"
    frame.to_csv(changed, index=False)
    words = refused(lambda: send(clients, changed, mapping, path))
    assert "the sheet is not the one the plan was made from" in words
    assert "the values to send are not the ones the plan was approved with" in words
    in_memory = read_campaign(sheet)
    in_memory.iloc[3, in_memory.columns.get_loc("Priority")] = "P1"
    assert "the values to send are not" in refused(
        lambda: send(clients, in_memory, mapping, path))

    # another mapping (one constant changed), another campaign, another choice of rows
    other = core_mapping().with_constants({"assigned_team": "Another team"})
    assert "another mapping than the plan's" in refused(lambda: send(clients, sheet, other, path))
    assert "the plan is for campaign" in refused(lambda: batch_create(
        clients["maker"], read_campaign(sheet), campaign="another", mapping=mapping, plan=path,
        progress=False))
    assert "allow_same_subject" in refused(
        lambda: send(clients, sheet, mapping, path, allow_same_subject=True))
    assert api.request_count(method="POST") == 0 and api.case_count() == 0

    # ... and the plan as approved still sends
    assert send(clients, sheet, mapping, path).summary()["created"] == 6


def test_an_expired_plan_is_neither_approved_nor_sent(
    api: Sandbox, clients: dict[str, Any], tmp_path: Path
) -> None:
    sheet, mapping, path = planned(clients, tmp_path, expires_in=timedelta(seconds=1.5))
    unapproved = tmp_path / "unapproved.json"
    plan = read_plan(path)
    header = {k: v for k, v in plan.record.items() if k not in ("entries", "chain")}
    CampaignPlan(chain_entries(header, [])).save(unapproved)
    while not plan.expired():
        time.sleep(0.05)
    assert "the plan expired at" in refused(lambda: send(clients, sheet, mapping, path))
    assert "the plan expired at" in refused(lambda: approve_plan(clients["checker"], unapproved))
    assert api.request_count(method="POST") == 0 and api.case_count() == 0


def test_every_byte_of_an_approved_plan_is_guarded(
    clients: dict[str, Any], tmp_path: Path
) -> None:
    """Any one byte changed (XOR 1) makes the plan unreadable or breaks its chain."""
    frame = core_banking_frame(2)
    plan = make_plan(clients["maker"], frame, campaign=CAMPAIGN, mapping=core_mapping())
    data = approve_plan(clients["checker"], plan).to_json().encode("utf-8")
    assert read_plan(data).approved
    accepted = []
    for at in range(len(data)):
        try:
            read_plan(data[:at] + bytes([data[at] ^ 1]) + data[at + 1:])
        except PlanRefusedError:
            continue
        accepted.append(at)
    assert accepted == []


def test_an_edited_approval_and_a_recomputed_one(
    api: Sandbox, clients: dict[str, Any], tmp_path: Path
) -> None:
    sheet, mapping, path = planned(clients, tmp_path, approve=False)
    key_file = tmp_path / "checker.key"
    generate_key(key_file)
    approve_plan(clients["checker"], path, signing_key=load_signing_key(key_file))
    public = load_public_key(key_file.with_name("checker.key.pub"))

    text = path.read_text(encoding="utf-8")
    renamed = tmp_path / "renamed.json"
    renamed.write_text(text.replace('"checker": "checker@sandbox"', '"checker": "other@sandbox"'),
                       encoding="utf-8")
    assert "the approval does not belong to this plan" in refused(
        lambda: send(clients, sheet, mapping, renamed))

    # Whoever rewrites the file and recomputes every hash makes a consistent plan: only the
    # checker's signature (or the approval's hash kept in the ticket) tells it apart.
    plan = read_plan(path)
    header = {k: v for k, v in plan.record.items() if k not in ("entries", "chain")}
    forged = CampaignPlan(chain_entries(header, [{**{k: v for k, v in plan.record["entries"][0]
                                                     .items() if k not in ("seq", "prev", "hash")},
                                                  "checker": "other@sandbox"}]))
    assert forged.head != plan.head
    assert "is not signed" in refused(
        lambda: send(clients, sheet, mapping, forged, approver_key=public))
    assert api.request_count(method="POST") == 0
    report = send(clients, sheet, mapping, path, approver_key=public)
    assert report.summary()["created"] == 6 and report.plan is not None
    assert report.plan["signed_by"] == plan.signed_by


def test_approval_is_refused_when_the_apis_answers_changed(
    api: Sandbox, clients: dict[str, Any], tmp_path: Path
) -> None:
    sheet, mapping, path = planned(clients, tmp_path, approve=False)
    pre = preflight(read_campaign(sheet), campaign=CAMPAIGN, mapping=mapping)
    clients["other"].create_case(pre.body(pre.source.index[0]))  # someone else was quicker
    review = review_plan(clients["checker"], path)
    assert review.checker == "checker@sandbox" and review.rechecked == 6
    assert review.changes == ["sheet row 2 would be created but its case exists now"]
    assert "the API's answers changed for 1 row(s)" in refused(
        lambda: approve_plan(clients["checker"], path))
    assert not read_plan(path).approved
    approved = approve_plan(clients["checker"], path, recheck=False)  # the checker's call
    assert approved.approval is not None and approved.approval["rechecked"] is False


def test_a_plan_is_approved_and_sent_on_its_own_api_only(
    clients: dict[str, Any], tmp_path: Path
) -> None:
    sheet, mapping, path = planned(clients, tmp_path, approve=False)
    with Sandbox(tokens=TOKENS) as elsewhere, elsewhere.client(token="checker-token") as there:
        assert "the plan was made against" in refused(lambda: approve_plan(there, path))
        approve_plan(clients["checker"], path)
        with elsewhere.client(token="maker-token") as sender:
            assert "the plan was made against" in refused(lambda: batch_create(
                sender, read_campaign(sheet), campaign=CAMPAIGN, mapping=mapping, plan=path,
                progress=False))
        assert elsewhere.request_count(method="POST") == 0


def test_approval_required_refuses_a_campaign_without_a_plan(
    api: Sandbox, clients: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet, mapping = write_campaign(tmp_path)
    monkeypatch.setenv("KYC_REQUIRE_APPROVAL", "1")
    assert "this campaign needs an approved plan" in refused(
        lambda: send(clients, sheet, mapping, None))
    assert api.request_count() == 0
    dry = send(clients, sheet, mapping, None, mode="check_rows")  # a dry run needs none
    assert dry.summary()["would_create"] == 6
    monkeypatch.delenv("KYC_REQUIRE_APPROVAL")
    assert "needs an approved plan" in refused(
        lambda: send(clients, sheet, mapping, None, require_approval=True))
    assert api.request_count(method="POST") == 0
    assert send(clients, sheet, mapping, None).summary()["created"] == 6  # no four eyes: as before
