"""Compact columns: one small integer per row, one value per distinct value.

Why: a campaign of a million rows holds its pre-flight's values for every
field of every row (:attr:`~.preflight.Preflight.values`). As ``object``
columns that is a pointer per cell (8 bytes x 15 fields x 1,000,000 rows:
120 MB) plus a Python string per distinct name, id and e-mail (~55 bytes
each), twice over while the normalised text and the validated values both
exist. As a pandas ``Categorical`` it is a code per cell (one to four
bytes) and each distinct value once; string categories are held in Arrow
(``string[pyarrow]``), so a column of a million distinct names is one
buffer, not a million objects. Campaign columns repeat (enums, teams,
providers, an analyst's e-mail) and the pre-flight already works once per
distinct value, so the codes are what it computes anyway.

What reads these columns row by row (request bodies, the evidence record, a
fix merged into a report) goes through :func:`plain` / :func:`plain_records`,
which give ``None`` for a missing cell on pandas 2 and 3 alike (a categorical
says ``NaN`` or ``NA``), and :func:`set_row` writes a row, adding categories
a fix brings.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["compact", "compact_constant", "compact_missing", "plain", "plain_records", "set_row"]

ARROW_TEXT = pd.StringDtype("pyarrow")
"""The dtype of string categories (and of :func:`~.reading.read_campaign`'s columns)."""


def compact(table: Sequence[Any], codes: np.ndarray, index: pd.Index, name: str | None = None) -> pd.Series:
    """The Series whose row ``i`` is ``table[codes[i]]``: missing where the code is negative
    or the entry is ``None``.

    ``table`` may repeat values (two spellings cleaned to one) and hold ``None``;
    the categories are its distinct values, in Arrow when they are all text.
    """
    entries = np.empty(len(table) + 1, dtype=object)
    entries[: len(table)] = list(table)  # (np.array would split tuples; entries stay whole)
    entries[len(table)] = None  # code -1 reads the last entry: missing
    entry_codes, distinct = pd.factorize(entries, use_na_sentinel=True)
    row_codes = entry_codes[np.asarray(codes, dtype=np.int64)]
    categories: pd.Index
    if all(isinstance(value, str) for value in distinct):
        categories = pd.Index(pd.array(distinct, dtype=ARROW_TEXT))
    else:
        categories = pd.Index(distinct, dtype=object)
    smallest = np.min_scalar_type(-max(len(categories), 1))
    # The categories are distinct by construction (factorised): the public constructor would
    # check that with a hash table it then keeps (and, for Arrow text, an object array of
    # every category beside it: 40 MB for a million names).
    dtype = pd.CategoricalDtype._from_fastpath(categories, ordered=False)
    return pd.Series(
        pd.Categorical.from_codes(row_codes.astype(smallest), dtype=dtype, validate=False),
        index=index,
        name=name,
    )


def compact_constant(value: Any, index: pd.Index, name: str | None = None) -> pd.Series:
    """Every row ``value`` (a campaign constant)."""
    return compact([value], np.zeros(len(index), dtype=np.int8), index, name)


def compact_missing(index: pd.Index, name: str | None = None) -> pd.Series:
    """Every row missing (a field the sheet does not have)."""
    return compact([], np.full(len(index), -1, dtype=np.int8), index, name)


def plain(column: pd.Series) -> list[Any]:
    """The column's values as Python objects, ``None`` where missing."""
    values = column.to_numpy(dtype=object, na_value=None)
    return list(values.tolist())


def plain_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame.to_dict("records")`` with ``None`` for every missing cell."""
    columns = [plain(frame[name]) for name in frame.columns]
    names = [str(name) for name in frame.columns]
    return [dict(zip(names, row)) for row in zip(*columns)] if names else [{} for _ in frame.index]


def set_row(frame: pd.DataFrame, label: Hashable, values: dict[str, Any]) -> None:
    """Write ``values`` (by column) into row ``label``; a categorical column gains the
    categories it lacks (a fix may bring a value no other row has)."""
    for name, value in values.items():
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype) and value is not None:
            if value not in column.cat.categories:
                frame[name] = column.cat.add_categories([value])
        frame.loc[label, name] = value
