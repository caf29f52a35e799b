"""BatchFlow without widgets: every campaign state and every transition, against the sandbox.

The flow is driven as the widget drives it (load, mapping shown, campaign typed, Create,
Cancel, the hand-off applied by wait()), and asserted on its own state, facts and texts.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from factories import campaign_frame

from kyc_widgets.batch import (
    BatchOptions,
    BatchProgress,
    CampaignMapping,
    MappingError,
    batch_create,
)
from kyc_widgets.widgets.batch_flow import (
    CANCELLING_NOTE,
    FACTS,
    TRANSITIONS,
    BatchFlow,
    BatchState,
    Changed,
    Handover,
)

DATA = Path(__file__).parent / "data"
S = BatchState
IDS = CampaignMapping(columns={"Ref": "kyc_case_id"})
"""Reads the sheet's "Ref" column as the external id: every row has one (ready)."""


def sheet(n: int = 3, prefix: str = "F") -> pd.DataFrame:
    """``n`` valid rows without ids, and a "Ref" column only :data:`IDS` reads as the id."""
    frame = campaign_frame(n, prefix=prefix, relationship_type="remediation")
    frame["Ref"] = [f"{prefix}-REF-{i}" for i in range(n)]
    return frame


def broken() -> CampaignMapping:
    """A mapping step's ``build`` while it holds an unconfirmed guess."""
    raise MappingError("Confirm the guess for the column Ref first.")


def loaded(frame: Any = None, client: Any = None, **options: Any) -> BatchFlow:
    """A flow with its sheet read, before its mapping is shown (``loading``)."""
    flow = BatchFlow(client, BatchOptions(progress=False, **options))
    assert flow.load(sheet() if frame is None else frame)
    assert flow.state is S.LOADING
    return flow


def ready(client: Any, frame: Any = None, **options: Any) -> BatchFlow:
    flow = loaded(frame, client, **options)
    flow.mapping_changed(None)
    assert flow.state is S.READY, flow.error
    return flow


def progress(done: int, total: int, **counts: int) -> BatchProgress:
    return BatchProgress(done, total, counts, elapsed=2.0, current_rate=5.0, in_flight=2)


def test_the_flow_and_the_report_html_import_without_ipywidgets() -> None:
    code = (
        "import sys, kyc_widgets.widgets.batch_flow, kyc_widgets.widgets.report_html; "
        "assert 'ipywidgets' not in sys.modules, sorted(m for m in sys.modules if 'widget' in m)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_state_has_its_facts_and_every_transition_names_states() -> None:
    assert set(FACTS) == set(BatchState)
    assert {s.value for s in BatchState} >= {"error", "blocked", "ready", "running",
                                              "cancelling", "done"}  # the widget's strings
    assert S.DONE == "done" and str(S.RUNNING) == "running"
    for event, table in TRANSITIONS.items():
        assert hasattr(BatchFlow, event)
        for before, after in table.items():
            assert before in FACTS and after <= set(FACTS)
    editable = {s for s, f in FACTS.items() if f.editable}
    assert editable == {S.ERROR, S.BLOCKED, S.READY}  # previews happen only there
    assert {s for s, f in FACTS.items() if f.create} == {S.READY}
    assert {s for s, f in FACTS.items() if f.cancel} == {S.RUNNING}
    assert {s for s, f in FACTS.items() if f.fixes} == {S.DONE}


# ---------------------------------------------------------------------- upload and preview


def test_an_unreadable_sheet_is_an_error_and_nothing_else_is_accepted(tmp_path: Path) -> None:
    flow = BatchFlow(None)
    assert not flow.load(tmp_path / "gone.xlsx")
    assert flow.state is S.ERROR and flow.error is not None and "gone.xlsx" in flow.error
    assert flow.source_name == "gone.xlsx" and flow.frame is None
    assert not flow.mapping_changed(None)  # no sheet: no preview
    assert not flow.campaign_changed("x") and not flow.allow_same_subject_changed(True)
    assert not flow.create() and not flow.cancel() and not flow.load(sheet())
    assert flow.transitions == [("load", S.LOADING, S.ERROR)]
    assert flow.focus == "none" and flow.progress_text == "" and flow.create_label == "Create cases"


def test_a_mapping_step_that_cannot_be_shown_is_an_error() -> None:
    flow = loaded()
    assert flow.load_failed("The mapping names a header the sheet does not have: Ref2.")
    assert flow.state is S.ERROR and flow.frame is None and "Ref2" in (flow.error or "")
    assert not flow.load_failed("again")
    assert flow.transitions[-1] == ("load_failed", S.LOADING, S.ERROR)


def test_missing_columns_are_an_error_and_nothing_can_be_sent(sandbox: Any, client: Any) -> None:
    flow = loaded(sheet().drop(columns=["programme_name"]), client, campaign="x")
    assert flow.mapping_changed(None)
    # in analyst words: the field's title, never its name
    assert flow.state is S.ERROR and "Programme name" in (flow.error or "")
    assert "programme_name" not in (flow.error or "")
    assert flow.plan is None and not flow.can_create
    assert not flow.create() and flow.thread is None
    assert sandbox.request_count(method="POST") == 0


def test_rows_without_ids_need_a_campaign_name(client: Any) -> None:
    flow = loaded(campaign_frame(3, prefix="B"), client)
    assert flow.mapping_changed(None)
    assert flow.state is S.BLOCKED and flow.needs_campaign
    assert flow.plan is not None and flow.plan.missing_ids == 3
    assert not flow.can_create and not flow.create()
    assert flow.campaign_changed("  Flow campaign ")
    assert flow.state is S.READY and flow.campaign == "Flow campaign"
    assert flow.create_label == "Create 3 cases" and flow.can_create
    assert flow.campaign_changed("")
    assert flow.state is S.BLOCKED
    assert flow.campaign_changed("!!!")  # no letters: no id can be derived from it
    assert flow.state is S.ERROR and "letters or digits" in (flow.error or "")
    assert flow.needs_campaign and flow.create_label == "Create 3 cases"  # kept from before


def test_the_mapping_shown_decides_the_preview() -> None:
    flow = loaded()
    assert flow.mapping_changed(broken)  # a guess nobody confirmed yet
    assert flow.state is S.ERROR and "Confirm the guess" in (flow.error or "")
    assert flow.mapping_changed(IDS)
    assert flow.state is S.READY and flow.mapping is IDS and flow.error is None
    assert flow.plan is not None and flow.plan.missing_ids == 0 and not flow.needs_campaign
    assert flow.mapping_changed(None)  # "Ref" ignored: no ids
    assert flow.state is S.BLOCKED and flow.plan is not None
    assert flow.plan.unknown_columns == ["Ref"]
    assert flow.campaign_changed("mapped")  # the source stays the one last shown
    assert flow.state is S.READY and flow.mapping is None
    assert flow.focus == "none"  # typing in the campaign box: focus stays there


def test_the_same_subject_box_changes_only_what_is_sent(client: Any) -> None:
    frame = campaign_frame(3, prefix="S", relationship_type="remediation")
    frame.loc[2, "user_internal_id"] = frame.loc[0, "user_internal_id"]
    frame.loc[2, "user_type"] = "sole trader"
    flow = ready(client, frame, campaign="subjects")
    assert flow.same_subject == 1 and flow.to_send == 2 and flow.create_label == "Create 2 cases"
    plan = flow.plan
    assert flow.allow_same_subject_changed(True)
    assert flow.state is S.READY and flow.plan is plan  # not previewed again
    assert flow.to_send == 3 and flow.create_label == "Create 3 cases"
    assert flow.transitions[-1] == ("allow_same_subject_changed", S.READY, S.READY)


# ---------------------------------------------------------------------- sending


def test_create_sends_the_previewed_plan_and_shows_the_report(sandbox: Any, client: Any) -> None:
    changes: list[tuple[Changed, str, BatchState]] = []
    flow = ready(client, campaign="flow")
    flow.on_change = lambda changed: changes.append(
        (changed, threading.current_thread().name, flow.state)
    )
    assert flow.create()
    assert flow.state is S.RUNNING and flow.focus == "progress"  # Create is disabled now
    assert flow.progress_text == "0 / 3" and flow.progress_bar == (0, 3)
    assert not flow.create() and not flow.campaign_changed("other") and not flow.send_fixes([2])
    assert flow.wait(30)
    assert flow.state is S.DONE and flow.focus == "none"  # the end arrives on its own
    assert flow.report is not None and flow.report.summary()["created"] == 3
    assert sandbox.case_count() == 3
    assert flow.progress_text == "Finished." and flow.progress_bar == (3, 3)
    assert flow.create_label == "Done" and not flow.can_create
    assert flow.filter_options == [("All rows (3)", ""), ("Created (3)", "created")]
    assert {name for _, name, _ in changes} == {threading.main_thread().name}
    assert changes[-1][0] & Changed.REPORT and changes[-1][2] is S.DONE
    assert not flow.cancel() and not flow.progress_posted(progress(1, 3))
    assert not flow.run_ended("late")  # nothing is in flight


def test_progress_is_handed_over_and_worded(client: Any) -> None:
    flow = ready(client, campaign="words")
    assert flow.create()
    assert flow.progress_posted(progress(4, 10, created=3, invalid=1))
    assert flow.progress_bar == (4, 10)
    assert flow.progress_text == (
        "4 / 10 (created 3, invalid 1), about 3 s left; 5 rows/s, 2 in flight"
    )
    assert flow.cancel()
    assert flow.state is S.CANCELLING and flow.focus == "progress"  # Cancel is disabled now
    assert flow.progress_text.endswith(CANCELLING_NOTE)
    assert flow.progress_posted(progress(10, 10, created=9, invalid=1))
    assert flow.progress_text == "10 / 10 (created 9, invalid 1)" + CANCELLING_NOTE
    assert flow.wait(30) and flow.state is S.DONE


def test_cancel_stops_the_run_and_the_report_says_so(sandbox: Any, client: Any) -> None:
    sandbox.settings.latency_ms = 20
    flow = ready(client, sheet(40, "C"), concurrency=2, campaign="cancel")
    assert flow.create()
    assert flow.cancel()  # before anything was handed over: the run is still in flight
    assert flow.state is S.CANCELLING and not flow.cancel()
    assert flow.wait(30)
    assert flow.state is S.DONE and flow.report is not None
    assert flow.report.stopped_reason == "cancelled"
    summary = flow.report.summary()
    assert summary["not_attempted"] > 0 and summary["created"] + summary["not_attempted"] == 40
    assert sandbox.case_count() == summary["created"]
    assert flow.progress_text == "Stopped early."
    assert flow.transitions[-2:] == [("cancel", S.RUNNING, S.CANCELLING),
                                     ("run_ended", S.CANCELLING, S.DONE)]


def test_a_cancel_racing_the_end_of_the_run_ends_done(sandbox: Any, client: Any) -> None:
    flow = ready(client, campaign="late cancel")
    assert flow.create()
    thread = flow.thread
    assert thread is not None
    thread.join(30)  # the batch is over; its report is not handed over yet
    assert not thread.is_alive() and flow.state is S.RUNNING
    assert flow.cancel()
    assert flow.state is S.CANCELLING
    assert flow.wait(30)
    assert flow.state is S.DONE and flow.report is not None
    assert flow.report.stopped_reason is None and flow.report.summary()["created"] == 3
    assert flow.progress_text == "Finished."
    assert not flow.cancel() and flow.state is S.DONE


def test_a_cancel_from_the_last_progress_snapshot_ends_done(sandbox: Any, client: Any) -> None:
    """The analyst's Cancel reacts to the last snapshot: it is applied while still running."""
    flow = ready(client, sheet(6), campaign="last snapshot")
    seen: list[BatchState] = []

    def on_change(changed: Changed) -> None:
        if changed == Changed.PROGRESS and flow.progress is not None:
            if flow.progress.done == 6 and flow.state is S.RUNNING:
                flow.cancel()
                seen.append(flow.state)

    flow.on_change = on_change
    assert flow.create() and flow.wait(30)
    assert seen == [S.CANCELLING] and flow.state is S.DONE
    assert flow.report is not None and flow.report.summary()["created"] == 6
    assert sandbox.case_count() == 6


def test_a_run_that_cannot_run_fails_and_stays_failed(
    sandbox: Any, client: Any, tmp_path: Path
) -> None:
    flow = ready(client, campaign="no journal", journal=tmp_path)  # a folder: not writable
    assert flow.create() and flow.wait(30)
    assert flow.state is S.FAILED and flow.report is None
    assert (flow.error or "").startswith("The batch could not run:")
    assert sandbox.request_count(method="POST") == 0
    assert flow.progress_text == "0 / 3" and flow.create_label == "Create 3 cases"
    assert not flow.create() and not flow.cancel() and not flow.campaign_changed("again")
    assert not flow.mapping_changed(None) and not flow.send_fixes([2])
    assert flow.transitions[-1] == ("run_ended", S.RUNNING, S.FAILED)


def test_a_cancelled_run_that_fails_is_failed(sandbox: Any, client: Any, tmp_path: Path) -> None:
    flow = ready(client, campaign="cancel then fail", journal=tmp_path)
    assert flow.create() and flow.cancel()
    assert flow.wait(30)
    assert flow.state is S.FAILED and (flow.error or "").startswith("The batch could not run:")
    assert flow.transitions[-1] == ("run_ended", S.CANCELLING, S.FAILED)


def test_with_a_running_loop_the_end_arrives_without_wait(client: Any) -> None:
    """As in a kernel: the click on the loop's thread, the loop applies what is handed over."""
    threads: set[str] = set()

    async def analyst() -> BatchFlow:
        flow = ready(client, campaign="loop")
        flow.on_change = lambda _c: threads.add(threading.current_thread().name)
        assert flow.create()
        for _ in range(3000):
            if flow.state is not S.RUNNING:
                break
            await asyncio.sleep(0.01)  # the loop stays free, as the kernel's does
        return flow

    flow = asyncio.run(analyst())
    assert flow.state is S.DONE and flow.report is not None
    assert flow.report.summary()["created"] == 3
    assert threads == {threading.main_thread().name}


# ---------------------------------------------------------------------- fixing


def messy_done(client: Any) -> BatchFlow:
    flow = loaded(DATA / "messy_campaign.csv", client, campaign="Fix flow")
    flow.mapping_changed(None)
    assert flow.state is S.READY and flow.create() and flow.wait(30)
    assert flow.state is S.DONE and flow.report is not None
    return flow


def first_created(report: Any) -> int:
    results = report.results
    return int(results.loc[results["status"] == "created", "sheet_row"].iloc[0])


def test_fixed_rows_are_sent_and_merged_into_the_same_report(sandbox: Any, client: Any) -> None:
    flow = messy_done(client)
    report = flow.report
    assert report is not None and report.summary()["created"] == 5
    attention = list(report.needs_attention().index)
    row = attention[0]
    report.apply_fixes({row: {"assigned_analyst_email": "olafur.analyst@example.org"}})
    assert not flow.send_fixes([])  # nothing fixed: nothing sent
    sandbox.reset_counts()
    assert flow.send_fixes([row])
    assert flow.state is S.RUNNING and flow.fixing and flow.total == 1
    assert flow.focus == "progress" and flow.create_label == "Done"
    assert flow.wait(30)
    assert flow.state is S.DONE and not flow.fixing
    assert flow.report is report  # the same report, with the row's new outcome
    assert report.summary()["created"] == 6 and report.summary()["invalid"] == 2
    assert sandbox.request_count(method="POST") == 1 and sandbox.case_count() == 6
    assert report.fix_log[-1]["sheet_row"] == row and report.fix_log[-1]["fields"] == [
        "assigned_analyst_email"
    ]
    assert flow.transitions[-2:] == [("send_fixes", S.DONE, S.RUNNING),
                                     ("run_ended", S.RUNNING, S.DONE)]


def test_a_check_against_the_api_creates_nothing_and_ends_ready(
    sandbox: Any, client: Any
) -> None:
    frame = sheet(3, "CHK")
    frame["kyc_case_id"] = ["CHK-1", "CHK-2", "CHK-3"]
    batch_create(client, frame.iloc[[1]], BatchOptions(campaign="check", progress=False))
    flow = ready(client, frame, campaign="check")
    sandbox.reset_counts()
    assert flow.check()
    assert flow.state is S.RUNNING and flow.checking
    assert flow.progress_text.startswith("Checking against the API (nothing is created)")
    assert flow.wait(30)
    assert flow.state is S.READY and not flow.checking and flow.report is None
    assert flow.check_report is not None and flow.check_report.dry_run
    counts = flow.check_report.summary()
    assert counts["would_create"] == 2 and counts["exists"] == 1
    assert sandbox.request_count(method="POST") == 0 and sandbox.case_count() == 1
    assert flow.can_create and flow.create_label == "Create 3 cases"
    assert flow.campaign_changed("check again")  # another plan: the check no longer holds
    assert flow.check_report is None
    assert not BatchFlow(None).check()  # no API: nothing to ask


def test_fixes_that_cannot_be_sent_say_why_and_stay_done(sandbox: Any, client: Any) -> None:
    flow = messy_done(client)
    assert flow.report is not None
    assert not flow.send_fixes([first_created(flow.report)])  # sent: its outcome stands
    assert flow.state is S.DONE and "created" in (flow.fix_error or "")
    assert flow.transitions[-1] == ("send_fixes", S.DONE, S.DONE)


# ---------------------------------------------------------------------- the hand-off


def test_the_handover_keeps_only_the_latest_snapshot_and_then_the_end() -> None:
    applied: list[tuple[Any, Any]] = []
    handover = Handover(lambda p, e: applied.append((p, e)))
    first, last = progress(1, 3), progress(2, 3)

    def work() -> None:
        handover.post_progress(first)
        handover.post_progress(last)
        handover.post(end="the end")

    assert handover.wait(0)  # nothing started: nothing to wait for
    handover.start(work)
    assert handover.thread is not None
    handover.thread.join(5)
    assert applied == []  # nothing is applied on the worker's thread
    assert handover.wait(5)
    assert applied == [(last, "the end")]  # the snapshot the kernel never drew is dropped


def test_wait_from_another_thread_only_waits(client: Any) -> None:
    flow = ready(client, campaign="other thread")
    assert flow.create()
    results: list[bool] = []
    other = threading.Thread(target=lambda: results.append(flow.wait(0.2)))
    other.start()
    other.join()
    assert results == [False] and flow.state is S.RUNNING  # only the starting thread applies
    assert flow.wait(30) and flow.state is S.DONE


# ---------------------------------------------------------------------- every transition


def _preview_walk() -> set[tuple[str, BatchState, BatchState]]:
    """Every preview transition: out of loading, and between error, blocked and ready."""
    taken: set[tuple[str, BatchState, BatchState]] = set()
    for source in (broken, None, IDS):  # loading -> error, blocked, ready
        flow = loaded()
        flow.mapping_changed(source)
        taken |= set(flow.transitions)
    flow = loaded()
    flow.mapping_changed(None)
    for source in (broken, broken, None, None, IDS, IDS, broken, IDS, None, broken):
        flow.mapping_changed(source)
        flow.allow_same_subject_changed(not flow.allow_same_subject)
    flow.mapping_changed(None)
    for text in ("!!!", "---", "", " ", "ok", "ok2", "", "ok", "!!!", "ok", "!!!", ""):
        flow.campaign_changed(text)
    taken |= set(flow.transitions)
    flow = BatchFlow(None)
    flow.load(sheet())
    flow.load_failed("no mapping step")
    return taken | set(flow.transitions)


def test_every_transition_in_the_table_is_taken(
    sandbox: Any, client: Any, tmp_path: Path
) -> None:
    taken = _preview_walk()
    missing = BatchFlow(None)
    missing.load(tmp_path / "gone.csv")
    taken |= set(missing.transitions)
    for journal, cancel in ((None, False), (None, True), (tmp_path, False), (tmp_path, True)):
        flow = ready(client, sheet(3, f"W{int(cancel)}"), campaign=f"walk {cancel}",
                     journal=journal)
        flow.create()
        if cancel:
            flow.cancel()
        flow.wait(30)
        taken |= set(flow.transitions)
    for cancel in (False, True):  # "Check against the API": ends back in ready
        checked = ready(client, sheet(3, f"C{int(cancel)}"), campaign=f"check {cancel}")
        checked.check()
        if cancel:
            checked.cancel()
        checked.wait(30)
        taken |= set(checked.transitions)
    done = messy_done(client)
    assert done.report is not None
    done.send_fixes([first_created(done.report)])  # refused: the row was sent
    row = int(done.report.needs_attention().index[0])
    done.report.apply_fixes({row: {"assigned_analyst_email": "walk@example.org"}})
    done.send_fixes([row])
    done.wait(30)
    taken |= set(done.transitions)

    table = {
        (event, before, after)
        for event, moves in TRANSITIONS.items()
        for before, afters in moves.items()
        for after in afters
    }
    assert taken == table, (sorted(table - taken), sorted(taken - table))


@pytest.mark.parametrize("state", list(BatchState))
def test_the_facts_of_each_state_are_drawn_as_words(state: BatchState) -> None:
    """What each state shows on the progress line before any run (nothing, or "0 / 0")."""
    flow = BatchFlow(None)
    flow.state = state
    expected = {"none": "", "live": "0 / 0", "cancelling": "0 / 0" + CANCELLING_NOTE,
                "ended": "Finished."}[FACTS[state].progress]
    assert flow.progress_text == expected
