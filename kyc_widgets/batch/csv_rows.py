"""A frame's rows as CSV, made by Arrow in C: exactly the bytes ``DataFrame.to_csv`` writes.

Why: a million-row report is two dozen columns, and pandas' ``to_csv`` turns
every cell into a Python object and every row into a list for the ``csv``
module: 7 of the 22 seconds a 1,000,000-row dry run took (``benchmarks/bench_million.py``).
Here each column becomes one Arrow text array (integers cast, categories
taken by their codes), cells that need quotes are quoted as Python's ``csv``
quotes them with ``QUOTE_MINIMAL`` (any cell holding the delimiter, a
double quote, a carriage return or a line feed; a quote inside is doubled),
and the columns are joined row by row into Arrow's buffers, written as they are.

Only what is known to give pandas' bytes is encoded: text (Arrow or Python
``str``), integers (nullable or not) and categoricals of those. Anything
else (floats, booleans, dates, objects that are not all text, a frame of one
column, whose empty cell Python's ``csv`` writes as ``""``) makes
:func:`csv_rows` answer None, and the caller writes with pandas.
``tests/test_csv_rows.py`` holds both writers to the same bytes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .columns import ARROW_TEXT_TYPE as _TEXT
from .columns import arrow_text

__all__ = ["csv_rows"]

_NEEDS_QUOTES = '[",\r\n]'
"""What makes Python's ``csv`` (``QUOTE_MINIMAL``, ``,`` and CRLF) quote a cell."""


def csv_rows(frame: pd.DataFrame, *, line_end: str) -> list[pa.Buffer] | None:
    """``frame``'s rows (no header, no index) as UTF-8 CSV, as
    ``frame.to_csv(header=False, index=False, lineterminator=line_end)`` writes them,
    in parts to write one after the other (Arrow's own buffers: no copy into ``bytes``);
    None when a column is of a kind this does not encode (see the module docstring), or
    ``line_end`` is not CRLF (the report's line end, the one whose quoting is checked here).
    """
    if frame.shape[1] < 2 or not len(frame) or line_end != "\r\n":
        return None
    fields = []
    for position in range(frame.shape[1]):
        text = _column_text(frame.iloc[:, position])
        if text is None:
            return None
        fields.append(_quoted(text.fill_null("")))
    empty = pa.scalar("", _TEXT)
    # the line end joined to the last field: the rows are then made in one join, one copy
    fields[-1] = pc.binary_join_element_wise(fields[-1], empty, pa.scalar(line_end, _TEXT))
    return _parts(pc.binary_join_element_wise(*fields, pa.scalar(",", _TEXT)))


def _column_text(column: pd.Series) -> pa.ChunkedArray | None:
    """One column as Arrow text, missing cells null; None when not encodable."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        if not len(column.cat.categories):  # (no cell set: pandas 2 gives such categories no text dtype)
            return pa.chunked_array([pa.nulls(len(column), _TEXT)])
        categories = _values_text(pd.Series(column.cat.categories))
        if categories is None:
            return None
        codes = column.cat.codes.to_numpy()
        return pa.chunked_array([categories.combine_chunks().take(pa.array(codes, mask=codes < 0))])
    return _values_text(column)


def _values_text(values: pd.Series) -> pa.ChunkedArray | None:
    if pd.api.types.is_integer_dtype(values.dtype):  # (numpy or nullable; never bool)
        array = values.array
        arrow = pa.array(array) if hasattr(array, "__arrow_array__") else pa.array(values.to_numpy())
        return (arrow if isinstance(arrow, pa.ChunkedArray) else pa.chunked_array([arrow])).cast(_TEXT)
    if isinstance(values.dtype, pd.StringDtype) or pd.api.types.is_object_dtype(values.dtype):
        # (a str subclass, such as a RowStatus, is written as its text, as csv writes it;
        # a lone surrogate makes it None: pandas then says so)
        text = arrow_text(values.array)
        if text is None and values.isna().all():  # (Arrow reads no type into nothing)
            return pa.chunked_array([pa.nulls(len(values), _TEXT)])
        return text
    return None


def _quoted(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Cells that need quotes in quotes, a quote inside doubled; the rest as they are."""
    needs = pc.match_substring_regex(text, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return text
    doubled = pc.replace_substring(text, '"', '""')
    quote = pa.scalar('"', _TEXT)
    quoted = pc.binary_join_element_wise(quote, doubled, quote, pa.scalar("", _TEXT))
    return pc.if_else(needs, quoted, text)


def _parts(lines: pa.ChunkedArray) -> list[pa.Buffer]:
    """The lines' UTF-8, one after another: each chunk's data buffer, between its first and
    last offset."""
    parts = []
    for chunk in lines.chunks:
        if not len(chunk):
            continue
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)
        first, last = int(offsets[chunk.offset]), int(offsets[chunk.offset + len(chunk)])
        parts.append(chunk.buffers()[2].slice(first, last - first))
    return parts
