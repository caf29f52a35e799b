"""``CaseDesk``: the analyst's app as one widget (what ``make demo`` serves).

Why one widget rather than a notebook of cells: the page an analyst opens must hold no
code, no developer prose and exactly one case form, and it must create nothing when it
loads. Built as a widget, the whole desk is tested like any other widget (set values,
click, read the visible text) and the app notebook only displays it
(``kyc_widgets/cli/app_page.ipynb``).

The desk has a header (product name, which API it talks to, who is signed in, and a
compact API status that expands into :class:`~.api_status.ApiStatus`) and three
sections: **New case** (:class:`~.case_creator.CaseCreator`), **Open a case** (an
external case id, then its :class:`~.case_workspace.CaseWorkspace`) and **Campaign**
(one line of what it does, a template download, an uploaded sheet in any format the
batch reads, or the bundled sample sheet, in a :class:`~.batch_creator.BatchCreator`).

The API's token is never displayed: the header names the base URL only. Uploaded sheets
are read from the bytes the browser sent, in memory: nothing is written to the server's
disk (:mod:`~.transfer`), and everything the analyst takes away is a browser download.
Mappings the analyst saves are remembered per user
(:mod:`~kyc_widgets.batch.saved_mappings`), so the next export with the same headers
is offered its mapping.
"""

from __future__ import annotations

import html
import io
import os
from importlib import resources
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from kyc_widgets.batch.limits import DEFAULT_LIMITS
from kyc_widgets.batch.saved_mappings import data_dir
from kyc_widgets.batch.takeaway import template_file
from kyc_widgets.widgets.api_status import ApiStatus
from kyc_widgets.widgets.batch_creator import BatchCreator
from kyc_widgets.widgets.case_creator import CaseCreator
from kyc_widgets.widgets.case_workspace import CaseWorkspace
from kyc_widgets.widgets.plan_review import PlanReview
from kyc_widgets.widgets.transfer import Download, File, Upload

__all__ = ["PRODUCT_NAME", "SECTIONS", "CaseDesk", "sample_sheet_path"]

PRODUCT_NAME = "KYC case desk"
SECTIONS: tuple[str, ...] = ("New case", "Open a case", "Campaign", "Approve a plan")
"""The section titles, in tab order."""

SAMPLE_SHEET_NAME = "remediation-campaign.csv"
SHEET_FORMATS = ".csv,.tsv,.txt,.xlsx,.xlsm,.xls,.ods"
"""Every file ending the batch reads (:func:`~kyc_widgets.batch.reading.read_campaign`)."""

CAMPAIGN_INTRO = (
    "Create one case per row of a spreadsheet: upload the sheet (CSV, Excel or "
    "OpenDocument), check how its columns are read, check it against the API or create "
    "the cases, fix the rows that need it, and download the report, the corrected sheet "
    "and the evidence record. Running a sheet again never creates a case twice."
)

_STYLE = """
<style>
.kyc-desk-header h1 { font-size: 1.5em; margin: 0.2em 0; }
.kyc-desk-header p { margin: 0.1em 0; color: #333; }
/* The section tabs' labels: the theme's grey on grey is below 4.5:1 (WCAG 1.4.3). */
.kyc-desk .lm-TabBar-tab { color: #1a1a1a; background: #e8e8e8; }
.kyc-desk .lm-TabBar-tab.lm-mod-current { background: #ffffff; }
.kyc-desk .lm-TabBar-tabLabel { color: #1a1a1a; }
</style>
"""


def sample_sheet_path() -> Path:
    """The synthetic campaign sheet shipped in the package (40 rows, a few of them invalid)."""
    return Path(str(resources.files("kyc_widgets.data").joinpath(SAMPLE_SHEET_NAME)))


class CaseDesk(widgets.VBox):
    """The whole analyst app: header, API status and the four sections.

    "Approve a plan" is a second analyst's review page for a campaign plan
    (:class:`~.plan_review.PlanReview`, ``plan_review``), with this desk's sign-in.

    ``client`` is a :class:`~kyc_widgets.api.client.KycApiClient`; ``is_sandbox`` says
    whether it talks to the local sandbox (the header says so). ``check_api`` runs the
    API checks when the desk is built (read-only requests: nothing is created).
    Attributes tests and notebooks reach for: ``creator``, ``case_id`` / ``open_button`` /
    ``opened`` (the open section), ``upload`` / ``sample_button`` / ``template`` /
    ``campaign`` (the campaign section, ``campaign`` is the current :class:`BatchCreator`
    or None), ``status`` (the :class:`ApiStatus`), ``principal`` (who the API says is
    signed in). ``remember`` is the folder where saved mappings are kept (default: the
    user's data folder, :func:`~kyc_widgets.batch.saved_mappings.data_dir`; None: not kept).
    """

    def __init__(
        self,
        client: Any,
        *,
        is_sandbox: bool = False,
        check_api: bool = True,
        sample_sheet: Path | None = None,
        remember: Path | None | bool = True,
        **kwargs: Any,
    ) -> None:
        self.client = client
        self.is_sandbox = is_sandbox
        self.remember: Path | None = data_dir() if remember is True else (remember or None)
        self.principal: str | None = None
        self.authenticated: bool | None = None
        self.sample_sheet = sample_sheet or sample_sheet_path()
        self.campaign: BatchCreator | None = None
        self.opened: CaseWorkspace | None = None

        self._build_header_widgets()
        self.creator = CaseCreator(client, on_created=self._note_envelope)
        self.sections = widgets.Tab(
            children=[self.creator, self._build_open_section(), self._build_campaign_section(),
                      self._build_plan_section()],
            titles=SECTIONS,
        )
        self._render_header()
        super().__init__(
            children=[
                self.header,
                widgets.HBox([self.status_toggle]),
                self.status,
                self.sections,
            ],
            **kwargs,
        )
        self.add_class("kyc-desk")  # the app's root element (browser tests scope to it)
        if check_api:
            self.status.refresh()

    def _build_header_widgets(self) -> None:
        """The header text and the compact API status: a toggle that shows the full checks."""
        self.header = widgets.HTML()
        self.status = ApiStatus(self.client, check_now=False)
        self.status.layout.display = "none"
        self._status_summary = "not checked"
        self.status_toggle = widgets.ToggleButton(
            value=False,
            description="API status: not checked (show details)",
            tooltip="Show or hide the API checks",
            icon="info-circle",
            layout=widgets.Layout(width="auto"),
        )
        self.status_toggle.observe(self._on_status_toggle, names="value")
        self.status.row_widgets["Authenticated"].observe(self._on_status_rows, names="value")

    def _build_open_section(self) -> widgets.VBox:
        """The "Open a case" section: an external case id, and the area its case is shown in."""
        self.case_id = widgets.Text(
            description="External case ID",
            placeholder="e.g. KYC-2024-000123",
            continuous_update=False,  # the value arrives on Enter (or leaving the box)
            style={"description_width": "initial"},
            layout=widgets.Layout(width="32em"),
        )
        self.open_button = widgets.Button(
            description="Open", icon="folder-open", tooltip="Show this case"
        )
        self.case_id.observe(lambda _change: self.open_case(), names="value")
        self.open_button.on_click(lambda _b: self.open_case())
        self.case_area = widgets.VBox([])
        open_section = widgets.VBox(
            [widgets.HBox([self.case_id, self.open_button]), self.case_area]
        )
        open_section.add_class("kyc-desk-open")
        return open_section

    def _build_campaign_section(self) -> widgets.VBox:
        """The "Campaign" section: what it does, the template, an upload or the sample sheet."""
        self.upload = Upload(
            "Upload a sheet…", self.load_sheet, accept=SHEET_FORMATS,
            max_bytes=DEFAULT_LIMITS.max_file_bytes, button_style="primary",
            tooltip="Choose a campaign sheet on this computer (CSV, Excel or OpenDocument)",
        )
        self.sample_button = widgets.Button(
            description="Use the sample sheet",
            icon="table",
            tooltip="A synthetic 40-row remediation sheet",
            layout=widgets.Layout(width="auto"),
        )
        self.template = Download(
            "Download the template (XLSX)", lambda: File(*template_file()),
            tooltip="A sheet with the right columns and lists: no mapping needed",
        )
        self.sample_button.on_click(lambda _b: self.use_sample_sheet())
        self.campaign_message = widgets.HTML()
        self.campaign_area = widgets.VBox([])
        campaign_section = widgets.VBox(
            [
                widgets.HTML(f"<p class='kyc-campaign-intro'>{html.escape(CAMPAIGN_INTRO)}</p>"),
                widgets.HBox(
                    [self.upload, self.sample_button, self.template],
                    layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
                ),
                self.campaign_message,
                self.campaign_area,
            ]
        )
        campaign_section.add_class("kyc-desk-campaign")
        return campaign_section

    def _build_plan_section(self) -> PlanReview:
        """The "Approve a plan" section: a second analyst's review of a campaign plan."""
        self.plan_review = PlanReview(self.client)
        return self.plan_review

    @classmethod
    def from_env(cls, **kwargs: Any) -> CaseDesk:
        """The desk for the API of ``KYC_API_BASE_URL`` / ``KYC_API_TOKEN`` (what the app uses).

        ``KYC_API_IS_SANDBOX=1`` (set by the launcher for its own sandbox only) makes the
        header say "Sandbox".
        """
        from kyc_widgets.api.client import KycApiClient

        kwargs.setdefault("is_sandbox", os.environ.get("KYC_API_IS_SANDBOX") == "1")
        return cls(KycApiClient.from_env(), **kwargs)

    # -- header -----------------------------------------------------------------------------------
    @property
    def api_description(self) -> str:
        """Which API the desk talks to, in words (never the token)."""
        base_url = getattr(self.client, "base_url", None) or "not configured"
        return f"Sandbox ({base_url})" if self.is_sandbox else str(base_url)

    def _render_header(self) -> None:
        if self.principal:
            who = html.escape(self.principal)
        elif self.authenticated:
            who = "yes (the API names the account once a case is created or opened)"
        else:
            who = "not known yet"
        self.header.value = (
            _STYLE
            + '<header class="kyc-desk-header">'
            + f"<h1>{html.escape(PRODUCT_NAME)}</h1>"
            + f"<p>API: <span data-testid='kyc-desk-api'>{html.escape(self.api_description)}"
            + "</span></p>"
            + f"<p>Signed in as: <span data-testid='kyc-desk-principal'>{who}</span></p>"
            + "</header>"
        )

    def _note_principal(self, principal: str | None) -> None:
        if principal and principal != self.principal:
            self.principal = principal
            self._render_header()

    def _note_envelope(self, envelope: Any) -> None:
        self._note_principal(getattr(envelope, "principal", None))

    def _on_status_toggle(self, change: Any) -> None:
        self.status.layout.display = None if change["new"] else "none"
        self._label_status_toggle()

    def _label_status_toggle(self) -> None:
        """The toggle says the summary and, in words, whether the details are open.

        A pressed toggle button only looks darker; a screen reader is not told.
        """
        action = "hide details" if self.status_toggle.value else "show details"
        self.status_toggle.description = f"API status: {self._status_summary} ({action})"

    def _on_status_rows(self, _change: Any) -> None:
        """Summarise the four API checks in the toggle's words."""
        diagnosis = self.status.diagnosis
        rows = self.status.rows
        if any(text.startswith("checking") for text in rows.values()):
            summary = "checking…"
        elif diagnosis is None:
            summary = "unknown"
        elif diagnosis.ok:
            summary = "OK"
        else:
            summary = "problem"
        self._status_summary = summary
        self._label_status_toggle()
        if diagnosis is not None:
            signed_in = bool(getattr(diagnosis, "authenticated", None))
            if signed_in != bool(self.authenticated):
                self.authenticated = signed_in
                self._render_header()
            self._note_principal(getattr(diagnosis, "principal", None))

    # -- Open a case -------------------------------------------------------------------------------
    def open_case(self) -> CaseWorkspace:
        """Show the case named in ``case_id`` (or the missing-case state); never raises."""
        workspace = CaseWorkspace.load(self.client, self.case_id.value.strip() or None)
        self.opened = workspace
        self.case_area.children = (workspace,)
        if workspace.envelope is not None:
            self._note_envelope(workspace.envelope)
        return workspace

    # -- Campaign ------------------------------------------------------------------------------------
    def use_sample_sheet(self) -> BatchCreator:
        """Load the bundled sample sheet into a fresh campaign panel."""
        return self._show_campaign(self.sample_sheet)

    def load_sheet(self, name: str, content: bytes) -> BatchCreator:
        """Load an uploaded sheet from its bytes, in memory (its content tells CSV from a
        workbook; ``name`` is what the page calls it). Nothing is written to disk: a
        campaign sheet holds personal data."""
        return self._show_campaign(io.BytesIO(content), Path(name).name or "sheet")

    def _show_campaign(self, source: Path | io.BytesIO, name: str | None = None) -> BatchCreator:
        if self.campaign is not None and self.campaign.state in ("running", "cancelling"):
            self.campaign_message.value = (
                "<p role='status'>A campaign is still running: cancel it or wait for its "
                "report before loading another sheet.</p>"
            )
            return self.campaign
        self.campaign_message.value = ""
        panel = BatchCreator(self.client, source, name=name, remember=self.remember)
        self.campaign = panel
        self.campaign_area.children = (panel,)
        return panel

    def __repr__(self) -> str:  # the client's token stays out of reprs
        return f"CaseDesk(api={self.api_description!r})"
