"""Pre-flight: normalise and validate every row before a single request is sent.

Why column-wise: a campaign can hold hundreds of thousands of rows and the
analyst waits for the preview. Validating row by row with
``KycCaseCreateInput.model_validate`` costs ~20 us a row, most of it in the
e-mail validator, so 100k rows would take seconds. Instead each column is
normalised with vectorised pandas string operations, and each *distinct*
value of a column is validated once with that field's own pydantic type taken
from the contract model (``KycCaseCreateInput.model_fields``), so the rules
stay those of the single source of truth. Analyst e-mails, teams and enum
members repeat across thousands of rows, so the expensive validators run a
handful of times. This is equivalent to per-row validation because the model
has no cross-field (model-level) validators; :func:`preflight` checks that and
falls back to per-row validation if one is ever added (and a test compares
both paths on a messy sheet).

The character rule of the contract's text fields
(:func:`kyc_widgets.text.clean_text`: NFC, no control or text-direction
characters) is part of those field types, so it runs once per distinct value
here too and a refused cell gets the model's own message, e.g. ``Legal first
name: contains U+000B LINE TABULATION at position 4 (...)``. No second,
pandas-side copy of the rule: ``Series.str.contains`` on an ``object`` column
loops in Python per *cell* as well, so it would cost more than checking the
distinct values (benchmarks/bench_preflight.py keeps the figure).

Normalisation is the way people type: surrounding whitespace is stripped,
empty cells and empty strings are missing, enum members ignore case, spaces
and hyphens (``remediation``, ``Kyc refresh``, ``kyc-refresh`` ->
``KYC_REFRESH``), and headers are matched the same way (``Legal first name``,
``legal-first-name`` or the form's field titles all work). One leading ``'``
before a formula character (``= + - @``, tab, CR) is dropped: that is how the
batch's own exports neutralise formulas (:mod:`.report`), so a report read
back and run again sends the same values and ids as the first run.

Missing cells are found with ``isna()`` *before* anything is turned into text,
and the normalised columns are ``object`` columns of ``str`` or ``None``:
``astype(str)`` would turn a missing cell into the text ``"nan"`` or
``"<NA>"`` under pandas 2 (pandas 3 keeps it missing), which would become an
id or a name. So the input may use any dtype (``object``, ``str``,
``string``, categorical, numbers) under pandas 2.1+ and 3.x alike.

Sheet rows (``sheet_row`` in the report, and "the first" of duplicate ids):
the index itself for a frame from :func:`~.reading.read_campaign`; for any
other frame with a non-negative integer index, label + 2 (``pd.read_csv``
gives a 0-based ``RangeIndex`` whose labels survive filtering and sorting;
it also drops blank lines, which :func:`~.reading.read_campaign` counts);
for any other index, position + 2.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
from pydantic import ConfigDict, TypeAdapter, ValidationError

from kyc_widgets.models import DEFAULT_CREATE_STATUS, REQUIRED_CREATE_FIELDS, KycCaseCreateInput

from .identity import derive_case_ids
from .reading import FIRST_DATA_ROW, SHEET_ROW_INDEX_NAME
from .subjects import mark_same_subject
from .synonyms import phrase

if TYPE_CHECKING:
    import os

    from .mapping import CampaignMapping

__all__ = [
    "ENUM_FIELDS",
    "ENUM_SEPARATORS",
    "FIELDS",
    "FIELD_TITLES",
    "HEADER_ALIASES",
    "REPEATED_HEADER",
    "REQUIRED_COLUMNS",
    "CampaignColumnsError",
    "Preflight",
    "field_adapter",
    "field_message",
    "json_value",
    "normalise_header",
    "preflight",
]

FIELDS: tuple[str, ...] = tuple(KycCaseCreateInput.model_fields)
"""Every column the batch understands, in the form's order."""

REQUIRED_COLUMNS: tuple[str, ...] = tuple(
    name for name in REQUIRED_CREATE_FIELDS if name != "current_status"
)
"""Columns a campaign sheet must have (a missing or empty ``current_status`` means DRAFT)."""

ENUM_FIELDS: dict[str, type[Enum]] = {
    name: info.annotation
    for name, info in KycCaseCreateInput.model_fields.items()
    if isinstance(info.annotation, type) and issubclass(info.annotation, Enum)
}
FIELD_TITLES: dict[str, str] = {
    name: info.title or name for name, info in KycCaseCreateInput.model_fields.items()
}

# Statuses of the pre-flight itself; the sender turns "ready" into an outcome.
READY = "ready"
INVALID = "invalid"
DUPLICATE = "duplicate_in_sheet"


class CampaignColumnsError(ValueError):
    """The sheet's columns cannot be used: required ones are missing or ambiguous.

    Raised before anything is sent. ``missing`` lists the field names absent
    from the sheet; ``ambiguous`` maps a field to the headers that all mean it
    (including ``name.1``, which is how pandas renames a repeated header).
    """

    def __init__(
        self,
        missing: list[str],
        ambiguous: dict[str, list[str]] | None = None,
    ) -> None:
        self.missing = list(missing)
        self.ambiguous = dict(ambiguous or {})
        parts = []
        if self.missing:
            parts.append(
                f"The sheet is missing {len(self.missing)} required column(s): "
                + ", ".join(self.missing)
                + ". Nothing was sent."
            )
        for name, headers in self.ambiguous.items():
            repeated = any(REPEATED_HEADER.fullmatch(h) for h in headers[1:])
            parts.append(
                f"Columns {', '.join(repr(h) for h in headers)} all mean {name!r}; keep one."
                + (" (A '.1' ending means the same header appears twice in the sheet.)"
                   if repeated else "")
            )
        super().__init__(" ".join(parts))


def normalise_header(header: object) -> str:
    """``" Legal First-Name "`` -> ``"legal_first_name"``.

    A trailing ``*`` (the template's required marker) is dropped.
    """
    return re.sub(r"[\s\-]+", "_", str(header).strip().rstrip("*").strip().lower())


HEADER_ALIASES: dict[str, str] = {
    **{normalise_header(title): name for name, title in FIELD_TITLES.items()},
    **{name: name for name in FIELDS},
    "assigned_analyst_e_mail": "assigned_analyst_email",
    "external_case_id": "kyc_case_id",
}


@dataclass
class Preflight:
    """Everything the pre-flight found, aligned on the input frame's index.

    ``values`` holds the validated, JSON-ready value of every known field
    (``None`` where absent); ``status`` is ``ready``, ``invalid`` or
    ``duplicate_in_sheet``; ``kyc_case_id`` is the given id or the derived one
    (``NA`` when a row has none and no campaign was given: see
    ``missing_ids``).
    """

    source: pd.DataFrame
    values: pd.DataFrame
    sheet_row: pd.Series
    kyc_case_id: pd.Series
    derived_id: pd.Series
    status: pd.Series
    error_field: pd.Series
    error_message: pd.Series
    unknown_columns: list[str]
    column_map: dict[str, str]
    campaign: str | None
    missing_ids: int = 0
    warnings: list[str] = field(default_factory=list)
    note: pd.Series | None = None
    """Per-row notes for the preview and report (the same subject twice: :mod:`.subjects`)."""
    same_subject: pd.Series | None = None
    """Rows held back unless ``allow_same_subject=True`` (the later of the same subject)."""
    mapping: CampaignMapping | None = None
    """The :class:`~.mapping.CampaignMapping` the sheet was read with, if any."""

    @property
    def ready(self) -> pd.Series:
        """Boolean mask of the rows that would be sent."""
        return self.status == READY

    def counts(self) -> dict[str, int]:
        """``{"rows", "ready", "invalid", "duplicate_in_sheet"}`` for a preview."""
        counted = self.status.value_counts()
        return {
            "rows": len(self.status),
            READY: int(counted.get(READY, 0)),
            INVALID: int(counted.get(INVALID, 0)),
            DUPLICATE: int(counted.get(DUPLICATE, 0)),
            "same_subject": int(self.same_subject.sum()) if self.same_subject is not None else 0,
        }

    def body(self, label: Hashable) -> dict[str, Any]:
        """The JSON body for one row: present fields only, ``kyc_case_id`` included."""
        row = self.values.loc[label]
        body = {name: value for name, value in row.items() if value is not None}
        body["kyc_case_id"] = self.kyc_case_id.loc[label]
        return body

    def bodies(self, labels: pd.Index) -> list[dict[str, Any]]:
        """:meth:`body` for many rows at once (one pass, not one ``.loc`` per row)."""
        records = self.values.loc[labels].to_dict("records")
        ids = self.kyc_case_id.loc[labels].tolist()
        out = []
        for record, case_id in zip(records, ids):
            body = {name: value for name, value in record.items() if value is not None}
            body["kyc_case_id"] = case_id
            out.append(body)
        return out


def preflight(
    frame: pd.DataFrame,
    *,
    campaign: str | None = None,
    mapping: CampaignMapping | str | os.PathLike[str] | None = None,
) -> Preflight:
    """Normalise and validate ``frame``; raise :class:`CampaignColumnsError` if columns are missing.

    ``mapping`` (a :class:`~.mapping.CampaignMapping` or the path of a saved
    one) renames headers, fills campaign constants and translates values
    before anything else; it raises :class:`~.mapping.MappingError` when it
    holds unconfirmed guesses or clashes with the sheet.

    Never sends anything and never raises for bad *values*: those become
    ``invalid`` rows with ``error_field`` (field names, comma-separated, in the
    form's order) and ``error_message`` (``"<field title>: <problem>"``, joined
    with ``"; "``). Cell values never appear in messages, except enum
    spellings that are not personal data.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError("batch input must be a pandas DataFrame (use read_campaign for files)")
    mapping = _resolved(mapping)
    plan = None if mapping is None else mapping.plan(frame.columns)
    column_map, unknown = (
        _map_columns(frame.columns) if plan is None else (plan.column_map, plan.unknown)
    )
    index = frame.index
    if index.has_duplicates:
        raise ValueError(
            "The DataFrame index has duplicate labels; the report is aligned on the index, "
            "so give every row a unique label (e.g. df.reset_index(drop=True))."
        )

    normalised = pd.DataFrame(index=index)
    for header, name in column_map.items():
        normalised[name] = _normalise_column(
            frame[header],
            enum=name in ENUM_FIELDS,
            values=plan.values.get(name) if plan is not None else None,
        )
    for name, constant in (plan.constants if plan is not None else {}).items():
        normalised[name] = pd.Series(np.full(len(index), constant, dtype=object), index=index)
    for name in FIELDS:
        if name not in normalised.columns:
            normalised[name] = _none_series(index)
    # The contract requires a status; campaigns start cases as DRAFT unless the sheet says otherwise.
    status_given = normalised["current_status"]
    normalised["current_status"] = status_given.where(
        status_given.notna(), DEFAULT_CREATE_STATUS.value
    )

    if _has_cross_field_rules():  # pragma: no cover - guard for future model changes
        values, errors = _validate_rows(normalised)
    else:
        values, errors = _validate_columns(normalised)
    _formula_errors(frame, column_map, errors)
    if plan is not None and plan.values:
        _mention_value_maps(errors, mapping)

    given = normalised["kyc_case_id"]
    derived_mask = given.isna()
    case_ids = values["kyc_case_id"].astype(object).where(given.notna(), pd.NA)
    # an invalid given id still identifies the row for duplicate detection
    case_ids = case_ids.where(case_ids.notna() | derived_mask, given.astype(object))
    missing_ids = 0
    if derived_mask.any():
        if campaign is not None and str(campaign).strip():
            derived = derive_case_ids(str(campaign), normalised.loc[derived_mask])
            case_ids = case_ids.astype(object)
            case_ids.loc[derived_mask] = derived
        else:
            missing_ids = int(derived_mask.sum())
    case_ids = case_ids.rename("kyc_case_id")

    sheet_row = _sheet_rows(frame)
    status = pd.Series(READY, index=index, dtype=object, name="status")
    error_field = _none_series(index, "error_field")
    error_message = _none_series(index, "error_message")

    invalid_labels = _apply_errors(errors, error_field, error_message)
    status.loc[invalid_labels] = INVALID

    _mark_duplicates(case_ids, sheet_row, status, error_field, error_message)
    note, same_subject = mark_same_subject(values, sheet_row, (status == READY) & case_ids.notna())

    warnings = []
    if plan is not None and plan.absent:
        warnings.append(
            f"{len(plan.absent)} column(s) named in the mapping are not in the sheet: "
            + ", ".join(plan.absent)
        )
    if unknown:
        warnings.append(
            f"{len(unknown)} column(s) not used by the API were ignored: " + ", ".join(unknown)
        )
    return Preflight(
        source=frame,
        values=values,
        sheet_row=sheet_row,
        kyc_case_id=case_ids,
        derived_id=derived_mask.rename("derived_id"),
        status=status,
        error_field=error_field,
        error_message=error_message,
        unknown_columns=unknown,
        column_map=column_map,
        campaign=campaign,
        missing_ids=missing_ids,
        warnings=warnings,
        note=note,
        same_subject=same_subject,
        mapping=mapping,
    )


def _mark_duplicates(
    case_ids: pd.Series,
    sheet_row: pd.Series,
    status: pd.Series,
    error_field: pd.Series,
    error_message: pd.Series,
) -> None:
    """Among the *valid* rows, the same id twice: the lowest sheet row is sent, the rest not.

    Invalid rows take no part: they are never sent, so a valid row must not be
    held back as the duplicate of one (it would never be sent either).
    """
    candidates = case_ids[(status == READY) & case_ids.notna()]
    if candidates.empty:
        return
    order = sheet_row.loc[candidates.index].sort_values(kind="stable").index
    ids = candidates.loc[order]
    later = ids.duplicated(keep="first")
    if not later.any():
        return
    firsts = ids[~later]
    first_row = pd.Series(sheet_row.loc[firsts.index].to_numpy(), index=firsts.to_numpy())
    labels = later[later].index
    status.loc[labels] = DUPLICATE
    error_field.loc[labels] = "kyc_case_id"
    error_message.loc[labels] = [
        f"Same external case ID as sheet row {int(r)}; only that row is sent."
        for r in ids.loc[labels].map(first_row)
    ]


# --- columns -----------------------------------------------------------------

REPEATED_HEADER = re.compile(r"(.*)\.(\d+)", re.DOTALL)
"""``name.1``: pandas' spelling of the second ``name`` header in one sheet."""


def _map_columns(columns: pd.Index) -> tuple[dict[str, str], list[str]]:
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    seen: dict[str, list[str]] = {}
    headers = {str(header) for header in columns}
    for header in columns:
        name = HEADER_ALIASES.get(normalise_header(header))
        if name is None:
            repeated = REPEATED_HEADER.fullmatch(str(header))
            if repeated and repeated.group(1) in headers:
                # pandas renamed a repeated header: two columns mean one field, refuse to guess
                original = HEADER_ALIASES.get(normalise_header(repeated.group(1)))
                if original is not None:
                    seen.setdefault(original, []).append(header)
                    continue
            unknown.append(str(header))
            continue
        seen.setdefault(name, []).append(header)
        mapping[header] = name
    ambiguous = {name: [str(h) for h in headers] for name, headers in seen.items() if len(headers) > 1}
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if missing or ambiguous:
        raise CampaignColumnsError(missing, ambiguous)
    return mapping, unknown


def _resolved(mapping: CampaignMapping | str | os.PathLike[str] | None) -> CampaignMapping | None:
    if mapping is None:
        return None
    from .mapping import as_mapping  # the mapping module builds on this one

    return as_mapping(mapping)


def _formula_errors(
    frame: pd.DataFrame, column_map: dict[str, str], errors: dict[str, pd.Series]
) -> None:
    """Cells :func:`~.reading.read_campaign` found to be formulas without a stored result.

    They read as missing, but "empty" would send the analyst looking for a
    blank cell; the message says what the cell really holds.
    """
    cells = frame.attrs.get("formula_cells") or ()
    for label, header in cells:
        name = column_map.get(header)
        if name is None or label not in frame.index:
            continue
        column = errors.setdefault(name, _none_series(frame.index))
        column.loc[label] = (
            f"{FIELD_TITLES[name]}: formula with no value (the file was saved without calculated "
            "results; open it in Excel and save it again, or type the value)"
        )


def _mention_value_maps(errors: dict[str, pd.Series], mapping: CampaignMapping | None) -> None:
    """Enum messages of mapped fields also list what the mapping translates."""
    if mapping is None:
        return
    for name, messages in errors.items():
        known = mapping.known_values(name)
        if not known or name not in ENUM_FIELDS:
            continue
        hint = "; the mapping translates " + ", ".join(repr(k) for k in known)
        present = messages.notna()
        enum_errors = present & messages.astype(object).map(
            lambda m: isinstance(m, str) and "use one of" in m
        )
        if enum_errors.any():
            messages.loc[enum_errors] = messages.loc[enum_errors] + hint


def _normalise_column(
    column: pd.Series, *, enum: bool, values: dict[str, str] | None = None
) -> pd.Series:
    """Strip, blank -> ``None``, one export quote dropped, and for enums canonical spelling.

    Returns an ``object`` Series of ``str`` and ``None``. Missing cells are
    whatever ``isna()`` says (``None``, ``NaN``, ``NA``, ``NaT``) and are
    never turned into text (see the module docstring). Works on the column's
    distinct values (``pd.factorize``, which codes every missing cell as -1)
    and maps back: most campaign columns (enums, teams, providers) repeat a
    few values, and pandas string methods loop in Python per cell anyway.
    """
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    cleaned = [_cell_text(value) for value in uniques.tolist()]
    if values:  # a mapping's {phrase of a sheet value -> API value}, before the usual rules
        cleaned = [values.get(phrase(value), value) for value in cleaned]
    if enum:
        cleaned = [ENUM_SEPARATORS.sub("_", value.upper()) for value in cleaned]
    table = np.array([value if value else None for value in cleaned] + [None], dtype=object)
    return pd.Series(table[codes], index=column.index, dtype=object)


ENUM_SEPARATORS = re.compile(r"[\s\-]+")
_FORMULA_CHARACTERS = frozenset("=+-@\t\r")
"""After a ``'``: how the batch's exports neutralise formulas (see :mod:`.report`)."""


def _cell_text(value: object) -> str:
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_CHARACTERS:
        text = text[1:].strip()
    return text


def _sheet_rows(frame: pd.DataFrame) -> pd.Series:
    """Spreadsheet row numbers (see the module docstring for the three cases)."""
    index = frame.index
    rows: Any
    if pd.api.types.is_integer_dtype(index.dtype) and index.name == SHEET_ROW_INDEX_NAME:
        rows = index.to_numpy()  # read_campaign's index is the row number already
    elif pd.api.types.is_integer_dtype(index.dtype) and (index.empty or index.min() >= 0):
        rows = index.to_numpy() + FIRST_DATA_ROW  # 0-based labels of the rows pandas read
    else:
        rows = range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(frame))
    return pd.Series(rows, index=index, dtype="int64", name="sheet_row")


# --- validation --------------------------------------------------------------


def _none_series(index: pd.Index, name: str | None = None) -> pd.Series:
    """An object Series of ``None`` (``pd.Series(None, dtype=object)`` would hold NaN)."""
    return pd.Series(np.full(len(index), None, dtype=object), index=index, name=name)


def _has_cross_field_rules() -> bool:
    decorators = KycCaseCreateInput.__pydantic_decorators__
    return bool(decorators.model_validators)


_ADAPTERS: dict[str, TypeAdapter[Any]] = {}


def field_adapter(name: str) -> TypeAdapter[Any]:
    """A ``list[<field type>]`` validator built from the model's own field definition."""
    adapter = _ADAPTERS.get(name)
    if adapter is None:
        info = KycCaseCreateInput.model_fields[name]
        params: Any = (info.annotation, *info.metadata)
        item: Any = Annotated[params] if info.metadata else info.annotation
        adapter = TypeAdapter(
            list[item],
            config=ConfigDict(str_strip_whitespace=True),
        )
        _ADAPTERS[name] = adapter
    return adapter


def json_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _validate_columns(normalised: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Validate each distinct value of each column once; map results back to rows."""
    values: dict[str, pd.Series] = {}
    errors: dict[str, pd.Series] = {}
    for name in FIELDS:
        column = normalised[name]
        info = KycCaseCreateInput.model_fields[name]
        present = column.notna()
        uniques = pd.unique(column[present])
        good, bad = _validate_uniques(name, uniques.tolist())
        validated = column.map(good, na_action="ignore").astype(object)
        validated = validated.where(validated.notna(), None)
        values[name] = validated
        problems = column.map(bad, na_action="ignore") if bad else None
        if info.is_required():
            missing = ~present
            if missing.any():
                required = _none_series(column.index)
                required[missing] = field_message(name, {"type": "missing", "msg": "Field required"})
                problems = required if problems is None else problems.fillna(required)
        if problems is not None and problems.notna().any():
            errors[name] = problems
    return pd.DataFrame(values, index=normalised.index), errors


def _validate_uniques(name: str, uniques: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    if not uniques:
        return {}, {}
    adapter = field_adapter(name)
    try:
        return dict(zip(uniques, map(json_value, adapter.validate_python(uniques)))), {}
    except ValidationError as exc:
        bad: dict[str, str] = {}
        for error in exc.errors(include_url=False, include_input=False):
            loc = error.get("loc") or ()
            if loc and isinstance(loc[0], int) and uniques[loc[0]] not in bad:
                bad[uniques[loc[0]]] = field_message(name, error)
    rest = [value for value in uniques if value not in bad]
    good = dict(zip(rest, map(json_value, adapter.validate_python(rest)))) if rest else {}
    return good, bad


def _validate_rows(normalised: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Per-row model validation: the slow, obviously-right path (fallback and test oracle)."""
    values = pd.DataFrame({name: _none_series(normalised.index) for name in FIELDS})
    errors: dict[str, pd.Series] = {}
    records = normalised.astype(object).where(normalised.notna(), None).to_dict("index")
    for label, record in records.items():
        data = {k: v for k, v in record.items() if v is not None}
        try:
            model = KycCaseCreateInput.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                name = str(error["loc"][0]) if error.get("loc") else "kyc_case_id"
                column = errors.setdefault(name, _none_series(normalised.index))
                if pd.isna(column.loc[label]):
                    column.loc[label] = field_message(name, error)
            continue
        dumped = model.model_dump(mode="json")
        for name in FIELDS:
            if name in data or name == "current_status":
                values.at[label, name] = dumped.get(name)
    return values, errors


def field_message(name: str, error: Any) -> str:
    title = FIELD_TITLES.get(name, name)
    kind = error.get("type")
    if kind == "missing":
        return f"{title}: this column is required and the cell is empty"
    if kind == "enum" and name in ENUM_FIELDS:
        members = ", ".join(member.value for member in ENUM_FIELDS[name])
        if name == "current_status":
            return (
                f"{title}: not a status a case can be created in; use one of {members} "
                "(final outcomes such as approval come from review, never from creation)"
            )
        return f"{title}: use one of {members}"
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{title}: {message}"


def _apply_errors(
    errors: dict[str, pd.Series], error_field: pd.Series, error_message: pd.Series
) -> pd.Index:
    if not errors:
        return error_field.index[:0]
    ordered = [name for name in FIELDS if name in errors]
    table = pd.DataFrame({name: errors[name] for name in ordered})
    bad = table.notna().any(axis=1)
    table = table[bad]
    fields_out = []
    messages_out = []
    for row in table.itertuples(index=False, name=None):
        names = [ordered[i] for i, message in enumerate(row) if isinstance(message, str)]
        fields_out.append(", ".join(names))
        messages_out.append("; ".join(m for m in row if isinstance(m, str)))
    error_field.loc[table.index] = fields_out
    error_message.loc[table.index] = messages_out
    return table.index
