"""The outcome of a batch, as people use it: :class:`BatchReport`.

The data is :class:`~.results.CampaignResults` (statuses, ids, problems,
values; read its docstring for what is personal data). This class adds what
one does with it: list the rows to fix or re-run (:meth:`BatchReport.failed_rows`,
:meth:`BatchReport.needs_attention`), fix them in place (:mod:`.fixes`),
write the report for people (:meth:`BatchReport.to_csv`,
:meth:`BatchReport.to_excel`: :mod:`.exports` keeps them safe to open) and
the evidence record (:mod:`.evidence`). The exports join the results with the
input on the index and can leave the personal columns out, but they always
keep ``kyc_case_id``, because that id is what makes a re-run from the report
create nothing twice.

Drawing a report in a notebook is a view: :mod:`kyc_widgets.widgets.report_html`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import evidence as _evidence
from . import fixes as _fixes
from .exports import (
    UNWRITABLE_CHARACTERS,
    csv_text,
    escape_unwritable,
    mapping_frame,
    neutralise_formulas,
    write_csv,
    write_xlsx,
)
from .fields import PERSONAL_DATA_FIELDS, field_title
from .results import RESULT_COLUMNS, CampaignResults

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .status import (
    ATTENTION_STATUSES,
    DONE_STATUSES,
    NEVER_SENT_STATUSES,
    STATUS_LABELS,
    STATUS_MARKS,
    STATUS_SHORT,
    STATUSES,
)
from .stop import stop_words

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
    "BatchReport",
    "escape_unwritable",
    "field_title",
    "mapping_frame",
    "neutralise_formulas",
    "write_xlsx",
]
# The status tables, field titles and export helpers are re-exported for scripts written
# against this module; their homes are .status, .fields and .exports.


@dataclass
class BatchReport(CampaignResults):
    """What happened to every row of a batch, and what to do next (see the module docstring).

    ``summary()`` returns a ``dict`` of counts for every status, zeros
    included, in :data:`~.status.STATUSES` order (a dict so that scripts can
    write ``report.summary()["created"]`` without a KeyError).
    """

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
        # never sent (refused, or held back with another customer's id): derived again after a fix
        sent_like = ~self.results.loc[rows.index, "status"].isin(NEVER_SENT_STATUSES)
        ids = self.results.loc[rows.index, "kyc_case_id"]
        if id_column is None:
            id_column = "kyc_case_id"
            rows[id_column] = pd.Series(pd.NA, index=rows.index, dtype=object)
        else:
            rows[id_column] = rows[id_column].astype(object)
        rows.loc[sent_like[sent_like].index, id_column] = ids[sent_like]
        if self.fixes:  # rows fixed in the notebook are retried with their corrected values
            rows = _fixes.with_fixes(self, rows)
        return rows

    def needs_attention(self) -> pd.DataFrame:
        """The rows the API never stored and that can be fixed here, with their errors.

        See :func:`.fixes.needs_attention`: ``invalid`` rows (pre-flight or a
        400 from the API), indexed by sheet row.
        """
        return _fixes.needs_attention(self)

    def apply_fixes(self, changes: dict[int, dict[str, Any]]) -> pd.DataFrame:
        """Corrected, validated input rows for ``batch_create`` (see :func:`.fixes.apply_fixes`)."""
        return _fixes.apply_fixes(self, changes)

    def corrected_sheet(self) -> pd.DataFrame:
        """The whole input with the accepted fixes, under the sheet's own headers.

        A table, not a file: write it with :func:`~.exports.write_csv` (or
        :func:`~.exports.write_xlsx`), which neutralise formulas and quote line
        breaks, never with ``DataFrame.to_csv``; for a download with the sheet's
        own layout, :func:`~.takeaway.corrected_sheet_file`.
        """
        return _fixes.corrected_sheet(self)

    def merge(self, other: BatchReport) -> None:
        """Take the outcomes of a later run of some of these rows (see :func:`.fixes.merge`)."""
        _fixes.merge(self, other)

    def evidence(self, *, sheet: str | Path | None = None) -> dict[str, Any]:
        """The campaign's hash-chained evidence record (see :mod:`.evidence`)."""
        return _evidence.build_evidence(self, sheet=sheet)

    def to_evidence(
        self,
        path: str | Path,
        *,
        sheet: str | Path | None = None,
        signing_key: Ed25519PrivateKey | None = None,
    ) -> Path:
        """Write :meth:`evidence` as JSON to ``path`` and a one-page HTML summary beside it.

        ``signing_key`` (:func:`~.signing.load_signing_key`) signs the chain's
        head, so a rewritten record is caught with the public key alone.
        Written as its entries are made (:func:`~.evidence.write_report_evidence`),
        never whole in memory. Returns the path of the HTML summary.
        """
        written = _evidence.write_report_evidence(self, path, sheet=sheet, signing_key=signing_key)
        return written.summary

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
        source = self.source
        if self.fixes:
            report = report.assign(fixed_in_app=self._fixed_in_app())
            # The fixed rows that were sent show the values the API holds now, not the
            # sheet's refused ones; a fix not sent yet leaves its row as the sheet has it.
            source = _fixes.with_fixes(self, source, sent_only=True)
        source_id = self._source_id_column()
        keep = []
        for header in source.columns:
            name = self.column_map.get(header)
            if header == source_id:
                continue  # the report's kyc_case_id (given or derived) replaces it
            if not include_personal_data and (name is None or name in PERSONAL_DATA_FIELDS):
                continue
            keep.append(header)
        data = source[keep]
        clash = [c for c in data.columns if c in report.columns]
        data = data.rename(columns={c: f"input_{c}" for c in clash})
        return report.join(data, how="left")

    def _fixed_in_app(self) -> pd.Series:
        """The ``fixed_in_app`` column: the titles of the fields a fix changed (never values),
        "(not sent yet)" for a fix saved but not sent."""
        sent = {int(entry["sheet_row"]) for entry in self.fix_log}
        words: dict[int, str] = {}
        for row in self.fixes:
            titles = ", ".join(str(field_title(n)) for n in self.fixed_fields.get(row, []))
            words[row] = (titles or "no field changed") + ("" if row in sent else " (not sent yet)")
        return self.results["sheet_row"].map(lambda r: words.get(int(r))).astype(object)

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
        return write_csv(self.to_frame(include_personal_data=include_personal_data), path)

    def to_csv_string(self, *, include_personal_data: bool = True) -> str:
        """:meth:`to_csv` into a string (for a download link); the same escapes apply."""
        return csv_text(self.to_frame(include_personal_data=include_personal_data))[0]

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

    # -- for people --------------------------------------------------------------

    def summary_text(self) -> str:
        """One line per non-zero status, e.g. ``Created: 120``."""
        lines = [
            f"{status.label}: {count}" for status, count in self.summary().items() if count
        ]
        if self.stopped_reason:
            lines.append(f"Stopped early: {stop_words(self.stopped_reason)}")
        if self.mapping is not None:
            lines.append(f"Mapping: {self.mapping.describe()}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.summary().items() if v)
        stopped = f", stopped_reason={self.stopped_reason!r}" if self.stopped_reason else ""
        return f"BatchReport(rows={len(self.results)}, {counts}{stopped})"
