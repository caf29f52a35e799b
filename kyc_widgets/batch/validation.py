"""Cells to values: how the pre-flight reads, normalises and validates a sheet, column-wise.

Why apart from :mod:`.preflight`: the pre-flight judges a whole sheet (which
rows are invalid, which repeat an id or a subject), but a row's *values*
depend on that row alone: every step here works on one cell at a time (the
distinct values of a column, each once). So the values of any rows can be
made again from the sheet, exactly as the pre-flight made them, and a
million-row run never has to hold a validated copy of its whole sheet:
:class:`SheetValues` keeps the sheet and the mapping's plan and makes the
values of the rows asked for (a window of request bodies, a chunk of the
evidence record), or of every row when someone asks for all of them.

How the columns are normalised and validated, and why per distinct value, is
said in :mod:`.preflight`'s docstring.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from kyc_widgets.models import DEFAULT_CREATE_STATUS, KycCaseCreateInput

from .columns import CompactBuilder, compact_constant, compact_missing, plain
from .fields import ENUM_FIELDS, FIELDS, canonical_enum, field_adapter, field_message, json_value
from .mapping import CampaignMapping, ColumnPlan
from .problems import ProblemCode, field_problems
from .synonyms import phrase

__all__ = [
    "WINDOW",
    "SheetValues",
    "cell_text",
    "normalise_column",
    "read_columns",
    "read_rows",
    "validate",
    "validate_columns",
    "validate_rows",
]

WINDOW = 65_536
"""Rows read and validated at a time when a whole sheet is gone through (:meth:`SheetValues.windows`)."""


class SheetValues:
    """The validated values of a sheet's rows, by field, made from the sheet when asked.

    ``source`` is the sheet (the pre-flight's input frame) and ``plan`` how its
    headers map to fields. :meth:`frame` makes the values of some rows (compact
    columns, :mod:`.columns`); :meth:`whole` those of every row, kept once made,
    and that frame is the one a merged fix writes into (:mod:`.fixes`), so
    :meth:`frame` reads from it from then on.

    The sheet is copied when the pre-flight runs, so the values are the ones it
    saw even if the frame is edited afterwards: a previewed plan is sent as it
    was shown. The copy costs next to nothing for a sheet :func:`~.reading.read_campaign`
    read: its Arrow columns are immutable, and a copy shares their data.
    """

    def __init__(self, source: pd.DataFrame, plan: ColumnPlan) -> None:
        self.source = source.copy(deep=True)
        self.plan = plan
        self._whole: pd.DataFrame | None = None

    def frame(self, labels: pd.Index) -> pd.DataFrame:
        """The values of the rows ``labels`` (in that order)."""
        if self._whole is not None:
            return self._whole.loc[labels]
        return validate(read_columns(self.source.loc[labels], self.plan))[0]

    def whole(self) -> pd.DataFrame:
        """The values of every row: made once, then kept (and updated by merged fixes)."""
        if self._whole is None:
            self._whole = validate(read_columns(self.source, self.plan))[0]
        return self._whole

    def windows(self) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, list[pd.DataFrame]]]:
        """``(normalised, values, problems)`` of every :data:`WINDOW` rows in turn: what the
        pre-flight goes through, so that only one window's values exist at a time."""
        source, size = self.source, WINDOW
        for start in range(0, max(len(source), 1), size):
            normalised = read_columns(source.iloc[start : start + size], self.plan)
            values, parts = validate(normalised)
            yield normalised, values, parts


def validate(normalised: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """The validated values of ``normalised`` and their problems: column-wise
    (:func:`validate_columns`), or row by row if the contract's model ever gains a
    cross-field rule (:func:`validate_rows`)."""
    if _has_cross_field_rules():  # pragma: no cover - guard for future model changes
        return validate_rows(normalised)
    return validate_columns(normalised)


def read_rows(
    frame: pd.DataFrame, mapping: CampaignMapping | None = None
) -> pd.DataFrame:
    """``frame``'s cells by field, as the pre-flight reads them, before validation.

    Text stripped, empty cells ``None``, one export quote dropped (``'=Ada`` ->
    ``=Ada``), the mapping's value maps and constants applied, choices in their
    canonical spelling and an empty status the default one. One code path with
    :func:`preflight`, so a fix form shows what the pre-flight saw.
    """
    plan = (mapping or CampaignMapping.default()).plan(frame.columns)
    read = read_columns(frame, plan)
    return pd.DataFrame({name: plain(read[name]) for name in read.columns}, index=read.index,
                        dtype=object)


def read_columns(frame: pd.DataFrame, plan: ColumnPlan) -> pd.DataFrame:
    """Every field as a compact text column (:mod:`.columns`): mapped, constant or absent."""
    index = frame.index
    columns: dict[str, pd.Series] = {}
    for header, name in plan.column_map.items():
        columns[name] = normalise_column(
            frame[header], enum=name in ENUM_FIELDS, values=plan.values.get(name),
            default=DEFAULT_CREATE_STATUS.value if name == "current_status" else None,
        )
    for name, constant in plan.constants.items():
        columns[name] = compact_constant(constant, index)
    # The contract requires a status; campaigns start cases as DRAFT unless the sheet says otherwise.
    columns.setdefault("current_status", compact_constant(DEFAULT_CREATE_STATUS.value, index))
    return pd.DataFrame(
        {name: columns[name] if name in columns else compact_missing(index) for name in FIELDS},
        index=index,
    )


def normalise_column(
    column: pd.Series, *, enum: bool, values: dict[str, str] | None = None,
    default: str | None = None,
) -> pd.Series:
    """Strip, blank -> missing (or ``default``), one export quote dropped, and for enums
    canonical spelling.

    Returns a compact text column (:func:`~.columns.compact`). Missing cells are
    whatever ``isna()`` says (``None``, ``NaN``, ``NA``, ``NaT``) and are
    never turned into text (see the module docstring). Works on the column's
    distinct values (``pd.factorize``, which codes every missing cell as -1)
    and maps back: most campaign columns (enums, teams, providers) repeat a
    few values, and pandas string methods loop in Python per cell anyway.
    """
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    table = CompactBuilder()
    for start in range(0, len(uniques), _CHUNK):  # a chunk of Python strings at a time
        cleaned = [cell_text(value) for value in uniques[start : start + _CHUNK].tolist()]
        if values:  # a mapping's {phrase of a sheet value -> API value}, before the usual rules
            cleaned = [values.get(phrase(value), value) for value in cleaned]
        if enum:
            cleaned = [canonical_enum(value) for value in cleaned]
        table.extend([value if value else default for value in cleaned])
    table.extend([default])  # what a missing cell reads as
    return table.build(np.where(codes < 0, len(uniques), codes), column.index)


_FORMULA_CHARACTERS = frozenset("=+-@\t\r")
"""After a ``'``: how the batch's exports neutralise formulas (see :mod:`.report`)."""


def cell_text(value: object) -> str:
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_CHARACTERS:
        text = text[1:].strip()
    return text


def _none_series(index: pd.Index, name: str | None = None) -> pd.Series:
    """An object Series of ``None`` (``pd.Series(None, dtype=object)`` would hold NaN)."""
    return pd.Series(np.full(len(index), None, dtype=object), index=index, name=name)


def _has_cross_field_rules() -> bool:
    decorators = KycCaseCreateInput.__pydantic_decorators__
    return bool(decorators.model_validators)


def validate_columns(normalised: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Validate each distinct value of each column once; map results back to rows.

    Returns the validated values and the problems, one table per failing field.
    """
    values: dict[str, pd.Series] = {}
    parts: list[pd.DataFrame] = []
    for name in FIELDS:
        column = normalised[name]
        values[name], refused = _validate_column(name, column)
        parts.extend(refused)
        present = column.notna()
        if KycCaseCreateInput.model_fields[name].is_required() and not present.all():
            missing = column.index[~present.to_numpy()]
            parts.append(
                field_problems(
                    missing, name, ProblemCode.MISSING, field_message(name, {"type": "missing"})
                )
            )
    return pd.DataFrame(values, index=normalised.index), parts


_CHUNK = 65_536
"""Distinct values validated at a time: a column of a million distinct names is never a
million Python strings (and their validated copies) at once."""


def _validate_column(name: str, column: pd.Series) -> tuple[pd.Series, list[pd.DataFrame]]:
    """The column's validated values (compact: a code per row, each distinct value once;
    a Series.map on Arrow text made a Python str per cell) and its problems, if any."""
    positions, uniques_array = pd.factorize(column, use_na_sentinel=True)
    table = CompactBuilder()
    bad: dict[str, tuple[str, str]] = {}
    refused = np.zeros(len(uniques_array) + 1, dtype=bool)  # the last entry: missing cells
    for start in range(0, len(uniques_array), _CHUNK):
        uniques = uniques_array[start : start + _CHUNK].tolist()
        good, refused_here = _validate_uniques(name, uniques)
        if refused_here:
            bad.update(refused_here)
            refused[start : start + len(uniques)] = [value in refused_here for value in uniques]
        table.extend([None if _missing(v) else v for v in map(good.get, uniques)])
    if not bad:
        return table.build(positions, column.index), []
    failing = column[refused[positions]]
    failing_values = plain(failing)
    codes, messages = zip(*(bad[v] for v in failing_values))
    problems = field_problems(failing.index, name, list(codes), list(messages), failing_values)
    return table.build(positions, column.index), [problems]


def _missing(value: Any) -> bool:
    """A validated value that is missing (``None``, NaN): ``None`` in the values frame."""
    return value is None or (isinstance(value, float) and value != value)


def _validate_uniques(
    name: str, uniques: list[str]
) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """``(good, bad)``: value -> validated value, and value -> (code, message)."""
    if not uniques:
        return {}, {}
    adapter = field_adapter(name)
    try:
        return dict(zip(uniques, map(json_value, adapter.validate_python(uniques)))), {}
    except ValidationError as exc:
        bad: dict[str, tuple[str, str]] = {}
        for error in exc.errors(include_url=False, include_input=False):
            loc = error.get("loc") or ()
            if loc and isinstance(loc[0], int) and uniques[loc[0]] not in bad:
                value = uniques[loc[0]]
                bad[value] = (str(error.get("type")), field_message(name, error, value))
    rest = [value for value in uniques if value not in bad]
    good = dict(zip(rest, map(json_value, adapter.validate_python(rest)))) if rest else {}
    return good, bad


def validate_rows(normalised: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Per-row model validation: the slow, obviously-right path (fallback and test oracle)."""
    values = pd.DataFrame({name: _none_series(normalised.index) for name in FIELDS})
    found: list[tuple[Any, str, str, str, Any]] = []
    records = normalised.astype(object).where(normalised.notna(), None).to_dict("index")
    for label, record in records.items():
        data = {k: v for k, v in record.items() if v is not None}
        try:
            model = KycCaseCreateInput.model_validate(data)
        except ValidationError as exc:
            seen: set[str] = set()
            for error in exc.errors(include_url=False, include_input=False):
                name = str(error["loc"][0]) if error.get("loc") else "kyc_case_id"
                if name not in seen:
                    seen.add(name)
                    code = str(error.get("type"))
                    cell = data.get(name)
                    found.append((label, name, code, field_message(name, error, cell), cell))
            continue
        dumped = model.model_dump(mode="json")
        for name in FIELDS:
            if name in data or name == "current_status":
                values.at[label, name] = dumped.get(name)
    if not found:
        return values, []
    labels, names, codes, messages, cells = zip(*found)
    table = field_problems(pd.Index(labels), None, list(codes), list(messages), list(cells))
    return values, [table.assign(field=list(names))]
