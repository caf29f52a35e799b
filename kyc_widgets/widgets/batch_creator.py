"""``BatchCreator``: the notebook UI for a campaign sheet, a thin view over
:class:`~.batch_flow.BatchFlow`.

Preview first (how many rows are valid, invalid or duplicated, and the first
problems) so the analyst fixes the sheet before anything is sent; then
"Check against the API" (asks the API about each row, creates nothing) and
"Create N cases", live progress, a Cancel button, and the report with a
per-status filter, its downloads and the rows that need attention.

Why a thin view: when a sheet can be sent, what is sent (the plan the preview
showed, as is: the sheet is validated once per run and "Create N cases" sends
exactly those N rows), what a Cancel racing the end of a run does, and how
the batch's worker thread hands progress and the report back to the kernel's
thread live in :mod:`kyc_widgets.widgets.batch_flow` (plain Python, tested
without widgets; its docstring explains the hand-off). This module builds the
widgets, turns clicks and edits into flow events and draws what the flow says
changed (:class:`~.batch_flow.Changed`), always on the kernel's thread.

After a run, the rows that need attention and can be fixed here (refused, or
sharing an external case ID with another customer) are fixed in place
(:mod:`.fix_step`): :meth:`BatchCreator.fix` opens a row's form,
:meth:`BatchCreator.save_fix` validates it, :meth:`BatchCreator.send_fixes`
sends the fixed rows through the same worker thread and hand-over as a run,
and their outcomes are folded into the same report (the report and its
downloads then show the fixed values and name the fields fixed in the app).
Rows that repeat another row's customer and reason under another external id
(:mod:`~kyc_widgets.batch.subjects`) are shown in the preview and sent only
when the "Also send..." box is ticked.

Everything the analyst takes away is a browser download
(:class:`~.transfer.Download`), built only when its button is pressed: the
report (CSV, without the personal-data columns unless the box is ticked; even
then it keeps ``kyc_case_id``, which a re-run needs and which a derived id
can be traced back from, see :mod:`~kyc_widgets.batch.identity`), the
evidence record and its summary, the corrected sheet and the mapping. Nothing
is written on the server and no file's bytes stay in the widget's state (a
notebook saves that state). With ``remember`` (the app passes the user's
data folder), a mapping saved for a sheet's headers is offered again for the
next sheet with the same headers (:mod:`~kyc_widgets.batch.saved_mappings`).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import IO, Any

import ipywidgets as widgets
import pandas as pd

from kyc_widgets.a11y.bridge import A11yBridge, new_scope
from kyc_widgets.batch.mapping import CampaignMapping, MappingError
from kyc_widgets.batch.options import BatchOptions
from kyc_widgets.batch.preflight import Preflight
from kyc_widgets.batch.report import BatchReport
from kyc_widgets.batch.saved_mappings import recall
from kyc_widgets.batch.takeaway import evidence_files, report_file
from kyc_widgets.defaults import DEFAULT_CONCURRENCY
from kyc_widgets.form.schema_form import SchemaForm
from kyc_widgets.models import KycCaseCreateInput
from kyc_widgets.text import reveal_html
from kyc_widgets.widgets.batch_flow import BatchFlow, BatchState, Changed
from kyc_widgets.widgets.campaign_words import analyst_message
from kyc_widgets.widgets.fix_step import FixStep
from kyc_widgets.widgets.mapping_step import MappingStep
from kyc_widgets.widgets.plan_review import PlanStep
from kyc_widgets.widgets.report_html import (
    CAMPAIGN_STYLE,
    check_html,
    error_html,
    preview_html,
    summary_html,
)
from kyc_widgets.widgets.report_table import ReportTable
from kyc_widgets.widgets.transfer import Download, File

__all__ = ["BatchCreator"]

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


def _row(*children: widgets.Widget) -> widgets.HBox:
    """Controls side by side that wrap on a narrow page instead of scrolling it sideways."""
    return widgets.HBox(
        list(children), layout=widgets.Layout(flex_flow="row wrap", align_items="center")
    )


class BatchCreator(widgets.VBox):
    """Preview, check, create, follow, fix and download a campaign batch in a notebook.

    ``df_or_path`` is a DataFrame, a sheet's path, or an open binary file (an
    upload's bytes; ``name`` is then what the page calls it), read with
    :func:`~kyc_widgets.batch.reading.read_campaign` (``sheet`` picks the worksheet).
    ``mapping`` (a :class:`~kyc_widgets.batch.mapping.CampaignMapping` or the
    path of a saved one) starts the mapping step (:attr:`mapping_step`, shown
    before the preview) from that mapping instead of a suggestion; ``remember``
    is the folder of remembered mappings (:mod:`~kyc_widgets.batch.saved_mappings`):
    one saved for this sheet's headers is then offered first, and "Save this
    mapping" keeps it there. The preview and the batch use whatever the step shows.
    ``state`` is a :class:`~.batch_flow.BatchState` (a ``str``): ``"error"`` (the
    sheet cannot be used), ``"blocked"`` (a campaign name is needed), ``"ready"``,
    ``"running"``, ``"cancelling"``, ``"done"`` (a run ended, cancelled or not:
    ``report.stopped_reason`` says) or ``"failed"`` (the run could not run);
    :meth:`wait` blocks until the run's report is shown;
    :meth:`prepare_download` is the click on "Download the report".
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
        df_or_path: pd.DataFrame | str | Path | IO[bytes],
        *,
        sheet: str | None = None,
        campaign: str | None = None,
        concurrency: int | None = DEFAULT_CONCURRENCY,
        max_rate: float | None = None,
        max_concurrency: int | None = None,
        on_conflict: str = "report",
        journal: str | Path | None = None,
        mapping: CampaignMapping | str | Path | None = None,
        name: str | None = None,
        remember: Path | None = None,
    ) -> None:
        options = BatchOptions.from_keywords(
            campaign=campaign, concurrency=concurrency, max_rate=max_rate,
            max_concurrency=max_concurrency, on_conflict=on_conflict, journal=journal,
            progress=False,
        )
        self.client = client
        self.remember = remember
        self.flow = BatchFlow(client, options, on_change=self._render)
        self.mapping_step: MappingStep | None = None
        self._evidence: tuple[File, File] | None = None  # one record: JSON and summary agree
        self._fixes_sent = 0
        self._scope = new_scope("kyc-batch")
        self.bridge = A11yBridge(self._scope)
        self._build_preview(campaign or "")
        self._build_report()
        self.plan_step = PlanStep(self.flow)  # maker-checker: make a plan, load the approved one
        super().__init__(
            [
                widgets.HTML(CAMPAIGN_STYLE),
                self.title,
                self.mapping_panel,
                _row(self.campaign, self.campaign_help),
                self.preview,
                self.allow_same_subject,
                self.plan_step,
                _row(self.create_button, self.check_button, self.cancel_button),
                self.check_result,
                _row(self.progress_bar, self.progress_label),
                self.summary,
                self.status_filter,
                self.table,
                self.downloads,
                self.fix_step,
                self.bridge,
            ]
        )
        self.add_class("kyc-batch-creator")  # a stable hook for browser tests and styling
        self.add_class(self._scope)
        self._load(df_or_path, sheet, mapping, name)

    def _build_preview(self, campaign: str) -> None:
        """The sheet's title, mapping, campaign box, preview and Create/Check/Cancel with progress."""
        self.mapping_panel = widgets.Accordion(layout=widgets.Layout(display="none"))
        self.title = widgets.HTML()
        self.campaign = widgets.Text(
            value=campaign, description="Campaign", placeholder="e.g. KYC refresh 2025 Q1",
            continuous_update=False,
            layout=widgets.Layout(display="none", width="28em", max_width="100%"),
        )
        self.campaign_help = widgets.HTML(_CAMPAIGN_HELP, layout=widgets.Layout(display="none"))
        self.preview = widgets.HTML()
        self.allow_same_subject = widgets.Checkbox(
            value=False, indent=False,
            description="Also send rows that repeat another row's customer and reason",
            layout=widgets.Layout(display="none", width="auto", max_width="100%"),
        )
        self.create_button = widgets.Button(
            description="Create cases", button_style="primary", icon="upload", disabled=True,
            layout=widgets.Layout(width="auto"),
        )
        self.check_button = widgets.Button(
            description="Check against the API", icon="search", disabled=True,
            tooltip="Ask the API about each row (would it be created, does it exist?); "
            "creates nothing",
            layout=widgets.Layout(width="auto", display="none" if self.client is None else ""),
        )
        self.cancel_button = widgets.Button(
            description="Cancel", button_style="warning", icon="stop",
            layout=widgets.Layout(display="none"),
        )
        self.check_result = widgets.HTML()
        self.progress_bar = widgets.IntProgress(
            value=0, min=0, max=1, description="Progress",
            layout=widgets.Layout(display="none", width="28em", max_width="100%"),
        )
        self.progress_label = widgets.HTML()
        self.progress_label.add_class(f"{self._scope}-progress")  # focus lands here (Create, Cancel)
        self.campaign.observe(lambda c: self.flow.campaign_changed(c["new"]), names="value")
        self.allow_same_subject.observe(
            lambda c: self.flow.allow_same_subject_changed(c["new"]), names="value"
        )
        self.create_button.on_click(lambda _b: self.flow.create())
        self.check_button.on_click(lambda _b: self.flow.check())
        self.cancel_button.on_click(lambda _b: self.flow.cancel())

    def _build_report(self) -> None:
        """The summary, the status filter, the paged table, the downloads and the fix step."""
        self.summary = widgets.HTML()
        self.status_filter = widgets.Dropdown(
            description="Show", options=[("All rows", "")], value="",
            layout=widgets.Layout(display="none", width="auto", max_width="100%"),
        )
        self.table = ReportTable()  # a page of rows at a time, Previous/Next
        self.include_personal_data = widgets.Checkbox(
            value=False, description="Include personal data in the report", indent=False,
            layout=widgets.Layout(width="auto"),
        )
        self.report_download = Download(
            "Download the report (CSV)", self._report_file, button_style="primary",
            tooltip="The report joined with the sheet: statuses, case IDs, problems",
        )
        self.evidence_download = Download(
            "Download the evidence record (JSON)", lambda: self._evidence_files()[0],
            tooltip="The campaign's hash-chained record (no personal data)",
        )
        self.evidence_summary_download = Download(
            "Download its summary (HTML)", lambda: self._evidence_files()[1],
            tooltip="A printable one-page summary of the evidence record",
        )
        self.downloads = widgets.VBox(
            [
                widgets.HTML("<h4>Take the results away</h4>"),
                _row(self.report_download, self.include_personal_data),
                _row(self.evidence_download, self.evidence_summary_download),
            ],
            layout=widgets.Layout(display="none"),
        )
        self.fix_step = FixStep(self.send_fixes)
        self.status_filter.observe(lambda _c: self._render_table(), names="value")
        self.include_personal_data.observe(lambda _c: self._label_report_download(), names="value")

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
        df_or_path: pd.DataFrame | str | Path | IO[bytes],
        sheet: str | None,
        mapping: CampaignMapping | str | Path | None,
        name: str | None,
    ) -> None:
        flow = self.flow
        if not flow.load(df_or_path, sheet=sheet, mapping=mapping, name=name):
            return
        if flow.frame is None:
            return
        self.fix_step.sheet_name = flow.source_name  # names the corrected sheet
        start, origin, problem = flow.start_mapping, None, None
        if start is not None:
            origin = f"the mapping file {start.source}" if start.source else "the mapping given"
        elif self.remember is not None:
            start, origin, problem = self._remembered(flow.frame)
        try:
            step = MappingStep(
                flow.frame, start, on_change=self._mapping_changed, origin=origin,
                remember=self.remember, sheet_name=flow.source_name,
            )
        except (OSError, ValueError) as exc:
            flow.load_failed(analyst_message(exc))
            return
        if problem:
            step.say(problem, error=True)
        self._show_mapping_step(step)
        self.title.value = (
            f"<h4>Campaign sheet: {reveal_html(flow.source_name)} ({len(flow.frame)} rows)</h4>"
        )
        flow.mapping_changed(step.build)

    def _remembered(
        self, frame: pd.DataFrame
    ) -> tuple[CampaignMapping | None, str | None, str | None]:
        """The mapping remembered for these headers, where it came from in words, and why a
        remembered one could not be used (then the columns are suggested again)."""
        try:
            saved = recall(frame.columns, folder=self.remember)
        except MappingError as exc:
            return None, None, (
                f"The mapping saved for sheets with these columns cannot be used "
                f"({analyst_message(exc)}); the columns are suggested again."
            )
        if saved is None:
            return None, None, None
        saved.mapping._source = "the mapping saved for these columns"
        when = _when(saved.saved_at)
        return saved.mapping, f"the mapping you saved{when} for sheets with these columns", None

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
        """Open the fix form of a row that needs attention and can be fixed (see :mod:`.fix_step`)."""
        return self.fix_step.fix(sheet_row)

    def save_fix(self) -> bool:
        """Validate the open fix form; True when the row is marked fixed."""
        return self.fix_step.save_fix()

    def send_fixes(self) -> bool:
        """Send the fixed rows (like a run, in the worker thread); False when there are none.

        Their outcomes replace those rows' in the same report when the run
        ends (:meth:`wait` blocks until then).
        """
        pending = self.fix_step.pending()
        sent = self.flow.send_fixes(pending)
        if self.flow.fix_error:  # e.g. two fixed rows now share an external id
            self.fix_step.say(self.flow.fix_error, error=True)
        elif sent:
            self._fixes_sent = len(pending)
            self.fix_step.say(f"Sending {len(pending)} fixed row{'s' if len(pending) != 1 else ''}…")
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
            self.check_result.value = check_html(flow.check_report, flow.check_error)
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
        self.progress_label.value = html.escape(self.flow.progress_text)

    def _draw_controls(self) -> None:
        flow, facts = self.flow, self.flow.facts
        _shown(self.campaign, flow.needs_campaign)
        _shown(self.campaign_help, flow.needs_campaign)
        self.campaign.disabled = not facts.editable
        _shown(self.allow_same_subject, flow.same_subject > 0)
        self.allow_same_subject.disabled = not facts.editable
        step = self.mapping_step
        if step is not None and not facts.editable and not step.disabled:
            step.disabled = True  # no changes while sending, nor once the batch ran
        elif step is not None and facts.editable and step.disabled:
            step.disabled = False  # a check against the API ended: the preview is editable
        self.create_button.description = flow.create_label
        self.create_button.icon = "check" if flow.report is not None else "upload"
        self.create_button.disabled = not flow.can_create
        self.check_button.disabled = not flow.can_create
        _shown(self.check_button, self.client is not None and flow.report is None)
        _shown(self.cancel_button, facts.cancel_shown)
        self.cancel_button.disabled = not facts.cancel
        if not facts.fixes:
            self.fix_step.layout.display = "none"  # back with the report (no fixing while sending)
        if flow.focus == "progress":
            self.bridge.move_focus(f".{self._scope}-progress")

    def _draw_report(self, report: BatchReport) -> None:
        self._evidence = None  # the report changed: a new record when asked for
        self.summary.value = summary_html(report)
        self.status_filter.options = self.flow.filter_options
        self.status_filter.value = ""
        _shown(self.status_filter, True)
        _shown(self.downloads, True)
        self._label_report_download()
        self._render_table()
        sent, self._fixes_sent = self._fixes_sent, 0
        self.fix_step.show(report, sent=sent)

    def _render_table(self) -> None:
        report = self.flow.report
        if report is None:
            return
        self.table.show(report.results, self.status_filter.value or None, problems=report.problems)

    # -- the downloads -----------------------------------------------------------------

    def _label_report_download(self) -> None:
        personal = bool(self.include_personal_data.value)
        self.report_download.label = (
            "Download the report (CSV, with personal data)" if personal
            else "Download the report (CSV)"
        )

    def _report_file(self) -> File | None:
        report = self.flow.report
        if report is None:
            return None
        personal = bool(self.include_personal_data.value)
        return File(*report_file(report, personal=personal, sheet_name=self.flow.source_name))

    def _evidence_files(self) -> tuple[File, File]:
        report = self.flow.report
        if report is None:
            raise ValueError("there is no report yet")
        if self._evidence is None:
            record, summary = evidence_files(report, sheet_name=self.flow.source_name)
            self._evidence = (File(*record), File(*summary))
        return self._evidence

    def prepare_download(self) -> File | None:
        """"Download the report" from Python: build the CSV for the box's choice and send it."""
        return self.report_download.click()

    def __repr__(self) -> str:
        return f"BatchCreator(state={self.flow.state.value!r})"


def _when(stamp: str | None) -> str:
    """`` on 3 May 2025`` for a saved mapping's UTC time stamp ("" when unknown)."""
    if not stamp:
        return ""
    try:
        moment = pd.Timestamp(stamp)
    except ValueError:
        return ""
    return f" on {moment.day} {moment:%B %Y}"

