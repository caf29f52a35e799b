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
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "ARROW_TEXT",
    "ARROW_TEXT_TYPE",
    "CompactBuilder",
    "compact",
    "compact_constant",
    "compact_distinct",
    "compact_missing",
    "concat_compact",
    "empty_as_missing",
    "plain",
    "plain_records",
    "set_row",
    "text_hashes",
]

ARROW_TEXT = pd.StringDtype("pyarrow")
"""The dtype of string categories (and of :func:`~.reading.read_campaign`'s columns)."""

ARROW_TEXT_TYPE = pa.large_string()
"""What :data:`ARROW_TEXT` holds: arrays built of it join a column without a cast (a copy)."""


def compact(
    table: Sequence[Any],
    codes: np.ndarray,
    index: pd.Index,
    name: str | None = None,
) -> pd.Series:
    """The Series whose row ``i`` is ``table[codes[i]]``: missing where the code is negative
    or the entry is ``None``.

    ``table`` may repeat values (two spellings cleaned to one) and hold ``None``;
    the categories are its distinct values, in Arrow when they are all text.
    """
    entries = np.empty(len(table) + 1, dtype=object)
    entries[: len(table)] = list(table)  # (np.array would split tuples; entries stay whole)
    entries[len(table)] = None  # code -1 reads the last entry: missing
    entry_codes, distinct = pd.factorize(entries, use_na_sentinel=True)
    return _categorical(distinct, entry_codes[np.asarray(codes, dtype=np.int64)], index, name)


def _categorical(
    distinct: np.ndarray, row_codes: np.ndarray, index: pd.Index, name: str | None
) -> pd.Series:
    if all(isinstance(value, str) for value in distinct):
        return compact_distinct(pd.array(distinct, dtype=ARROW_TEXT), row_codes, index, name)
    return compact_distinct(distinct, row_codes, index, name)


def compact_distinct(
    distinct: Any, row_codes: np.ndarray, index: pd.Index, name: str | None = None
) -> pd.Series:
    """The Series whose row ``i`` is ``distinct[row_codes[i]]`` (missing where negative), for
    values known to be distinct and present: an Arrow text array stays in Arrow (the derived
    ids of a million rows are never a million Python strings at once)."""
    arrow = isinstance(distinct, pd.api.extensions.ExtensionArray)
    categories = pd.Index(distinct, dtype=None if arrow else object)
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


def concat_compact(parts: Sequence[pd.Series], index: pd.Index, name: str | None = None) -> pd.Series:
    """Compact columns of consecutive rows (the windows of one sheet) as one compact column
    on ``index``.

    Each part's categories join one table and are made distinct across parts by
    their 64-bit hash (:func:`text_hashes`, over Arrow's buffers), then checked
    equal to the entry they were folded into, in Arrow: a clash of hashes falls
    back to comparing the texts themselves. Factorising a million ids as text
    again held two more copies of them and a hash table at once.
    """
    if len(parts) == 1:
        return parts[0].set_axis(index).rename(name)
    categories = [part.array.categories for part in parts]
    codes = []
    offset = 0
    for part, table in zip(parts, categories):
        part_codes = np.asarray(part.array.codes, dtype=np.int64)
        codes.append(np.where(part_codes < 0, -1, part_codes + offset))
        offset += len(table)
    row_entries = np.concatenate(codes)
    held = [arrow_text(table.array) if isinstance(table.dtype, pd.StringDtype) else None
            for table in categories]
    if any(texts is None for texts in held):
        builder = CompactBuilder()
        for table in categories:
            builder.extend(table.tolist())
        return builder.build(row_entries, index, name)
    texts = pa.chunked_array([chunk for found in held if found is not None for chunk in found.chunks],
                             ARROW_TEXT_TYPE)
    del held
    hashes = text_hashes(texts)
    ordered = np.sort(hashes)
    if not (ordered[1:] == ordered[:-1]).any():  # every text once (ids usually are)
        return compact_distinct(_one_chunk(texts), row_entries, index, name)
    del ordered
    entry_codes, _ = pd.factorize(hashes)
    first = np.unique(entry_codes, return_index=True)[1]  # the first entry of each hash
    moved = np.flatnonzero(first[entry_codes] != np.arange(len(entry_codes)))
    if not pc.all(pc.equal(texts.take(moved), texts.take(first[entry_codes][moved]))).as_py():
        builder = CompactBuilder()  # two texts share a hash: compare the texts
        builder.extend_from_arrow(texts)
        return builder.build(row_entries, index, name)
    is_first = np.zeros(len(entry_codes), dtype=bool)
    is_first[first] = True  # (a filter keeps the chunks: a take would join them first)
    distinct = _one_chunk(texts.filter(pa.array(is_first)))
    return compact_distinct(distinct, np.append(entry_codes, -1)[row_entries], index, name)


def _one_chunk(texts: pa.ChunkedArray) -> pd.api.extensions.ExtensionArray:
    """The joined categories as one Arrow array, joined once here.

    Why: a window's categories are a chunk each, and Arrow joins a chunked
    array's chunks again for every ``take`` (pandas' ``remove_unused_categories``,
    a report chunk's ids): a copy of a million ids, ~45 MB, for every
    chunk of the CSV report. Joined once, they cost that copy once, here.
    """
    return pd.array(texts.combine_chunks() if texts.num_chunks > 1 else texts, dtype=ARROW_TEXT)


def arrow_text(values: Any) -> pa.ChunkedArray | None:
    """``values`` as Arrow text (:data:`ARROW_TEXT_TYPE`), in the chunks Arrow holds them in
    (an Arrow-backed pandas array hands over its own data, no copy); None when they are not
    all text (missing values are text enough). The journal's lookup and the joined ids both
    start here."""
    try:
        held = pa.array(values, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if not (pa.types.is_string(held.type) or pa.types.is_large_string(held.type)):
        return None
    chunks = held.chunks if isinstance(held, pa.ChunkedArray) else [held]
    return pa.chunked_array([c if c.type == ARROW_TEXT_TYPE else c.cast(ARROW_TEXT_TYPE)
                             for c in chunks], ARROW_TEXT_TYPE)


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


class CompactBuilder:
    """The table of a compact column, appended a chunk at a time.

    Why: a column of a million distinct names or ids, validated or derived a
    chunk at a time, would otherwise be a million Python strings at once before
    it became a column. Each chunk of text (``None`` for missing) goes into
    Arrow as it comes; a chunk that is not all text makes the table an object
    table (the contract's fields are all text, so that is never the case here).
    """

    def __init__(self) -> None:
        self._arrow: list[pa.Array] = []
        self._objects: list[Any] | None = None

    def extend(self, values: list[Any]) -> None:
        """Append ``values`` (text or ``None``; anything else makes the table objects).

        The values are the pre-flight's JSON values and derived ids: never ``bytes``,
        which Arrow would take as text."""
        if self._objects is None:
            try:  # (Arrow refuses anything but text and None, in C: no Python check per value)
                self._arrow.append(pa.array(values, ARROW_TEXT_TYPE))
                return
            except (pa.ArrowTypeError, pa.ArrowInvalid):
                pass
            self._objects = [value for block in self._arrow for value in block.to_pylist()]
            self._arrow = []
        self._objects.extend(values)

    def extend_from_arrow(self, texts: pa.ChunkedArray) -> None:
        """Append Arrow text as it is (no copy to Python)."""
        if self._objects is None:
            self._arrow.extend(texts.chunks)
        else:
            self.extend(texts.to_pylist())

    def build(self, codes: np.ndarray, index: pd.Index, name: str | None = None) -> pd.Series:
        """The column whose row ``i`` is entry ``codes[i]`` of the table (missing if negative)."""
        if self._objects is not None:
            return compact(self._objects, codes, index, name)
        table = pd.array(pa.chunked_array(self._arrow, ARROW_TEXT_TYPE), dtype=ARROW_TEXT)
        self._arrow = []  # (the table holds the chunks now: they are not copied)
        entry_codes, distinct = pd.factorize(table, use_na_sentinel=True)  # in Arrow, no objects
        del table
        row_codes = np.append(entry_codes, -1)[np.asarray(codes, dtype=np.int64)]
        return compact_distinct(distinct, row_codes, index, name)


def empty_as_missing(array: pa.Array, memory_pool: pa.MemoryPool | None = None) -> pa.Array:
    """``array`` (Arrow text) with its empty strings missing: an empty cell of a sheet is
    missing, never ``""``.

    The missing cells are set on the array's validity bitmap, computed in C; the text
    is not copied, nor looked at in Python. ``array`` itself when it holds no ``""``.
    """
    if array.offset:  # (a slice: its buffers start before it)
        array = pa.concat_arrays([array], memory_pool=memory_pool)
    lengths = pc.binary_length(array, memory_pool=memory_pool)
    present = pc.fill_null(pc.not_equal(lengths, 0, memory_pool=memory_pool), False)
    missing = len(array) - pc.sum(present).as_py() if len(array) else 0
    if missing == array.null_count:
        return array
    buffers = [present.buffers()[1], *array.buffers()[1:]]
    return pa.Array.from_buffers(array.type, len(array), buffers, null_count=missing)


_HASH_WINDOW = 1 << 13
"""Texts hashed at a time (a few numbers per byte of each window)."""

_HASH_BASE = np.uint64(0x100000001B3)  # (FNV-1a's 64-bit prime: odd, its powers spread)


def text_hashes(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A 64-bit hash of each text: the sum of its UTF-8 bytes (plus one) times the powers
    of :data:`_HASH_BASE`, modulo 2**64, times the base again plus its length.

    Computed by NumPy over Arrow's own buffers, a window at a time: no Python
    string per text. Equal texts have equal hashes; two texts with one hash
    are always compared before they count as one (the hash is easy to forge:
    that only costs a slower comparison). Missing texts hash as empty ones.
    """
    if isinstance(texts, pa.ChunkedArray):
        parts = [text_hashes(chunk) for chunk in texts.chunks]
        return np.concatenate([np.zeros(0, dtype=np.uint64), *parts])
    hashes = np.empty(len(texts), dtype=np.uint64)
    for start in range(0, len(texts), _HASH_WINDOW):
        window = texts.slice(start, _HASH_WINDOW)
        hashes[start : start + len(window)] = _window_hashes(window)
    return hashes


def _window_hashes(texts: pa.Array) -> np.ndarray:
    """:func:`text_hashes` of one window (a text array, possibly a slice of one)."""
    if not len(texts):
        return np.zeros(0, dtype=np.uint64)
    wide = pa.types.is_large_string(texts.type) or pa.types.is_large_binary(texts.type)
    _, offsets_buffer, data_buffer = texts.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64 if wide else np.int32)
    offsets = offsets[texts.offset : texts.offset + len(texts) + 1].astype(np.int64)
    first, size = int(offsets[0]), int(offsets[-1] - offsets[0])
    lengths = np.diff(offsets)
    raw = np.zeros(0, dtype=np.uint8)
    if size:
        raw = np.frombuffer(data_buffer, dtype=np.uint8)[first : first + size]
    place = np.arange(size, dtype=np.int64) - np.repeat(offsets[:-1] - first, lengths)
    powers = np.cumprod(np.full(int(lengths.max()) + 1, _HASH_BASE, dtype=np.uint64))
    terms = (raw.astype(np.uint64) + np.uint64(1)) * powers[place]  # (wraps: mod 2**64)
    sums = np.concatenate([np.zeros(1, dtype=np.uint64), np.cumsum(terms, dtype=np.uint64)])
    hashes = sums[offsets[1:] - first] - sums[offsets[:-1] - first]
    return hashes * _HASH_BASE + lengths.astype(np.uint64)
