"""The dry run that asks the API (``dry_run="check"``), and the same subject twice."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from factories import campaign_frame, cancel_when

from kyc_widgets.batch import batch_create, preflight
from kyc_widgets.sandbox import Sandbox

DATA = Path(__file__).parent / "data"


def sheet(n: int = 6) -> pd.DataFrame:
    return campaign_frame(n, prefix="K", relationship_type="remediation")


def test_check_tells_new_rows_from_existing_same_and_different(
    sandbox: Sandbox, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    frame = sheet(6)
    first = batch_create(client, frame.iloc[:4], campaign="check", progress=False)
    assert first.summary()["created"] == 4
    before = sandbox.case_count()
    edited = frame.copy()
    edited.loc[2, "legal_last_name"] = "Changedname"  # same external id (identity unchanged)
    edited.loc[3, "assigned_team"] = "Another team"
    sandbox.reset_counts()

    with caplog.at_level(logging.DEBUG):
        report = batch_create(client, edited, campaign="check", dry_run="check", progress=False)

    assert sandbox.case_count() == before == 4  # nothing created
    assert sandbox.request_count(method="POST") == 0
    assert sandbox.request_count(method="GET", path="/api/v1/kyc-cases") == 6
    statuses = report.results["status"].tolist()
    assert statuses == ["exists", "exists", "exists_differs", "exists_differs",
                        "would_create", "would_create"]
    assert report.dry_run and report.options["dry_run"] == "check"
    assert report.results.loc[2, "error_field"] == "legal_last_name"
    assert report.results.loc[3, "error_field"] == "assigned_team"
    assert report.results.loc[0, "case_id"] == first.results.loc[0, "case_id"]
    assert report.results.loc[4, "http_status"] == 404
    assert "Exists with different data (dry run): 2" in report.summary_text()
    assert not report.ok  # rows that differ need a look
    for value in ("Changedname", "Another team", "K00002", "Testa2"):
        assert value not in caplog.text  # values never in logs


def test_check_stops_on_401_like_a_real_run(sandbox: Sandbox) -> None:
    with sandbox.client(token="not-a-valid-token") as api:
        report = batch_create(api, sheet(20), campaign="check", dry_run="check", concurrency=2,
                              progress=False)
    assert report.stopped_reason == "authentication"
    summary = report.summary()
    assert summary["failed"] >= 1 and summary["not_attempted"] >= 1
    assert summary["would_create"] == 0
    assert sandbox.request_count(method="GET", path="/api/v1/kyc-cases") < 20


def test_check_pauses_on_429_and_asks_again(sandbox: Sandbox, client: Any) -> None:
    sandbox.faults.add("rate_limited", times=3, method="GET", retry_after=0)
    report = batch_create(client, sheet(5), campaign="check", dry_run="check", concurrency=2,
                          progress=False)
    assert report.summary()["would_create"] == 5
    assert sandbox.request_count(method="GET", path="/api/v1/kyc-cases") == 5 + 3
    assert sandbox.case_count() == 0


@pytest.mark.timeout(20)  # without a prompt stop this takes 3 x 30 s of Retry-After
def test_a_cancel_during_a_429_pause_ends_the_check_at_once(sandbox: Sandbox) -> None:
    """The lookups wait at the client's pacing gate like creates: a cancel ends the wait."""
    sandbox.faults.add("rate_limited", times=500, method="GET", retry_after=30)
    # cancelled once every worker waits: each one's first lookup got a 429
    with (
        cancel_when(sandbox, 3, method="GET", path="/api/v1/kyc-cases") as (cancel, gets_at_cancel),
        sandbox.client() as api,
    ):
        report = batch_create(api, sheet(12), campaign="check", dry_run="check", concurrency=3,
                              cancel=cancel, progress=False)
    assert report.stopped_reason == "cancelled"
    assert report.summary()["not_attempted"] == 12
    gets = sandbox.request_count(method="GET", path="/api/v1/kyc-cases")
    assert gets == gets_at_cancel[0] == 3  # nothing asked after the cancel
    waiting = report.results[report.results["http_status"] == 429]
    assert len(waiting) == 3 and waiting["note"].str.contains("rate limit").all()
    assert not api.pacing.stopped  # the check let the client's gate through again


def _same_subject_sheet() -> pd.DataFrame:
    frame = sheet(4)
    frame.loc[2, "user_internal_id"] = frame.loc[0, "user_internal_id"]  # same customer...
    frame.loc[2, "user_type"] = "sole trader"  # ...another derived id
    frame.loc[3, "user_internal_id"] = frame.loc[0, "user_internal_id"]
    frame.loc[3, "relationship_type"] = "kyc refresh"  # another reason: not the same subject
    return frame


def test_same_subject_twice_is_flagged_and_held_unless_confirmed(
    sandbox: Sandbox, client: Any
) -> None:
    frame = _same_subject_sheet()
    plan = preflight(frame, campaign="subjects")
    assert plan.counts()["same_subject"] == 1
    assert plan.note is not None and "sheet row 2" in plan.note.loc[2]
    assert "sheet row(s) 4" in plan.note.loc[0]
    assert pd.isna(plan.note.loc[3])

    report = batch_create(client, plan, progress=False)
    assert report.results["status"].tolist() == ["created", "created", "not_attempted", "created"]
    assert "sent only when confirmed" in report.results.loc[2, "note"]
    assert "Same customer and reason" in report.results.loc[0, "note"]  # kept after sending
    assert sandbox.case_count() == 3

    confirmed = batch_create(client, frame, campaign="subjects", allow_same_subject=True,
                             progress=False)
    assert confirmed.results["status"].tolist() == ["exists", "exists", "created", "exists"]
    assert "Same customer and reason" in confirmed.results.loc[2, "note"]
    assert sandbox.case_count() == 4


def test_dry_run_values_other_than_check_never_send(sandbox: Sandbox, client: Any) -> None:
    report = batch_create(client, sheet(2), campaign="check", dry_run=1, progress=False)
    assert report.summary()["would_create"] == 2
    assert sandbox.request_count(method="POST") == 0
    with pytest.raises(ValueError, match="dry_run must be"):
        batch_create(client, sheet(2), campaign="check", dry_run="yes", progress=False)
    with pytest.raises(ValueError, match="pass a client"):
        batch_create(None, sheet(2), campaign="check", dry_run="check", progress=False)
    assert sandbox.request_count() == 0 and sandbox.case_count() == 0
