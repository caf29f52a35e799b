"""BatchCreator driven as an analyst would: look at the preview, click, wait, read."""

from __future__ import annotations

import asyncio
import html
import importlib
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
from factories import campaign_frame

from kyc_widgets.widgets.batch_creator import BatchCreator

DATA = Path(__file__).parent / "data"


def visible_text(markup: str) -> str:
    """The text a person reads (tags and the style sheet left out)."""
    markup = re.sub(r"<style>.*?</style>", "", markup, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def campaign(n: int) -> pd.DataFrame:
    return campaign_frame(n, prefix="W", relationship_type="remediation")


def test_preview_needs_a_campaign_then_creates_and_reports(sandbox: Any, client: Any) -> None:
    ui = BatchCreator(client, DATA / "messy_campaign.csv")
    assert "messy_campaign.csv" in ui.title.value and "11 rows" in ui.title.value
    # rows without ids: the campaign box shows and the button waits for a name
    assert ui.state == "blocked"
    assert ui.campaign.layout.display == ""
    assert ui.create_button.disabled
    assert "3 invalid" in ui.preview.value
    assert "Assigned analyst e-mail" in ui.preview.value  # first problems listed
    assert "Notes" in ui.preview.value  # ignored column reported
    assert "Error message" in ui.preview.value  # headed as in the report's table

    ui.campaign.value = "Widget campaign"
    assert ui.state == "ready"
    assert "1 duplicate" in ui.preview.value  # derived ids make rows 2 and 6 the same case
    # rows 10 and 11: two customers, one external id: neither is sent, both need attention
    assert "<strong>2</strong> share an external case ID" in ui.preview.value
    assert "'not-an-email'" in visible_text(ui.preview.value)  # on screen, a refused value is named
    assert ui.create_button.description == "Create 5 cases"
    assert not ui.create_button.disabled

    ui.create_button.click()
    assert ui.wait(30)
    assert ui.state == "done"
    assert ui.report is not None and ui.report.summary()["created"] == 5
    assert sandbox.case_count() == 5
    assert ui.create_button.disabled
    assert ui.cancel_button.layout.display == "none"
    assert "Created: 5" in ui.summary.value
    assert "Needs attention: 5 rows" in ui.summary.value  # as the command line counts them
    assert ui.progress_bar.value == ui.progress_bar.max

    # the per-status filter shows only that status
    ui.status_filter.value = "invalid"
    shown = visible_text(ui.table.value)
    assert shown.count("✗ Invalid") == 3  # short status with a text marker, one line each
    assert ui.table.value.count('title="Invalid: fix the row"') == 3  # the long form on hover
    assert "Created" not in ui.table.value
    assert "Error message" in shown and "Assigned analyst e-mail" in shown  # titles, not names
    assert "Case ID" not in shown and "Request ID" not in shown  # empty for these rows
    assert ui.table.position_text == "Rows 1–3 of 3"

    # the download is personal-data-free unless asked for
    made = ui.prepare_download()
    assert made is not None
    text = made.data.decode("utf-8-sig")
    assert "status" in text and "Zoë" not in text and "00123" not in text
    ui.include_personal_data.value = True
    made = ui.prepare_download()
    assert made is not None and "Zoë" in made.data.decode("utf-8-sig")


def test_cancel_while_running_keeps_the_kernel_free(sandbox: Any, client: Any) -> None:
    sandbox.settings.latency_ms = 20
    ui = BatchCreator(client, campaign(60), campaign="cancel", concurrency=2)
    assert ui.create_button.description == "Create 60 cases"
    ui.create_button.click()
    assert ui.state == "running"  # click returned at once: the batch runs in a thread
    assert ui.cancel_button.layout.display == "" and not ui.cancel_button.disabled
    deadline = time.monotonic() + 10
    while ui.progress_bar.value == 0 and time.monotonic() < deadline:
        ui.wait(0.02)  # no event loop here: waiting is what applies the progress updates
    ui.cancel_button.click()
    assert ui.state == "cancelling" and ui.cancel_button.disabled
    assert ui.wait(30)
    assert ui.state == "done"
    assert ui.report is not None
    summary = ui.report.summary()
    assert ui.report.stopped_reason == "cancelled"
    assert summary["not_attempted"] > 0
    assert summary["created"] + summary["not_attempted"] == 60
    assert sandbox.case_count() == summary["created"]
    assert "Stopped early" in ui.summary.value


def test_missing_columns_show_an_error_and_nothing_can_be_sent(sandbox: Any, client: Any) -> None:
    ui = BatchCreator(client, campaign(3).drop(columns=["programme_name"]), campaign="x")
    assert ui.state == "error"
    assert "Programme name" in ui.preview.value and "programme_name" not in ui.preview.value
    assert ui.create_button.disabled
    ui.create_button.click()
    assert ui.flow.thread is None and sandbox.request_count(method="POST") == 0


def test_missing_file_is_shown_not_raised(client: Any, tmp_path: Path) -> None:
    ui = BatchCreator(client, tmp_path / "gone.xlsx")
    assert ui.state == "error" and "gone.xlsx" in ui.preview.value


def test_progress_updates_arrive_on_the_kernel_thread(sandbox: Any, client: Any) -> None:
    seen: list[str] = []
    ui = BatchCreator(client, campaign(10), campaign="progress")
    for widget in (ui.progress_bar, ui.progress_label, ui.summary):
        widget.observe(lambda change: seen.append(threading.current_thread().name), "value")
    ui.create_button.click()
    assert ui.wait(30) and ui.state == "done"
    assert seen and set(seen) == {threading.main_thread().name}


def test_with_a_running_loop_updates_arrive_through_it_without_wait(
    sandbox: Any, client: Any
) -> None:
    """As in a kernel: the click happens on the thread running the event loop, and the
    loop applies progress and the report; nothing calls wait()."""
    seen: list[tuple[str, int]] = []

    async def analyst() -> BatchCreator:
        ui = BatchCreator(client, campaign(12), campaign="loop")
        ui.progress_bar.observe(
            lambda change: seen.append((threading.current_thread().name, change["new"])), "value"
        )
        ui.create_button.click()
        assert ui.state == "running"
        deadline = time.monotonic() + 30
        while ui.state == "running" and time.monotonic() < deadline:
            await asyncio.sleep(0.01)  # the loop stays free, as the kernel's does
        return ui

    ui = asyncio.run(analyst())
    assert ui.state == "done" and "Finished." in ui.progress_label.value
    assert ui.report is not None and ui.report.summary()["created"] == 12
    assert {name for name, _ in seen} == {threading.main_thread().name}
    assert seen[-1][1] == 12


def test_the_previewed_plan_is_sent_without_validating_again(
    sandbox: Any, client: Any, monkeypatch: Any
) -> None:
    from kyc_widgets.batch import sending
    from kyc_widgets.widgets import batch_flow as flow

    preflight_module = importlib.import_module("kyc_widgets.batch.preflight")  # not the function

    calls: list[str | None] = []
    real = preflight_module.preflight

    def counting(frame: pd.DataFrame, *, campaign: str | None = None, **options: Any) -> Any:
        calls.append(campaign)
        return real(frame, campaign=campaign, **options)  # options: the mapping step's mapping

    for module in (preflight_module, sending, flow):
        monkeypatch.setattr(module, "preflight", counting)
    frame = campaign(4)
    ui = BatchCreator(client, frame, campaign="once")
    assert calls == ["once"]  # the preview
    assert ui.create_button.description == "Create 4 cases"
    frame.loc[frame.index[0], "legal_last_name"] = None  # an edit after the preview...
    ui.create_button.click()
    assert ui.wait(30) and ui.state == "done"
    assert calls == ["once"]  # ...is not picked up: the run sent the previewed plan
    assert ui.report is not None and ui.report.summary()["created"] == 4
    assert sandbox.case_count() == 4


def test_a_cancel_as_the_run_finishes_ends_done_not_cancelling(sandbox: Any, client: Any) -> None:
    ui = BatchCreator(client, campaign(5), campaign="late cancel")
    ui.create_button.click()
    thread = ui.flow.thread
    assert thread is not None
    thread.join(30)  # the batch is over; its report is not shown yet
    assert not thread.is_alive() and ui.state == "running"
    ui.cancel_button.click()
    assert ui.state == "cancelling"
    assert ui.wait(30)
    assert ui.state == "done" and ui.cancel_button.layout.display == "none"
    assert ui.report is not None and ui.report.summary()["created"] == 5
    assert "Created: 5" in ui.summary.value and "cancelling" not in ui.progress_label.value
    ui.cancel_button.click()  # a click on the hidden button changes nothing
    assert ui.state == "done"


def test_a_cancel_from_the_last_progress_update_ends_done(sandbox: Any, client: Any) -> None:
    ui = BatchCreator(client, campaign(6), campaign="last row cancel")
    clicked: list[str] = []

    def on_value(change: Any) -> None:
        if change["new"] == 6 and ui.state == "running":
            ui.cancel_button.click()  # the analyst clicks as the last row lands
            clicked.append(ui.state)

    ui.progress_bar.observe(on_value, "value")
    ui.create_button.click()
    assert ui.wait(30)
    assert clicked == ["cancelling"]
    assert ui.state == "done" and ui.cancel_button.layout.display == "none"
    assert ui.report is not None and ui.report.summary()["created"] == 6
    assert sandbox.case_count() == 6


def test_downloads_are_built_when_asked_and_sent_to_the_browser_not_the_disk(
    sandbox: Any, client: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from kyc_widgets.batch.report import BatchReport

    monkeypatch.chdir(tmp_path)
    built: list[bool] = []
    real = BatchReport.to_csv_string

    def counting(self: BatchReport, *, include_personal_data: bool = True) -> str:
        built.append(include_personal_data)
        return real(self, include_personal_data=include_personal_data)

    monkeypatch.setattr(BatchReport, "to_csv_string", counting)
    sent: list[tuple[dict[str, Any], list[Any]]] = []
    ui = BatchCreator(client, campaign(3), campaign="lazy")
    monkeypatch.setattr(
        ui.report_download, "send", lambda content, buffers=None: sent.append((content, buffers))
    )
    ui.create_button.click()
    assert ui.wait(30) and ui.state == "done"
    assert "Created: 3" in ui.summary.value
    assert built == []  # the report is shown without its CSV: built on the click
    assert ui.report_download.label == "Download the report (CSV)"
    ui.include_personal_data.value = True
    assert ui.report_download.label == "Download the report (CSV, with personal data)"
    ui.include_personal_data.value = False
    assert built == []  # ticking the box builds nothing either

    made = ui.prepare_download()  # the button's click
    assert made is not None and built == [False]
    text = made.data.decode("utf-8-sig")
    assert text.count("created") == 3 and "Testa0" not in text and "W00000" not in text
    # the bytes went to the browser as a message with buffers, not into the widget's state
    assert sent[0][0]["event"] == "file" and sent[0][0]["name"] == made.name
    assert bytes(sent[1][1][0]) == made.data
    assert "Downloaded" in ui.report_download.status
    ui.include_personal_data.value = True
    personal = ui.report_download.click()
    assert personal is not None and "Testa0" in personal.data.decode("utf-8-sig")
    assert personal.name.endswith("-personal.csv")

    # the evidence record and its summary: one record, one chain head, no personal data
    record = ui.evidence_download.click()
    summary = ui.evidence_summary_download.click()
    assert record is not None and summary is not None
    head = json.loads(record.data)["chain"]["head"]
    assert head in summary.data.decode("utf-8") and "Testa0" not in record.data.decode("utf-8")
    assert list(tmp_path.iterdir()) == []  # nothing written next to the "notebook"


def test_check_against_the_api_then_create(sandbox: Any, client: Any) -> None:
    ui = BatchCreator(client, campaign(3), campaign="check first")
    assert ui.check_button.layout.display == "" and not ui.check_button.disabled
    ui.check_button.click()
    assert ui.wait(30) and ui.state == "ready"
    assert "Checked against the API (nothing was created)" in ui.check_result.value
    assert "Would be created: 3" in ui.check_result.value
    assert sandbox.case_count() == 0
    assert ui.create_button.description == "Create 3 cases" and not ui.create_button.disabled
    ui.create_button.click()
    assert ui.wait(30) and ui.report is not None and ui.report.summary()["created"] == 3
    assert ui.check_button.layout.display == "none"  # a report now: nothing more to check
