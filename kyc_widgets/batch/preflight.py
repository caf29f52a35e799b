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
and the normalised columns hold text or missing, never the text of a missing
cell: ``astype(str)`` would turn a missing cell into the text ``"nan"`` or
``"<NA>"`` under pandas 2 (pandas 3 keeps it missing), which would become an
id or a name. So the input may use any dtype (``object``, ``str``,
``string``, categorical, numbers) under pandas 2.1+ and 3.x alike.

The normalised and validated columns are compact (:mod:`.columns`: a code per
row, each distinct value once, text in Arrow), because a million-row campaign
would otherwise hold a Python pointer per cell and a string per distinct name
twice over. Distinct values are cleaned and validated a chunk at a time
(:mod:`.validation`), so they are never all Python strings at once, and the
sheet is read :data:`~.validation.WINDOW` rows at a time: the pre-flight keeps
each row's status, id and problems, not its values, which are made again from
the sheet when asked for (:class:`~.validation.SheetValues`; a row's values
depend on that row alone). Read the columns row by row with
:func:`~.columns.plain_records` (``None`` where missing).

Problems are data (:mod:`.problems`): one row per failing (sheet row, field)
in :attr:`Preflight.problems`, with a code, the message without the field's
title, the value read and a hint; the ``error_field`` / ``error_message``
columns of the report are rendered from that table, never the other way round.

Headers become fields through a :class:`~.mapping.CampaignMapping` always:
the one given, or :meth:`~.mapping.CampaignMapping.default` (names and titles
only), so there is one way a sheet is read. :func:`read_rows` is that reading
for a few rows (the fix form shows a row as the pre-flight read it).

Sheet rows (``sheet_row`` in the report, and "the first" of duplicate ids):
the index itself for a frame from :func:`~.reading.read_campaign`; for any
other frame with a non-negative integer index, label + 2 (``pd.read_csv``
gives a 0-based ``RangeIndex`` whose labels survive filtering and sorting;
it also drops blank lines, which :func:`~.reading.read_campaign` counts);
for any other index, position + 2.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kyc_widgets.countries import country_problem

from .columns import compact, concat_compact, plain, plain_records
from .fields import (
    COUNTRY_FIELDS,
    ENUM_FIELDS,
    ENUM_SEPARATORS,
    FIELD_TITLES,
    FIELDS,
    HEADER_ALIASES,
    REPEATED_HEADER,
    REQUIRED_COLUMNS,
    field_adapter,
    field_message,
    json_value,
    normalise_header,
)
from .identity import derive_case_ids
from .mapping import CampaignColumnsError, CampaignMapping, ColumnPlan, as_mapping
from .memory import give_back_memory
from .problems import ProblemCode, concat_problems, field_problems, summarise
from .sheet import FIRST_DATA_ROW, SHEET_ROW_INDEX_NAME, reading_notes
from .status import RowStatus
from .subjects import SubjectKeys, mark_same_subject, subject_codes, subject_keys
from .validation import SheetValues, cell_text, read_rows

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
    "read_rows",
]
# The vocabulary names above are re-exported for scripts written against this module;
# their home is .fields (and CampaignColumnsError's is .mapping).

READY = RowStatus.READY
_STATUS_DTYPE = pd.CategoricalDtype(
    pd.Index([READY, *(status for status in RowStatus if status is not READY)], dtype=object)
)
"""A plan's statuses: a code per row (``ready`` first), each a :class:`~.status.RowStatus`
member (object categories: pandas 3 would read a ``str`` enum as Arrow text)."""
INVALID = RowStatus.INVALID
DUPLICATE = RowStatus.DUPLICATE_IN_SHEET
DUPLICATE_ID = RowStatus.DUPLICATE_ID


@dataclass
class Preflight:
    """Everything the pre-flight found, aligned on the input frame's index.

    ``values`` holds the validated, JSON-ready value of every known field as
    compact categorical columns (missing where absent; :func:`~.columns.plain`
    and :func:`~.columns.plain_records` read them with ``None``). They are made
    from the sheet when first asked for (:class:`~.validation.SheetValues`), not
    kept by the pre-flight: what it sends is read a window at a time with
    :meth:`values_of` and :meth:`bodies`. ``status`` is a
    :class:`~.status.RowStatus` (``ready``, ``invalid`` or ``duplicate_in_sheet``);
    ``kyc_case_id`` is the given id or the derived one, a compact column too
    (missing when a row has none and no campaign was
    given: see ``missing_ids``); ``problems`` is the table of what failed
    (:mod:`.problems`), and ``error_field`` / ``error_message`` are rendered from it.
    """

    source: pd.DataFrame
    sheet_values: SheetValues
    sheet_row: pd.Series
    kyc_case_id: pd.Series
    derived_id: pd.Series
    status: pd.Series
    problems: pd.DataFrame
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
    """The :class:`~.mapping.CampaignMapping` the sheet was read with, if one was given."""

    @property
    def values(self) -> pd.DataFrame:
        """The validated values of every row (made on first use, then kept)."""
        return self.sheet_values.whole()

    def values_of(self, labels: pd.Index) -> pd.DataFrame:
        """The validated values of the rows ``labels`` only."""
        return self.sheet_values.frame(labels)

    @property
    def ready(self) -> pd.Series:
        """Boolean mask of the rows that would be sent."""
        return self.status == READY

    def counts(self) -> dict[str, int]:
        """``{"rows", "ready", "invalid", "duplicate_in_sheet", "duplicate_id", "same_subject"}``
        for a preview."""
        counted = self.status.value_counts()
        return {
            "rows": len(self.status),
            READY.value: int(counted.get(READY, 0)),
            INVALID.value: int(counted.get(INVALID, 0)),
            DUPLICATE.value: int(counted.get(DUPLICATE, 0)),
            DUPLICATE_ID.value: int(counted.get(DUPLICATE_ID, 0)),
            "same_subject": int(self.same_subject.sum()) if self.same_subject is not None else 0,
        }

    def body(self, label: Hashable) -> dict[str, Any]:
        """The JSON body for one row: present fields only, ``kyc_case_id`` included."""
        return self.bodies(pd.Index([label]))[0]

    def bodies(self, labels: pd.Index) -> list[dict[str, Any]]:
        """:meth:`body` for many rows at once (one pass, not one ``.loc`` per row)."""
        records = plain_records(self.values_of(labels))
        ids = plain(self.kyc_case_id.loc[labels])
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
    ``invalid`` rows with their problems in :attr:`Preflight.problems`
    (rendered into ``error_field``, field names in the form's order, and
    ``error_message``, ``"<field title>: <problem>"`` joined with ``"; "``).
    Cell values never appear in messages, except enum spellings and country
    names, which are not personal data (a country cell that is a name, an
    ambiguous name such as "Korea" or no country at all says so, naming the
    candidates: :func:`~kyc_widgets.countries.country_problem`).

    The sheet is read :data:`~.validation.WINDOW` rows at a time
    (:func:`_read_windows`); what needs the whole sheet (repeated ids, the same
    subject twice) works on each row's id and subject hash, and asks for the
    values of the few rows that repeat.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError("batch input must be a pandas DataFrame (use read_campaign for files)")
    given = as_mapping(mapping)
    plan = (given or CampaignMapping.default()).plan(frame.columns)
    if frame.index.has_duplicates:
        raise ValueError(
            "The DataFrame index has duplicate labels; the report is aligned on the index, "
            "so give every row a unique label (e.g. df.reset_index(drop=True))."
        )
    sheet = SheetValues(frame, plan)
    read = _read_windows(sheet, campaign)
    give_back_memory()  # the windows' ids, joined into one column
    parts = _replace_by_formulas(read.parts, _formula_problems(frame, plan.column_map))
    sheet_row = _sheet_rows(frame)
    problems = concat_problems(parts, sheet_row)
    _quote_choices_as_typed(problems, frame, plan.column_map)
    if given is not None and plan.values:
        _mention_value_maps(problems, given)
    _explain_countries(problems)
    case_ids = read.case_ids

    status = pd.Series(pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8),
                                                 dtype=_STATUS_DTYPE), index=frame.index, name="status")
    status.loc[problems.index.unique()] = INVALID
    duplicates = _mark_duplicates(case_ids, sheet_row, status, sheet.frame)
    problems = concat_problems([problems, duplicates], sheet_row)
    error_field, error_message = summarise(problems, frame.index)
    note, same_subject = mark_same_subject(read.subjects, sheet.frame, sheet_row,
                                           (status == READY) & case_ids.notna())
    give_back_memory()  # what the steps above freed, before the run's and report's own
    return Preflight(
        source=frame,
        sheet_values=sheet,
        sheet_row=sheet_row,
        kyc_case_id=case_ids,
        derived_id=read.derived.rename("derived_id"),
        status=status,
        problems=problems,
        error_field=error_field,
        error_message=error_message,
        unknown_columns=plan.unknown,
        column_map=plan.column_map,
        campaign=campaign,
        missing_ids=read.missing_ids,
        warnings=_warnings(plan) + reading_notes(frame.attrs),  # e.g. rows above the header
        note=note,
        same_subject=same_subject,
        mapping=given,
    )


@dataclass
class _Read:
    """What :func:`_read_windows` gathered from every window of the sheet."""

    parts: list[pd.DataFrame]
    case_ids: pd.Series
    derived: pd.Series
    missing_ids: int
    subjects: SubjectKeys


def _read_windows(sheet: SheetValues, campaign: str | None) -> _Read:
    """Read, validate and identify the sheet a window at a time: its problems, every row's
    id (compact), which ids were derived, and every row's subject hash. The values of a
    window are dropped once those are taken from them."""
    parts: list[pd.DataFrame] = []
    ids: list[pd.Series] = []
    derived: list[pd.Series] = []
    subjects: list[SubjectKeys] = []
    missing_ids = 0
    for normalised, values, window_parts in sheet.windows():
        parts.extend(window_parts)
        window_ids, window_derived, window_missing = _case_ids(normalised, values, campaign)
        ids.append(window_ids)
        derived.append(window_derived)
        missing_ids += window_missing
        subjects.append(subject_keys(values))
        del normalised, values
        give_back_memory()  # the window's values: freed, and handed back before the next
    return _Read(
        parts=parts,
        case_ids=concat_compact(ids, sheet.source.index, "kyc_case_id"),
        derived=pd.Series(np.concatenate([part.to_numpy(dtype=bool) for part in derived]),
                          index=sheet.source.index),  # (on the sheet's index: no copy of it)
        missing_ids=missing_ids,
        subjects=SubjectKeys.concat(subjects),
    )


def _case_ids(
    normalised: pd.DataFrame, values: pd.DataFrame, campaign: str | None
) -> tuple[pd.Series, pd.Series, int]:
    """``(ids, derived, missing)``: the given or derived id of each row, which were derived,
    and how many rows have none (no campaign to derive one from)."""
    given = normalised["kyc_case_id"]
    derived_mask = given.isna()
    deriving = campaign is not None and bool(str(campaign).strip())
    if deriving and derived_mask.all():  # a campaign's usual sheet: every id derived, compactly
        return derive_case_ids(str(campaign), normalised), derived_mask, 0
    # the validated id, or for an invalid one the cell as read: it still identifies the row
    # for duplicate detection
    ids = np.asarray(plain(values["kyc_case_id"]), dtype=object)
    unvalidated = pd.isna(ids)
    ids[unvalidated] = np.asarray(plain(given), dtype=object)[unvalidated]
    missing_ids = 0
    if derived_mask.any():
        if deriving:
            derived = derive_case_ids(str(campaign), normalised.loc[derived_mask])
            ids[derived_mask.to_numpy()] = plain(derived)
        else:
            missing_ids = int(derived_mask.sum())
    codes, uniques = pd.factorize(ids, use_na_sentinel=True)
    return compact(list(uniques), codes, normalised.index, "kyc_case_id"), derived_mask, missing_ids


def _warnings(plan: ColumnPlan) -> list[str]:
    warnings = []
    if plan.absent:
        warnings.append(
            f"{len(plan.absent)} column(s) named in the mapping are not in the sheet: "
            + ", ".join(plan.absent)
        )
    if plan.unknown:
        warnings.append(
            f"{len(plan.unknown)} column(s) not used by the API were ignored: "
            + ", ".join(plan.unknown)
        )
    return warnings


def _mark_duplicates(
    case_ids: pd.Series,
    sheet_row: pd.Series,
    status: pd.Series,
    values_of: Callable[[pd.Index], pd.DataFrame],
) -> pd.DataFrame:
    """Among the *valid* rows, the same external id twice; returns their problems.

    Rows with the same id *and* the same subject (:func:`~.subjects.subject_codes`:
    customer, provider, programme, reason) are one case typed twice: the lowest
    sheet row is sent, the later ones are ``duplicate_in_sheet``. Rows with the
    same id and *another* subject are two customers (or reasons) given one id by
    mistake: sending the first and dropping the second would leave a customer
    without a case, and nothing says which of them owns the id. So the first row
    of each subject is ``duplicate_id`` (needs attention, fixable: give one its
    own id) and none of them is sent.

    Invalid rows take no part: they are never sent, so a valid row must not be
    held back as the duplicate of one. Only the rows whose id repeats are asked
    of ``values_of`` (labels -> values) for their subject.
    """
    candidates = case_ids[(status == READY) & case_ids.notna()]
    order = sheet_row.loc[candidates.index].sort_values(kind="stable").index
    ids = candidates.loc[order]
    repeated = ids.duplicated(keep=False) if len(ids) else ids.astype(bool)
    if not repeated.any():
        return field_problems(status.index[:0], "kyc_case_id", ProblemCode.DUPLICATE_IN_SHEET, [])
    ids = ids[repeated]
    rows = pd.DataFrame(
        {
            "id": ids.astype(str).to_numpy(),
            "subject": subject_codes(values_of(ids.index)).to_numpy(),
            "row": sheet_row.loc[ids.index].to_numpy(),
        },
        index=ids.index,
    )
    later = rows.duplicated(["id", "subject"], keep="first")
    first_of_pair = rows.groupby(["id", "subject"], sort=False)["row"].transform("first")
    clash = rows.groupby("id", sort=False)["subject"].transform("nunique") > 1
    owners = rows[clash & ~later]
    others = owners.groupby("id", sort=False)["row"].agg(list)
    repeats = rows[later]
    status.loc[repeats.index] = DUPLICATE
    status.loc[owners.index] = DUPLICATE_ID
    repeat_messages = [
        f"Same external case ID as sheet row {int(first)}; only that row is sent."
        if not held else
        f"Same external case ID, customer and reason as sheet row {int(first)}: it repeats "
        "that row, whose case it is."
        for first, held in zip(first_of_pair[later].tolist(), clash[later].tolist())
    ]
    owner_messages = [
        "Same external case ID as sheet row "
        + ", ".join(str(int(r)) for r in others[case_id] if r != row)
        + ", another customer or reason: neither is sent until each row has its own "
        "external case ID."
        for case_id, row in zip(owners["id"].tolist(), owners["row"].tolist())
    ]
    return pd.concat(
        [
            field_problems(
                repeats.index, "kyc_case_id", ProblemCode.DUPLICATE_IN_SHEET, repeat_messages,
                value=ids.loc[repeats.index].tolist(),
            ),
            field_problems(
                owners.index, "kyc_case_id", ProblemCode.DUPLICATE_ID, owner_messages,
                value=ids.loc[owners.index].tolist(),
            ),
        ]
    )


# --- columns -----------------------------------------------------------------


def _formula_problems(frame: pd.DataFrame, column_map: dict[str, str]) -> pd.DataFrame:
    """Cells :func:`~.reading.read_campaign` found to be formulas without a stored result.

    They read as missing, but "empty" would send the analyst looking for a
    blank cell; the problem says what the cell really holds (and replaces the
    "required" one of the same cell).
    """
    labels: list[Any] = []
    names: list[str] = []
    for label, header in frame.attrs.get("formula_cells") or ():
        name = column_map.get(header)
        if name is not None and label in frame.index:
            labels.append(label)
            names.append(name)
    return field_problems(
        pd.Index(labels, dtype=object),
        None,
        ProblemCode.FORMULA_WITHOUT_VALUE,
        "formula with no value (the file was saved without calculated results; open it in "
        "Excel and save it again, or type the value)",
    ).assign(field=names)


def _replace_by_formulas(parts: list[pd.DataFrame], formulas: pd.DataFrame) -> list[pd.DataFrame]:
    """``parts`` plus ``formulas``, without the "required" problem of a formula's own cell."""
    if formulas.empty:
        return parts
    cells = set(zip(formulas.index, formulas["field"]))
    kept = []
    for part in parts:
        if len(part) and (part["code"] == ProblemCode.MISSING.value).any():
            replaced = [
                (label, name) in cells and code == ProblemCode.MISSING.value
                for label, name, code in zip(part.index, part["field"], part["code"])
            ]
            part = part[~np.asarray(replaced, dtype=bool)]
        kept.append(part)
    return [*kept, formulas]


def _quote_choices_as_typed(
    problems: pd.DataFrame, frame: pd.DataFrame, column_map: dict[Any, str]
) -> None:
    """A refused choice is named as the sheet spells it ("'Retail individual'", not the
    canonical ``RETAIL_INDIVIDUAL`` it was compared as), so the analyst can find it.

    Column by column, and each message made once per distinct value: a 100k-row sheet
    with a bad vocabulary has 100k such problems and a handful of values.
    """
    if problems.empty:
        return
    mask = (problems["code"] == ProblemCode.ENUM.value) & problems["field"].isin(ENUM_FIELDS)
    if not mask.any():
        return
    headers = {name: header for header, name in column_map.items()}
    for name in pd.unique(problems.loc[mask, "field"]):
        header = headers.get(name)
        rows = mask & (problems["field"] == name)
        if header is None:  # a campaign constant: no cell to quote but the value itself
            typed = problems.loc[rows, "value"]
        else:
            cells = frame[header].reindex(problems.index[rows])
            typed = pd.Series(
                [cell_text(c) if isinstance(c, str) and c.strip() else v
                 for c, v in zip(cells.tolist(), problems.loc[rows, "value"].tolist())],
                index=cells.index, dtype=object,
            )
        words = {v: field_message(str(name), {"type": "enum"}, v) for v in pd.unique(typed)}
        problems.loc[rows, "value"] = typed.to_numpy()
        problems.loc[rows, "message"] = [words[v] for v in typed.tolist()]


def _mention_value_maps(problems: pd.DataFrame, mapping: CampaignMapping) -> None:
    """Enum problems of mapped fields get a hint: which sheet values the mapping translates."""
    if problems.empty:
        return
    for name in ENUM_FIELDS:
        known = mapping.known_values(name)
        if not known:
            continue
        mask = (problems["field"] == name) & (problems["code"] == ProblemCode.ENUM.value)
        if mask.any():
            hint = "the mapping translates " + ", ".join(repr(k) for k in known)
            problems.loc[mask, "hint"] = hint


def _explain_countries(problems: pd.DataFrame) -> None:
    """Country problems in words that name the cell's text and the candidates.

    The contract's message describes a refused country without repeating it
    (the API's rule); in a campaign the analyst needs to find "Korea" among
    the sheet's values, so its problem names it: "'Korea' could be KP (North
    Korea) or KR (South Korea)", with what to do in the hint. Worked out once
    per distinct value.
    """
    if problems.empty:
        return
    mask = problems["field"].isin(COUNTRY_FIELDS) & (problems["code"] == "value_error")
    if not mask.any():
        return
    cells = problems.loc[mask, "value"]
    explained = {value: country_problem(str(value)) for value in pd.unique(cells)}
    found = [explained[value] for value in cells.tolist()]
    problems.loc[mask, "code"] = [code.value for code, _message, _hint in found]
    problems.loc[mask, "message"] = [message for _code, message, _hint in found]
    problems.loc[mask, "hint"] = [hint for _code, _message, hint in found]


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
