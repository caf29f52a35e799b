"""``BatchCreator``: the notebook UI for a campaign sheet, a thin view over
:class:`~.batch_flow.BatchFlow`.

Preview first (how many rows are valid, invalid or duplicated, and the first
problems) so the analyst fixes the sheet before anything is sent; then a
"Create N cases" button, live progress, a Cancel button, and the report with a
per-status filter and a download.

Why a thin view: when a sheet can be sent, what is sent (the plan the preview
showed, as is: the sheet is validated once per run and "Create N cases" sends
exactly those N rows), what a Cancel racing the end of a run does, and how
the batch's worker thread hands progress and the report back to the kernel's
thread live in :mod:`kyc_widgets.widgets.batch_flow` (plain Python, tested
without widgets; its docstring explains the hand-off). This module builds the
widgets, turns clicks and edits into flow events and draws what the flow says
changed (:class:`~.batch_flow.Changed`), always on the kernel's thread.

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
user id (see :mod:`~kyc_widgets.batch.identity`).
"""

from __future__ import annotations

import base64
import html
import time
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from kyc_widgets.a11y.bridge import A11yBridge, new_scope
from kyc_widgets.batch.mapping import CampaignMapping
from kyc_widgets.batch.options import BatchOptions
from kyc_widgets.batch.preflight import Preflight
from kyc_widgets.batch.report import BatchReport
from kyc_widgets.defaults import DEFAULT_CONCURRENCY
from kyc_widgets.form.schema_form import SchemaForm
from kyc_widgets.models import KycCaseCreateInput
from kyc_widgets.text import reveal_html
from kyc_widgets.widgets.batch_flow import BatchFlow, BatchState, Changed
from kyc_widgets.widgets.fix_step import FixStep
from kyc_widgets.widgets.mapping_step import MappingStep
from kyc_widgets.widgets.plan_review import PlanStep
from kyc_widgets.widgets.report_html import error_html, preview_html, summary_html
from kyc_widgets.widgets.report_table import ReportTable

__all__ = ["DATA_URI_LIMIT", "EAGER_DOWNLOAD_ROWS", "BatchCreator"]

DATA_URI_LIMIT = 2_000_000
"""Largest CSV (bytes) offered as an inline ``data:`` link."""

EAGER_DOWNLOAD_ROWS = 5_000
"""Largest report (rows) whose download is built with the report: its CSV takes a
few hundredths of a second. Past it the "Prepare the download" button builds it."""

_CAMPAIGN_HELP = (
    "<small>Rows without an external case ID get a stable one derived from the "
    "campaign name, so running the sheet again never creates a case twice. Use the "
    "same name for re-runs.</small>"
)


def _option(name: str) -> property:
    """A run setting, read from the flow's :class:`BatchOptions` (validated once: read-only)."""

    def read(self: BatchCreator) -> Any:
        return getattr(self.flow.options, name)

    return property(read, doc=f"``options.{name}`` (read-only: the options are validated once).")


def _shown(widget: widgets.DOMWidget, shown: bool) -> None:
    widget.layout.display = "" if shown else "none"


class BatchCreator(widgets.VBox):
    """Preview, create, follow and download a campaign batch in a notebook.

    ``df_or_path`` is a DataFrame or a CSV/XLSX path (read with
    :func:`~kyc_widgets.batch.reading.read_campaign`, ``sheet`` picks the worksheet).
    ``mapping`` (a :class:`~kyc_widgets.batch.mapping.CampaignMapping` or the
    path of a saved one) starts the mapping step (:attr:`mapping_step`, shown
    before the preview) from that mapping instead of a suggestion; the preview
    and the batch use whatever the step shows.
    ``state`` is a :class:`~.batch_flow.BatchState` (a ``str``): ``"error"`` (the
    sheet cannot be used), ``"blocked"`` (a campaign name is needed), ``"ready"``,
    ``"running"``, ``"cancelling"``, ``"done"`` (a run ended, cancelled or not:
    ``report.stopped_reason`` says) or ``"failed"`` (the run could not run);
    :meth:`wait` blocks until the run's report is shown;
    :meth:`prepare_download` is the click on a large report's "Prepare the download".
    ``concurrency``, ``max_rate``, ``max_concurrency``, ``on_conflict`` and
    ``journal`` become one :class:`~kyc_widgets.batch.options.BatchOptions`
    (:attr:`options`; invalid values raise ``ValueError`` here) passed to
    :func:`~kyc_widgets.batch.sending.batch_create` (``concurrency=None``: the
    number of requests in flight adapts to the API); the progress line shows the
    current rows per second and requests in flight.
    """

    concurrency = _option("concurrency")
    max_rate = _option("max_rate")
    max_concurrency = _option("max_concurrency")
    on_conflict = _option("on_conflict")
    journal = _option("journal")

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
        options = BatchOptions.from_keywords(
            campaign=campaign, concurrency=concurrency, max_rate=max_rate,
            max_concurrency=max_concurrency, on_conflict=on_conflict, journal=journal,
            progress=False,
        )
        self.client = client
        self.flow = BatchFlow(client, options, on_change=self._render)
        self.mapping_step: MappingStep | None = None
        self._downloads: dict[bool, tuple[str, str]] = {}
        self._scope = new_scope("kyc-batch")
        self.bridge = A11yBridge(self._scope)
        self._build_preview(campaign or "")
        self._build_report()
        self.plan_step = PlanStep(self.flow)  # maker-checker: make a plan, load the approved one
        super().__init__(
            [
                widgets.HTML(_STYLE),
                self.title,
                self.mapping_panel,
                widgets.HBox([self.campaign, self.campaign_help]),
                self.preview,
                self.allow_same_subject,
                self.plan_step,
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

    def _build_preview(self, campaign: str) -> None:
        """The sheet's title, mapping, campaign box, preview and Create/Cancel with progress."""
        self.mapping_panel = widgets.Accordion(layout=widgets.Layout(display="none"))
        self.title = widgets.HTML()
        self.campaign = widgets.Text(
            value=campaign, description="Campaign", placeholder="e.g. KYC refresh 2025 Q1",
            continuous_update=False, layout=widgets.Layout(display="none", width="28em"),
        )
        self.campaign_help = widgets.HTML(_CAMPAIGN_HELP, layout=widgets.Layout(display="none"))
        self.preview = widgets.HTML()
        self.allow_same_subject = widgets.Checkbox(
            value=False, indent=False,
            description="Also send rows that repeat another row's customer and reason",
            layout=widgets.Layout(display="none", width="40em"),
        )
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
        self.progress_label.add_class(f"{self._scope}-progress")  # focus lands here (Create, Cancel)
        self.campaign.observe(lambda c: self.flow.campaign_changed(c["new"]), names="value")
        self.allow_same_subject.observe(
            lambda c: self.flow.allow_same_subject_changed(c["new"]), names="value"
        )
        self.create_button.on_click(lambda _b: self.flow.create())
        self.cancel_button.on_click(lambda _b: self.flow.cancel())

    def _build_report(self) -> None:
        """The summary, the status filter, the paged table, the download and the fix step."""
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
        # Focus moves to the download link once it replaces the button (WCAG 2.4.3).
        self.download.add_class(f"{self._scope}-download")
        self.prepare_download_button = widgets.Button(
            description="Prepare the download (CSV)", icon="download",
            layout=widgets.Layout(display="none", width="auto"),
        )
        self.fix_step = FixStep(self.send_fixes)
        self.status_filter.observe(lambda _c: self._render_table(), names="value")
        self.include_personal_data.observe(lambda _c: self._render_download(), names="value")
        self.prepare_download_button.on_click(lambda _b: self.prepare_download())

    # -- the flow's state, for scripts and tests --------------------------------------

    @property
    def state(self) -> BatchState:
        """Where the campaign is (see the class docstring); compares equal to its string."""
        return self.flow.state

    @property
    def options(self) -> BatchOptions:
        return self.flow.options

    @property
    def report(self) -> BatchReport | None:
        return self.flow.report

    @property
    def preflight_result(self) -> Preflight | None:
        """The plan the preview shows: what "Create N cases" sends (None while in error)."""
        return self.flow.plan

    @property
    def error(self) -> str | None:
        return self.flow.error

    @property
    def mapping(self) -> CampaignMapping | None:
        """The mapping of the last preview: what the batch is sent with."""
        return self.flow.mapping

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run's report (or error) is shown; True if it was within ``timeout``.

        Called on the thread that clicked Create (the kernel's, or a script's
        or test's), it applies pending progress and the report while it
        waits: without a running event loop that is how they reach the
        widgets. From any other thread it only waits for them to be applied.
        """
        return self.flow.wait(timeout)

    # -- loading -----------------------------------------------------------------------

    def _load(
        self,
        df_or_path: pd.DataFrame | str | Path,
        sheet: str | None,
        mapping: CampaignMapping | str | Path | None,
    ) -> None:
        flow = self.flow
        if not flow.load(df_or_path, sheet=sheet, mapping=mapping) or flow.frame is None:
            return
        if not isinstance(df_or_path, pd.DataFrame):
            self.fix_step.sheet_name = flow.source_name  # names the corrected sheet
        try:
            step = MappingStep(flow.frame, flow.start_mapping, on_change=self._mapping_changed)
        except (OSError, ValueError) as exc:
            flow.load_failed(str(exc))
            return
        self._show_mapping_step(step)
        self.title.value = (
            f"<h4>Campaign sheet: {reveal_html(flow.source_name)} ({len(flow.frame)} rows)</h4>"
        )
        flow.mapping_changed(step.build)

    def _mapping_changed(self) -> None:
        if self.mapping_step is not None:
            self.flow.mapping_changed(self.mapping_step.build)

    def _show_mapping_step(self, step: MappingStep) -> None:
        """The mapping step, open when something needs a person (a guess, a missing field)."""
        self.mapping_step = step
        self.mapping_panel.children = [step]
        self.mapping_panel.titles = ("Column mapping",)
        self.mapping_panel.layout.display = ""
        needs_person = bool(step.unconfirmed() or step.missing())
        self.mapping_panel.selected_index = 0 if needs_person else None

    # -- fixing rows -----------------------------------------------------------------

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
        sent = self.flow.send_fixes(self.fix_step.pending())
        if self.flow.fix_error:  # e.g. two fixed rows now share an external id
            self.fix_step.message.value = (
                f"<p role='alert'>{reveal_html(self.flow.fix_error)}</p>"
            )
        return sent

    # -- drawing -----------------------------------------------------------------------

    def _render(self, changed: Changed = Changed.ALL) -> None:
        """Draw what the flow says changed (the flow calls this, on the kernel's thread)."""
        flow = self.flow
        if changed & Changed.PREVIEW:
            if flow.error:
                self.preview.value = error_html(flow.error)
            else:
                self.preview.value = preview_html(flow.plan) if flow.plan is not None else ""
        if changed & Changed.REPORT and flow.report is not None:
            self._draw_report(flow.report)
        if changed & (Changed.STATE | Changed.PROGRESS):
            self._draw_progress()
        if changed & Changed.STATE:
            self._draw_controls()
            self.plan_step.render()

    def _draw_progress(self) -> None:
        # Each value is read from the flow as it is set: an observer of the bar may click
        # Cancel, which draws the cancelling state before this returns.
        _shown(self.progress_bar, self.flow.facts.progress != "none")
        value, top = self.flow.progress_bar
        self.progress_bar.max = top
        self.progress_bar.value = value
        self.progress_label.value = self.flow.progress_text

    def _draw_controls(self) -> None:
        flow, facts = self.flow, self.flow.facts
        _shown(self.campaign, flow.needs_campaign)
        _shown(self.campaign_help, flow.needs_campaign)
        self.campaign.disabled = not facts.editable
        _shown(self.allow_same_subject, flow.same_subject > 0)
        self.allow_same_subject.disabled = not facts.editable
        step = self.mapping_step
        if step is not None and not facts.editable and not step.disabled:
            step.disabled = True  # no changes once the batch ran
        self.create_button.description = flow.create_label
        self.create_button.icon = "check" if flow.report is not None else "upload"
        self.create_button.disabled = not flow.can_create
        _shown(self.cancel_button, facts.cancel_shown)
        self.cancel_button.disabled = not facts.cancel
        if not facts.fixes:
            self.fix_step.layout.display = "none"  # back with the report (no fixing while sending)
        if flow.focus == "progress":
            self.bridge.move_focus(f".{self._scope}-progress")

    def _draw_report(self, report: BatchReport) -> None:
        self._downloads.clear()
        self.summary.value = summary_html(report)
        self.status_filter.options = self.flow.filter_options
        self.status_filter.value = ""
        _shown(self.status_filter, True)
        _shown(self.include_personal_data, True)
        self._render_table()
        self._render_download()
        self.fix_step.show(report)

    def _render_table(self) -> None:
        if self.flow.report is None:
            return
        self.table.show(self.flow.report.results, self.status_filter.value or None)

    # -- the download ----------------------------------------------------------------

    def prepare_download(self) -> None:
        """Build the download for the box's current choice and show its link (the button's click).

        A CSV past :data:`DATA_URI_LIMIT` bytes is written next to the notebook here,
        and only here: once per report and choice of the personal-data box.
        """
        report = self.flow.report
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
        report = self.flow.report
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
            _shown(self.prepare_download_button, False)
        else:
            self.download.value = ""
            self.prepare_download_button.description = f"Prepare the download (CSV{which}"
            _shown(self.prepare_download_button, True)

    def __repr__(self) -> str:
        return f"BatchCreator(state={self.flow.state.value!r})"


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
