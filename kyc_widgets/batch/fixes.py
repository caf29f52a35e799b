"""Fixing a campaign's problem rows in place, instead of editing the sheet and starting over.

Only rows the API never stored can be fixed here: ``invalid`` ones, whether
the pre-flight refused them or the API did (a 400 is reported ``invalid``
too, :mod:`.outcomes`). A row that was sent (created, exists, failed,
outcome unknown, ...) cannot: its outcome on the API is what the report says,
and sending it again with other values would not be the same case.

:func:`apply_fixes` returns the corrected rows, validated and ready for
``batch_create``: indexed by their sheet row (so the new report points at the
rows people see) and carrying the campaign's stable external ids, derived
from the *corrected* values exactly as a re-run of the corrected sheet
derives them, so that re-run creates nothing twice. The accepted fixes are
kept on the report (``report.fixes``), so :func:`corrected_sheet` can give
back the whole input, under the sheet's own headers, to write to the source,
and :func:`merge` folds the outcome of sending them into the same report.

With a column mapping (:mod:`.mapping`), fixes are still in API field
terms: a form shows a row's values as the mapping reads them (value maps
applied, campaign constants filled in), a fixed value is written under the
header the mapping reads that field from, and the corrected rows are checked
with the same mapping. A campaign constant is the same for every row, so a
fix cannot change it for one row (change the mapping instead).

Errors and fixes name fields and sheet rows, never values.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import TYPE_CHECKING, Any

import pandas as pd

from kyc_widgets.models import DEFAULT_CREATE_STATUS, KycCaseCreateInput

from .preflight import FIELDS, INVALID, preflight
from .reading import SHEET_ROW_INDEX_NAME
from .synonyms import phrase

if TYPE_CHECKING:
    from .mapping import ColumnPlan
    from .report import BatchReport

__all__ = [
    "FIXABLE_STATUSES",
    "FixError",
    "apply_fixes",
    "corrected_sheet",
    "merge",
    "needs_attention",
    "row_errors",
    "row_values",
    "with_fixes",
]

FIXABLE_STATUSES: frozenset[str] = frozenset({INVALID})
"""Statuses of rows the API never stored (pre-flight refusals and 400s both end ``invalid``)."""

FIELD_TITLES = {info.title or name: name for name, info in KycCaseCreateInput.model_fields.items()}
_ENUMS: dict[str, type[Enum]] = {
    name: info.annotation
    for name, info in KycCaseCreateInput.model_fields.items()
    if isinstance(info.annotation, type) and issubclass(info.annotation, Enum)
}
ENUM_SEPARATORS = re.compile(r"[\s\-]+")
_DEFAULT_STATUS = DEFAULT_CREATE_STATUS.value
_MERGED_COLUMNS = ("kyc_case_id", "status", "case_id", "http_status", "error_code", "error_field",
                   "error_message", "request_id", "attempts", "note")


class FixError(ValueError):
    """Fixes that cannot be accepted; ``errors`` maps sheet row -> ``[(field, message), ...]``."""

    def __init__(self, message: str, errors: dict[int, list[tuple[str | None, str]]] | None = None):
        self.errors = dict(errors or {})
        super().__init__(message)


def needs_attention(report: BatchReport) -> pd.DataFrame:
    """The fixable rows, indexed by sheet row: status, error field(s), message, fixed?, input."""
    results = report.results
    mask = results["status"].isin(FIXABLE_STATUSES)
    rows = results.loc[mask, ["sheet_row", "status", "error_field", "error_message"]].copy()
    rows["fixed"] = rows["sheet_row"].map(lambda n: int(n) in report.fixes).astype(bool)
    source = report.source.loc[rows.index]
    clash = {c: f"input_{c}" for c in source.columns if c in rows.columns}
    out = rows.join(source.rename(columns=clash))
    return out.set_index("sheet_row").rename_axis(SHEET_ROW_INDEX_NAME)


def _label(report: BatchReport, sheet_row: int) -> Any:
    found = report.results.index[report.results["sheet_row"] == int(sheet_row)]
    if len(found) != 1:
        raise KeyError(f"no sheet row {sheet_row} in this report")
    return found[0]


def _header(report: BatchReport, name: str) -> str:
    for header, field_name in report.column_map.items():
        if field_name == name:
            return str(header)
    return name


def _mapping_plan(report: BatchReport) -> ColumnPlan | None:
    """How the report's mapping read the sheet (value maps, constants), or None without one."""
    mapping = report.mapping
    return None if mapping is None else mapping.plan(report.source.columns)


def row_values(report: BatchReport, sheet_row: int) -> dict[str, Any]:
    """The row's values by field name, as a form should show them (accepted fix included).

    Text is stripped; a mapping's value maps and campaign constants are
    applied as the pre-flight applies them; a choice is its canonical member,
    or ``None`` when the sheet's spelling is not one (the form then asks for it).
    """
    label = _label(report, sheet_row)
    source = report.source.loc[label]
    plan = _mapping_plan(report)
    values: dict[str, Any] = {
        name: _reads_as(plan, name, source[header]) for header, name in report.column_map.items()
    }
    if plan is not None:
        values.update(plan.constants)
    status = _header(report, "current_status")
    if status not in source.index or _reads_as(None, "", source[status]) is None:
        values["current_status"] = DEFAULT_CREATE_STATUS.value  # empty or absent: the pre-flight's
    values.update(report.fixes.get(int(sheet_row), {}))
    for name in _ENUMS:  # a fix given in Python may spell a choice loosely
        if isinstance(values.get(name), str):
            values[name] = _reads_as(None, name, values[name])
    return values


def _reads_as(plan: ColumnPlan | None, name: str, cell: Any) -> str | None:
    """A cell's value as the pre-flight reads it: stripped, through the mapping's value map,
    a choice as its canonical member (``None`` when the spelling is not one)."""
    text = None if pd.isna(cell) else str(cell).strip() or None
    if text is not None and plan is not None and name in plan.values:
        text = plan.values[name].get(phrase(text), text)
    if text is not None and name in _ENUMS:
        canonical = ENUM_SEPARATORS.sub("_", text.upper())
        text = canonical if canonical in {m.value for m in _ENUMS[name]} else None
    return text


def row_errors(report: BatchReport, sheet_row: int) -> list[tuple[str | None, str]]:
    """The row's errors as ``(field, message)`` pairs (``None``: not tied to a field)."""
    label = _label(report, sheet_row)
    message = report.results.at[label, "error_message"]
    if message is None or pd.isna(message):
        return []
    return _pairs(str(message))


def _text(value: Any) -> Any:
    if value is None:
        return pd.NA
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _constants(report: BatchReport) -> dict[str, str]:
    """The mapping's campaign constants (field -> API value), empty without a mapping."""
    return dict(report.mapping.constants) if report.mapping is not None else {}


def _with_fixes(report: BatchReport, frame: pd.DataFrame, fixes: dict[int, dict[str, Any]]) -> pd.DataFrame:
    out = frame.copy()
    out.attrs.pop("kyc_sheet", None)  # no longer the file read_campaign hashed (see .evidence)
    constants = _constants(report)
    plan = _mapping_plan(report) if fixes else None
    for sheet_row, changes in fixes.items():
        label = _label(report, sheet_row)
        for name, value in changes.items():
            if name in constants:
                continue  # the mapping gives it to every row (apply_fixes refused a change)
            header = _header(report, name)
            if (
                value is not None
                and header in out.columns
                and _reads_as(plan, name, out.at[label, header]) == _text(value)
            ):
                continue  # unchanged: the cell keeps the sheet's own spelling and vocabulary
            if header not in out.columns:
                if value is None or (name == "current_status" and _text(value) == _DEFAULT_STATUS):
                    continue  # the pre-flight gives an absent column these anyway
                out[header] = pd.Series(pd.NA, index=out.index, dtype="string")
            out[header] = out[header].astype(object)
            out.at[label, header] = _text(value)
    return out


def apply_fixes(report: BatchReport, fixes: dict[int, dict[str, Any]]) -> pd.DataFrame:
    """The corrected input rows, validated, for ``batch_create``; the fixes are kept on ``report``.

    The rows are in the sheet's own headers: send them with the report's
    mapping (``batch_create(client, rows, mapping=report.mapping)``) when it has one.

    ``fixes`` maps a sheet row to ``{field name: value}``; earlier accepted
    fixes of the same row are kept under the new ones. Raises
    :class:`FixError` for a row that was sent (or does not exist), an
    unknown field, or values that are still invalid (``errors`` says where),
    and then nothing is kept.
    """
    merged: dict[int, dict[str, Any]] = {}
    for sheet_row, changes in fixes.items():
        row = int(sheet_row)
        try:
            label = _label(report, row)
        except KeyError as exc:
            raise FixError(str(exc.args[0])) from exc
        status = report.results.at[label, "status"]
        if status not in FIXABLE_STATUSES:
            raise FixError(
                f"Sheet row {row} was {status!r}, not invalid: it was sent, and its outcome on the "
                "API is what the report says. Only rows the API never stored can be fixed here."
            )
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise FixError(f"Sheet row {row}: unknown field(s) {', '.join(unknown)}")
        constants = _constants(report)
        fixed_constants = [
            name for name, value in changes.items()
            if name in constants and (None if value is None else _text(value)) != constants[name]
        ]
        if fixed_constants:
            raise FixError(
                f"Sheet row {row}: {', '.join(fixed_constants)} is a campaign constant of the "
                "mapping, the same for every row; change it in the mapping, not in one row.",
                {row: [(name, "A campaign constant of the mapping: change it in the mapping.")
                       for name in fixed_constants]},
            )
        merged[row] = {**report.fixes.get(row, {}), **changes}
    if not merged:
        return report.source.iloc[:0].copy()
    labels = [_label(report, row) for row in merged]
    rows = _with_fixes(report, report.source.loc[labels], merged)
    given = _header(report, "kyc_case_id")
    had_id = (
        report.source.loc[labels, given].notna().to_numpy()
        if given in report.source.columns
        else [False] * len(labels)
    )
    rows.index = pd.Index(list(merged), name=SHEET_ROW_INDEX_NAME)
    plan = preflight(rows, campaign=report.campaign, mapping=report.mapping)
    bad = plan.status == INVALID
    if bad.any() or plan.missing_ids:
        errors = {
            int(row): _pairs(str(plan.error_message.loc[row]))
            for row in plan.status.index[bad]
        }
        detail = "; ".join(
            f"sheet row {row}: {plan.error_field.loc[row]}" for row in plan.status.index[bad]
        )
        raise FixError(f"Some fixed rows are still invalid ({detail}). Nothing was kept.", errors)
    _refuse_taken_ids(report, plan.kyc_case_id, labels)
    if given not in rows.columns:
        rows[given] = pd.Series(pd.NA, index=rows.index, dtype=object)
    rows[given] = rows[given].astype(object)
    for row, keep in zip(rows.index, had_id):
        if not keep or "kyc_case_id" in merged[int(row)]:
            rows.at[row, given] = plan.kyc_case_id.loc[row]  # the campaign's stable id
    report.fixes.update(merged)
    return rows


def _refuse_taken_ids(report: BatchReport, ids: pd.Series, labels: list[Any]) -> None:
    """A fixed row must not take the external id of another row of the sheet.

    It would be reported ``exists`` (the other row's case), not created, and a
    re-run of the corrected sheet would call it a duplicate.
    """
    others = report.results.drop(index=labels)
    taken: dict[Any, int] = {}
    for case_id, row in zip(others["kyc_case_id"].tolist(), others["sheet_row"].tolist()):
        taken.setdefault(case_id, int(row))  # the first row with that id (sheet order)
    clashes = {
        int(row): int(taken[case_id]) for row, case_id in ids.items() if case_id in taken
    }
    if clashes:
        raise FixError(
            "Fixed rows would have the external case ID of another row: "
            + "; ".join(f"sheet row {row} and sheet row {other}" for row, other in clashes.items())
            + ". Nothing was kept.",
            {row: [("kyc_case_id", f"Same external case ID as sheet row {other}.")]
             for row, other in clashes.items()},
        )


def with_fixes(report: BatchReport, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (some of the input's, same labels) with their accepted fixes applied."""
    present = set(report.results.loc[rows.index, "sheet_row"].astype(int).tolist())
    fixes = {row: changes for row, changes in report.fixes.items() if row in present}
    return _with_fixes(report, rows, fixes) if fixes else rows


def _pairs(message: str) -> list[tuple[str | None, str]]:
    pairs: list[tuple[str | None, str]] = []
    for part in message.split("; "):
        title, sep, text = part.partition(": ")
        name = FIELD_TITLES.get(title) if sep else None
        pairs.append((name, text) if name else (None, part))
    return pairs


def corrected_sheet(report: BatchReport) -> pd.DataFrame:
    """The whole input with the accepted fixes, under the sheet's own headers (sheet-row index).

    Write it back to the source (``to_csv(path, index=False)``): a re-run
    derives the same external ids as the fixed rows were sent with.
    """
    return _with_fixes(report, report.source, report.fixes)


def merge(report: BatchReport, other: BatchReport) -> None:
    """Fold ``other`` (a run of some of ``report``'s rows, indexed by sheet row) into ``report``.

    Each of ``other``'s rows replaces the outcome of the row with the same
    sheet row; its run, principals and warnings are added.
    """
    results = report.results
    position = pd.Series(results.index, index=results["sheet_row"].astype(int).to_numpy())
    for _, row in other.results.iterrows():
        label = position.get(int(row["sheet_row"]))
        if label is None:
            continue
        if row["status"] == "not_attempted" and not row["attempts"]:
            continue  # never sent (a cancel): it stays a fixed row waiting to be sent
        for name in _MERGED_COLUMNS:
            results.at[label, name] = row[name]
    report.principals = sorted(set(report.principals) | set(other.principals))
    report.runs = [*report.runs, *other.runs]
    report.warnings = [*report.warnings, *(w for w in other.warnings if w not in report.warnings)]
    report.elapsed += other.elapsed
    report.api_base_url = report.api_base_url or other.api_base_url
    if other.stopped_reason:
        report.stopped_reason = other.stopped_reason
