"""``BatchCreator``: the notebook UI for a campaign sheet.

Preview first (how many rows are valid, invalid or duplicated, and the first
problems) so the analyst fixes the sheet before anything is sent; then a
"Create N cases" button, live progress, a Cancel button, and the report with a
per-status filter and a download.

What is sent is the plan the preview showed: the :class:`~.preflight.Preflight`
computed for the preview is handed to :func:`~.sending.batch_create` as is, so
the sheet is validated once per run and the "Create N cases" button sends
exactly those N rows.

Why a background thread: the batch runs on its own event loop in a worker
thread, so the kernel stays free to handle the Cancel click (a widget event is
a kernel message; a cell blocked on the batch could not receive it) and the
kernel's loop does not carry the batch's work. Cancel sets a
``threading.Event`` that the sender checks before each row; requests in
flight finish and every row is still reported.

Widgets are only ever changed on the kernel's thread: ipywidgets and
traitlets are not thread-safe, and observers run on the thread that sets a
value. The worker thread never touches a widget; it leaves the latest
progress snapshot and, at the end, the report in a pending slot and asks the
kernel's event loop (the one running when Create was clicked) to apply them
with ``loop.call_soon_threadsafe``. The sender reports progress at most every
:data:`~.sending.PROGRESS_INTERVAL` seconds and snapshots that pile up while
the kernel is busy are merged into the latest one, so a 100k-row run does not
flood the front end. Without a running loop (a plain script or a test),
nothing is applied until :meth:`BatchCreator.wait` is called on the thread
that clicked: it applies pending updates while it waits.

Because the state only changes on that one thread, a Cancel that lands as the
run finishes cannot leave the widget "cancelling": either the Cancel comes
first and the report then moves the state to "done", or the report comes
first and the Cancel is ignored.

After a run, the rows the API never stored can be fixed in place
(:mod:`.fix_step`): :meth:`BatchCreator.fix` opens a row's form,
:meth:`BatchCreator.save_fix` validates it, :meth:`BatchCreator.send_fixes`
sends the fixed rows through the same worker thread and hand-over as a run,
and their outcomes are folded into the same report. Rows that repeat another
row's customer and reason under another external id (:mod:`~kyc_widgets.batch.subjects`)
are shown in the preview and sent only when the "Also send..." box is ticked.

The download is a ``data:`` link holding the report CSV, built without
personal-data columns unless the analyst ticks the box: a link's bytes live
in the notebook's saved widget state and output, and a notebook is shared far
more widely than a campaign sheet. It is built only when it is cheap or asked
for: a report of up to :data:`EAGER_DOWNLOAD_ROWS` rows whose CSV fits in
:data:`DATA_URI_LIMIT` bytes gets its link with the report; any other shows a
"Prepare the download" button instead, which builds the CSV, shows the link
and moves keyboard focus to it: the CSV of a 100k-row report takes seconds to
build, and the report must show at once, after a Cancel above all. Past
:data:`DATA_URI_LIMIT` bytes the CSV is written next to the notebook and
linked, so a 100k-row report does not bloat the notebook; it is written only
on that click, once per report and per choice of the personal-data box (ticking
the box back and forth reuses the files; ticking it to a choice not prepared
yet shows the button again). Even without personal data the download keeps
``kyc_case_id``: a re-run needs it, and a derived id can be traced back to a
user id (see :mod:`.identity`).
"""

from __future__ import annotations

import asyncio
import base64
import html
import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from kyc_widgets.a11y.bridge import A11yBridge, new_scope
from kyc_widgets.batch.fixes import FixError
from kyc_widgets.batch.identity import CampaignRequiredError
from kyc_widgets.batch.mapping import CampaignMapping, as_mapping
from kyc_widgets.batch.preflight import CampaignColumnsError, Preflight, preflight
from kyc_widgets.batch.reading import read_campaign
from kyc_widgets.batch.report import STATUS_LABELS, STATUSES, BatchReport, html_table, readable
from kyc_widgets.batch.sending import DEFAULT_CONCURRENCY, BatchProgress, batch_create
from kyc_widgets.form.schema_form import SchemaForm
from kyc_widgets.models import KycCaseCreateInput
from kyc_widgets.text import reveal_html
from kyc_widgets.widgets.fix_step import FixStep
from kyc_widgets.widgets.mapping_step import MappingStep
from kyc_widgets.widgets.report_table import ReportTable

__all__ = ["DATA_URI_LIMIT", "EAGER_DOWNLOAD_ROWS", "BatchCreator"]

DATA_URI_LIMIT = 2_000_000
"""Largest CSV (bytes) offered as an inline ``data:`` link."""

EAGER_DOWNLOAD_ROWS = 5_000
"""Largest report (rows) whose download is built with the report: its CSV takes a
few hundredths of a second. Past it the "Prepare the download" button builds it."""

_CANCELLING = " - cancelling, waiting for requests in flight..."

_PROBLEMS_SHOWN = 10


class BatchCreator(widgets.VBox):
    """Preview, create, follow and download a campaign batch in a notebook.

    ``df_or_path`` is a DataFrame or a CSV/XLSX path (read with
    :func:`~.reading.read_campaign`, ``sheet`` picks the worksheet).
    ``mapping`` (a :class:`~kyc_widgets.batch.mapping.CampaignMapping` or the
    path of a saved one) starts the mapping step (:attr:`mapping_step`, shown
    before the preview) from that mapping instead of a suggestion; the preview
    and the batch use whatever the step shows.
    ``state`` is one of ``"error"`` (the sheet cannot be used), ``"blocked"``
    (a campaign name is needed), ``"ready"``, ``"running"``, ``"cancelling"``,
    ``"done"`` (a run ended, cancelled or not: ``report.stopped_reason``
    says); :meth:`wait` blocks until the run's report is shown;
    :meth:`prepare_download` is the click on a large report's "Prepare the download".
    ``concurrency``, ``max_rate`` and ``max_concurrency`` are passed to
    :func:`~kyc_widgets.batch.sending.batch_create` (``concurrency=None``: the
    number of requests in flight adapts to the API); the progress line shows the
    current rows per second and requests in flight.
    """

    def __init__(
        self,
        client: Any,
        df_or_path: pd.DataFrame | str | Path,
        *,
        sheet: str | None = None,
        campaign: str | None = None,
        concurrency: int | None = DEFAULT_CONCURRENCY,
        max_rate: float | None = None,
        max_concurrency: int | None = None,
        on_conflict: str = "report",
        journal: str | Path | None = None,
        mapping: CampaignMapping | str | Path | None = None,
    ) -> None:
        self.client = client
        self.concurrency = concurrency
        self.max_rate = max_rate
        self.max_concurrency = max_concurrency
        self.on_conflict = on_conflict
        self.journal = journal
        self.state = "ready"
        self.report: BatchReport | None = None
        self.preflight_result: Preflight | None = None
        self.error: str | None = None
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        # Hand-over from the worker thread to the kernel's (see the module docstring).
        self._lock = threading.Lock()
        self._pending_progress: BatchProgress | None = None
        self._pending_end: BatchReport | str | None = None
        self._posted = threading.Event()  # something is pending: wakes wait()
        self._ended = threading.Event()  # the end of the run has been shown
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_called = False  # an apply is already queued on the loop
        self._owner: int | None = None  # the thread that clicked Create
        self._frame: pd.DataFrame | None = None
        self._source_name = "DataFrame"
        self._downloads: dict[bool, tuple[str, str]] = {}
        self._fix_run = False  # the running batch sends fixed rows: merge its report
        self.mapping_step: MappingStep | None = None
        self.mapping: CampaignMapping | None = None
        """The mapping of the last preview: what the batch is sent with."""
        self.mapping_panel = widgets.Accordion(layout=widgets.Layout(display="none"))

        self.title = widgets.HTML()
        self.campaign = widgets.Text(
            value=campaign or "",
            description="Campaign",
            placeholder="e.g. KYC refresh 2025 Q1",
            continuous_update=False,
            layout=widgets.Layout(display="none", width="28em"),
        )
        self.campaign_help = widgets.HTML(layout=widgets.Layout(display="none"))
        self.preview = widgets.HTML()
        self.create_button = widgets.Button(
            description="Create cases", button_style="primary", icon="upload", disabled=True
        )
        self.cancel_button = widgets.Button(
            description="Cancel", button_style="warning", icon="stop",
            layout=widgets.Layout(display="none"),
        )
        self.progress_bar = widgets.IntProgress(
            value=0, min=0, max=1, description="Progress",
            layout=widgets.Layout(display="none", width="28em"),
        )
        self.progress_label = widgets.HTML()
        self.summary = widgets.HTML()
        self.status_filter = widgets.Dropdown(
            description="Show", options=[("All rows", "")], value="",
            layout=widgets.Layout(display="none"),
        )
        self.table = ReportTable()  # a page of rows at a time, Previous/Next
        self.include_personal_data = widgets.Checkbox(
            value=False, description="Include personal data in the download", indent=False,
            layout=widgets.Layout(display="none"),
        )
        self.download = widgets.HTML()
        self.prepare_download_button = widgets.Button(
            description="Prepare the download (CSV)", icon="download",
            layout=widgets.Layout(display="none", width="auto"),
        )
        self.allow_same_subject = widgets.Checkbox(
            value=False, indent=False,
            description="Also send rows that repeat another row's customer and reason",
            layout=widgets.Layout(display="none", width="40em"),
        )
        self.fix_step = FixStep(self.send_fixes)

        self.campaign.observe(self._on_campaign, names="value")
        self.allow_same_subject.observe(self._on_allow_same_subject, names="value")
        self.create_button.on_click(self._on_create)
        self.cancel_button.on_click(self._on_cancel)
        self.status_filter.observe(self._on_filter, names="value")
        self.include_personal_data.observe(self._on_include_personal, names="value")
        self.prepare_download_button.on_click(lambda _b: self.prepare_download())
        # Focus moves to the download link once it replaces the button (WCAG 2.4.3).
        self._scope = new_scope("kyc-batch")
        self.download.add_class(f"{self._scope}-download")
        self.bridge = A11yBridge(self._scope)

        super().__init__(
            [
                widgets.HTML(_STYLE),
                self.title,
                self.mapping_panel,
                widgets.HBox([self.campaign, self.campaign_help]),
                self.preview,
                self.allow_same_subject,
                widgets.HBox([self.create_button, self.cancel_button]),
                widgets.HBox([self.progress_bar, self.progress_label]),
                self.summary,
                self.status_filter,
                self.table,
                widgets.HBox(
                    [self.download, self.prepare_download_button, self.include_personal_data]
                ),
                self.fix_step,
                self.bridge,
            ]
        )
        self.add_class("kyc-batch-creator")  # a stable hook for browser tests and styling
        self.add_class(self._scope)
        self._load(df_or_path, sheet, mapping)

    # -- loading and preview ---------------------------------------------------

    def _load(
        self,
        df_or_path: pd.DataFrame | str | Path,
        sheet: str | None,
        mapping: CampaignMapping | str | Path | None = None,
    ) -> None:
        try:
            if isinstance(df_or_path, pd.DataFrame):
                self._frame = df_or_path
            else:
                self._source_name = Path(df_or_path).name
                self.fix_step.sheet_name = self._source_name  # names the corrected sheet
                self._frame = read_campaign(df_or_path, sheet=sheet)
            self._show_mapping_step(self._frame, as_mapping(mapping))
        except (OSError, ValueError) as exc:
            self._fail(str(exc))
            return
        self.title.value = (
            f"<h4>Campaign sheet: {reveal_html(self._source_name)} "
            f"({len(self._frame)} rows)</h4>"
        )
        self._refresh_preview()

    def _show_mapping_step(self, frame: pd.DataFrame, mapping: CampaignMapping | None) -> None:
        """The mapping step, open when something needs a person (a guess, a missing field)."""
        step = MappingStep(frame, mapping, on_change=self._refresh_preview)
        self.mapping_step = step
        self.mapping_panel.children = [step]
        self.mapping_panel.titles = ("Column mapping",)
        self.mapping_panel.layout.display = ""
        needs_person = bool(step.unconfirmed() or step.missing())
        self.mapping_panel.selected_index = 0 if needs_person else None

    def _campaign_value(self) -> str | None:
        value = self.campaign.value.strip()
        return value or None

    def _refresh_preview(self) -> None:
        if self._frame is None or self.state in ("running", "cancelling", "done"):
            return
        try:
            mapping = self.mapping_step.build() if self.mapping_step is not None else None
            result = preflight(self._frame, campaign=self._campaign_value(), mapping=mapping)
            self.mapping = mapping
        except (CampaignColumnsError, CampaignRequiredError, ValueError, TypeError) as exc:
            self.preflight_result = None
            self._fail(str(exc))
            return
        self.preflight_result = result
        self.error = None
        counts = result.counts()
        needs_campaign = bool(result.derived_id.any())
        self.campaign.layout.display = "" if needs_campaign else "none"
        self.campaign_help.layout.display = "" if needs_campaign else "none"
        self.campaign_help.value = (
            "<small>Rows without an external case ID get a stable one derived from the "
            "campaign name, so running the sheet again never creates a case twice. Use the "
            "same name for re-runs.</small>"
        )
        parts = [
            "<ul>",
            f"<li>{counts['rows']} rows</li>",
            f"<li><strong>{counts['ready']}</strong> ready to send</li>",
            f"<li>{counts['invalid']} invalid (not sent)</li>",
            f"<li>{counts['duplicate_in_sheet']} duplicate in the sheet (not sent)</li>",
        ]
        same = counts.get("same_subject", 0)
        if same:
            parts.append(
                f"<li>{same} repeat another row's customer and reason under another external ID "
                "(not sent unless you tick the box below)</li>"
            )
        parts.append("</ul>")
        if result.unknown_columns:
            parts.append(
                "<p>Ignored columns: " + reveal_html(", ".join(result.unknown_columns)) + "</p>"
            )
        problems = result.status != "ready"
        if problems.any():
            first = pd.DataFrame(  # the report's own columns, read as in the report's table
                {
                    "sheet_row": result.sheet_row[problems],
                    "status": result.status[problems],
                    "error_field": result.error_field[problems],
                    "error_message": result.error_message[problems],
                }
            ).head(_PROBLEMS_SHOWN)
            parts.append("<p>First problems:</p>")
            parts.append(html_table(readable(first)))
        if same and result.note is not None:
            noted = result.note.notna()
            table = pd.DataFrame(
                {"sheet_row": result.sheet_row[noted], "note": result.note[noted]}
            ).head(_PROBLEMS_SHOWN)
            parts.append("<p>The same customer and reason twice:</p>")
            parts.append(html_table(readable(table)))
        self.allow_same_subject.layout.display = "" if same else "none"
        if result.missing_ids:
            parts.append(
                f"<p><strong>{result.missing_ids} rows have no external case ID: enter a "
                "campaign name to create them.</strong></p>"
            )
            self.state = "blocked"
        else:
            self.state = "ready"
        self.preview.value = "".join(parts)
        ready = counts["ready"] - (0 if self.allow_same_subject.value else same)
        self.create_button.description = f"Create {ready} case{'s' if ready != 1 else ''}"
        self.create_button.disabled = ready == 0 or bool(result.missing_ids)

    def _fail(self, message: str) -> None:
        self.state = "error"
        self.error = message
        self.preview.value = f"<p style='color:#b00020'>{reveal_html(message)}</p>"
        self.create_button.disabled = True

    def _on_campaign(self, _change: Any) -> None:
        self._refresh_preview()

    def _on_allow_same_subject(self, _change: Any) -> None:
        self._refresh_preview()

    # -- running -------------------------------------------------------------

    def _on_create(self, _button: Any = None) -> None:
        plan = self.preflight_result
        if self.state != "ready" or plan is None:
            return
        counts = plan.counts()
        total = counts["ready"] - (0 if self.allow_same_subject.value else counts["same_subject"])
        self._fix_run = False
        self._start(plan, total)

    def _start(self, plan: Preflight, total: int) -> None:
        """Start a run of ``plan`` in the worker thread (kernel's thread: a click)."""
        self.state = "running"
        self._cancel.clear()
        self._ended.clear()
        self._owner = threading.get_ident()
        self._loop = _running_loop()
        self.create_button.disabled = True
        self.campaign.disabled = True
        if self.mapping_step is not None:
            self.mapping_step.disabled = True
        self.cancel_button.layout.display = ""
        self.cancel_button.disabled = False
        self.progress_bar.max = max(total, 1)
        self.progress_bar.value = 0
        self.progress_bar.layout.display = ""
        self.progress_label.value = f"0 / {total}"
        self.allow_same_subject.disabled = True
        self.fix_step.layout.display = "none"  # back with the report (no fixing while sending)
        self._thread = threading.Thread(
            target=self._run, args=(plan, bool(self.allow_same_subject.value)),
            name="kyc-batch-creator", daemon=True,
        )
        self._thread.start()

    # The worker thread: runs the batch, touches no widget.

    def _run(self, plan: Preflight, allow_same_subject: bool = False) -> None:
        end: BatchReport | str
        try:
            end = batch_create(
                self.client,
                plan,  # the previewed plan: not validated again
                concurrency=self.concurrency,
                max_rate=self.max_rate,
                max_concurrency=self.max_concurrency,
                on_conflict=self.on_conflict,
                journal=self.journal,
                progress=False,
                cancel=self._cancel,
                on_progress=self._post_progress,  # the plan carries its mapping
                allow_same_subject=allow_same_subject,
            )
        except Exception as exc:  # noqa: BLE001 - shown in the widget; the batch itself never logs row data
            end = f"The batch could not run: {exc}"
        self._post(end=end)

    def _post_progress(self, progress: BatchProgress) -> None:
        self._post(progress=progress)

    def _post(
        self, *, progress: BatchProgress | None = None, end: BatchReport | str | None = None
    ) -> None:
        """Leave an update for the kernel's thread and wake it (worker thread side)."""
        with self._lock:
            if progress is not None:
                self._pending_progress = progress  # an older snapshot not shown yet is dropped
            if end is not None:
                self._pending_end = end
            loop = None if self._loop_called else self._loop
            self._loop_called = self._loop_called or loop is not None
        self._posted.set()
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._apply_pending)
            except RuntimeError:  # the loop has closed: wait() applies what is pending
                with self._lock:
                    self._loop = None
                    self._loop_called = False

    # The kernel's thread: every widget change happens here.

    def _apply_pending(self) -> None:
        with self._lock:
            progress, end = self._pending_progress, self._pending_end
            self._pending_progress = self._pending_end = None
            self._loop_called = False
            self._posted.clear()
        if progress is not None and self.state in ("running", "cancelling"):
            self._show_progress(progress)
        if end is not None:
            self._end(end)

    def _show_progress(self, progress: BatchProgress) -> None:
        self.progress_bar.max = max(progress.total, 1)
        self.progress_bar.value = progress.done
        counts = ", ".join(f"{STATUS_LABELS[s].split(':')[0].lower()} {n}" for s, n in progress.counts.items() if n)
        left = progress.total - progress.done
        eta = f", about {left / progress.rate:.0f} s left" if progress.rate > 0 and left else ""
        pace = (
            f"; {progress.current_rate:.0f} rows/s, {progress.in_flight} in flight"
            if left else ""
        )
        self.progress_label.value = f"{progress.done} / {progress.total} ({counts}){eta}{pace}" + (
            _CANCELLING if self.state == "cancelling" else ""
        )

    def _end(self, end: BatchReport | str) -> None:
        try:
            if isinstance(end, str):
                self._fail(end)
                self.cancel_button.layout.display = "none"
            elif self._fix_run and self.report is not None:
                self.report.merge(end)  # the fixed rows' outcomes, in the same report
                self._show_report(self.report)
            else:
                self._show_report(end)
        finally:
            self._ended.set()  # wait() must not hang on a report that failed to render

    def _on_cancel(self, _button: Any = None) -> None:
        if self.state != "running":
            return  # not started, already cancelling, or the report is already shown
        self._cancel.set()
        self.state = "cancelling"
        self.cancel_button.disabled = True
        self.progress_label.value += _CANCELLING

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run's report (or error) is shown; True if it was within ``timeout``.

        Called on the thread that clicked Create (the kernel's, or a script's
        or test's), it applies pending progress and the report while it
        waits: without a running event loop that is how they reach the
        widgets. From any other thread it only waits for them to be applied.
        """
        thread = self._thread
        if thread is None:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        owner = threading.get_ident() == self._owner
        while True:
            if owner:
                self._apply_pending()
            if self._ended.is_set():
                break
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            (self._posted if owner else self._ended).wait(left)
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        thread.join(left)  # the worker's last step was handing over the report
        return not thread.is_alive()

    # -- report ----------------------------------------------------------------

    def _show_report(self, report: BatchReport) -> None:
        self.report = report
        self._downloads.clear()
        self.cancel_button.layout.display = "none"
        done = report.summary()
        self.progress_bar.value = self.progress_bar.max
        self.progress_label.value = (
            "Stopped early." if report.stopped_reason else "Finished."
        )
        self.summary.value = "<pre>" + html.escape(report.summary_text()) + "</pre>"
        options = [(f"All rows ({len(report.results)})", "")] + [
            (f"{STATUS_LABELS[s]} ({n})", s) for s in STATUSES if (n := done[s])
        ]
        self.status_filter.options = options
        self.status_filter.value = ""
        self.status_filter.layout.display = ""
        self.include_personal_data.layout.display = ""
        self._render_table()
        self._render_download()
        self.create_button.description = "Done"
        self.create_button.icon = "check"
        self.state = "done"
        self.fix_step.show(report)

    # -- fixing rows ---------------------------------------------------------------

    def fix(self, sheet_row: int) -> SchemaForm[KycCaseCreateInput]:
        """Open the fix form of a row the API never stored (see :mod:`.fix_step`)."""
        return self.fix_step.fix(sheet_row)

    def save_fix(self) -> bool:
        """Validate the open fix form; True when the row is marked fixed."""
        return self.fix_step.save_fix()

    def send_fixes(self) -> bool:
        """Send the fixed rows (like a run, in the worker thread); False when there are none.

        Their outcomes replace those rows' in the same report when the run
        ends (:meth:`wait` blocks until then).
        """
        report = self.report
        pending = self.fix_step.pending()
        if self.state != "done" or report is None or not pending:
            return False
        try:
            rows = report.apply_fixes({row: {} for row in pending})
        except FixError as exc:  # e.g. two fixed rows now share an external id
            self.fix_step.message.value = f"<p role='alert'>{reveal_html(str(exc))}</p>"
            return False
        # fixes are in API field terms, written under the sheet's own headers: read them
        # back with the mapping the report was made with
        plan = preflight(rows, campaign=report.campaign, mapping=report.mapping)
        self._fix_run = True
        self.fix_step.send_button.disabled = True
        self._start(plan, plan.counts()["ready"])
        return True

    def _on_filter(self, _change: Any) -> None:
        self._render_table()

    def _on_include_personal(self, _change: Any) -> None:
        self._render_download()

    def _render_table(self) -> None:
        if self.report is None:
            return
        self.table.show(self.report.results, self.status_filter.value or None)

    def prepare_download(self) -> None:
        """Build the download for the box's current choice and show its link (the button's click).

        A CSV past :data:`DATA_URI_LIMIT` bytes is written next to the notebook here,
        and only here: once per report and choice of the personal-data box.
        """
        report = self.report
        if report is None:
            return
        personal = bool(self.include_personal_data.value)
        if personal not in self._downloads:
            # Seconds for a 100k-row report: the button says so while the kernel works.
            button = self.prepare_download_button
            button.disabled = True
            button.description = "Preparing the download..."
            try:
                built = _download(report, personal, write=True)
            except OSError as exc:  # disk full, no permission: said where the link would be
                self._render_download()
                self.download.value = (
                    f"<p role='alert'>The report could not be written: {reveal_html(str(exc))}</p>"
                )
                return
            finally:
                button.disabled = False
            if built is not None:
                self._downloads[personal] = built
        self._render_download()
        self.bridge.move_focus(f".{self._scope}-download a")

    def _render_download(self) -> None:
        """The link if it is built (or cheap to build inline), else the button that builds it."""
        report = self.report
        if report is None:
            return
        personal = bool(self.include_personal_data.value)
        if personal not in self._downloads and len(report.results) <= EAGER_DOWNLOAD_ROWS:
            built = _download(report, personal, write=False)
            if built is not None:  # None: too large for a data: link, a file waits for the click
                self._downloads[personal] = built
        which = ", with personal data)" if personal else ")"
        if personal in self._downloads:
            name, href = self._downloads[personal]
            self.download.value = (
                f"<a download='{name}' href='{href}' target='_blank'>"
                f"Download the report (CSV{which}</a>"
            )
            self.prepare_download_button.layout.display = "none"
        else:
            self.download.value = ""
            self.prepare_download_button.description = f"Prepare the download (CSV{which}"
            self.prepare_download_button.layout.display = ""


def _download(report: BatchReport, personal: bool, *, write: bool) -> tuple[str, str] | None:
    """``(file name, href)`` of the report CSV: an inline ``data:`` link, or past
    :data:`DATA_URI_LIMIT` a file written next to the notebook when ``write`` is True
    (None otherwise: nobody asked for a file)."""
    text = report.to_csv_string(include_personal_data=personal)
    data = ("\ufeff" + text).encode("utf-8")  # with a BOM, so Excel reads accents
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"batch-report-{stamp}{'-personal' if personal else ''}.csv"
    if len(data) <= DATA_URI_LIMIT:
        return name, "data:text/csv;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")
    if not write:
        return None
    Path(name).write_bytes(data)
    return name, html.escape(name)


_STYLE = """<style>
/* The column-mapping panel's header: the theme's grey text is below 4.5:1 (WCAG 1.4.3). */
.kyc-batch-creator .jupyter-widget-Collapse-header,
.kyc-batch-creator .jupyter-widget-Collapse-header > span { color: #1a1a1a; }
</style>"""


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running on this thread (the kernel's, in Jupyter and Voila), or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
