"""The outcome of a batch: one row per input row, aligned on the input's index.

``BatchReport.results`` holds statuses, ids, HTTP facts and messages that
name fields, never cell values: no names, e-mails or user ids. Its
``kyc_case_id`` column is not anonymous, though: a given id may be the
provider's own reference, and a derived one (``CMP-<campaign>-<hash>``) can be
recomputed from the campaign name and a list of candidate user ids (see
:mod:`.identity`). Treat it as pseudonymous personal data. The personal data
stays in the input frame; exports join the two on the index and can leave
the personal columns out, but they always keep ``kyc_case_id``, because that
id is what makes a re-run from the report create nothing twice.

Exports neutralise formulas (OWASP "CSV injection"): a text cell starting
with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading ``'`` unless it is a
plain number such as ``-100`` (a number is never run as a formula, and ids
like ``-100`` must survive a round trip). Every non-numeric column is
checked, categorical and mixed ones included, and XLSX text cells are
stored as text, never as formulas (:func:`write_xlsx`). :func:`~.reading.read_campaign`
and the pre-flight drop that one ``'`` again, so a report can be fixed and re-run.

Exports never fail on content. A worksheet (XML 1.0) cannot hold the C0
control characters other than tab, line feed and carriage return, lone
surrogates, or ``U+FFFE``/``U+FFFF``. xlsxwriter does not refuse them: it
stores a control character as Excel's ``_x000B_`` escape (Excel then shows an
invisible character, openpyxl reads the escape back literally), ``U+FFFE`` as
``_xFFFE_`` (read back literally everywhere), and a lone surrogate makes the
whole write fail with ``UnicodeEncodeError``. The contract fields refuse them
on input, but the sheet's own columns that the API ignored, and a mapping
built from its headers, may hold anything. So :func:`write_xlsx` writes such
characters, in every sheet's cells and headers, as a visible escape,
``⟨U+000B⟩`` (:func:`kyc_widgets.text.marker`, the notation the screen uses
too). CSV gets the same treatment, so both files of one report hold the same
text and a CSV opened in a spreadsheet loses nothing silently; tab, line feed
and carriage return are kept (both formats hold them; CSV quotes the cell).
:meth:`BatchReport.to_csv`, :meth:`BatchReport.to_excel` and :func:`write_xlsx`
return how many cells (headers included) were changed that way, so a caller
can say so; 0 means the file holds the data exactly.

For people (:func:`readable`, :func:`html_table`): statuses as short words with a
text marker (:data:`STATUS_SHORT`, :data:`STATUS_MARKS`: never colour alone),
fields by their titles ("Assigned analyst e-mail", not ``assigned_analyst_email``),
only the columns that hold something for the rows shown, ids and statuses on one
line and messages wrapped. Hidden and direction-changing characters are drawn with
:func:`kyc_widgets.text.reveal_html` (``⟨U+202E⟩``) rather than obeyed.
"""

from __future__ import annotations

import html
import numbers
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kyc_widgets.labels import words
from kyc_widgets.models import KycCaseCreateInput
from kyc_widgets.text import marker, reveal_html

__all__ = [
    "ATTENTION_STATUSES",
    "DONE_STATUSES",
    "PERSONAL_DATA_FIELDS",
    "RESULT_COLUMNS",
    "STATUSES",
    "STATUS_LABELS",
    "STATUS_MARKS",
    "STATUS_SHORT",
    "UNWRITABLE_CHARACTERS",
    "field_title",
    "html_table",
    "BatchReport",
    "escape_unwritable",
    "neutralise_formulas",
    "readable",
    "write_xlsx",
]

STATUSES: tuple[str, ...] = (
    "created",
    "exists",
    "conflict",
    "invalid",
    "duplicate_in_sheet",
    "failed",
    "outcome_unknown",
    "not_attempted",
    "would_create",
    "exists_differs",
)
"""Every row ends in exactly one of these."""

STATUS_LABELS: dict[str, str] = {
    "created": "Created",
    "exists": "Already existed",
    "conflict": "Exists with different data",
    "invalid": "Invalid: fix the row",
    "duplicate_in_sheet": "Duplicate in sheet (not sent)",
    "failed": "Failed",
    "outcome_unknown": "Outcome unknown: check before re-sending",
    "not_attempted": "Not attempted",
    "would_create": "Would be created (dry run)",
    "exists_differs": "Exists with different data (dry run)",
}
"""Statuses as words, for people (summaries, filters: where there is room for a sentence)."""

STATUS_SHORT: dict[str, str] = {
    "created": "Created",
    "exists": "Exists",
    "conflict": "Conflict",
    "invalid": "Invalid",
    "duplicate_in_sheet": "Duplicate",
    "failed": "Failed",
    "outcome_unknown": "Unknown",
    "not_attempted": "Not sent",
    "would_create": "Would create",
    "exists_differs": "Differs",
}
"""Statuses in one or two words, for table cells (one line each; the long label is the cell's
tooltip)."""

STATUS_MARKS: dict[str, str] = {
    "created": "✓",
    "exists": "✓",
    "conflict": "≠",
    "invalid": "✗",
    "duplicate_in_sheet": "=",
    "failed": "✗",
    "outcome_unknown": "?",
    "not_attempted": "○",
    "would_create": "+",
    "exists_differs": "≠",
}
"""A text marker before each short status: scannable down a column, and not a colour."""

DONE_STATUSES: frozenset[str] = frozenset({"created", "exists"})
"""The case exists on the API: nothing left to do for the row. A resumed run
skips these rows (:mod:`.journal`), and the CLI counts them as landed."""

ATTENTION_STATUSES: tuple[str, ...] = (
    "invalid",
    "failed",
    "outcome_unknown",
    "not_attempted",
    "conflict",
    "exists_differs",
)
"""Rows someone has to look at (fix, re-run or check). Duplicates are not among
them: the case of a duplicate row is the one of its first occurrence."""

PERSONAL_DATA_FIELDS: frozenset[str] = frozenset(
    {
        "legal_first_name",
        "legal_last_name",
        "user_internal_id",
        "assigned_analyst_name",
        "assigned_analyst_email",
    }
)
"""Contract fields that identify a person; exports can leave them out."""

RESULT_COLUMNS: tuple[str, ...] = (
    "source_index",
    "sheet_row",
    "kyc_case_id",
    "status",
    "case_id",
    "http_status",
    "error_code",
    "error_field",
    "error_message",
    "request_id",
    "attempts",
    "note",
)
"""The columns of ``BatchReport.results``, in order: the one list the sender
fills (:mod:`.sending`) and the exports and tables show."""

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_HTML_ROWS = 50

UNWRITABLE_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""What a worksheet cannot hold: the characters XML 1.0 refuses (C0 controls but tab, line
feed and carriage return; lone surrogates; ``U+FFFE`` and ``U+FFFF``)."""


def escape_unwritable(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """``frame`` with :data:`UNWRITABLE_CHARACTERS` written as ``⟨U+000B⟩``, and how many cells changed.

    Headers count as cells. Each text-holding column is searched once with a
    vectorised ``str.contains``; only the cells it finds are rewritten.
    """
    out = frame.copy(deep=False)  # cells are replaced column by column, never changed in place
    headers = [str(c) for c in out.columns]
    escaped_headers = [_escape(h) for h in headers]
    changed = sum(a != b for a, b in zip(headers, escaped_headers))
    if changed:
        out.columns = escaped_headers
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if _never_a_formula(column.dtype):
            continue
        column = column.astype(object)
        try:
            found = column.str.contains(UNWRITABLE_CHARACTERS, na=False).astype(bool)
        except AttributeError:  # the .str accessor refuses a column that holds no text at all
            continue
        if found.any():
            column = column.copy()
            column[found] = column[found].map(_escape)
            out.isetitem(position, column)
            changed += int(found.sum())
    return out, changed


def _escape(text: str) -> str:
    return UNWRITABLE_CHARACTERS.sub(lambda found: marker(found.group()), text)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix cells (and headers) a spreadsheet would run as a formula with ``'``.

    Cells starting with ``=``, ``+``, ``-``, ``@``, tab or CR are the OWASP
    "CSV injection" set: ``=HYPERLINK(...)`` typed into a name column must not
    become a live link in whoever opens the report. Every column that is not
    numeric, boolean or a date is checked, whatever its dtype (``object``,
    ``string``, categorical); its cells become text (``str``) except numbers
    and missing values. Plain numbers (``-100``, ``+2.5``) are left alone.
    """
    out = frame.copy()
    out.columns = [_neutralise(str(c)) for c in out.columns]
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if _never_a_formula(column.dtype):
            continue
        out.isetitem(position, column.astype(object).map(_neutral_cell, na_action="ignore"))
    return out


def _never_a_formula(dtype: Any) -> bool:
    types = pd.api.types
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    return bool(
        types.is_bool_dtype(dtype)
        or types.is_numeric_dtype(dtype)
        or types.is_datetime64_any_dtype(dtype)
        or types.is_timedelta64_dtype(dtype)
    )


def _neutral_cell(value: Any) -> Any:
    if type(value) is str:  # most cells: skip the slower abstract Number check
        return _neutralise(value)
    if isinstance(value, numbers.Number):
        return value
    return _neutralise(str(value))


def _neutralise(value: str) -> str:
    if value.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def mapping_frame(mapping: Any) -> pd.DataFrame:
    """A mapping as rows (what, sheet, field, value) for the report's ``mapping`` sheet."""
    rows: list[tuple[str, str, str, str]] = [
        ("mapping", "", "", mapping.describe()),
    ]
    rows += [("column", header, name or "(ignored)", "") for header, name in mapping.columns.items()]
    rows += [("constant", "", name, value) for name, value in mapping.constants.items()]
    rows += [
        ("value", sheet_value, name, api_value)
        for name, table in mapping.values.items()
        for sheet_value, api_value in table.items()
    ]
    return neutralise_formulas(pd.DataFrame(rows, columns=["what", "sheet", "field", "value"]))

def field_title(name: Any) -> Any:
    """A contract field's title ("Assigned analyst e-mail"); other values pass through."""
    if isinstance(name, str) and name in KycCaseCreateInput.model_fields:
        return KycCaseCreateInput.model_fields[name].title or words(name)
    return name


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Report columns (any of :data:`RESULT_COLUMNS`) for people: short statuses, fields by
    their titles, headers as words, empty cells blank, and only the columns that hold
    something for these rows. The widget's preview and the report's tables read the same.

    Meant for the rows shown (a page), not a whole 100k-row report: it copies them.
    """
    shown = frame.copy()
    if "status" in shown.columns:
        shown["status"] = shown["status"].map(STATUS_SHORT).fillna(shown["status"])
    if "error_field" in shown.columns:
        shown["error_field"] = shown["error_field"].map(field_title)
    if "attempts" in shown.columns and "status" in frame.columns:
        never_sent = frame["status"].isin(("invalid", "duplicate_in_sheet"))
        shown["attempts"] = shown["attempts"].astype(object).where(~never_sent)
    shown = shown.astype(object).where(shown.notna(), "")
    keep = [
        c for c in shown.columns
        if c in ("sheet_row", "status") or (shown[c].astype(str).str.strip() != "").any()
    ]
    return shown[keep].rename(columns=words)


_STATUS_BY_SHORT = {short: status for status, short in STATUS_SHORT.items()}
_NO_WRAP = frozenset(
    words(c)
    for c in ("sheet_row", "status", "kyc_case_id", "case_id", "http_status", "error_code",
              "request_id", "attempts")
)
_TABLE_STYLE = (
    "<style>"
    ".kyc-table{border-collapse:collapse;margin:4px 0}"
    ".kyc-table th,.kyc-table td{text-align:left;vertical-align:top;padding:2px 10px 2px 0}"
    ".kyc-table th{border-bottom:1px solid var(--jp-border-color1,#bdbdbd)}"
    ".kyc-table .kyc-nowrap{white-space:nowrap}"
    ".kyc-table .kyc-wrap{white-space:normal;min-width:14em;max-width:36em}"
    "</style>"
)


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
    head = "".join(f'<th scope="col" class="{k}">{reveal_html(c)}</th>' for c, k in zip(columns, classes))
    body: list[str] = []
    for values in frame.itertuples(index=False, name=None):
        cells = []
        for position, value in enumerate(values):
            text = reveal_html(value)
            status = _STATUS_BY_SHORT.get(str(value)) if position == status_at else None
            if status is not None:
                cells.append(
                    f'<td class="kyc-nowrap" data-status="{status}" '
                    f'title="{html.escape(STATUS_LABELS[status])}">'
                    f'<span aria-hidden="true">{STATUS_MARKS[status]}</span> {text}</td>'
                )
            else:
                cells.append(f'<td class="{classes[position]}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'{_TABLE_STYLE}<table class="kyc-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def write_xlsx(
    frame: pd.DataFrame,
    path: str | Path | Any,
    *,
    sheet_name: str,
    more_sheets: Mapping[str, pd.DataFrame] | None = None,
) -> int:
    """Write ``frame`` (header row, then one row per record, no index) as an XLSX sheet,
    followed by ``more_sheets`` (sheet name -> frame) written the same way.

    xlsxwriter, driven row by row, writes a sheet several times faster than
    ``DataFrame.to_excel`` does. Text is always stored as a text cell: with
    ``strings_to_formulas``, ``strings_to_urls`` and ``strings_to_numbers``
    off, a string starting with ``=`` (or ``{=``) is not a formula, a URL is
    not a live link and ``"1e5"`` stays text. Missing values are empty
    cells, numbers and booleans keep their type, dates are shown as dates.

    Characters a worksheet cannot hold (:data:`UNWRITABLE_CHARACTERS`) are
    written as ``⟨U+000B⟩`` escapes in every sheet, headers included
    (:func:`escape_unwritable`); returns how many cells were changed that way.
    """
    import xlsxwriter  # imported here: only writing a workbook needs it
    import xlsxwriter.exceptions

    sheets = {sheet_name: frame, **(more_sheets or {})}
    escaped = 0
    for name, each in sheets.items():
        sheets[name], changed = escape_unwritable(each)
        escaped += changed
    for rows, columns in (each.shape for each in sheets.values()):
        if rows + 1 > _XLSX_MAX_ROWS or columns > _XLSX_MAX_COLUMNS:
            raise ValueError(
                f"A sheet of {rows} rows and {columns} columns does not fit in one XLSX "
                f"worksheet ({_XLSX_MAX_ROWS - 1} rows, {_XLSX_MAX_COLUMNS} columns); write CSV."
            )
    options = {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "nan_inf_to_errors": True,
        "default_date_format": "yyyy-mm-dd hh:mm:ss",
        "in_memory": True,  # no temporary files (of personal data) in the temp folder
    }
    target = str(path) if isinstance(path, (str, os.PathLike)) else path
    try:
        with xlsxwriter.Workbook(target, options) as book:
            book.use_zip64()  # a large sheet must not fail on the ZIP's 4 GB limit
            for name, each in sheets.items():
                sheet = book.add_worksheet(name)
                for column, header in enumerate(each.columns):
                    sheet.write_string(0, column, str(header))
                values = each.astype(object).where(each.notna(), None)
                for row, record in enumerate(values.itertuples(index=False, name=None), start=1):
                    sheet.write_row(row, 0, record)
    except xlsxwriter.exceptions.FileCreateError as exc:
        # The OSError itself (disk full, no permission), as any other file write raises it.
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else None
        raise (cause or OSError(str(exc))) from exc
    return escaped


_XLSX_MAX_ROWS = 1_048_576
_XLSX_MAX_COLUMNS = 16_384


@dataclass
class BatchReport:
    """What happened to every row of a batch (see :data:`STATUSES`).

    ``results`` is indexed like the input frame (labels, never positions), with
    :data:`RESULT_COLUMNS`. ``summary()`` returns a ``dict`` of counts for
    every status, zeros included, in :data:`STATUSES` order (a dict so that
    scripts can write ``report.summary()["created"]`` without a KeyError).
    """

    results: pd.DataFrame
    source: pd.DataFrame
    column_map: dict[str, str] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    campaign: str | None = None
    dry_run: bool = False
    stopped_reason: str | None = None
    """``"cancelled"``, ``"authentication"``, ``"permission"`` or ``"journal"`` when the batch
    stopped early."""
    elapsed: float = 0.0
    warnings: list[str] = field(default_factory=list)
    api_base_url: str | None = None
    """The API the batch spoke to (no credentials), for the evidence record."""
    principals: list[str] = field(default_factory=list)
    """Who the API said the caller was, across the runs merged into this report."""
    options: dict[str, Any] = field(default_factory=dict)
    """The batch's options (dry run, conflicts, concurrency, ...) for the evidence record."""
    runs: list[dict[str, Any]] = field(default_factory=list)
    """One ``{"started_at", "finished_at", "principals", "rows_sent"}`` per run (UTC, ISO 8601)."""
    fixes: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Corrections accepted by :meth:`apply_fixes`, by sheet row (:mod:`.fixes`)."""
    mapping: Any = None
    """The :class:`~.mapping.CampaignMapping` the sheet was read with, if any
    (``mapping.describe()`` names its file and fingerprint)."""

    # -- counting ----------------------------------------------------------------

    def summary(self) -> dict[str, int]:
        """Rows per status, every status present (zeros included), in :data:`STATUSES` order."""
        counted = self.results["status"].value_counts()
        return {status: int(counted.get(status, 0)) for status in STATUSES}

    @property
    def attention_count(self) -> int:
        """How many rows are in an :data:`ATTENTION_STATUSES` status."""
        return int(self.results["status"].isin(ATTENTION_STATUSES).sum())

    @property
    def ok(self) -> bool:
        """True when no row needs attention (the CLI's exit code 0)."""
        return self.attention_count == 0

    @property
    def interrupted(self) -> bool:
        return self.stopped_reason is not None

    # -- rows to fix -----------------------------------------------------------

    def failed_rows(self) -> pd.DataFrame:
        """The input rows to fix and re-run, with their external id filled in.

        Rows that may have reached the API (failed, outcome unknown, not
        attempted, conflict) get the ``kyc_case_id`` the batch used, so that a
        retry of just these rows cannot create a second case even if the
        campaign name or the file changes. Invalid rows keep their own id (or
        none): they were never sent, and after a fix their derived id should be
        derived again from the corrected values.
        """
        mask = self.results["status"].isin(ATTENTION_STATUSES)
        rows = self.source.loc[mask[mask].index].copy()
        id_column = self._source_id_column()
        sent_like = self.results.loc[rows.index, "status"] != "invalid"
        ids = self.results.loc[rows.index, "kyc_case_id"]
        if id_column is None:
            id_column = "kyc_case_id"
            rows[id_column] = pd.Series(pd.NA, index=rows.index, dtype=object)
        else:
            rows[id_column] = rows[id_column].astype(object)
        rows.loc[sent_like[sent_like].index, id_column] = ids[sent_like]
        if self.fixes:  # rows fixed in the notebook are retried with their corrected values
            from .fixes import with_fixes

            rows = with_fixes(self, rows)
        return rows

    def needs_attention(self) -> pd.DataFrame:
        """The rows the API never stored and that can be fixed here, with their errors.

        See :func:`.fixes.needs_attention`: ``invalid`` rows (pre-flight or a
        400 from the API), indexed by sheet row.
        """
        from .fixes import needs_attention

        return needs_attention(self)

    def apply_fixes(self, fixes: dict[int, dict[str, Any]]) -> pd.DataFrame:
        """Corrected, validated input rows for ``batch_create`` (see :func:`.fixes.apply_fixes`)."""
        from .fixes import apply_fixes

        return apply_fixes(self, fixes)

    def corrected_sheet(self) -> pd.DataFrame:
        """The whole input with the accepted fixes, under the sheet's own headers."""
        from .fixes import corrected_sheet

        return corrected_sheet(self)

    def merge(self, other: BatchReport) -> None:
        """Take the outcomes of a later run of some of these rows (see :func:`.fixes.merge`)."""
        from .fixes import merge

        merge(self, other)

    def evidence(self, *, sheet: str | Path | None = None) -> dict[str, Any]:
        """The campaign's hash-chained evidence record (see :mod:`.evidence`)."""
        from .evidence import build_evidence

        return build_evidence(self, sheet=sheet)

    def to_evidence(self, path: str | Path, *, sheet: str | Path | None = None) -> Path:
        """Write :meth:`evidence` as JSON to ``path`` and a one-page HTML summary beside it.

        Returns the path of the HTML summary.
        """
        from .evidence import write_evidence

        return write_evidence(self.evidence(sheet=sheet), path)

    def _source_id_column(self) -> str | None:
        for header, name in self.column_map.items():
            if name == "kyc_case_id":
                return header
        return None

    # -- exports -----------------------------------------------------------------

    def to_frame(self, *, include_personal_data: bool = True) -> pd.DataFrame:
        """The report joined with the input (on the index), as people read it.

        With ``include_personal_data=False``, the personal contract columns
        (:data:`PERSONAL_DATA_FIELDS`) *and every column the batch did not
        recognise* are left out: an unknown column may hold anything.
        ``kyc_case_id`` always stays: a re-run or a retry of the failed rows
        needs it to create nothing twice. It is pseudonymous, not anonymous (a
        derived id can be recomputed from candidate user ids), so such an
        export is personal-data-*derived* and must not be published.
        """
        report = self.results.drop(columns=["source_index"])
        source_id = self._source_id_column()
        keep = []
        for header in self.source.columns:
            name = self.column_map.get(header)
            if header == source_id:
                continue  # the report's kyc_case_id (given or derived) replaces it
            if not include_personal_data and (name is None or name in PERSONAL_DATA_FIELDS):
                continue
            keep.append(header)
        data = self.source[keep]
        clash = [c for c in data.columns if c in report.columns]
        data = data.rename(columns={c: f"input_{c}" for c in clash})
        return report.join(data, how="left")

    def export_frame(self, *, include_personal_data: bool = True) -> pd.DataFrame:
        """:meth:`to_frame` ready to write: unwritable characters escaped, formulas neutralised."""
        return self._export(include_personal_data)[0]

    def _export(self, include_personal_data: bool) -> tuple[pd.DataFrame, int]:
        # Neutralise first: it turns every odd cell into text, which the escape then sees.
        # An escape starts with "⟨", so it can never make a cell look like a formula.
        return escape_unwritable(
            neutralise_formulas(self.to_frame(include_personal_data=include_personal_data))
        )

    def to_csv(self, path: str | Path | Any, *, include_personal_data: bool = True) -> int:
        """Write the report joined with the input as UTF-8 CSV (with BOM, so Excel reads accents).

        ``include_personal_data=False`` leaves out the columns listed in
        :meth:`to_frame` but keeps ``kyc_case_id`` (pseudonymous; see there).
        Returns how many cells held characters a worksheet cannot store and
        were written as ``⟨U+000B⟩`` escapes (see the module docstring).
        """
        frame, escaped = self._export(include_personal_data)
        frame.to_csv(path, index=False, encoding="utf-8-sig")
        return escaped

    def to_csv_string(self, *, include_personal_data: bool = True) -> str:
        """:meth:`to_csv` into a string (for a download link); the same escapes apply."""
        frame = self.export_frame(include_personal_data=include_personal_data)
        return str(frame.to_csv(index=False))

    def to_excel(
        self,
        path: str | Path | Any,
        *,
        include_personal_data: bool = True,
        sheet_name: str = "report",
    ) -> int:
        """Write the report joined with the input as XLSX; every text cell is stored as text.

        See :func:`write_xlsx`: no text is ever stored as a formula or a link. Returns
        how many cells (in the report and the mapping sheet) were written with
        ``⟨U+000B⟩`` escapes, as :meth:`to_csv` does.
        """
        frame = neutralise_formulas(self.to_frame(include_personal_data=include_personal_data))
        more = {"mapping": mapping_frame(self.mapping)} if self.mapping is not None else None
        return write_xlsx(frame, path, sheet_name=sheet_name, more_sheets=more)

    # -- display -------------------------------------------------------------------

    def readable(self, status: str | None = None, *, limit: int | None = None) -> pd.DataFrame:
        """The results for people: statuses as words, empty cells blank, optional status filter."""
        frame = self.results
        if status is not None:
            frame = frame[frame["status"] == status]
        if limit is not None:
            frame = frame.head(limit)
        return readable(frame.drop(columns=["source_index"]))

    def summary_text(self) -> str:
        """One line per non-zero status, e.g. ``Created: 120``."""
        lines = [
            f"{STATUS_LABELS[status]}: {count}" for status, count in self.summary().items() if count
        ]
        if self.stopped_reason:
            lines.append(f"Stopped early: {_STOP_WORDS.get(self.stopped_reason, self.stopped_reason)}")
        if self.mapping is not None:
            lines.append(f"Mapping: {self.mapping.describe()}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.summary().items() if v)
        stopped = f", stopped_reason={self.stopped_reason!r}" if self.stopped_reason else ""
        return f"BatchReport(rows={len(self.results)}, {counts}{stopped})"

    def _repr_html_(self) -> str:
        counts = [(STATUS_LABELS[s], n) for s, n in self.summary().items() if n]
        rows = "".join(
            f"<tr><td>{html.escape(label)}</td><td style='text-align:right'>{n}</td></tr>"
            for label, n in counts
        )
        title = "Dry run" if self.dry_run else "Batch report"
        parts = [
            f"<div class='kyc-batch-report'><h4>{title}: {len(self.results)} rows</h4>",
            f"<table><thead><tr><th>Status</th><th>Rows</th></tr></thead><tbody>{rows}</tbody></table>",
        ]
        if self.stopped_reason:
            parts.append(
                "<p><strong>Stopped early:</strong> "
                f"{html.escape(_STOP_WORDS.get(self.stopped_reason, self.stopped_reason))}</p>"
            )
        if self.unknown_columns:
            parts.append("<p>Ignored columns: " + reveal_html(", ".join(self.unknown_columns)) + "</p>")
        shown = self.readable(limit=_HTML_ROWS)
        more = len(self.results) - len(shown)
        parts.append(html_table(shown))
        if more > 0:
            parts.append(f"<p>... and {more} more rows (see <code>report.results</code>).</p>")
        parts.append("</div>")
        return "".join(parts)


_STOP_WORDS = {
    "cancelled": "cancelled by the user; unsent rows are 'not attempted'",
    "authentication": "the API rejected the token (401); sign in again and re-run",
    "permission": "the API refused access (403); unsent rows are 'not attempted'",
    "journal": "the journal could not be written (disk full?); unsent rows are 'not attempted'",
}
