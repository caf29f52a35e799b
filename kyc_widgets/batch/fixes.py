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

from enum import Enum
from typing import Any

import pandas as pd

from kyc_widgets.models import DEFAULT_CREATE_STATUS

from .columns import plain_records, set_row
from .fields import ENUM_FIELDS, FIELDS, enum_member, field_title
from .preflight import preflight
from .problems import ProblemCode, row_problems
from .results import RESULT_COLUMNS, CampaignResults
from .sheet import SHEET_ROW_INDEX_NAME
from .status import FIXABLE_STATUSES, RowStatus
from .validation import read_rows

__all__ = [
    "FIXABLE_STATUSES",
    "FixError",
    "apply_fixes",
    "corrected_sheet",
    "effective_ids",
    "merge",
    "needs_attention",
    "row_errors",
    "row_values",
    "sent_fixes",
    "shares_id",
    "with_fixes",
]

_DEFAULT_STATUS = DEFAULT_CREATE_STATUS.value
_MERGED_COLUMNS = tuple(c for c in RESULT_COLUMNS if c not in ("source_index", "sheet_row"))


class FixError(ValueError):
    """Fixes that cannot be accepted; ``errors`` maps sheet row -> ``[(field, message), ...]``."""

    def __init__(self, message: str, errors: dict[int, list[tuple[str | None, str]]] | None = None):
        self.errors = dict(errors or {})
        super().__init__(message)


def needs_attention(report: CampaignResults) -> pd.DataFrame:
    """The fixable rows, indexed by sheet row: status, error field(s), message, fixed?, input."""
    results = report.results
    mask = results["status"].isin(FIXABLE_STATUSES)
    rows = results.loc[mask, ["sheet_row", "status", "error_field", "error_message"]].copy()
    rows["fixed"] = rows["sheet_row"].map(lambda n: int(n) in report.fixes).astype(bool)
    source = report.source.loc[rows.index]
    clash = {c: f"input_{c}" for c in source.columns if c in rows.columns}
    out = rows.join(source.rename(columns=clash))
    return out.set_index("sheet_row").rename_axis(SHEET_ROW_INDEX_NAME)


def _label(report: CampaignResults, sheet_row: int) -> Any:
    found = report.results.index[report.results["sheet_row"] == int(sheet_row)]
    if len(found) != 1:
        raise KeyError(f"no sheet row {sheet_row} in this report")
    return found[0]


def _header(report: CampaignResults, name: str) -> str:
    for header, field_name in report.column_map.items():
        if field_name == name:
            return str(header)
    return name


def row_values(report: CampaignResults, sheet_row: int) -> dict[str, Any]:
    """The row's values by field name, as a form should show them (accepted fix included).

    Read by the pre-flight's own reading (:func:`~.preflight.read_rows`: text
    stripped, an export's ``'`` before a formula character dropped, the
    mapping's value maps and constants applied); a choice is its canonical
    member, or ``None`` when the sheet's spelling is not one (the form then asks for it).
    """
    label = _label(report, sheet_row)
    read = read_rows(report.source.loc[[label]], report.mapping).iloc[0]
    values: dict[str, Any] = {
        name: read[name] for name in FIELDS if name in _read_fields(report) or read[name] is not None
    }
    values.update(report.fixes.get(int(sheet_row), {}))
    for name, value in list(values.items()):  # a choice must be a member (a fix may spell it loosely)
        if isinstance(value, str) and name in ENUM_FIELDS:
            values[name] = enum_member(name, value)
    return values


def _read_fields(report: CampaignResults) -> set[str]:
    """Fields the sheet has a column for, or the mapping a constant."""
    constants = set(report.mapping.constants) if report.mapping is not None else set()
    return set(report.column_map.values()) | constants


def row_errors(report: CampaignResults, sheet_row: int) -> list[tuple[str | None, str]]:
    """The row's problems as ``(field, message)`` pairs (``None``: not tied to a field).

    Read from the report's problems table (:mod:`.problems`), so a hint stays
    with its field's message.
    """
    errors = row_problems(report.problems, _label(report, sheet_row), for_form=True)
    if not shares_id(report, sheet_row):  # the other row got its own id: that problem is gone
        resolved = {
            message for code, message in _row_codes(report, sheet_row)
            if code == ProblemCode.DUPLICATE_ID.value
        }
        errors = [(name, text) for name, text in errors if text.rstrip(".") not in resolved]
    return errors


def _row_codes(report: CampaignResults, sheet_row: int) -> list[tuple[str, str]]:
    problems = report.problems
    label = _label(report, sheet_row)
    if problems.empty or label not in problems.index:
        return []
    rows = problems.loc[[label]]
    return [(str(c), str(m).rstrip(".")) for c, m in zip(rows["code"], rows["message"])]


def effective_ids(report: CampaignResults) -> pd.Series:
    """Every row's external id as it stands: the report's, or an accepted fix's (not sent yet)."""
    ids = report.results["kyc_case_id"].astype(object).copy()
    if report.fixed_ids:
        by_row = pd.Series(report.results.index, index=report.results["sheet_row"].astype(int))
        for row, case_id in report.fixed_ids.items():
            if row in by_row.index:
                ids.loc[by_row.loc[row]] = case_id
    return ids


def shares_id(report: CampaignResults, sheet_row: int) -> list[int]:
    """The other sheet rows that hold ``sheet_row``'s external id as things stand (fixes
    accepted included), repeats of an earlier row left out (their case is that row's)."""
    ids = effective_ids(report)
    label = _label(report, sheet_row)
    case_id = ids.loc[label]
    if case_id is None or pd.isna(case_id):
        return []
    status = report.results["status"]
    same = (ids == case_id) & (status != RowStatus.DUPLICATE_IN_SHEET)
    same.loc[label] = False
    return sorted(int(r) for r in report.results.loc[same, "sheet_row"].tolist())


def _text(value: Any) -> Any:
    if value is None:
        return pd.NA
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _constants(report: CampaignResults) -> dict[str, str]:
    """The mapping's campaign constants (field -> API value), empty without a mapping."""
    return dict(report.mapping.constants) if report.mapping is not None else {}


def _with_fixes(report: CampaignResults, frame: pd.DataFrame, fixes: dict[int, dict[str, Any]]) -> pd.DataFrame:
    out = frame.copy()
    out.attrs.pop("kyc_sheet", None)  # no longer the file read_campaign hashed (see .evidence)
    constants = _constants(report)
    labels = {sheet_row: _label(report, sheet_row) for sheet_row in fixes}
    read = read_rows(frame.loc[list(labels.values())], report.mapping) if fixes else None
    for sheet_row, changes in fixes.items():
        label = labels[sheet_row]
        for name, value in changes.items():
            if name in constants:
                continue  # the mapping gives it to every row (apply_fixes refused a change)
            header = _header(report, name)
            if (
                value is not None
                and read is not None
                and header in out.columns
                and _as_read(name, read.at[label, name]) == _text(value)
            ):
                continue  # unchanged: the cell keeps the sheet's own spelling and vocabulary
            if header not in out.columns:
                if value is None or (name == "current_status" and _text(value) == _DEFAULT_STATUS):
                    continue  # the pre-flight gives an absent column these anyway
                out[header] = pd.Series(pd.NA, index=out.index, dtype="string")
            out[header] = out[header].astype(object)
            out.at[label, header] = _text(value)
    return out


def _as_read(name: str, text: str | None) -> str | None:
    """A value :func:`~.preflight.read_rows` read, as a fix would give it (a choice: its member)."""
    if text is None:
        return None
    return enum_member(name, text) if name in ENUM_FIELDS else text


def apply_fixes(report: CampaignResults, fixes: dict[int, dict[str, Any]]) -> pd.DataFrame:
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
                f"Sheet row {row} was {str(status)!r}, not invalid: it was sent, and its outcome on the "
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
    bad = plan.status != RowStatus.READY  # still invalid, or two fixed rows now share an id
    if bad.any() or plan.missing_ids:
        errors = {
            int(row): row_problems(plan.problems, row, for_form=True)
            for row in plan.status.index[bad]
        }
        detail = "; ".join(
            f"sheet row {row}: {_titles(plan.error_field.loc[row])}" for row in plan.status.index[bad]
        )
        raise FixError(f"Some fixed rows are still invalid ({detail}). Nothing was kept.", errors)
    _refuse_taken_ids(report, plan.kyc_case_id, labels)
    changed = _changed_fields(report, labels, merged)
    if given not in rows.columns:
        rows[given] = pd.Series(pd.NA, index=rows.index, dtype=object)
    rows[given] = rows[given].astype(object)
    for row, keep in zip(rows.index, had_id):
        if not keep or "kyc_case_id" in merged[int(row)]:
            rows.at[row, given] = plan.kyc_case_id.loc[row]  # the campaign's stable id
    report.fixes.update(merged)
    report.fixed_fields.update(changed)
    report.fixed_ids.update({int(row): plan.kyc_case_id.loc[row] for row in rows.index})
    return rows


def _titles(error_field: Any) -> str:
    """"Legal last name, Case priority" for an ``error_field`` cell (field names)."""
    if not isinstance(error_field, str):
        return "see the fields marked"
    return ", ".join(str(field_title(name.strip())) for name in error_field.split(","))


def _changed_fields(
    report: CampaignResults, labels: list[Any], fixes: dict[int, dict[str, Any]]
) -> dict[int, list[str]]:
    """By sheet row, the fields whose fixed value differs from the sheet's, in the form's order."""
    read = read_rows(report.source.loc[labels], report.mapping)
    constants = _constants(report)
    out: dict[int, list[str]] = {}
    for (row, changes), label in zip(fixes.items(), labels):
        names = {
            name for name, value in changes.items()
            if name not in constants
            and _as_read(name, read.at[label, name]) != (None if value is None else _text(value))
        }
        out[row] = [name for name in FIELDS if name in names]
    return out


def _refuse_taken_ids(report: CampaignResults, ids: pd.Series, labels: list[Any]) -> None:
    """A fixed row must not take the external id of another row of the sheet.

    It would be reported ``exists`` (the other row's case), not created, and a
    re-run of the corrected sheet would call it a duplicate.
    """
    current = effective_ids(report).drop(index=labels)
    others = report.results.drop(index=labels)
    # A repeat of an earlier row holds that row's id without taking it: its case is that row's.
    keep = (others["status"] != RowStatus.DUPLICATE_IN_SHEET).to_numpy()
    taken: dict[Any, int] = {}
    for case_id, row in zip(current[keep].tolist(), others.loc[keep, "sheet_row"].tolist()):
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


def with_fixes(
    report: CampaignResults, rows: pd.DataFrame, *, sent_only: bool = False
) -> pd.DataFrame:
    """``rows`` (some of the input's, same labels) with their accepted fixes applied
    (``sent_only``: only the fixes whose row was sent since, :func:`sent_fixes`)."""
    present = set(report.results.loc[rows.index, "sheet_row"].astype(int).tolist())
    chosen = sent_fixes(report) if sent_only else report.fixes
    fixes = {row: changes for row, changes in chosen.items() if row in present}
    return _with_fixes(report, rows, fixes) if fixes else rows


def corrected_sheet(report: CampaignResults) -> pd.DataFrame:
    """The whole input with the accepted fixes, under the sheet's own headers (sheet-row index).

    Write it back to the source with :func:`~.exports.write_csv` (formulas
    neutralised, line breaks quoted; never a raw ``DataFrame.to_csv``): a
    re-run derives the same external ids as the fixed rows were sent with.
    """
    return _with_fixes(report, report.source, report.fixes)


def merge(report: CampaignResults, other: CampaignResults) -> None:
    """Fold ``other`` (a run of some of ``report``'s rows, indexed by sheet row) into ``report``.

    Each of ``other``'s rows replaces the outcome of the row with the same
    sheet row; its run, principals and warnings are added.
    """
    results = report.results
    position = pd.Series(results.index, index=results["sheet_row"].astype(int).to_numpy())
    taken: dict[Any, Any] = {}  # other's label -> report's label, for the rows that replace
    for other_label, row in other.results.iterrows():
        label = position.get(int(row["sheet_row"]))
        if label is None:
            continue
        if row["status"] == RowStatus.NOT_ATTEMPTED and not row["attempts"]:
            continue  # never sent (a cancel): it stays a fixed row waiting to be sent
        taken[other_label] = label
        set_row(results, label, {name: _cell(row[name]) for name in _MERGED_COLUMNS})
    _merge_tables(report, other, taken)
    _log_sent_fixes(report, other, [int(results.at[label, "sheet_row"]) for label in taken.values()])
    report.principals = sorted(set(report.principals) | set(other.principals))
    report.runs = [*report.runs, *other.runs]
    report.warnings = [*report.warnings, *(w for w in other.warnings if w not in report.warnings)]
    report.elapsed += other.elapsed
    report.api_base_url = report.api_base_url or other.api_base_url
    if other.stopped_reason:
        report.stopped_reason = other.stopped_reason


def _cell(value: Any) -> Any:
    """A results cell as :func:`~.columns.set_row` takes it: ``None`` where it is missing."""
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _log_sent_fixes(report: CampaignResults, other: CampaignResults, rows: list[int]) -> None:
    """The fixed rows ``other`` sent, in ``report.fix_log``: fields (names only), when, by whom."""
    started = [str(run["started_at"]) for run in other.runs if run.get("started_at")]
    for row in rows:
        if row not in report.fixes:
            continue
        report.fixed_ids.pop(row, None)  # the report's own id column holds it now
        report.fix_log.append(
            {
                "sheet_row": row,
                "fields": list(report.fixed_fields.get(row, [])),
                "at": min(started) if started else None,
                "by": sorted(set(other.principals)),
            }
        )


def sent_fixes(report: CampaignResults) -> dict[int, dict[str, Any]]:
    """The accepted fixes whose row was sent since (their values are the report's now)."""
    sent = {int(entry["sheet_row"]) for entry in report.fix_log}
    return {row: changes for row, changes in report.fixes.items() if row in sent}


def _merge_tables(report: CampaignResults, other: CampaignResults, taken: dict[Any, Any]) -> None:
    """The problems and values of the replaced rows become ``other``'s, under ``report``'s labels."""
    if not taken:
        return
    kept = report.problems[~report.problems.index.isin(list(taken.values()))]
    new = other.problems[other.problems.index.isin(list(taken))]
    new = new.set_axis([taken[label] for label in new.index], axis=0)
    parts = [part for part in (kept, new) if len(part)]
    if parts:
        joined = pd.concat(parts)
        order = report.results.index.get_indexer(joined.index)
        report.problems = joined.iloc[order.argsort(kind="stable")]
    else:
        report.problems = kept
    values, fixed = report.values, other.values_of(pd.Index(list(taken)))
    if values is not None and fixed is not None:
        for record, label in zip(plain_records(fixed), taken.values()):
            set_row(values, label, record)
