"""The same customer and reason twice in one sheet, under different external ids.

Why: the product brief warns against "creating a new case for every quick
screening result". Two rows whose external ids differ (given ids that differ,
or derived ids that differ because, say, the user type was typed differently)
but whose subject and reason are the same, :data:`SUBJECT_FIELDS`, would
create two cases for one customer and one reason. The API cannot refuse the
second one (it only knows external ids), so the pre-flight flags such rows in
a ``note`` and the sender holds back every such row after the first (lowest
sheet row) unless the analyst confirms (``allow_same_subject=True``).

Values are compared the way :mod:`.identity` normalises them: provider and
programme names ignore case and runs of whitespace, the user id is exact.
Notes name sheet rows, never values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .columns import compact, plain

__all__ = [
    "SUBJECT_FIELDS",
    "SubjectKeys",
    "hold_same_subject",
    "mark_same_subject",
    "subject_codes",
    "subject_keys",
]

SUBJECT_FIELDS: tuple[str, ...] = (
    "user_internal_id",
    "regulated_provider_name",
    "programme_name",
    "relationship_type",
)
"""Whose relationship, with which firm and programme, and why: one case each."""

_FOLDED = frozenset({"regulated_provider_name", "programme_name"})


def mark_same_subject(
    keys: SubjectKeys,
    values_of: Callable[[pd.Index], pd.DataFrame],
    sheet_row: pd.Series,
    candidates: pd.Series,
) -> tuple[pd.Series, pd.Series]:
    """``(note, held)`` aligned on ``sheet_row``'s index; ``note`` is a compact column
    (:mod:`.columns`: most rows have none).

    ``candidates`` is the boolean mask of rows that would be sent (valid, not
    a duplicate id). Every candidate sharing its subject with another gets a
    note; ``held`` marks those after the first in sheet order.

    ``keys`` (:func:`subject_keys`, made a window of rows at a time) sift the
    rows whose subjects may be alike; only those rows' values are asked of
    ``values_of`` (labels -> values) and compared exactly, so a million-row
    sheet never holds its values whole for this.
    """
    index = sheet_row.index
    notes: dict[Any, str] = {}
    held = pd.Series(False, index=index, name="same_subject")
    sift = candidates.to_numpy(dtype=bool) & keys.present
    if sift.sum() >= 2:
        sifted = pd.Series(keys.hashes[sift], index=index[sift])
        alike = sifted.duplicated(keep=False).to_numpy()
        if alike.any():
            rows = values_of(sifted.index[alike])
            # Integer codes per column (distinct values folded once, not once per row)
            codes = pd.DataFrame(
                {name: _codes(rows[name], fold=name in _FOLDED) for name in SUBJECT_FIELDS},
                index=rows.index,
            )
            repeated = codes.duplicated(keep=False)
            if repeated.any():
                _note_repeats(codes[repeated], sheet_row, notes, held)
    positions = np.full(len(index), -1, dtype=np.int64)
    positions[index.get_indexer(list(notes))] = np.arange(len(notes))
    return compact(list(notes.values()), positions, index, "note"), held


def _note_repeats(
    codes: pd.DataFrame, sheet_row: pd.Series, notes: dict[Any, str], held: pd.Series
) -> None:
    """Note the rows whose subject ``codes`` repeat (by label); hold all but the first of each."""
    codes = codes.assign(_row=sheet_row.loc[codes.index])
    codes = codes.sort_values("_row", kind="stable")
    for _, group in codes.groupby(list(SUBJECT_FIELDS), sort=False):
        labels = group.index.tolist()
        numbers = [int(n) for n in group["_row"].tolist()]
        notes[labels[0]] = (
            "Same customer and reason as sheet row(s) "
            + ", ".join(map(str, numbers[1:]))
            + " under another external ID; only this row is sent unless that is confirmed."
        )
        for label in labels[1:]:
            notes[label] = (
                f"Same customer and reason as sheet row {numbers[0]} under another external ID; "
                "sent only when confirmed (a second case for one customer and reason)."
            )
        held.loc[labels[1:]] = True


@dataclass(frozen=True)
class SubjectKeys:
    """A 64-bit hash of every row's subject, and whether the row has every subject field.

    Rows with the same subject (compared as :func:`mark_same_subject` compares:
    names folded, the user id exact) have the same hash; two subjects may share
    one (rarely), which is why the hash only sifts and the values decide.
    """

    hashes: np.ndarray
    present: np.ndarray

    @classmethod
    def concat(cls, parts: list[SubjectKeys]) -> SubjectKeys:
        """The keys of consecutive windows of rows, as one."""
        return cls(np.concatenate([p.hashes for p in parts]),
                   np.concatenate([p.present for p in parts]))


def subject_keys(values: pd.DataFrame) -> SubjectKeys:
    """The :class:`SubjectKeys` of ``values``' rows (a missing field: not ``present``).

    Each field's distinct values are hashed once (their UTF-8, folded where the
    comparison folds), and a row's four hashes are combined into one.
    """
    present = np.ones(len(values), dtype=bool)
    hashes: dict[str, np.ndarray] = {}
    for name in SUBJECT_FIELDS:
        codes, uniques = pd.factorize(values[name], use_na_sentinel=True)
        texts = [(_fold(u) if name in _FOLDED else str(u)).encode("utf-8", "surrogatepass")
                 for u in uniques.tolist()]
        table = np.append(pd.util.hash_array(np.asarray(texts, dtype=object)), np.uint64(0))
        hashes[name] = table[np.where(codes >= 0, codes, len(texts))]
        present &= codes >= 0
    combined = pd.util.hash_pandas_object(pd.DataFrame(hashes), index=False).to_numpy()
    return SubjectKeys(np.asarray(combined, dtype=np.uint64), present)


def hold_same_subject(
    pre: object, data: Mapping[str, Any], to_send: np.ndarray, *, allow: bool
) -> np.ndarray:
    """Copy the plan's notes into the report columns; drop held rows from ``to_send``.

    ``pre`` is a :class:`~.preflight.Preflight` and ``data`` the run's columns by name
    (:attr:`~.run.ResultColumns.data`, read and written by position); both duck-typed to
    keep imports one-way.
    """
    note: pd.Series | None = getattr(pre, "note", None)
    held: pd.Series | None = getattr(pre, "same_subject", None)
    if note is None or held is None:
        return to_send
    flagged = np.flatnonzero(note.notna().to_numpy())  # (a few rows: read those alone)
    for position, text in zip(flagged.tolist(), plain(note.iloc[flagged])):
        if data["note"][position] is None:
            data["note"][position] = text
    if allow or not held.any():
        return to_send
    keep = ~held.to_numpy(dtype=bool)[to_send]
    return to_send[keep]


def subject_codes(values: pd.DataFrame) -> pd.Series:
    """One integer per row: rows with the same subject (:data:`SUBJECT_FIELDS`, compared as
    :func:`mark_same_subject` compares them) share a code.

    The pre-flight uses it to tell a repeated row (same external id, same subject: one
    case) from two customers given one external id by mistake (neither may be dropped).
    """
    keys = pd.DataFrame(
        {name: _codes(values[name], fold=name in _FOLDED) for name in SUBJECT_FIELDS},
        index=values.index,
    )
    codes, _ = pd.factorize(pd.MultiIndex.from_frame(keys))
    return pd.Series(np.asarray(codes, dtype=np.int64), index=values.index, name="subject")


def _fold(value: object) -> str:
    return " ".join(str(value).split()).casefold()


def _codes(column: pd.Series, *, fold: bool) -> np.ndarray:
    """Integer codes of a column's values (-1: missing); folded names share a code."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    if fold and len(uniques):
        refolded, _ = pd.factorize(pd.Index([_fold(u) for u in uniques.tolist()]))
        codes = np.where(codes >= 0, refolded[np.maximum(codes, 0)], -1)
    return np.asarray(codes, dtype=np.int64)
