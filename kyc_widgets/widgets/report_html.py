"""A campaign as notebook HTML: the preview, the report's tables and its summary.

Why here and not in :mod:`kyc_widgets.batch`: these are views. ``batch/``
holds a campaign's data (the pre-flight, the report) and its file exports;
how a page of rows looks in a notebook (short statuses with a text marker,
fields by their titles, ids on one line, messages wrapped) changes with the
widgets that show it, and nothing here imports ipywidgets, so
:func:`report_html` (a report in a notebook cell), the campaign widget and a
benchmark draw the same table.

For people: statuses as short words with a text marker (never colour alone;
:data:`~kyc_widgets.batch.status.FACTS`), fields by their titles ("Assigned
analyst e-mail", not ``assigned_analyst_email``), only the columns that hold
something for the rows shown. Every header and cell goes through
:func:`~kyc_widgets.text.reveal_html`: markup stays inert and hidden or
direction-changing characters are drawn (``⟨U+202E⟩``) rather than obeyed.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd

from kyc_widgets.batch.fields import field_title
from kyc_widgets.batch.problems import messages as problem_messages
from kyc_widgets.batch.status import FACTS, FIXABLE_STATUSES, NEVER_SENT_STATUSES, STATUSES
from kyc_widgets.batch.stop import stop_words
from kyc_widgets.labels import words
from kyc_widgets.text import reveal_html

if TYPE_CHECKING:
    from kyc_widgets.batch.preflight import Preflight
    from kyc_widgets.batch.report import BatchReport

__all__ = [
    "CAMPAIGN_STYLE",
    "ReportView",
    "PROBLEMS_SHOWN",
    "REPORT_ROWS_SHOWN",
    "error_html",
    "check_html",
    "html_table",
    "preview_html",
    "screen_messages",
    "readable",
    "report_html",
    "summary_html",
]

REPORT_ROWS_SHOWN = 50
"""Rows of :func:`report_html`'s table (the rest are in ``report.results``)."""

PROBLEMS_SHOWN = 10
"""Rows of the preview's "First problems" and "same customer twice" tables."""

# Plain-string keys: a report's status column holds the words, not RowStatus members.
_SHORT: dict[str, str] = {s.value: FACTS[s].short for s in STATUSES}
_LABEL: dict[str, str] = {s.value: FACTS[s].label for s in STATUSES}
_MARK: dict[str, str] = {s.value: FACTS[s].marker for s in STATUSES}
_STATUS_BY_SHORT: dict[str, str] = {short: status for status, short in _SHORT.items()}
_NEVER_SENT = tuple(s.value for s in NEVER_SENT_STATUSES)
"""Rows the pre-flight kept back: no request, so no attempt count to show."""

def _header(column: object) -> str:
    """A report column's heading: the external case ID by the form's title, others in words."""
    if column == "kyc_case_id":
        return str(field_title("kyc_case_id"))  # "External case ID", as the form says
    if column == "fixed_in_app":
        return "Fixed in the app"
    return words(str(column))


_NO_WRAP = frozenset(
    _header(c)
    for c in ("sheet_row", "status", "kyc_case_id", "case_id", "http_status", "error_code",
              "request_id", "attempts")
)
_TABLE_STYLE = (
    "<style>"
    ".kyc-table{border-collapse:collapse;margin:4px 0}"
    ".kyc-table th,.kyc-table td{text-align:left;vertical-align:top;padding:2px 10px 2px 0}"
    ".kyc-table th{border-bottom:1px solid var(--jp-border-color1,#bdbdbd)}"
    ".kyc-table .kyc-nowrap{white-space:nowrap}"
    ".kyc-table .kyc-wrap{white-space:normal;min-width:10em;max-width:30em;"
    "overflow-wrap:anywhere}"
    "</style>"
)

CAMPAIGN_STYLE = """<style>
/* The campaign fits its page (WCAG 1.4.10): boxes may shrink below their content's
   width, rows of controls wrap, long words break, and a wide table scrolls inside its own
   keyboard-reachable region (.kyc-report-scroll) instead of the page. */
.kyc-desk, .kyc-desk-campaign, .kyc-batch-creator, .kyc-batch-creator .widget-box,
.kyc-batch-creator .widget-html, .kyc-batch-creator .widget-html-content,
.kyc-batch-creator .jupyter-widget-Collapse-contents { min-width: 0; max-width: 100%; }
.kyc-batch-creator .widget-hbox { flex-wrap: wrap; }
.kyc-batch-creator .widget-html-content { white-space: normal; overflow-wrap: anywhere; }
.kyc-batch-creator .widget-dropdown, .kyc-batch-creator .widget-text { max-width: 100%; }
.kyc-batch-creator .widget-dropdown > label, .kyc-batch-creator .widget-text > label {
  white-space: normal; overflow-wrap: anywhere; }
.kyc-report-scroll { overflow-x: auto; max-width: 100%; }
.kyc-batch-creator pre { white-space: pre-wrap; overflow-wrap: anywhere; }
/* The column-mapping panel's header: the theme's grey text is below 4.5:1 (WCAG 1.4.3). */
.kyc-batch-creator .jupyter-widget-Collapse-header,
.kyc-batch-creator .jupyter-widget-Collapse-header > span { color: #1a1a1a; }
</style>"""
"""The campaign panel's style sheet (drawn once, with the panel)."""


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Report columns (any of :data:`~kyc_widgets.batch.report.RESULT_COLUMNS`) for people.

    Short statuses, fields by their titles, headers as words, empty cells
    blank, and only the columns that hold something for these rows, so the
    widget's preview and the report's tables read the same. Attempts are
    blank for rows never sent (an attempt count of a row the API never saw
    would suggest it did). Meant for the rows shown (a page), not a whole
    100k-row report: it copies them.
    """
    shown = frame.copy()
    if "status" in shown.columns:
        status = shown["status"].astype(object)  # (a categorical of RowStatus in a report)
        shown["status"] = status.map(_SHORT).fillna(status)
    if "error_field" in shown.columns:
        shown["error_field"] = shown["error_field"].map(field_title)
    if "attempts" in shown.columns and "status" in frame.columns:
        never_sent = frame["status"].isin(_NEVER_SENT)
        shown["attempts"] = shown["attempts"].astype(object).where(~never_sent)
    shown = shown.astype(object).where(shown.notna(), "")
    keep = [
        c for c in shown.columns
        if c in ("sheet_row", "status") or (shown[c].astype(str).str.strip() != "").any()
    ]
    return shown[keep].rename(columns=_header)


def html_table(frame: pd.DataFrame) -> str:
    """A :func:`readable` frame as a plain, left-aligned HTML table (values escaped).

    Statuses get their text marker (hidden from screen readers, which read the word)
    and the long label as a tooltip; ids, codes and statuses stay on one line while
    messages wrap. Built by hand, cell by cell: a page of rows is small, and
    ``DataFrame.to_html`` cannot mark cells. Headers and cells go through
    :func:`~kyc_widgets.text.reveal_html`: a bidi override in a name is shown as
    ``⟨U+202E⟩``, not obeyed.
    """
    columns = [str(c) for c in frame.columns]
    classes = ["kyc-nowrap" if c in _NO_WRAP else "kyc-wrap" for c in columns]
    status_at = columns.index("Status") if "Status" in columns else -1
    head = "".join(
        f'<th scope="col" class="{k}">{reveal_html(c)}</th>' for c, k in zip(columns, classes)
    )
    body: list[str] = []
    for values in frame.itertuples(index=False, name=None):
        cells = []
        for position, value in enumerate(values):
            text = reveal_html(value)
            status = _STATUS_BY_SHORT.get(str(value)) if position == status_at else None
            if status is not None:
                cells.append(
                    f'<td class="kyc-nowrap" data-status="{status}" '
                    f'title="{html.escape(_LABEL[status])}">'
                    f'<span aria-hidden="true">{_MARK[status]}</span> {text}</td>'
                )
            else:
                cells.append(f'<td class="{classes[position]}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'{_TABLE_STYLE}<table class="kyc-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def report_html(report: BatchReport) -> str:
    """A report as a notebook shows it: counts per status, why it stopped, the first rows.

    Bounded: at most :data:`REPORT_ROWS_SHOWN` rows, however large the report,
    and a line saying how many more are in ``report.results``.
    """
    counts = [(_LABEL[str(s)], n) for s, n in report.summary().items() if n]
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td style='text-align:right'>{n}</td></tr>"
        for label, n in counts
    )
    title = "Dry run" if report.dry_run else "Batch report"
    parts = [
        f"<div class='kyc-batch-report'><h4>{title}: {len(report.results)} rows</h4>",
        "<table><thead><tr><th>Status</th><th>Rows</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>",
    ]
    if report.stopped_reason:
        parts.append(
            "<p><strong>Stopped early:</strong> "
            f"{html.escape(stop_words(report.stopped_reason))}</p>"
        )
    if report.unknown_columns:
        parts.append(
            "<p>Ignored columns: " + reveal_html(", ".join(report.unknown_columns)) + "</p>"
        )
    first = report.results.head(REPORT_ROWS_SHOWN)
    parts.append(html_table(readable(first.drop(columns=["source_index"]))))
    more = len(report.results) - len(first)
    if more > 0:
        parts.append(f"<p>... and {more} more rows (see <code>report.results</code>).</p>")
    parts.append("</div>")
    return "".join(parts)


class ReportView:
    """A :class:`~kyc_widgets.batch.report.BatchReport` drawn in a notebook cell: ``ReportView(report)``.

    The report itself stays data (its ``repr`` is one line of counts); this
    is its notebook view, the same tables the campaign widget shows.
    """

    def __init__(self, report: BatchReport) -> None:
        self.report = report

    def _repr_html_(self) -> str:
        return report_html(self.report)

    def __repr__(self) -> str:
        return repr(self.report)


def summary_html(report: BatchReport) -> str:
    """The report's summary lines (``Created: 120``, why it stopped, the mapping), then how
    many rows need attention: the same count as the command line's and the report's."""
    attention = report.attention_count
    fixable = int(report.results["status"].isin(FIXABLE_STATUSES).sum())
    if attention:
        more = (
            f" {fixable} of them can be fixed below." if fixable == attention
            else f" {fixable} of them can be fixed below; the others were sent but not created "
            "(see their status): send the sheet again to retry them, nothing is created twice."
        )
        line = (
            f"<p role='status'><strong>Needs attention: {attention} "
            f"row{'s' if attention != 1 else ''}</strong> (neither created nor already there)."
            f"{more}</p>"
        )
    else:
        line = "<p role='status'><strong>Needs attention: 0 rows.</strong> Every row was "\
            "created, already existed or repeats another row.</p>"
    return "<pre>" + html.escape(report.summary_text()) + "</pre>" + line


def check_html(report: BatchReport | None, error: str | None = None) -> str:
    """What "Check against the API" found (or why it could not), next to its button."""
    if error:
        return error_html(error)
    if report is None:
        return ""
    counts = [
        f"{FACTS[s].label.removesuffix(' (dry run)')}: {n}" for s, n in report.summary().items() if n
    ]
    stopped = (
        f" It stopped early: {html.escape(stop_words(report.stopped_reason))}"
        if report.stopped_reason else ""
    )
    return (
        "<div role='status'><p><strong>Checked against the API (nothing was created):</strong> "
        + html.escape("; ".join(counts) or "no row to check") + f".{stopped}</p></div>"
    )


def error_html(message: str) -> str:
    """Why the sheet cannot be used or the run could not run, in the preview's place."""
    return (
        "<p role='alert' style='color:#b00020'><strong>Cannot go on:</strong> "
        f"{reveal_html(message)}</p>"
    )


def screen_messages(problems: pd.DataFrame, labels: pd.Index) -> pd.Series:
    """Each row's problems as the screen shows them, naming the refused cells
    (:func:`~kyc_widgets.batch.problems.with_value`): for the app's tables, never a file."""
    out = pd.Series(None, index=labels, dtype=object)
    if problems.empty or not len(labels):
        return out
    shown = problems[problems.index.isin(labels)]
    if shown.empty:
        return out
    texts = pd.Series(problem_messages(shown, with_values=True), index=shown.index)
    joined = texts.groupby(level=0, sort=False).agg("; ".join)
    out.loc[joined.index] = joined.to_numpy()
    return out


def preview_html(plan: Preflight) -> str:
    """What the pre-flight found, before anything is sent: counts, then the first problems.

    Rows that repeat another row's customer and reason are counted and listed
    apart (they are sent only when the analyst ticks the box that follows);
    rows without an external id ask for a campaign name.
    """
    counts = plan.counts()
    same = counts.get("same_subject", 0)
    parts = [
        "<ul>",
        f"<li>{counts['rows']} rows</li>",
        f"<li><strong>{counts['ready']}</strong> ready to send</li>",
        f"<li>{counts['invalid']} invalid (not sent)</li>",
        f"<li>{counts['duplicate_in_sheet']} duplicate in the sheet (the same case as an "
        "earlier row: not sent)</li>",
    ]
    if counts.get("duplicate_id"):
        parts.append(
            f"<li><strong>{counts['duplicate_id']}</strong> share an external case ID with "
            "another customer's row (neither is sent: fix them after the run)</li>"
        )
    if same:
        parts.append(
            f"<li>{same} repeat another row's customer and reason under another external ID "
            "(not sent unless you tick the box below)</li>"
        )
    parts.append("</ul>")
    if plan.unknown_columns:
        parts.append(
            "<p>Ignored columns: " + reveal_html(", ".join(plan.unknown_columns)) + "</p>"
        )
    parts += _preview_tables(plan, same)
    if plan.missing_ids:
        parts.append(
            f"<p><strong>{plan.missing_ids} rows have no external case ID: enter a "
            "campaign name to create them.</strong></p>"
        )
    return "".join(parts)


def _preview_tables(plan: Preflight, same: int) -> list[str]:
    """The first problem rows, then the first rows repeating a customer: the report's columns,
    read as the report's table reads them."""
    parts: list[str] = []
    problems = plan.status != "ready"
    if problems.any():
        first = pd.DataFrame(
            {
                "sheet_row": plan.sheet_row[problems],
                "status": plan.status[problems],
                "error_field": plan.error_field[problems],
                "error_message": plan.error_message[problems],
            }
        ).head(PROBLEMS_SHOWN)
        first["error_message"] = screen_messages(plan.problems, first.index).fillna(
            first["error_message"]
        )
        parts.append("<p>First problems:</p>")
        parts.append(_scrolling(html_table(readable(first)), "First problems"))
    if same and plan.note is not None:
        noted = plan.note.notna()
        table = pd.DataFrame(
            {"sheet_row": plan.sheet_row[noted], "note": plan.note[noted]}
        ).head(PROBLEMS_SHOWN)
        parts.append("<p>The same customer and reason twice:</p>")
        parts.append(_scrolling(html_table(readable(table)), "The same customer twice"))
    return parts


def _scrolling(table: str, label: str) -> str:
    """A table that scrolls sideways inside its own region (reachable by Tab), not the page."""
    return (
        f'<div class="kyc-report-scroll" tabindex="0" role="region" aria-label="{label}">'
        f"{table}</div>"
    )
