"""Maker-checker in the app: the checker's review page, and the maker's plan step.

:class:`PlanReview` is the page a second analyst approves a plan on (the desk's
"Approve a plan" section): upload the plan file, read what it will do (the
campaign, who made it and when it expires, the counts of the checking dry
run, the mapping, the rows whose case exists with other values), and press
"Approve this plan". Approving asks the API who the checker is and looks the
plan's rows up again (:func:`~kyc_widgets.batch.plan.approve_plan`); a
refusal (you made the plan, it expired, was edited, the API's answers
changed) is said in words, each reason on its own line, announced to screen
readers. The approved plan comes back as a download link: it holds no
personal data, so a link in the page's saved state is harmless.

:class:`PlanStep` sits in a campaign panel (:class:`~.batch_creator.BatchCreator`):
"Make a plan for approval" runs the checking dry run on the previewed rows
with the maker's client and offers the plan as a download; "Upload the
approved plan" loads it back, checked against the preview at once
(:func:`~kyc_widgets.batch.plan_file.authorise_sending`). "Create N cases" then
sends exactly the approved rows; when approval is required
(``KYC_REQUIRE_APPROVAL=1``) and no approved plan matches, it refuses with
the reasons here, and nothing is sent.

The HTML is built by plain functions (:func:`review_html`, :func:`problems_html`),
so what the checker reads is tested without a browser; tables have header
cells with scopes and every text is escaped (:func:`~kyc_widgets.text.reveal_html`).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from kyc_widgets.a11y.bridge import A11yBridge, new_scope
from kyc_widgets.batch.fields import field_title
from kyc_widgets.batch.plan import (
    PlanCheck,
    PlanRefusedError,
    approve_plan,
    make_plan,
    review_plan,
)
from kyc_widgets.batch.plan_file import CampaignPlan, authorise_sending, read_plan
from kyc_widgets.batch.status import RowStatus
from kyc_widgets.text import reveal_html
from kyc_widgets.widgets.html import notice_html

if TYPE_CHECKING:
    from kyc_widgets.widgets.batch_flow import BatchFlow

__all__ = ["PlanReview", "PlanStep", "plan_link_html", "problems_html", "review_html"]

DIFFERING_LISTED = 50
"""Rows whose case differs, listed on the review page; the rest are counted."""

_STYLE = """<style>
.kyc-plan table { border-collapse: collapse; margin: 4px 0 10px; }
.kyc-plan th, .kyc-plan td { border: 1px solid #767676; padding: 2px 8px; text-align: left;
  color: #1a1a1a; }
.kyc-plan td.n { text-align: right; }
.kyc-plan h4, .kyc-plan h5 { margin: 8px 0 4px; color: #1a1a1a; }
</style>"""


# --------------------------------------------------------------------------- HTML


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An escaped table with column headers (``rows`` hold plain text)."""
    header = "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{reveal_html(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return (f"<table><caption>{html.escape(caption)}</caption><thead><tr>{header}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def review_html(plan: CampaignPlan) -> str:
    """What the checker reads: facts, counts, mapping and the rows whose case differs."""
    record = plan.record
    sheet = record["sheet"]
    facts = [
        ("Campaign", plan.campaign or "(none)"),
        ("API", plan.api_base_url),
        ("Sheet", f"{sheet['file_name'] or '(a table)'}, {sheet['rows']} rows"),
        ("Sheet SHA-256", sheet["sha256"] or "(not a file)"),
        ("Made by", f"{plan.maker} at {plan.made_at}"),
        ("Expires at", plan.expires_at),
        ("Approved by", f"{plan.checker} at {plan.approved_at}" if plan.approved
         else "not approved yet"),
        ("Plan SHA-256", plan.sha256),
    ]
    rows = "".join(f"<tr><th scope='row'>{html.escape(k)}</th><td>{reveal_html(v)}</td></tr>"
                   for k, v in facts)
    counts = [(RowStatus(s).label, str(n)) for s, n in plan.counts.items()]
    parts = [
        "<h4>The plan</h4>",
        f"<table><caption>What the plan is</caption><tbody>{rows}</tbody></table>",
        f"<h4>{plan.to_send} row(s) to send</h4>",
        _table("Rows per status (the API was asked about each)", ("Status", "Rows"), counts),
        _mapping_html(record["mapping"]),
        _differing_html(plan),
    ]
    return _STYLE + "".join(parts)


def _mapping_html(mapping: dict[str, Any]) -> str:
    content = mapping["content"]
    if content is None:
        columns = [(header, field_title(name)) for header, name in mapping["columns"].items()]
        return ("<h4>Mapping: none (the sheet uses the API's column names)</h4>"
                + _table("Columns read", ("Sheet column", "Field"), columns))
    columns = [(header, field_title(name) if name else "(ignored)")
               for header, name in content["columns"].items()]
    constants = [(field_title(name), value) for name, value in content["constants"].items()]
    values = [(field_title(name), sheet_value, api_value)
              for name, table in content["values"].items()
              for sheet_value, api_value in table.items()]
    parts = [f"<h4>Mapping (fingerprint {html.escape(mapping['fingerprint'])})</h4>",
             _table("Sheet columns", ("Sheet column", "Field"), columns)]
    if constants:
        parts.append(_table("The same value for every row", ("Field", "Value"), constants))
    if values:
        parts.append(_table("Values translated", ("Field", "In the sheet", "Sent as"), values))
    return "".join(parts)


def _differing_html(plan: CampaignPlan) -> str:
    differing = plan.differing_rows()
    if not differing:
        return "<h4>Rows whose case exists with other values: none</h4>"
    shown = [(str(row["sheet_row"]), row["kyc_case_id"] or "",
              ", ".join(field_title(n) for n in row.get("differs", [])))
             for row in differing[:DIFFERING_LISTED]]
    more = (f"<p>... and {len(differing) - DIFFERING_LISTED} more.</p>"
            if len(differing) > DIFFERING_LISTED else "")
    return (f"<h4>Rows whose case exists with other values ({len(differing)})</h4>"
            + _table("Sent anyway, the API keeps its case: these rows are reported as existing",
                     ("Sheet row", "External case ID", "Fields that differ"), shown) + more)


def problems_html(title: str, problems: Sequence[str]) -> str:
    """Refusals in words: a title, then each reason on its own line; announced at once."""
    items = "".join(f"<li>{reveal_html(p)}</li>" for p in problems)
    return (f"<div role='alert' style='border-left:4px solid #b00020;padding:4px 8px'>"
            f"<strong>{html.escape(title)}</strong> <ul>{items}</ul></div>")


def plan_link_html(plan: CampaignPlan, name: str, words: str) -> str:
    """A download link holding the plan (no personal data: safe in the page's saved state)."""
    data = base64.b64encode(plan.to_json().encode("utf-8")).decode("ascii")
    return (f"<a download='{html.escape(name)}' href='data:application/json;base64,{data}' "
            f"target='_blank'>{html.escape(words)}</a>")


def _uploaded(change: Any, upload: widgets.FileUpload) -> tuple[str, bytes] | None:
    """The uploaded file's name and bytes, the upload cleared (its bytes leave the state)."""
    items = change["new"]
    if not items:
        return None
    item = items[0]
    upload.value = ()
    return str(item["name"]), bytes(item["content"])


# --------------------------------------------------------------------------- the checker's page


class PlanReview(widgets.VBox):
    """The checker's review page (see the module docstring).

    ``client`` carries the checker's own token; ``plan`` (a
    :class:`~kyc_widgets.batch.plan_file.CampaignPlan`, a path or bytes) is
    shown at once, or uploaded later. :attr:`review` is what the last review
    found, :attr:`approved` the plan once approved.
    """

    def __init__(self, client: Any, plan: Any = None, *, recheck: bool = True) -> None:
        self.client = client
        self.recheck = recheck
        self.review: PlanCheck | None = None
        self.approved: CampaignPlan | None = None
        self._scope = new_scope("kyc-plan-review")
        self.bridge = A11yBridge(self._scope)
        self.upload = widgets.FileUpload(
            accept=".json", multiple=False, description="Upload a plan (JSON)",
            tooltip="A plan another analyst made (kyc-widgets plan, or Make a plan)",
            layout=widgets.Layout(width="auto"),
        )
        self.content = widgets.HTML()
        self.message = widgets.HTML()
        self.message.add_class(f"{self._scope}-message")  # focus lands here after Approve
        self.approve_button = widgets.Button(
            description="Approve this plan", button_style="primary", icon="check",
            disabled=True, layout=widgets.Layout(width="auto"),
        )
        self.download = widgets.HTML()
        self.upload.observe(self._on_upload, names="value")
        self.approve_button.on_click(lambda _b: self.approve())
        super().__init__([
            widgets.HTML("<p>Review a campaign plan another analyst made, then approve it with "
                         "your own sign-in. Nothing is created here.</p>"),
            self.upload, self.content, self.message, self.approve_button, self.download,
            self.bridge,
        ])
        self.add_class("kyc-plan")
        self.add_class("kyc-plan-review")
        self.add_class(self._scope)
        if plan is not None:
            self.load(plan)

    def _on_upload(self, change: Any) -> None:
        found = _uploaded(change, self.upload)
        if found is not None:
            self.load(found[1])

    def load(self, plan: Any) -> PlanCheck:
        """Read and review ``plan`` (the API is asked who you are and about its rows)."""
        self.approved, self.download.value = None, ""
        try:
            review = review_plan(self.client, plan, recheck=self.recheck)
        except Exception as exc:  # noqa: BLE001 - a refused token, an unreachable API: in words
            review = PlanCheck(CampaignPlan({}), problems=[f"the API could not be asked: {exc}"])
        self.review = review
        self.content.value = review_html(review.plan) if review.plan.record else ""
        self._show_verdict(review)
        return review

    def _show_verdict(self, review: PlanCheck) -> None:
        if review.problems:
            self.message.value = problems_html("This plan cannot be approved:", review.problems)
        else:
            rows = f"; {review.rechecked} row(s) looked up again, unchanged" if review.recheck \
                else ""
            self.message.value = notice_html(
                "Ready to approve:", f"you are {review.checker}, not the maker{rows}.",
                tone="info", alert=False)
        self.approve_button.disabled = not review.ok

    def approve(self) -> bool:
        """Approve the plan reviewed (asked again: what is approved is checked now)."""
        review = self.review
        if review is None or not review.ok:
            return False
        self.approve_button.disabled = True
        try:
            approved = approve_plan(self.client, review.plan, recheck=self.recheck)
        except PlanRefusedError as exc:
            self.message.value = problems_html("This plan cannot be approved:", exc.problems)
            self.bridge.move_focus(f".{self._scope}-message")
            return False
        self.approved = approved
        self.content.value = review_html(approved)
        self.message.value = notice_html(
            "Approved:", f"by {approved.checker} at {approved.approved_at}. Give the approved "
            f"plan back to {approved.maker}; approval SHA-256 {approved.head}.",
            tone="ok", alert=False)
        self.download.value = plan_link_html(approved, "plan-approved.json",
                                             "Download the approved plan (JSON)")
        self.bridge.move_focus(f".{self._scope}-message")
        return True

    def __repr__(self) -> str:
        return f"PlanReview(approved={self.approved is not None})"


# --------------------------------------------------------------------------- the maker's step


class PlanStep(widgets.VBox):
    """A campaign panel's plan controls: make a plan, load the approved one (module docstring).

    Draws what ``flow`` (a :class:`~.batch_flow.BatchFlow`) says; :meth:`render`
    is called by the panel whenever the flow's state changes.
    """

    def __init__(self, flow: BatchFlow) -> None:
        self.flow = flow
        self.made: CampaignPlan | None = None
        self.make_button = widgets.Button(
            description="Make a plan for approval", icon="file", disabled=True,
            tooltip="Ask the API about each row and write a plan for a second analyst",
            layout=widgets.Layout(width="auto"),
        )
        self.upload = widgets.FileUpload(
            accept=".json", multiple=False, description="Upload the approved plan (JSON)",
            layout=widgets.Layout(width="auto"),
        )
        self.message = widgets.HTML()
        self.download = widgets.HTML()
        self.make_button.on_click(lambda _b: self.make())
        self.upload.observe(self._on_upload, names="value")
        super().__init__([widgets.HBox([self.make_button, self.upload]), self.download,
                          self.message])
        self.add_class("kyc-plan")
        self.add_class("kyc-plan-step")

    def make(self) -> CampaignPlan | None:
        """"Make a plan for approval": the checking dry run of the preview, as a download."""
        flow = self.flow
        if flow.plan is None or flow.state != "ready":
            return None
        options = flow.options.replace(allow_same_subject=flow.allow_same_subject, progress=False)
        try:
            plan = make_plan(flow.client, flow.plan, options=options)
        except PlanRefusedError as exc:
            self.message.value = problems_html("No plan was made:", exc.problems)
            return None
        except Exception as exc:  # noqa: BLE001 - a refused token, an unreachable API: in words
            self.message.value = problems_html("No plan was made:", [str(exc)])
            return None
        self.made = plan
        self.download.value = plan_link_html(plan, "plan.json",
                                             "Download the plan for approval (JSON)")
        self.message.value = notice_html(
            "Plan made:", f"by {plan.maker}, {plan.to_send} row(s) to send, expires at "
            f"{plan.expires_at}. Another analyst approves it (Approve a plan); then upload "
            "the approved plan here.", tone="info", alert=False)
        return plan

    def _on_upload(self, change: Any) -> None:
        found = _uploaded(change, self.upload)
        if found is not None:
            self.load_approved(found[1])

    def load_approved(self, plan: Any) -> bool:
        """Load an approved plan for "Create": checked against the preview now, in words."""
        flow = self.flow
        try:
            loaded = read_plan(plan)
            if flow.plan is None:
                raise PlanRefusedError(["there is no preview to send yet"])
            options = flow.options.replace(allow_same_subject=flow.allow_same_subject)
            authorise_sending(loaded, flow.plan, options, flow.client)
        except PlanRefusedError as exc:
            flow.approved_plan = None
            self.message.value = problems_html("This plan cannot be sent:", exc.problems)
            return False
        flow.approved_plan = loaded
        flow.plan_refusal = []
        self.message.value = notice_html(
            "Approved plan loaded:", f"made by {loaded.maker}, approved by {loaded.checker} at "
            f"{loaded.approved_at}. Create sends exactly its {loaded.to_send} row(s).",
            tone="ok", alert=False)
        return True

    def render(self) -> None:
        """Buttons by the flow's state; the reason "Create" refused, if it just did."""
        flow = self.flow
        self.make_button.disabled = not (flow.state == "ready" and flow.plan is not None
                                         and flow.client is not None and flow.to_send > 0)
        self.layout.display = "none" if flow.report is not None else ""
        if flow.plan_refusal:
            self.message.value = problems_html("Nothing was sent:", flow.plan_refusal)
