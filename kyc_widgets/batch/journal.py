"""An append-only JSON-lines journal of row outcomes, for resuming after a crash.

Why a journal when re-runs are already safe (409 -> "exists")? After a crash
at row 80,000 of 100,000 the next run should not send 80,000 creates again:
a create is a compliance-changing request, and 80,000 refusals are noise in
the API's logs and in the report. With the journal the rows that landed are
*looked up* instead (one ``GET`` each, :mod:`.resume`) and keep the outcome,
case id and ``request_id`` of the run that created them.

**A journal is never trusted on its word.** It is a text file: anyone who can
write it can add a line saying a row was created, and a journal copied from
another campaign, API or analyst says things about other cases. So a resumed
run counts a journaled row as done only when the API confirms it: the case
exists, with the journaled case id, created by the journaled principal
(:func:`~.resume.resume_from_journal`). Otherwise the row is sent like any
other (a 409 then says it exists).

**Header.** The first line of a journal says what it is bound to::

    {"journal": "kyc-widgets/journal/2", "api_base_url": "https://kyc.example.com",
     "campaign": "remediation-2024-q4", "principal": "analyst@bank", "started_at": "..."}

``api_base_url`` is the public form of the client's URL (no credentials:
:func:`~.evidence.public_url`). A run whose client talks to another API refuses
the journal before sending anything (:class:`JournalMismatchError`): its lines
speak of cases on another server. The campaign and principal are checked by
the confirmation above, row by row.

*Why the principal is the first answer's.* The API names the caller only in
its answers (``{"principal", "case"}``): there is no "who am I" call, and a
token says nothing readable about its holder. A new journal is therefore
created (and its folder checked) before the first request, but its header is
written with the first outcome, naming the principal that answer gave
(``null`` when the first outcome had no answer: a refused token, a lost
connection). Every outcome line names its own principal as well, so a journal
continued by a colleague after a crash says who did what; a resumed run notes
when the API now answers with another principal than the header's.

Each line also records the campaign (its slug) the run was for. Resuming with
another campaign name would derive other ids for rows without one, so the
journal could not skip them and the API would not refuse them as duplicates:
the batch warns when it sees that (``BatchReport.warnings``).

Each line is written and flushed as the outcome happens, so a killed process
loses at most the line being written: a torn last line is ignored on reading,
and opening the journal again first ends it with a newline so that the next
outcome starts a line of its own instead of being glued to (and lost with)
the torn one. Lines are read strictly: a line with a duplicate or unknown key,
or a status that is not one, is ignored (and counted in the log); so is a line
whose HTTP status is not three digits (a run's columns hold it as an ``int16``:
a forged ``99999`` stopped the resume with a traceback) or whose text holds a
lone surrogate (``"\\ud800"``: not text Arrow or a UTF-8 file can hold, so this
tool never wrote one), a line whose status is a list or an object, and a line
nested deeper than Python's JSON reader goes (these two stopped the reading
with a traceback).

Each line names the run that wrote it (``run``: the run's start time in UTC),
so that the evidence record of a resumed campaign (:mod:`.evidence`) can list
the earlier runs whose outcomes were confirmed.

**Reading for a resume holds columns, not a Python object per line.** A
million-line journal read as :class:`JournalEntry` objects was ~425 bytes a
line (~425 MB), next to a run that holds a few dozen bytes a row. So
:meth:`Journal.read` keeps the last outcome per ``kyc_case_id`` as Arrow
columns (:class:`JournalEntries`): the texts' UTF-8, the repeated words
(status, campaign, run, principal) as dictionary codes, the HTTP status as an
``int16``. Lines exactly as :meth:`Journal.append` writes them (no escaped
character in a text) are checked and taken apart by one regular expression
over a block of lines at a time, in Arrow's C++ (RE2); every other line goes
through the strict reading above, line by line, and is refused or ignored as
it always was. A resume looks the sheet's ids up in these columns
(:meth:`JournalEntries.lookup`, by 64-bit hashes of the ids checked against
the texts) and makes entries only for the rows it confirms
(:meth:`JournalEntries.at`). ``benchmarks/bench_million.py`` measures the
reading of a million lines, its peak memory and what it holds.

Lines hold ids, statuses and HTTP facts, never the sheet's names, e-mails or
user ids (the principal is the operator's login as the API reports it).
But a *derived* ``kyc_case_id`` is a hash of the row's identity, user id
included, and can be recomputed from a list of candidate user ids, so it is
pseudonymous personal data, not anonymous: keep the journal where the
campaign sheet itself may be kept, and delete it with the sheet.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import operator
import os
from collections.abc import ItemsView, Iterable, Iterator, Mapping, ValuesView
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from typing_extensions import Self

from kyc_widgets.text import is_utf8

from .columns import ARROW_TEXT_TYPE, arrow_text, text_hashes
from .json_shapes import unique_keys
from .memory import give_back_memory
from .status import STATUSES

__all__ = [
    "JOURNAL_FORMAT",
    "Journal",
    "JournalContents",
    "JournalEntries",
    "JournalEntry",
    "JournalHeader",
    "JournalMismatchError",
]

logger = logging.getLogger("kyc_widgets.batch")

JOURNAL_FORMAT = "kyc-widgets/journal/2"
"""The header's ``journal`` value. Journals of format 1 had no header (read, never trusted)."""

_STATUS_WORDS = frozenset(status.value for status in STATUSES)


class JournalMismatchError(ValueError):
    """The journal was written against another API than this run's: nothing was sent."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One outcome: ids, status, HTTP facts and the campaign slug; no names, e-mails or user ids.

    Made only for the outcomes asked for (:meth:`JournalEntries.at`): a
    journal is held as columns, not as one of these per line.
    """

    kyc_case_id: str
    status: str
    case_id: str | None = None
    request_id: str | None = None
    http_status: int | None = None
    at: str | None = None
    campaign: str | None = None
    run: str | None = None
    principal: str | None = None


@dataclass(frozen=True)
class JournalHeader:
    """The first line: the API, campaign and principal the journal's outcomes belong to."""

    api_base_url: str | None
    campaign: str | None = None
    principal: str | None = None
    started_at: str | None = None

    def line(self) -> dict[str, Any]:
        return {"journal": JOURNAL_FORMAT, **asdict(self)}


_FIELDS = tuple(f.name for f in fields(JournalEntry))
_ENTRY_KEYS = frozenset(_FIELDS)
_HEADER_KEYS = frozenset({"journal", *(f.name for f in fields(JournalHeader))})


_WORDS = ("status", "campaign", "run", "principal")
"""Fields most lines repeat: held as dictionary codes (a few bytes a line), not a text each."""

_WORD_TYPE = pa.dictionary(pa.int32(), ARROW_TEXT_TYPE)

_SCHEMA = pa.schema([
    (name, _WORD_TYPE if name in _WORDS else pa.int16() if name == "http_status"
     else ARROW_TEXT_TYPE)
    for name in _FIELDS
])
"""The columns of :class:`JournalEntries`, one per :class:`JournalEntry` field."""


class JournalEntries(Mapping[str, JournalEntry]):
    """The last outcome per ``kyc_case_id`` (later lines win), held as Arrow columns.

    Why columns: a million outcomes as :class:`JournalEntry` objects were
    ~425 MB. Here an outcome is the UTF-8 of its texts (ids, case id, request
    id, time), codes for its repeated words and an ``int16`` HTTP status
    (``table``, one column per field, rows in the order ids first appear).
    A resume looks ids up by arrays (:meth:`lookup`) and makes entries only
    for the rows it asks for (:meth:`at`). As a ``Mapping`` it still answers
    ``entries[kyc_case_id]``, ``in``, ``len`` and iteration (first appearance
    order), for scripts and tests; the first lookup by key builds a dict of
    every id, which a resume never does.
    """

    CHUNK = 4096
    """Entries made at a time when iterating."""

    def __init__(self, table: pa.Table | None = None, hashes: np.ndarray | None = None) -> None:
        self.table: pa.Table = _SCHEMA.empty_table() if table is None else table
        self.hashes = text_hashes(self._ids) if hashes is None else hashes
        """The 64-bit hash of each row's ``kyc_case_id`` (:func:`~.columns.text_hashes`)."""
        self._positions: dict[str, int] | None = None

    @property
    def _ids(self) -> pa.Array:
        ids = self.table.column("kyc_case_id")
        return ids.chunk(0) if ids.num_chunks == 1 else ids.combine_chunks()

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def __iter__(self) -> Iterator[str]:
        ids = self.table.column("kyc_case_id")
        for start in range(0, len(ids), self.CHUNK):
            yield from ids.slice(start, self.CHUNK).to_pylist()

    def __getitem__(self, kyc_case_id: str) -> JournalEntry:
        if self._positions is None:
            self._positions = {key: row for row, key in enumerate(self)}
        return self.at(np.asarray([self._positions[kyc_case_id]]))[0]

    def items(self) -> ItemsView[str, JournalEntry]:
        """(id, entry) pairs, made a chunk at a time (not one ``entries[id]`` per id)."""
        return _Items(self)

    def values(self) -> ValuesView[JournalEntry]:
        return _Values(self)

    def _pairs(self) -> Iterator[tuple[str, JournalEntry]]:
        for start in range(0, len(self), self.CHUNK):
            for entry in self.at(np.arange(start, min(start + self.CHUNK, len(self)))):
                yield entry.kyc_case_id, entry

    def at(self, rows: np.ndarray) -> list[JournalEntry]:
        """The entries at ``rows`` (positions in :attr:`table`), made now."""
        part = self.table.take(pa.array(np.asarray(rows, dtype=np.int64)))
        columns = [part.column(name).to_pylist() for name in _FIELDS]
        return [JournalEntry(*values) for values in zip(*columns)]

    def column(self, name: str, rows: np.ndarray) -> pa.Array:
        """One field at ``rows``, as Arrow (words decoded to text)."""
        values = self.table.column(name).take(pa.array(np.asarray(rows, dtype=np.int64)))
        if name in _WORDS:
            values = values.cast(ARROW_TEXT_TYPE)
        return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values

    def rows_where(self, name: str, words: Iterable[str]) -> np.ndarray:
        """The rows whose ``name`` (a repeated word: status, campaign, run, principal) is one
        of ``words``, in order."""
        codes, table = _word_codes(self.table.column(name))
        wanted = set(words)
        hits = np.asarray([value in wanted for value in table] + [False], dtype=bool)
        return np.flatnonzero(hits[codes])

    def distinct(self, name: str) -> set[str | None]:
        """The values a repeated word takes among the entries (``None`` for a missing one)."""
        codes, table = _word_codes(self.table.column(name))
        return {(table + [None])[code] for code in np.unique(codes).tolist()}

    def lookup(self, ids: Any, among: np.ndarray) -> np.ndarray:
        """For each of ``ids``, the row among ``among`` (rows of :attr:`table`) whose
        ``kyc_case_id`` it is, or -1.

        ``ids`` is a pandas ``Categorical`` (the pre-flight's column: its
        categories are looked up once and its codes read the answers), a
        pandas array or a sequence. Texts are joined by their 64-bit hashes
        (sorted, searched) and each match is then checked on the texts
        themselves, in Arrow, a window at a time: a hash table of a million
        ids in Arrow held three copies of them at once. When two of the
        journal's ids share a hash (by chance, or forged), Arrow's own
        ``index_in`` compares them; ids that are not all text (never the
        pre-flight's) are compared as Python objects.
        """
        if isinstance(ids, pd.Categorical):
            by_category = np.append(self.lookup(ids.categories.array, among), -1)
            return by_category[np.asarray(ids.codes, dtype=np.int64)]  # code -1 reads the -1
        among = np.asarray(among, dtype=np.int64)
        texts = arrow_text(ids)
        if texts is None:
            found = pd.Index(self._ids.take(pa.array(among)).to_pylist(), dtype=object).get_indexer(
                np.asarray(ids, dtype=object))
            return np.where(found >= 0, np.append(among, -1)[found], -1)
        hashes = self.hashes[among]
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        if (ordered[1:] == ordered[:-1]).any():
            keys = self._ids.take(pa.array(among))
            found = pc.index_in(texts, value_set=keys).fill_null(-1)
            found = np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)
            return np.where(found >= 0, np.append(among, -1)[found], -1)
        return np.concatenate([np.zeros(0, dtype=np.int64)] + [
            self._lookup_hashed(chunk, among[order], ordered) for chunk in texts.chunks
        ])

    def _lookup_hashed(self, texts: pa.Array, rows: np.ndarray, ordered: np.ndarray) -> np.ndarray:
        """:meth:`lookup` of ``texts`` among ``rows``, whose distinct hashes are ``ordered``."""
        found = np.full(len(texts), -1, dtype=np.int64)
        if not len(ordered):
            return found
        ids = self._ids
        for start in range(0, len(texts), _LOOKUP_WINDOW):
            part = texts.slice(start, _LOOKUP_WINDOW)
            hashes = text_hashes(part)
            at = np.minimum(np.searchsorted(ordered, hashes), len(ordered) - 1)
            hit = np.flatnonzero(ordered[at] == hashes)
            candidates = rows[at[hit]]
            same = pc.equal(part.take(pa.array(hit)), ids.take(pa.array(candidates)))
            same = np.asarray(same.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
            found[start + hit[same]] = candidates[same]
        return found


class _Items(ItemsView[str, JournalEntry]):
    _mapping: JournalEntries

    def __iter__(self) -> Iterator[tuple[str, JournalEntry]]:
        return self._mapping._pairs()


class _Values(ValuesView[JournalEntry]):
    _mapping: JournalEntries

    def __iter__(self) -> Iterator[JournalEntry]:
        return (entry for _, entry in self._mapping._pairs())


def _word_codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[str | None]]:
    """A dictionary column's codes (missing: ``len(table)``) and its table of words."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    table = array.dictionary.to_pylist()
    codes = array.indices.fill_null(len(table)).to_numpy(zero_copy_only=False)
    return codes.astype(np.int64), table


_LOOKUP_WINDOW = 1 << 16
"""Ids looked up at a time: the texts of the matches are compared a window at a time."""

@dataclass
class JournalContents:
    """What :meth:`Journal.read` found: the header (None for a journal without one), the last
    outcome per ``kyc_case_id`` (:class:`JournalEntries`), and how many lines were ignored."""

    header: JournalHeader | None = None
    entries: JournalEntries = field(default_factory=JournalEntries)
    ignored: int = 0


class Journal:
    """Read earlier outcomes and append new ones to ``path``.

    ``header`` (set by the sender before :meth:`open`) is written as the
    first line of a new or empty journal, with the principal of the first
    outcome appended (see the module docstring). A journal used without one
    (``Journal(path)`` in a script) writes outcome lines only.
    """

    def __init__(self, path: str | os.PathLike[str], header: JournalHeader | None = None) -> None:
        self.path = Path(path)
        self.header = header
        self._handle: IO[str] | None = None
        self._header_due = False
        self.run: str | None = None
        """Written into entries that name no run (the sender sets it to its start time)."""

    def load(self) -> dict[str, JournalEntry]:
        """The last outcome per ``kyc_case_id`` (later lines win); {} if the file does not exist.

        One :class:`JournalEntry` per outcome, for scripts and tests: a resume
        reads :meth:`read`'s columns instead.
        """
        return dict(self.read().entries.items())

    def read(self) -> JournalContents:
        """Header and outcomes, read strictly (see the module docstring); empty if no file.

        The file is read :data:`READ_BLOCK` bytes at a time, cut after its last
        newline, so memory follows the outcomes kept, not the file's size.
        Raises ``OSError`` when the file exists but cannot be read (a folder, say).
        """
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return JournalContents()
        reader = _Reader()
        with handle, _no_cyclic_gc():
            pending: list[bytes] = []  # the start of a line longer than a block
            while block := handle.read(READ_BLOCK):
                cut = block.rfind(b"\n") + 1
                if not cut:
                    pending.append(block)
                    continue
                reader.block(b"".join([*pending, memoryview(block)[:cut]]))
                pending = [block[cut:]]
            if any(pending):  # a last line without a newline (torn, or ended by hand)
                reader.block(b"".join([*pending, b"\n"]))
        contents = reader.contents()
        if contents.ignored:
            logger.warning("journal: ignored %d unreadable or foreign line(s)", contents.ignored)
        return contents

    def open(self) -> Self:
        """Open for appending (creating folders); end a torn last line first. Raises ``OSError``."""
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            torn, empty = self._ends_torn()
            self._handle = self.path.open("a", encoding="utf-8")
            self._header_due = empty and self.header is not None
            if torn:
                self._handle.write("\n")
                self._handle.flush()
        return self

    def _ends_torn(self) -> tuple[bool, bool]:
        """(the last line has no newline: a crash mid-write, the file is empty or absent)."""
        try:
            with self.path.open("rb") as existing:
                size = existing.seek(0, os.SEEK_END)
                if not size:
                    return False, True
                existing.seek(size - 1)
                return existing.read(1) != b"\n", False
        except FileNotFoundError:
            return False, True

    def append(self, entry: JournalEntry) -> None:
        """Write one line (after the header, for a new journal) and flush it to the OS.

        Not fsync'ed: that would cost milliseconds per row on the event loop,
        and only an operating-system crash could lose a flushed line.
        """
        if self._handle is None:
            self.open()
        assert self._handle is not None
        data = asdict(entry)
        if data["run"] is None:
            data["run"] = self.run
        if data["at"] is None:
            data["at"] = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        if self._header_due and self.header is not None:
            self._header_due = False
            header = JournalHeader(
                self.header.api_base_url, self.header.campaign, entry.principal,
                self.header.started_at or self.run,
            )
            self._handle.write(_dumps(header.line()) + "\n")
        self._handle.write(_dumps(data) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


READ_BLOCK = 1 << 23
"""Bytes read at a time (8 MiB, ~23,000 lines of a run's journal): a block's lines are
checked together. Larger blocks were no faster and held more at once."""

COMPACT_AFTER = 1 << 20
"""Outcome lines kept before repeated ids are first dropped (the last line per id stays); then
again each time as many lines as are kept were added. So a journal that says the same ids
over and over holds about twice its distinct ids, never every line."""


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while a journal is read.

    Why: the lines that are not read by the expression (:data:`_FAST_LINE`)
    make a dict and an entry each, none in a reference cycle, and the
    collector's passes over them took about half of their reading time. It is
    switched back on (if it was on) afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _fast_line_pattern() -> str:
    """An RE2 expression matching exactly the outcome lines :meth:`Journal.append` writes when
    no text holds a character JSON escapes: every key once, in :class:`JournalEntry`'s
    order, no spaces, texts without ``"``, ``\\`` or control characters, a status of
    small letters and ``_``, an HTTP status of three digits, and the line's newline.

    Such a line, when its status is one (:data:`_QUOTED_STATUSES`, checked
    apart: a list of words here made RE2 try each one, a third slower), is one
    the strict reading (:func:`_read_line`) takes as it is, and its values are
    the characters between the quotes. Each value is captured with its quotes
    (``null`` has none), so a missing value and an empty text differ.
    """
    text = r'"[^"\\\x00-\x1f]*"'
    values = {
        "kyc_case_id": text,
        "status": '"[a-z_]+"',
        "http_status": "[1-9][0-9][0-9]|null",
    }
    pairs = [f'"{name}":(?P<{name}>{values.get(name, text + "|null")})' for name in _FIELDS]
    return r"^\{" + ",".join(pairs) + r"\}\n$"


_FAST_LINE = _fast_line_pattern()

_FAST_START = '{"kyc_case_id":"'
"""How every line :data:`_FAST_LINE` matches starts."""

_QUOTED_STATUSES = pa.array(sorted(f'"{word}"'.encode() for word in _STATUS_WORDS),
                            pa.large_binary())
"""The statuses as :data:`_FAST_LINE` captures them (quoted): a line whose status is not one
of them is left to the strict reading, which ignores it."""


class _Reader:
    """A journal's lines a block at a time: the header, the count of ignored lines, and the
    outcomes as columns (:data:`_SCHEMA`), in line order."""

    def __init__(self) -> None:
        self.header: JournalHeader | None = None
        self.ignored = 0
        self.number = 0
        """Lines read so far (the header is read only as line 0)."""
        self.kept: list[pa.Table] = []
        self.hashes: list[np.ndarray] = []
        """The hash of each kept row's id (:func:`~.columns.text_hashes`), a part per table of ``kept``."""
        self.distinct = 0
        """Rows of ``kept[0]`` when repeated ids were last dropped."""
        self.added = 0
        """Rows added to ``kept`` since."""

    def block(self, raw: bytes) -> None:
        """Read the lines of ``raw`` (whole lines, the last one ending with a newline)."""
        lines = _lines(raw)
        first = self.number
        self.number += len(lines)
        matched, found = _fast_lines(lines)
        part = _fast_table(found)
        if not matched.all():
            odd = np.flatnonzero(~matched)
            numbers, entries = self._strict(lines.take(pa.array(odd)).to_pylist(), odd + first)
            if entries:
                part = _in_line_order(
                    [part, _entries_table(entries)], [np.flatnonzero(matched), numbers - first]
                )
        self.kept.append(part)
        self.hashes.append(text_hashes(part.column("kyc_case_id")))
        give_back_memory()
        self.added += part.num_rows
        if self.added >= max(self.distinct, COMPACT_AFTER):
            self._drop_repeated()

    def _strict(
        self, lines: list[bytes], numbers: np.ndarray
    ) -> tuple[np.ndarray, list[JournalEntry]]:
        """The lines the expression did not take, read one by one as they always were."""
        taken, entries = [], []
        for raw, number in zip(lines, numbers.tolist()):
            line = raw.decode("utf-8").strip()  # (UTF-8 already: see _lines)
            if line:
                entry = _read_line(line, number, self)
                if entry is not None:
                    taken.append(number)
                    entries.append(entry)
        return np.asarray(taken, dtype=np.int64), entries

    def _drop_repeated(self) -> None:
        """Keep the last outcome per id of everything read so far (see :data:`COMPACT_AFTER`),
        as one chunk per column."""
        hashes = np.concatenate([np.zeros(0, dtype=np.uint64), *self.hashes])
        table = _combined(self.kept)  # (emptied: each column's chunks go as it is joined)
        rows = _last_per_id(table.column("kyc_case_id"), hashes)
        if rows is not None:
            self.kept = [table]
            table, hashes = _taken(self.kept, rows), hashes[rows]
        self.kept, self.hashes = [table], [hashes]
        self.distinct, self.added = table.num_rows, 0
        give_back_memory()

    def contents(self) -> JournalContents:
        """What was read, its repeated words' codes as small as they fit."""
        self._drop_repeated()
        table, hashes = self.kept[0], self.hashes[0]
        self.kept, self.hashes = [], []
        for name in _WORDS:
            column = table.column(name).combine_chunks()
            size = len(column.dictionary)
            index = pa.int8() if size < 2**7 else pa.int16() if size < 2**15 else pa.int32()
            table = table.set_column(
                table.schema.get_field_index(name), name,
                column.cast(pa.dictionary(index, ARROW_TEXT_TYPE)),
            )
        return JournalContents(self.header, JournalEntries(table, hashes), self.ignored)


def _fast_lines(lines: pa.Array) -> tuple[np.ndarray, pa.StructArray]:
    """Which of ``lines`` :data:`_FAST_LINE` takes (a known status included), and what it
    captured of those.

    Lines that do not start as the lines this tool writes (spaces after the
    colons, another key first: a journal written by hand or reformatted) are
    left out before the expression, which took ~2 us to refuse each one.
    """
    shaped = pc.starts_with(lines, pattern=_FAST_START).to_numpy(zero_copy_only=False)
    tried = np.flatnonzero(np.asarray(shaped, dtype=bool))
    if len(tried) < len(lines):
        lines = lines.take(pa.array(tried))
    found = pc.extract_regex(lines, _FAST_LINE)
    known = pc.is_in(found.field("status"), value_set=_QUOTED_STATUSES).fill_null(False)
    taken = np.asarray(pc.and_(found.is_valid(), known).to_numpy(zero_copy_only=False),
                       dtype=bool)
    matched = np.zeros(len(shaped), dtype=bool)
    matched[tried[taken]] = True
    return matched, found if taken.all() else found.filter(pa.array(taken))


def _combined(tables: list[pa.Table]) -> pa.Table:
    """``tables`` (emptied) as one table of one chunk per column, joined a column at a time:
    each column's chunks go as it is joined, so one column is copied at a time, not all."""
    table = pa.concat_tables(tables) if tables else _SCHEMA.empty_table()
    tables.clear()
    arrays = []
    for name in _FIELDS:
        arrays.append(table.column(name).combine_chunks())
        table = table.drop_columns([name])
        give_back_memory()  # (the pool keeps what the chunks held: the next column needs it)
    return pa.Table.from_arrays(arrays, schema=_SCHEMA)


def _taken(tables: list[pa.Table], rows: np.ndarray) -> pa.Table:
    """The rows ``rows`` of the one table of ``tables`` (emptied; one chunk per column),
    taken a column at a time (each column let go once taken)."""
    table = tables.pop()
    arrays, rows_array = [], pa.array(rows)
    for name in _FIELDS:
        arrays.append(table.column(name).chunk(0).take(rows_array))
        table = table.drop_columns([name])
        give_back_memory()
    return pa.Table.from_arrays(arrays, schema=_SCHEMA)


def _lines(raw: bytes) -> pa.Array:
    """The lines of ``raw`` as Arrow binary, each with its newline, as a text file reads them.

    What ``open(path, encoding="utf-8", errors="replace")`` would give: a
    block that is not UTF-8 has its bad bytes replaced, and one with a carriage
    return has ``\\r\\n`` and ``\\r`` made newlines. A block is whole lines,
    so neither a character nor a ``\\r\\n`` is cut between two blocks.
    """
    if b"\r" not in raw:
        lines = _split(raw)
        try:
            lines.view(ARROW_TEXT_TYPE).validate(full=True)  # (checks the UTF-8, in C)
            return lines
        except pa.ArrowInvalid:
            pass
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return _split(text.encode("utf-8"))


def _split(raw: bytes) -> pa.Array:
    """``raw`` cut after each newline, as Arrow binary over the same bytes (no copy)."""
    ends = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == ord("\n")) + 1
    offsets = np.concatenate([np.zeros(1, dtype=np.int64), ends.astype(np.int64)])
    return pa.Array.from_buffers(
        pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(raw)]
    )


def _fast_table(found: pa.StructArray) -> pa.Table:
    """The outcomes of the lines :data:`_FAST_LINE` matched, from what it captured."""
    columns = {}
    for name, raw in zip(_FIELDS, found.flatten()):
        if name == "http_status":
            columns[name] = _or_null(raw, raw).view(ARROW_TEXT_TYPE).cast(pa.int16())
            continue
        value = pc.binary_slice(raw, 1, -1)  # the quotes off
        if name not in ("kyc_case_id", "status"):  # (the two values never null)
            value = _or_null(raw, value)
        value = value.view(ARROW_TEXT_TYPE)  # (UTF-8: a block's text cut at ASCII quotes)
        columns[name] = pc.dictionary_encode(value) if name in _WORDS else value
    return pa.table(columns, schema=_SCHEMA)


def _or_null(raw: pa.Array, value: pa.Array) -> pa.Array:
    """``value``, missing where the line said ``null``."""
    null = pc.equal(raw, pa.scalar(b"null", raw.type))
    return pc.if_else(null, pa.scalar(None, value.type), value)


def _entries_table(entries: list[JournalEntry]) -> pa.Table:
    """Outcomes read line by line, as columns."""
    columns = {}
    rows = map(operator.attrgetter(*_FIELDS), entries)  # (one tuple per entry, then columns)
    for name, kind, values in zip(_SCHEMA.names, _SCHEMA.types, zip(*rows)):
        if name in _WORDS:
            columns[name] = pc.dictionary_encode(pa.array(values, ARROW_TEXT_TYPE))
        else:
            columns[name] = pa.array(values, kind)
    return pa.table(columns, schema=_SCHEMA) if entries else _SCHEMA.empty_table()


def _in_line_order(tables: list[pa.Table], numbers: list[np.ndarray]) -> pa.Table:
    """The rows of ``tables`` ordered by their line ``numbers``."""
    order = np.argsort(np.concatenate(numbers), kind="stable")
    return pa.concat_tables(tables).take(pa.array(order))


def _last_per_id(ids: pa.ChunkedArray, hashes: np.ndarray) -> np.ndarray | None:
    """The rows that keep the last outcome per id at the place the id first appeared (as a
    dict keeps a key assigned twice); None when each id is there once.

    Only the rows whose id's hash is another row's are compared, on their
    texts (Arrow's ``dictionary_encode`` of those ids alone): a journal that
    names each id once is kept as it is, without a hash table of its ids.
    """
    order = np.argsort(hashes, kind="stable")
    same = hashes[order][1:] == hashes[order][:-1]
    if not same.any():
        return None
    shared = np.zeros(len(order), dtype=bool)
    shared[1:] |= same
    shared[:-1] |= same
    candidates = np.sort(order[shared])
    encoded = pc.dictionary_encode(ids.chunk(0).take(pa.array(candidates)))
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    first = np.full(len(encoded.dictionary), len(hashes), dtype=np.int64)
    last = np.full(len(encoded.dictionary), -1, dtype=np.int64)
    np.minimum.at(first, codes, candidates)
    np.maximum.at(last, codes, candidates)
    source = np.arange(len(hashes), dtype=np.int64)
    source[first] = last
    keep = np.ones(len(hashes), dtype=bool)
    keep[candidates] = False
    keep[first] = True
    return source[keep]


def _read_line(line: str, number: int, reader: _Reader) -> JournalEntry | None:
    """One line: the header (first line only, kept by ``reader``), an outcome, or ignored."""
    try:
        data = _STRICT_JSON.decode(line)
    except (ValueError, RecursionError):  # a torn last line, a duplicate key, [[[[...
        reader.ignored += 1
        return None
    if not isinstance(data, dict):
        reader.ignored += 1
    elif "journal" in data:
        header = _header(data) if number == 0 else None
        if header is None:
            reader.ignored += 1  # a header elsewhere, or of another format
        else:
            reader.header = header
    else:
        entry = _entry(data, escaped="\\u" in line)
        if entry is None:
            reader.ignored += 1
        return entry
    return None


_STRICT_JSON = json.JSONDecoder(object_pairs_hook=unique_keys)
"""One decoder for every line: ``json.loads(line, object_pairs_hook=...)`` builds a new one
per call, which was most of the time a million-line journal took to read."""


def _header(data: dict[str, Any]) -> JournalHeader | None:
    if data.get("journal") != JOURNAL_FORMAT or not set(data) <= _HEADER_KEYS:
        return None
    values = {name: data.get(name) for name in _HEADER_KEYS - {"journal"}}
    if not all(value is None or isinstance(value, str) for value in values.values()):
        return None
    return JournalHeader(**values)


def _entry(data: dict[str, Any], *, escaped: bool = True) -> JournalEntry | None:
    """The outcome ``data`` says, or None when it is not one this tool writes.

    ``escaped``: the line holds a ``\\u`` escape, the only way a text decoded
    from UTF-8 gets a lone surrogate (the texts are then checked, all at once).
    """
    status = data.get("status")
    if not data.keys() <= _ENTRY_KEYS or type(status) is not str or status not in _STATUS_WORDS:
        return None  # (a list or an object as the status is unhashable: not looked up)
    if type(data.get("kyc_case_id")) is not str:
        return None
    http_status = data.get("http_status")
    if http_status is not None and (type(http_status) is not int or not 100 <= http_status <= 999):
        return None  # (bool is not int here; a run's columns hold three digits)
    for name in _TEXT_KEYS:
        value = data.get(name)
        if value is not None and type(value) is not str:
            return None
    if escaped and not is_utf8("".join(data.get(name) or "" for name in _TEXT_KEYS)):
        return None
    return JournalEntry(**data)


_TEXT_KEYS = ("kyc_case_id", "case_id", "request_id", "at", "campaign", "run", "principal")
