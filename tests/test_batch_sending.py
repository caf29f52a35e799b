"""batch_create / abatch_create against the real sandbox server."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from factories import campaign_frame, cancel_when

from kyc_widgets.api.pacing import PacingGate, PacingStopped
from kyc_widgets.batch import (
    DONE_STATUSES,
    RESULT_COLUMNS,
    BatchProgress,
    CampaignColumnsError,
    CampaignRequiredError,
    Journal,
    JournalEntry,
    abatch_create,
    batch_create,
    preflight,
    read_campaign,
)
from kyc_widgets.sandbox import Sandbox

DATA = Path(__file__).parent / "data"


def campaign(n: int, prefix: str = "U") -> pd.DataFrame:
    """``n`` valid rows without external ids (made-up people)."""
    return campaign_frame(n, prefix=prefix)


def existing_case(sandbox: Sandbox, kyc_case_id: str) -> None:
    with sandbox.client() as api:
        api.create_case(
            {
                "legal_first_name": "Eve", "legal_last_name": "Existing", "user_internal_id": "03000",
                "user_type": "INDIVIDUAL", "relationship_type": "REMEDIATION",
                "current_status": "DRAFT",
                "case_priority": "NORMAL", "agency_name": "Agency One",
                "regulated_provider_name": "Provider Ltd", "programme_name": "Cards",
                "country_of_onboarding": "GB", "assigned_team": "Refresh team",
                "kyc_case_id": kyc_case_id,
            }
        )


MESSY_EXPECTED = {
    2: ("created", None),
    3: ("created", None),
    4: ("invalid", "assigned_analyst_email"),
    5: ("invalid", "current_status"),
    6: ("duplicate_in_sheet", "kyc_case_id"),
    7: ("invalid", "user_internal_id"),
    8: ("created", None),
    9: ("exists", None),
    10: ("duplicate_id", "kyc_case_id"),  # Gil and Gia: two customers, one external case ID
    11: ("duplicate_id", "kyc_case_id"),
    13: ("created", None),
}


def test_messy_sheet_every_row_accounted_for_and_second_run_creates_none(
    sandbox: Sandbox, client: Any
) -> None:
    existing_case(sandbox, "EXISTING-1")
    sheet = read_campaign(DATA / "messy_campaign.csv")

    report = batch_create(client, sheet, campaign="Messy 2025", progress=False)

    results = report.results
    assert results.index.equals(sheet.index)  # aligned on the input's index
    got = {row: (s, f if isinstance(f, str) else None)
           for row, s, f in zip(results["sheet_row"], results["status"], results["error_field"])}
    assert got == MESSY_EXPECTED
    assert report.unknown_columns == ["Notes"]
    assert sandbox.case_count() == 1 + 4
    assert results.loc[9, "http_status"] == 409
    assert results.loc[2, "http_status"] == 201
    assert results.loc[2, "request_id"].startswith("req_")
    assert results.loc[6, "error_message"] == "Same external case ID as sheet row 2; only that row is sent."
    # leading zeros and non-Latin names reached the API intact
    with sandbox.client() as api:
        stored = api.get_case(results.loc[2, "kyc_case_id"]).case
        assert stored.user_internal_id == "00123" and stored.legal_first_name == "Zoë"
        assert api.get_case(results.loc[3, "kyc_case_id"]).case.legal_first_name == "李"
    assert report.summary()["created"] == 4
    # needs attention: every row neither created nor already there (3 invalid, 2 sharing an id)
    assert not report.ok and report.attention_count == 5

    again = batch_create(client, sheet, campaign="messy-2025", progress=False)
    assert again.summary()["created"] == 0
    assert again.summary()["exists"] == 5
    assert sandbox.case_count() == 5
    assert again.results["kyc_case_id"].equals(results["kyc_case_id"])


def test_failed_rows_carry_the_ids_used(sandbox: Sandbox) -> None:
    sheet = read_campaign(DATA / "messy_campaign.csv")
    # a proxy's HTML 502 for the first row: the outcome is unknown (nothing was applied)
    sandbox.faults.add("html_502", times=1, method="POST")
    with sandbox.client(max_retries=0) as api:
        report = batch_create(api, sheet, campaign="Messy", concurrency=1, progress=False)
    assert report.results.loc[2, "status"] == "outcome_unknown"
    used = report.results.loc[2, "kyc_case_id"]
    assert used.startswith("CMP-messy-")

    retry = report.failed_rows()
    assert list(retry.index) == [2, 4, 5, 7, 10, 11]
    assert list(retry.columns) == list(sheet.columns)
    assert retry.loc[2, "kyc_case_id"] == used  # the id the batch used, filled in
    assert retry.loc[[4, 5, 7], "kyc_case_id"].isna().all()  # invalid rows: derived again after a fix
    assert retry.loc[[10, 11], "kyc_case_id"].tolist() == [" GIVEN-1 ", "GIVEN-1"]  # as the sheet has them

    # retrying just these rows needs no campaign name for the row that was sent
    with sandbox.client() as api:
        again = batch_create(api, retry.loc[[2]], progress=False)
    assert again.results.loc[2, "kyc_case_id"] == used
    assert again.summary()["created"] == 1
    with sandbox.client() as api:
        assert api.get_case(used).case.legal_first_name == "Zoë"


def test_dry_run_sends_nothing(sandbox: Sandbox, client: Any) -> None:
    report = batch_create(client, campaign(5), campaign="dry", dry_run=True, progress=False)
    assert report.summary()["would_create"] == 5
    assert report.dry_run
    assert sandbox.request_count(method="POST") == 0
    assert sandbox.case_count() == 0


def test_missing_columns_and_missing_campaign_send_nothing(sandbox: Sandbox, client: Any) -> None:
    with pytest.raises(CampaignColumnsError, match="assigned_team"):
        batch_create(client, campaign(3).drop(columns=["assigned_team"]), campaign="x", progress=False)
    with pytest.raises(CampaignRequiredError, match="campaign"):
        batch_create(client, campaign(3), progress=False)
    assert sandbox.request_count(method="POST") == 0


def test_rows_with_their_own_ids_need_no_campaign(sandbox: Sandbox, client: Any) -> None:
    frame = campaign(3)
    frame["kyc_case_id"] = ["OWN-1", "OWN-2", "OWN-3"]
    report = batch_create(client, frame, progress=False)
    assert report.summary()["created"] == 3
    assert report.results["kyc_case_id"].tolist() == ["OWN-1", "OWN-2", "OWN-3"]


def test_a_preflight_plan_is_sent_as_is(sandbox: Sandbox, client: Any) -> None:
    """A UI that previewed the sheet hands over its plan: sent without validating again."""
    plan = preflight(campaign(4, prefix="P"), campaign="Plan one")
    report = batch_create(client, plan, progress=False)
    assert report.campaign == "Plan one" and report.summary()["created"] == 4
    assert list(report.results.columns) == list(RESULT_COLUMNS)
    with pytest.raises(ValueError, match="campaign differs"):
        batch_create(client, plan, campaign="Plan two", progress=False)
    with pytest.raises(CampaignRequiredError):
        batch_create(client, preflight(campaign(2, prefix="Q")), progress=False)
    assert sandbox.request_count(method="POST") == 4
    again = asyncio.run(abatch_create(client, plan, campaign="Plan one", progress=False))
    assert again.summary()["exists"] == 4 and sandbox.case_count() == 4
    assert set(again.results["status"]) <= DONE_STATUSES


def test_index_labels_not_positions(sandbox: Sandbox, client: Any) -> None:
    frame = campaign(4).set_axis(["d", "c", "b", "a"])
    frame.loc["b", "case_priority"] = "soon"
    report = batch_create(client, frame, campaign="labels", progress=False)
    assert report.results.loc["b", "status"] == "invalid"
    assert report.results.loc["b", "sheet_row"] == 4
    assert report.results["source_index"].tolist() == ["d", "c", "b", "a"]


def test_on_conflict_load_reports_differing_fields(sandbox: Sandbox, client: Any) -> None:
    frame = campaign(2)
    batch_create(client, frame, campaign="load", progress=False)
    changed = frame.copy()
    changed.loc[1, "legal_first_name"] = "Renamed"
    changed.loc[1, "assigned_team"] = "Other team"
    report = batch_create(client, changed, campaign="load", on_conflict="load", progress=False)
    assert report.results.loc[0, "status"] == "exists"
    assert report.results.loc[1, "status"] == "conflict"
    assert report.results.loc[1, "error_field"] == "legal_first_name, assigned_team"
    assert "Renamed" not in report.results.loc[1, "error_message"]
    assert report.results.loc[1, "case_id"]
    assert sandbox.case_count() == 2


def test_401_mid_run_stops_the_batch(sandbox: Sandbox) -> None:
    sandbox.settings.latency_ms = 10
    calls = {"n": 0}
    lock = threading.Lock()

    def token() -> str:
        with lock:
            calls["n"] += 1
            return sandbox.token if calls["n"] <= 5 else "expired-token"

    with sandbox.client(token=token, max_retries=0) as api:
        report = batch_create(api, campaign(30), campaign="auth", concurrency=2, progress=False)
    summary = report.summary()
    assert report.stopped_reason == "authentication"
    assert summary["created"] == sandbox.case_count() == 5
    assert 1 <= summary["failed"] <= 2  # the 401 and at most the other request in flight
    assert summary["not_attempted"] == 30 - 5 - summary["failed"]
    failed = report.results[report.results["status"] == "failed"]
    assert set(failed["http_status"]) == {401}
    assert sandbox.request_count(method="POST") == 5 + summary["failed"]


def test_429_back_pressure_creates_every_row_once() -> None:
    with Sandbox(rate_limit=20) as limited, limited.client() as api:
        report = batch_create(api, campaign(40), campaign="rate", concurrency=8, progress=False)
        assert report.summary()["created"] == 40
        assert limited.case_count() == 40
        assert limited.request_count(method="POST") > 40  # some answers were 429 and retried
        assert report.results["attempts"].max() > 1


def test_lost_answer_is_confirmed_by_the_own_id_rule(sandbox: Sandbox, client: Any) -> None:
    sandbox.faults.add("drop_after_commit", times=1, method="POST")
    report = batch_create(client, campaign(3), campaign="drop", concurrency=1, progress=False)
    assert report.summary()["created"] == 3
    assert sandbox.case_count() == 3
    assert report.results.loc[0, "note"].startswith("the answer was lost")
    assert report.results.loc[0, "attempts"] >= 2


def test_cancel_then_resume_from_journal_sends_every_row_once(
    sandbox: Sandbox, client: Any, tmp_path: Path
) -> None:
    sandbox.settings.latency_ms = 20
    journal = tmp_path / "run.jsonl"
    cancel = threading.Event()
    frame = campaign(30)

    def on_progress(progress: BatchProgress) -> None:
        cancel.set()  # the first progress report: stop as soon as possible

    first = batch_create(client, frame, campaign="resume", concurrency=2, journal=journal,
                         cancel=cancel, on_progress=on_progress, progress=False)
    summary = first.summary()
    assert first.stopped_reason == "cancelled"
    assert summary["not_attempted"] > 0
    assert summary["created"] + summary["not_attempted"] == 30
    assert sandbox.case_count() == summary["created"]

    header, *lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert header["campaign"] == "resume"  # the header binds the journal to its API and campaign
    assert len(lines) == summary["created"]
    assert set(lines[0]) == {"kyc_case_id", "status", "case_id", "request_id", "http_status", "at",
                             "campaign", "run", "principal"}  # run and principal: for the evidence
    assert {line["campaign"] for line in lines} == {"resume"}
    assert "Testa" not in journal.read_text()  # no names (ids only, pseudonymous: see identity.py)

    sandbox.reset_counts()
    second = batch_create(client, frame, campaign="resume", concurrency=4, journal=journal, progress=False)
    assert second.summary()["created"] == 30
    assert sandbox.case_count() == 30
    assert sandbox.request_count(method="POST") == summary["not_attempted"]  # none sent twice
    resumed = second.results["note"].fillna("").str.contains("journal")
    assert resumed.sum() == summary["created"]


@pytest.mark.anyio
async def test_task_cancellation_returns_the_report(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.settings.latency_ms = 20
    journal = tmp_path / "cancel.jsonl"
    frame = campaign(40)
    started = asyncio.Event()

    def on_progress(progress: BatchProgress) -> None:
        started.set()

    async with sandbox.async_client() as api:
        task = asyncio.create_task(
            abatch_create(api, frame, campaign="task", concurrency=2, journal=journal,
                          on_progress=on_progress, progress=False)
        )
        await started.wait()
        task.cancel()
        report = await task
    summary = report.summary()
    assert report.stopped_reason == "cancelled"
    assert summary["created"] + summary["not_attempted"] == 40
    assert 0 < summary["not_attempted"]
    assert sandbox.case_count() == summary["created"]

    async with sandbox.async_client() as api:
        rest = await abatch_create(api, frame, campaign="task", journal=journal, progress=False)
    assert rest.summary()["created"] == 40
    assert sandbox.case_count() == 40


@pytest.mark.anyio
async def test_batch_create_works_inside_a_running_event_loop(sandbox: Sandbox, client: Any) -> None:
    asyncio.get_running_loop()  # as in a notebook cell
    report = batch_create(client, campaign(6), campaign="notebook", progress=False)
    assert report.summary()["created"] == 6
    async_api = sandbox.async_client()
    again = batch_create(async_api, campaign(6), campaign="notebook", progress=False)
    assert again.summary()["exists"] == 6
    await async_api.aclose()
    assert sandbox.case_count() == 6


def test_progress_bar_runs(sandbox: Sandbox, client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    report = batch_create(client, campaign(3), campaign="bar", progress=True)
    assert report.summary()["created"] == 3
    assert "Creating cases" in capsys.readouterr().err


def test_invalid_first_occurrence_does_not_hold_back_the_valid_one(sandbox: Sandbox, client: Any) -> None:
    frame = campaign(3)
    frame["kyc_case_id"] = ["K-1", "K-1", "K-2"]
    frame["assigned_analyst_email"] = ["not-an-email", None, None]
    report = batch_create(client, frame, progress=False)
    assert report.results["status"].tolist() == ["invalid", "created", "created"]
    assert sandbox.case_count() == 2
    with sandbox.client() as api:
        assert api.get_case("K-1").case.user_internal_id == "U00001"


@pytest.mark.timeout(20)  # without a prompt stop this takes 3 x 30 s of Retry-After
def test_cancel_during_a_429_pause_stops_at_once_and_sends_nothing_more(sandbox: Sandbox) -> None:
    sandbox.faults.add("rate_limited", times=500, method="POST", retry_after=30)
    # cancelled once every worker waits: each worker's first row got a 429
    with (
        cancel_when(sandbox, 4, method="POST") as (cancel, posts_at_cancel),
        sandbox.client() as api,
    ):
        report = batch_create(api, campaign(20), campaign="pause", concurrency=4, cancel=cancel,
                              progress=False)
    assert report.stopped_reason == "cancelled"
    assert report.summary()["not_attempted"] == 20
    assert sandbox.case_count() == 0
    assert sandbox.request_count(method="POST") == posts_at_cancel[0] == 4  # none after the cancel
    waiting = report.results[report.results["http_status"] == 429]
    assert len(waiting) == 4 and waiting["note"].str.contains("rate limit").all()
    assert not api.pacing.stopped  # the batch let the client's gate through again


def test_a_429_without_retry_after_still_pauses_every_worker() -> None:
    gate = PacingGate()
    assert gate.remaining() == 0
    gate.rate_limited(None)
    assert gate.remaining() > 0  # a backoff, not an immediate re-send
    assert PacingGate().rate_limited(120.0) == 30.0  # Retry-After is capped like the client's


@pytest.mark.anyio
async def test_a_stop_ends_the_pause() -> None:
    gate = PacingGate()
    gate.rate_limited(30.0)
    gate.stop("cancelled")
    with pytest.raises(PacingStopped):
        await gate.await_open()


def test_a_torn_journal_line_is_ended_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "torn.jsonl"
    path.write_text('{"kyc_case_id":"A","status":"created"}\n{"kyc_case_id":"B","sta', encoding="utf-8")
    with Journal(path) as journal:  # a crash left "B" half written
        journal.append(JournalEntry("C", "created"))
        journal.append(JournalEntry("D", "created"))
    assert sorted(Journal(path).load()) == ["A", "C", "D"]
    assert path.read_text(encoding="utf-8").count("\n") == 4


def test_resuming_with_another_campaign_warns(sandbox: Sandbox, client: Any, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    frame = campaign(3)
    first = batch_create(client, frame, campaign="Q1 refresh", journal=journal, progress=False)
    assert first.summary()["created"] == 3 and not first.warnings
    same = batch_create(client, frame, campaign="q1-refresh", journal=journal, progress=False)
    assert not same.warnings and same.summary()["created"] == 3  # from the journal
    other = batch_create(client, frame, campaign="Q1 refesh", journal=journal, dry_run=True,
                         progress=False)
    assert any("'q1-refresh'" in w and "'q1-refesh'" in w for w in other.warnings)
    assert other.summary()["would_create"] == 3  # other ids: the journal cannot skip them


@pytest.mark.timeout(20)  # without a prompt stop this waits out the 30 s Retry-After
def test_a_401_seen_by_another_worker_ends_a_429_pause_at_once(sandbox: Sandbox) -> None:
    # The first POST to arrive is refused with 429 (Retry-After 30 s: every worker pauses);
    # the second is held 0.5 s, then refused with 401 because the token has expired.
    sandbox.faults.add("rate_limited", times=1, method="POST", retry_after=30)
    sandbox.faults.add("delay", times=1, method="POST", seconds=0.5)
    with sandbox.client(token="expired-token") as api:
        report = batch_create(api, campaign(10), campaign="pause-401", concurrency=2, progress=False)
        assert not api.pacing.stopped  # the batch let the client's gate through again
    assert report.stopped_reason == "authentication"
    results = report.results
    assert results["http_status"].tolist()[:2] in ([429, 401], [401, 429])
    paused = results[results["http_status"] == 429]
    assert paused["status"].tolist() == ["not_attempted"]
    assert paused["note"].str.contains("rate limit").all()
    assert report.summary()["failed"] == 1 and report.summary()["not_attempted"] == 9
    assert sandbox.request_count(method="POST") == 2  # nothing sent after the 401
    assert sandbox.case_count() == 0
