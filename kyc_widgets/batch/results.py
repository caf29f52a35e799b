"""What a campaign run produced, as data: :class:`CampaignResults`, the base of the report.

Why apart from :mod:`.report`: fixing rows (:mod:`.fixes`) and the evidence
record (:mod:`.evidence`) read and update a run's results, and the report's
own methods call them. With the data here and the methods there, the imports
run one way (report -> fixes, evidence -> results), with no cycle between them.

``results`` holds statuses (:class:`~.status.RowStatus`), ids, HTTP facts and
messages that name fields, never cell values: no names, e-mails or user ids.
Its ``kyc_case_id`` column is not anonymous, though: a given id may be the
provider's own reference, and a derived one (``CMP-<campaign>-<hash>``) can be
recomputed from the campaign name and a list of candidate user ids (see
:mod:`.identity`). Treat it as pseudonymous personal data. The personal data
stays in the input frame (``source``) and in ``values`` (what was validated
and sent), and in ``problems``' ``value`` column (what was refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .problems import empty_problems
from .status import ATTENTION_STATUSES, STATUSES, RowStatus

if TYPE_CHECKING:
    from .validation import SheetValues

__all__ = ["NO_COUNT", "REPORT_TEXT", "RESULT_COLUMNS", "CampaignResults", "results_frame"]

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
"""The columns of ``results``, in order: the one list the sender fills
(:mod:`.sending`) and the exports and tables show."""

_INTEGER_COLUMNS = ("http_status", "attempts")

NO_COUNT = -1
"""What the sender's integer columns (``http_status``, ``attempts``) hold where a row has
none: they are small numpy integers while a run sends, nullable ``Int64`` in the report."""

_TEXT_COLUMNS = ("case_id", "request_id")
"""The ids every answered row brings: :data:`REPORT_TEXT` in the report."""


def _report_text() -> pd.StringDtype:
    """Arrow text whose missing value is NaN, by the name this pandas gives it."""
    try:  # pandas >= 2.3 (pandas 3's default ``str``)
        return pd.StringDtype("pyarrow", na_value=np.nan)
    except TypeError:  # pandas 2.2: the same array under its older name
        return pd.StringDtype("pyarrow_numpy")


REPORT_TEXT: pd.StringDtype = _report_text()
"""The dtype of the report's ``case_id`` and ``request_id``: Arrow text, so a million ids are
two buffers instead of a million Python strings. Missing is ``NaN``, not ``pd.NA``:
``"x" in results["case_id"].tolist()`` works (``pd.NA`` refuses to be compared in ``in``),
and pandas 3 infers this dtype for a column of text anyway (its default ``str``)."""

_STATUS_DTYPE = pd.CategoricalDtype(pd.Index(list(STATUSES), dtype=object))
"""The report's statuses: object categories, so each is a :class:`~.status.RowStatus` member
(pandas 3 with pyarrow would read RowStatus, a str enum, as Arrow text); every status a
category, so a merged fix may set any."""


def results_frame(
    index: pd.Index, sheet_row: pd.Series, kyc_case_id: pd.Series, data: dict[str, Any]
) -> pd.DataFrame:
    """The ``results`` table, compactly: a million rows must not be a Python object per cell.

    ``data`` holds the columns the sender filled by position
    (:meth:`~.run.ResultColumns.for_report`): ``status`` as ``int8`` codes into
    :data:`~.status.STATUSES`, which become a categorical of
    :class:`~.status.RowStatus` members; ``http_status`` and ``attempts`` as
    numpy integers, :data:`NO_COUNT` where none, which become nullable
    ``Int64``; ``case_id`` and ``request_id`` as text arrays already
    (:data:`REPORT_TEXT`; objects, NaN where missing, in the rare column
    holding an id that is not UTF-8), kept as they are; codes, messages and notes as
    object arrays, ``None`` where empty. ``kyc_case_id`` is the pre-flight's
    compact column (:mod:`.columns`) as it is (never missing in a report: a row
    without one stops the batch first).
    """
    columns: dict[str, Any] = {
        "source_index": index.to_numpy() if pd.api.types.is_integer_dtype(index.dtype)
        else index.to_numpy(dtype=object),
        "sheet_row": sheet_row.to_numpy(),
        # (the Categorical itself: its to_numpy() would be a Python string per row)
        "kyc_case_id": kyc_case_id.array if isinstance(kyc_case_id.dtype, pd.CategoricalDtype)
        else kyc_case_id.to_numpy(dtype=object),
        "status": pd.Categorical.from_codes(data["status"], dtype=_STATUS_DTYPE),
    }
    for name in RESULT_COLUMNS:
        if name in columns:
            continue
        if name in _INTEGER_COLUMNS:
            counts = np.asarray(data[name])
            columns[name] = pd.arrays.IntegerArray(counts.astype(np.int64), counts == NO_COUNT)
        elif isinstance(data[name], np.ndarray) and name in _TEXT_COLUMNS:
            # (an id that is not UTF-8 kept it from being Arrow text: pandas 3 would try)
            columns[name] = pd.Series(data[name], index=index, dtype=object, copy=False)
        else:
            columns[name] = data[name]
    # the sender's arrays as they are, a block each: a copy would double them for a moment
    series = {name: pd.Series(columns[name], index=index, copy=False) for name in RESULT_COLUMNS}
    return pd.concat(series, axis=1)  # (pandas 3 copies lazily, never here)


@dataclass
class CampaignResults:
    """What happened to every row of a batch (see :class:`~.status.RowStatus`).

    ``results`` is indexed like the input frame (labels, never positions), with
    :data:`RESULT_COLUMNS`. ``problems`` is the table of every failing (row,
    field) (:mod:`.problems`), pre-flight and API refusals alike; ``values``
    the validated values of the rows, by field (what was sent, or would be).
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
    """The batch's options (:meth:`~.options.BatchOptions.record`) for the evidence record."""
    runs: list[dict[str, Any]] = field(default_factory=list)
    """One ``{"started_at", "finished_at", "principals", "rows_sent"}`` per run (UTC, ISO 8601)."""
    fixes: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Corrections accepted by :meth:`~.report.BatchReport.apply_fixes`, by sheet row."""
    fixed_fields: dict[int, list[str]] = field(default_factory=dict)
    """By sheet row, the fields an accepted fix changed (names only: what the report's
    "fixed in the app" column and the evidence record say, never the values)."""
    fixed_ids: dict[int, Any] = field(default_factory=dict)
    """By sheet row, the external id an accepted fix gives the row (given or derived again):
    another fix must not take it, and a row that shared it may be sent again."""
    fix_log: list[dict[str, Any]] = field(default_factory=list)
    """One ``{"sheet_row", "fields", "at", "by"}`` per fixed row that was sent: which fields
    changed, when the fix run started (UTC) and the principal(s) the API answered with."""
    mapping: Any = None
    """The :class:`~.mapping.CampaignMapping` the sheet was read with, if any
    (``mapping.describe()`` names its file and fingerprint)."""
    problems: pd.DataFrame = field(default_factory=empty_problems)
    """One row per failing (row, field): see :mod:`.problems`."""
    sheet_values: SheetValues | None = None
    """Where the validated values come from: the pre-flight's (:attr:`values`)."""
    plan: dict[str, Any] | None = None
    """The approved plan the run sent (:mod:`.plan_file`): its hash, maker, checker and
    times, for the evidence record's ``plan`` section; None without a plan."""

    @property
    def values(self) -> pd.DataFrame | None:
        """The validated value of every field, by row (the pre-flight's ``values``): made from
        the sheet when first asked for, then kept (:class:`~.validation.SheetValues`)."""
        return self.sheet_values.whole() if self.sheet_values is not None else None

    def values_of(self, labels: pd.Index) -> pd.DataFrame | None:
        """The validated values of the rows ``labels`` only (a chunk of the evidence record)."""
        return self.sheet_values.frame(labels) if self.sheet_values is not None else None

    def summary(self) -> dict[RowStatus, int]:
        """Rows per status, every status present (zeros included), in :data:`~.status.STATUSES` order.

        A dict keyed by :class:`~.status.RowStatus`, a ``str`` enum, so
        ``report.summary()["created"]`` works too.
        """
        counted = self.results["status"].value_counts()
        return {status: int(counted.get(status, 0)) for status in STATUSES}

    @property
    def attention_count(self) -> int:
        """How many rows need attention (:attr:`~.status.StatusFacts.needs_attention`)."""
        return int(self.results["status"].isin(ATTENTION_STATUSES).sum())

    @property
    def ok(self) -> bool:
        """True when no row needs attention (the CLI's exit code 0)."""
        return self.attention_count == 0

    @property
    def interrupted(self) -> bool:
        return self.stopped_reason is not None
