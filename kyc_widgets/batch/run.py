"""One campaign run's sending: workers, progress, journal, stop; a small object, not closures.

What :func:`~.sending.abatch_create` hands over once the pre-flight is done
and the rows to send are known. Why it is built this way (a remote API is
latency-bound; the pacing gate's adaptive limit decides how many requests are
in flight; a 429 pauses every worker; a stop ends every wait; requests in
flight are never cancelled) is said in :mod:`.sending`. Here is the mechanism:

- :class:`Run` owns the state every worker shares (the next row to take, counts,
  the progress clock, the tasks) as attributes, where the old nested closures
  shared ``nonlocal`` variables: :meth:`Run.record` is the one place an
  outcome lands (result columns, journal, stop, progress);
- :class:`ResultColumns` holds the report's columns as arrays by position;
- :class:`_Bodies` builds request bodies a chunk at a time;
- :class:`_Twins` makes the async twins of a sync client, one pacing gate for all.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from kyc_widgets.api.client import AsyncKycApiClient
from kyc_widgets.api.protocols import AnyCaseApi, AsyncCaseApi, is_async_api
from kyc_widgets.text import is_utf8

from .columns import ARROW_TEXT_TYPE
from .journal import Journal, JournalEntry
from .memory import give_back_memory
from .options import BatchOptions
from .outcomes import Outcome, send_row
from .preflight import Preflight
from .results import NO_COUNT, REPORT_TEXT
from .status import STATUSES, RowStatus
from .stop import StopSignal

__all__ = ["BatchProgress", "ResultColumns", "Run", "RowSender", "status_codes"]

logger = logging.getLogger("kyc_widgets.batch")

CONNECTIONS_PER_POOL = 8
"""Connections per HTTP pool when the batch makes its own async clients (see :class:`_Twins`)."""

SPARE_WORKERS = 8
"""Workers beyond the adaptive limit, ready to take a place the moment the limit grows."""

PROGRESS_INTERVAL = 0.25
"""Seconds between ``on_progress`` calls (the tqdm bar uses ``mininterval=0.5``)."""

TRIM_EVERY = 65_536
"""Rows between two :func:`~.memory.give_back_memory` calls while a run sends: a million
requests' short-lived objects leave freed heap behind (a call costs milliseconds)."""

RATE_WINDOW = 3.0
"""Seconds over which the progress line's current rate is measured."""

RowSender = Callable[..., Awaitable[Outcome]]
"""``send_row`` or ``check_row``: ``(aclient, body, *, on_conflict) -> Outcome``; both pace
through :func:`~.outcomes.paced_row`."""

_OBJECTS = ("error_code", "error_field", "error_message", "note")
"""Report columns held as object arrays (``None`` where empty): a code, a field's name, a
message or a note only on the rows that have one, so the pointer per row is the cost."""

_COMPACT = ("case_id", "request_id")
"""Columns whose text every answered row brings, held by :class:`_Texts` while a run sends."""

_STATUS_CODE: dict[RowStatus, int] = {status: code for code, status in enumerate(STATUSES)}
"""A status's code in :class:`ResultColumns` (its place in :data:`~.status.STATUSES`, as
:func:`~.results.results_frame` reads it)."""


@dataclass(frozen=True)
class BatchProgress:
    """A snapshot for progress displays: rows done of rows to send, counts per status."""

    done: int
    total: int
    counts: dict[RowStatus, int]
    elapsed: float
    current_rate: float = 0.0
    """Rows per second over the last few seconds (:data:`RATE_WINDOW`)."""
    in_flight: int = 0
    """Requests sent and not yet answered, at the client's pacing gate."""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class ResultColumns:
    """The report's columns by position while a run sends: ~40 bytes a row and the ids' UTF-8.

    Why not a DataFrame: an ``.at`` per row would cost seconds on 100k rows.
    Why not an object array per column: at a million rows each is 8 MB of
    pointers, and the ids every answered row brings would be a Python string
    each (~80 bytes), allocated among the run's short-lived request objects so
    the heap could not give those pages back. So ``status`` is an ``int8``
    code into :data:`~.status.STATUSES`, ``http_status`` and ``attempts`` small
    integers (:data:`~.results.NO_COUNT` where none), ``case_id`` and
    ``request_id`` UTF-8 in :class:`_Texts` (Arrow text when the report is
    made: :meth:`for_report`); only the texts few rows have (codes, messages,
    notes) are :class:`_Sparse` columns, in ``data``. ``source_index``, ``sheet_row`` and
    ``kyc_case_id`` are not held here: the report takes them whole from the plan.
    """

    n: int
    status: np.ndarray = field(init=False)
    """``int8`` codes into :data:`~.status.STATUSES` (every row ``not_attempted`` at first)."""
    http_status: np.ndarray = field(init=False)
    attempts: np.ndarray = field(init=False)
    data: dict[str, _Sparse] = field(default_factory=dict)
    """``error_code``, ``error_field``, ``error_message`` and ``note`` (:class:`_Sparse`: the
    plan's column, shared, and the rows set since; those given are taken as they are)."""
    texts: dict[str, _Texts] = field(init=False)
    """``case_id`` and ``request_id``."""
    principals: set[str] = field(default_factory=set)
    api_problems: dict[int, Outcome] = field(default_factory=dict)
    """Positions of rows the API refused with field problems (a 400), and its answer."""

    def __post_init__(self) -> None:
        self.status = np.full(self.n, _STATUS_CODE[RowStatus.NOT_ATTEMPTED], dtype=np.int8)
        self.http_status = np.full(self.n, NO_COUNT, dtype=np.int16)  # (HTTP: three digits)
        self.attempts = np.full(self.n, NO_COUNT, dtype=np.int32)
        for name in _OBJECTS:
            self.data.setdefault(name, _Sparse(self.n))
        self.texts = {name: _Texts(self.n) for name in _COMPACT}

    @classmethod
    def planned(
        cls, status: pd.Series, error_field: pd.Series, error_message: pd.Series
    ) -> ResultColumns:
        """The columns before anything is sent, from the pre-flight's columns (in row order):
        its statuses (``ready`` rows ``not_attempted`` until sent), its error field and
        message, no attempts yet. Each column may be objects or a categorical."""
        n = len(status)
        columns = cls(n, data={  # (the plan's columns themselves, never copied)
            "error_field": _Sparse(n, error_field), "error_message": _Sparse(n, error_message),
        })
        columns.status = status_codes(status)
        columns.attempts[:] = 0
        return columns

    def set(self, position: int, outcome: Outcome) -> None:
        """Where one row's outcome lands (a later outcome replaces an earlier one)."""
        self.status[position] = _STATUS_CODE[outcome.status]
        self.http_status[position] = _count(outcome.http_status)
        self.attempts[position] = _count(outcome.attempts)
        for name in _COMPACT:
            self.texts[name].put(position, getattr(outcome, name))
        for name in _OBJECTS:
            value = getattr(outcome, name)
            if value is not None or name != "note":  # keep a pre-flight note (same subject)
                self.data[name][position] = value
        if outcome.principal:
            self.principals.add(outcome.principal)
        if outcome.problems:
            self.api_problems[position] = outcome
        else:
            self.api_problems.pop(position, None)

    def set_status(self, positions: Any, status: RowStatus) -> None:
        """Give the rows at ``positions`` (an int, a list or an array) ``status``."""
        self.status[positions] = _STATUS_CODE[status]

    def status_at(self, position: int) -> RowStatus:
        """The status of the row at ``position``."""
        return STATUSES[int(self.status[position])]

    def has_status(self, positions: np.ndarray, statuses: Iterable[RowStatus]) -> np.ndarray:
        """Whether each row at ``positions`` has one of ``statuses`` (a boolean array)."""
        codes = [_STATUS_CODE[status] for status in statuses if status in _STATUS_CODE]
        return np.isin(self.status[positions], np.asarray(codes, dtype=np.int8))

    def for_report(self) -> dict[str, Any]:
        """The columns as :func:`~.results.results_frame` takes them, the ids as Arrow text.

        The last thing a run's columns do: the ids' bytes go to the report's
        arrays and are let go here (a million rows' ids are not held twice), and
        what Arrow's pool kept of building them is handed back.
        """
        ids = {name: texts.column() for name, texts in self.texts.items()}
        give_back_memory()
        nulls: list[pa.Array] = []  # (made once, for the first column no row has)
        return {
            "status": self.status,
            "http_status": self.http_status,
            "attempts": self.attempts,
            **ids,
            **{name: column.column(nulls) for name, column in self.data.items()},
        }


def status_codes(status: pd.Series) -> np.ndarray:
    """The ``int8`` codes of a pre-flight's statuses (``ready`` is ``not_attempted``).

    ``status`` holds :class:`~.status.RowStatus` members (or their text), as
    objects or a categorical: each distinct status is looked up once.
    """
    codes, found = pd.factorize(status, use_na_sentinel=True)
    if len(codes) and codes.min() < 0:
        raise ValueError("a row of the plan has no status")
    table = [RowStatus(value) for value in found]
    return np.asarray(
        [_STATUS_CODE[RowStatus.NOT_ATTEMPTED if s is RowStatus.READY else s] for s in table],
        dtype=np.int8,
    )[codes]


_SYSTEM_POOL = pa.system_memory_pool()
"""Where the report's Arrow text is made at the end of a run: the heap numpy and Python free
into (each block of ids' bytes, the run's requests), so it is reused; Arrow's own pool could
not reuse it, and both would stay resident."""


class _Sparse:
    """A text column few rows have (a code, a field's name, a message, a note): the plan's
    column as it is (shared, compact or objects) and, by position, what the run set since.

    Why: a million-row run has few refused rows; an object array per column was 8 MB of
    pointers to ``None``, and the report's column another 8 MB. Reads and writes by
    position as an array does (``column[position]``, ``None`` where missing);
    :meth:`column` makes the report's column as Arrow text (missing reads ``NaN``, as the
    report's other text columns do).
    """

    def __init__(self, n: int, base: pd.Series | None = None) -> None:
        self._n = n
        self._set: dict[int, Any] = {}
        # the plan's column as a code per row (-1: missing) and the texts coded, shared
        self._codes: np.ndarray | None = None
        self._table: pd.Index | None = None
        if base is not None and isinstance(base.dtype, pd.CategoricalDtype):
            self._codes, self._table = base.cat.codes.to_numpy(), base.cat.categories
        elif base is not None:
            codes, uniques = pd.factorize(base, use_na_sentinel=True)
            self._codes, self._table = codes, pd.Index(uniques, dtype=object)

    def __getitem__(self, position: int) -> Any:
        if position in self._set:
            return self._set[position]
        if self._codes is None or self._table is None or self._codes[position] < 0:
            return None
        return self._table[self._codes[position]]

    def __setitem__(self, position: int, value: Any) -> None:
        if value is None and position not in self._set and self[position] is None:
            return  # (nothing to clear: most rows of a run set None here)
        self._set[position] = value

    def tolist(self) -> list[Any]:
        """Every row's value, ``None`` where missing (for tests and small runs)."""
        return [self[position] for position in range(self._n)]

    def column(self, nulls: list[pa.Array] | None = None) -> Any:
        """The report's column: Arrow text (:data:`~.results.REPORT_TEXT`, ``NaN`` where
        missing, so ``fillna("")`` works as on any text column), made in C from a code per
        row; an object array when a text is not UTF-8.

        A column no row has (a clean run's codes, fields, messages) is ``nulls[0]``,
        made there if ``nulls`` is empty: the columns of a report share one array of
        nulls (8 MB of offsets at a million rows) instead of one each. Arrow arrays
        never change, and each column is its own pandas array around it.
        """
        if nulls is not None and not self._set and (self._codes is None or self._codes.max(
                initial=-1) < 0):
            if not nulls:
                nulls.append(pa.nulls(self._n, ARROW_TEXT_TYPE, memory_pool=_SYSTEM_POOL))
            return pd.array(nulls[0], dtype=REPORT_TEXT)
        codes, texts = self._base_parts()
        if self._set:
            positions = np.fromiter(self._set, dtype=np.int64, count=len(self._set))
            codes[positions] = len(texts) + np.arange(len(positions))
            texts = [*texts, *self._set.values()]
        codes[codes < 0] = len(texts)  # the table's last entry: missing
        try:
            table = pa.array([*texts, None], ARROW_TEXT_TYPE, memory_pool=_SYSTEM_POOL)
        except (UnicodeEncodeError, pa.ArrowException):  # (a lone surrogate: Arrow refuses it)
            return np.array([*texts, np.nan], dtype=object)[codes]
        # (in the heap the run freed, as the ids are: see _SYSTEM_POOL)
        return pd.array(pc.take(table, codes, memory_pool=_SYSTEM_POOL), dtype=REPORT_TEXT)

    def _base_parts(self) -> tuple[np.ndarray, list[Any]]:
        """The plan's column as (a code per row, -1 where missing; the texts coded)."""
        if self._codes is None or self._table is None:
            return np.full(self._n, -1, dtype=np.int64), []
        return self._codes.astype(np.int64), self._table.tolist()


def _count(value: int | None) -> int:
    return NO_COUNT if value is None else value


_BLOCK = 65_536
"""Positions a :class:`_Texts` block holds: made at its first text, turned into Arrow alone."""


@dataclass(slots=True)
class _Block:
    raw: np.ndarray
    """Fixed-width UTF-8 (``S<width>``), widened when a longer text comes."""
    set: np.ndarray
    """Which positions hold a text."""


class _Texts:
    """Texts by position as UTF-8 in fixed-width numpy bytes arrays, a block of positions each.

    Why: a case id or request id is ~40 characters; as a Python string kept per row it
    is ~80 bytes plus its pointer, allocated between the run's short-lived request
    objects so the heap cannot give those pages back. Here it is its UTF-8 length,
    and :meth:`column` turns the bytes into Arrow text in C, never a string per row,
    a block of :data:`_BLOCK` positions at a time, each block let go once turned (the
    bytes and their Arrow copy of a million ids are never whole at once). A block is
    made when its first text comes: a run stopped early holds what it sent.
    A text the bytes cannot hold as they are is kept apart as it is: one holding a
    NUL (fixed-width bytes drop a trailing one, and Arrow's conversion stops at the
    first) or one that is not UTF-8 (a lone surrogate).
    """

    def __init__(self, n: int) -> None:
        self._n = n
        self._blocks: dict[int, _Block] = {}
        self._odd: dict[int, str] = {}
        self._column: Any = None

    def put(self, position: int, value: str | None) -> None:
        if self._column is not None:
            raise RuntimeError("the texts were handed to the report already")
        self._odd.pop(position, None)
        number, offset = divmod(position, _BLOCK)
        block = self._blocks.get(number)
        if block is not None:
            block.set[offset] = False
        if value is None:
            return
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError:
            raw = b"\0"  # (a lone surrogate: kept apart, as a NUL is)
        if b"\0" in raw:
            self._odd[position] = value
            return
        if block is None:
            size = min(_BLOCK, self._n - number * _BLOCK)
            block = _Block(np.zeros(size, dtype=f"S{max(len(raw), 1)}"), np.zeros(size, dtype=bool))
            self._blocks[number] = block
        if len(raw) > block.raw.dtype.itemsize:
            block.raw = block.raw.astype(f"S{max(len(raw), block.raw.dtype.itemsize * 5 // 4)}")
        block.raw[offset] = raw
        block.set[offset] = True

    def column(self) -> Any:
        """Every text by position as :data:`~.results.REPORT_TEXT` (missing: NaN), made once;
        the bytes are let go.

        An object array (NaN where missing) only when a text is not UTF-8: Arrow
        text cannot hold it, and a report must give back what the API said.
        """
        if self._column is None:
            if all(is_utf8(value) for value in self._odd.values()):
                self._column = pd.array(self._arrow(), dtype=REPORT_TEXT)
            else:
                self._column = self._objects()
            self._blocks = {}
        return self._column

    def _arrow(self) -> pa.ChunkedArray:
        chunks = []
        for number in range(-(-self._n // _BLOCK)):
            block = self._blocks.pop(number, None)  # (let go once turned)
            size = min(_BLOCK, self._n - number * _BLOCK)
            if block is None:
                chunks.append(pa.nulls(size, ARROW_TEXT_TYPE))
                continue
            # in C: the bytes, then a cast that keeps the buffers and checks they are UTF-8
            binary = pa.array(block.raw, type=pa.large_binary(), mask=~block.set,
                              memory_pool=_SYSTEM_POOL)
            del block
            chunks.append(binary.cast(ARROW_TEXT_TYPE, memory_pool=_SYSTEM_POOL))
        text = pa.chunked_array(chunks, ARROW_TEXT_TYPE)
        if not self._odd:
            return text
        where = np.zeros(self._n, dtype=bool)
        positions = sorted(self._odd)
        where[positions] = True
        odd = pa.array([self._odd[p] for p in positions], ARROW_TEXT_TYPE)
        return pa.chunked_array([pc.replace_with_mask(text.combine_chunks(), pa.array(where), odd)])

    def _objects(self) -> np.ndarray:
        values = np.full(self._n, np.nan, dtype=object)
        for number, block in self._blocks.items():
            where = np.flatnonzero(block.set)
            values[number * _BLOCK + where] = [raw.decode("utf-8") for raw in block.raw[where]]
        for position, value in self._odd.items():
            values[position] = value
        return values


class Run:
    """One run's sending: workers take rows in sheet order, through the client's pacing gate.

    Built by :func:`~.sending.abatch_create` once the pre-flight is done;
    :meth:`execute` sends and returns the stop reason (``None`` when every row
    was taken). ``to_send`` are positions in the plan; ``options`` give the
    pacing limits, what a 409 becomes and whether a progress bar is shown; ``row`` is
    :func:`~.outcomes.send_row` or :func:`~.existing.check_row`; ``journal``
    (open already) receives each outcome as it lands.
    """

    def __init__(
        self,
        client: AnyCaseApi,
        pre: Preflight,
        columns: ResultColumns,
        to_send: np.ndarray,
        options: BatchOptions,
        *,
        stop: StopSignal,
        started: float,
        journal: Journal | None = None,
        slug: str | None = None,
        on_progress: Callable[[BatchProgress], None] | None = None,
        row: RowSender = send_row,
    ) -> None:
        self.client = client
        self.columns = columns
        self.limits = options.limits
        self.on_conflict = options.on_conflict.value
        self.progress = options.progress
        self.stop = stop
        self.started = started
        self.journal = journal
        self.slug = slug
        self.on_progress = on_progress
        self.row = row
        self.total = len(to_send)
        # Positions stay a numpy array and the queue is a counter over it: a Python int per
        # row (in a list of positions and another of the rows to take) was ~70 bytes a row.
        self.positions = np.asarray(to_send, dtype=np.int64)
        self.bodies = _Bodies(pre, self.positions)
        self.ids = pre.kyc_case_id.array
        """Every row's external id, by position (what the journal names a row by)."""
        self.next = 0
        """The next row to take (0 .. ``total``): rows are taken in sheet order."""
        self.counts: dict[RowStatus, int] = dict.fromkeys(STATUSES, 0)
        self.done = 0
        self.last_progress = 0.0
        self.gate = client.pacing
        self.workers = min(
            self.limits.concurrency or self.limits.max_concurrency, max(self.total, 1)
        )
        self.own: AsyncCaseApi | None = client if is_async_api(client) else None
        # made here, so closed here
        self.twins = None if self.own is not None else _Twins(client, self.workers)
        self.rate = _RecentRate(started)
        self.tasks: list[asyncio.Task[None]] = []
        self.bar: Any = None

    async def execute(self) -> str | None:
        """Send every row (or until a stop); returns the stop reason, or None."""
        if self.total == 0:
            return self.stop.reason if self.stop.is_set() else None
        self.bar = tqdm(
            total=self.total,
            desc="Creating cases" if self.row is send_row else "Checking cases",
            unit="row",
            mininterval=0.5,
            disable=not self.progress,
            dynamic_ncols=True,
        )
        watcher = asyncio.create_task(self.stop.watch())  # an outside cancel reaches the gate
        previous_limits = self.gate.configure(self.limits)
        self.spawn()
        try:
            await self._wait_for_workers()
        finally:
            watcher.cancel()
            await asyncio.wait([watcher])
            self.gate.configure(previous_limits)
            self.stop.release()  # the client's gate lets requests through again
            await self._close()
        return self.stop.reason if self.stop.is_set() else None

    async def _wait_for_workers(self) -> None:
        try:
            await self._all_done()
        except asyncio.CancelledError:
            # Ctrl-C under asyncio.run, a cancelled task, an anyio cancel scope:
            # stop taking rows, let the requests in flight finish, report.
            self.stop.set("cancelled")
            await self._all_done()
            current = asyncio.current_task()
            uncancel = getattr(current, "uncancel", None)  # Python >= 3.11
            if uncancel is not None:
                uncancel()
        for task in self.tasks:
            error = task.exception()
            if error is not None:
                raise error

    async def _all_done(self) -> None:
        while pending := [task for task in self.tasks if not task.done()]:
            await asyncio.wait(pending)

    async def _close(self) -> None:
        self.bar.close()
        if self.twins is not None:
            await self.twins.aclose()
        if self.on_progress is not None and self.done < self.total:
            self._report_progress(time.monotonic(), in_flight=0)

    def spawn(self) -> None:
        """Start workers up to the wanted number.

        A fixed pool starts whole; an adaptive one keeps :data:`SPARE_WORKERS`
        more workers than the gate's current limit (idle workers queued at the
        gate cost CPU, and every worker of a new twin opens a connection),
        filling one twin's pool after another.
        """
        wanted = (
            self.workers
            if self.limits.concurrency
            else min(self.workers, self.gate.limit + SPARE_WORKERS)
        )
        while len(self.tasks) < wanted and self.next < self.total and not self.stop.is_set():
            aclient = self.own if self.twins is None else self.twins.for_worker(len(self.tasks))
            assert aclient is not None
            self.tasks.append(asyncio.create_task(self._worker(aclient)))

    async def _worker(self, aclient: AsyncCaseApi) -> None:
        # Pauses happen inside the client, at its gate; a stop ends them (the row is then
        # not_attempted) and no further row is taken.
        while self.next < self.total and not self.stop.is_set():
            k = self.next
            self.next += 1
            self.record(k, await self.row(aclient, self.bodies[k], on_conflict=self.on_conflict))
            self.spawn()

    def record(self, k: int, outcome: Outcome) -> None:
        """Where an outcome lands: the result columns, the journal, the stop, the progress."""
        position = int(self.positions[k])
        self.columns.set(position, outcome)
        if outcome.stop:
            self.stop.set(outcome.stop)
        if self.journal is not None and outcome.status != RowStatus.NOT_ATTEMPTED:
            self._journal(position, outcome)
        self.counts[outcome.status] += 1
        self.done += 1
        if self.done % TRIM_EVERY == 0:
            give_back_memory()  # what the run's short-lived requests freed, every so often
        now = time.monotonic()
        if now - self.last_progress >= PROGRESS_INTERVAL or self.done == self.total:
            self.last_progress = now
            self._report_progress(now, in_flight=self.gate.in_flight)
        self.bar.update(1)

    def _journal(self, position: int, outcome: Outcome) -> None:
        assert self.journal is not None
        try:
            self.journal.append(
                JournalEntry(
                    kyc_case_id=self.ids[position],
                    status=outcome.status,
                    case_id=outcome.case_id,
                    request_id=outcome.request_id,
                    http_status=outcome.http_status,
                    campaign=self.slug,
                    principal=outcome.principal,
                )
            )
        except OSError as exc:  # a disk full mid-run: a resume could not trust the journal
            logger.error("journal: cannot append (%s); stopping the batch", type(exc).__name__)
            self.stop.set("journal")

    def _report_progress(self, now: float, *, in_flight: int) -> None:
        snapshot = BatchProgress(
            self.done,
            self.total,
            dict(self.counts),
            now - self.started,
            self.rate.update(now, self.done),
            in_flight,
        )
        self.bar.set_postfix(_postfix(snapshot), refresh=False)
        if self.on_progress is not None:
            _call_progress(self.on_progress, snapshot)


class _Bodies:
    """Request bodies built a chunk at a time as the workers reach them.

    A dict per row for a whole 100,000-row sheet would be most of the batch's
    memory; workers take rows in sheet order, so only the chunk being taken
    and the one before it are kept (a worker holding a body keeps its own reference).
    A chunk's values are made from the sheet (:meth:`~.preflight.Preflight.bodies`):
    4,096 rows cost ~24 us a row of the event loop, 1,024 rows ~44 us (the per-call
    work of validating a column is shared by fewer rows), keeping the values whole ~12 us.
    """

    CHUNK = 4096

    def __init__(self, pre: Preflight, positions: np.ndarray) -> None:
        self._pre = pre
        self._positions = positions
        """The rows to send, by position in the plan (labels are looked up a chunk at a time:
        a million labels would be 8 MB more for the whole run)."""
        self._chunks: dict[int, list[dict[str, Any]]] = {}

    def __getitem__(self, k: int) -> dict[str, Any]:
        number, offset = divmod(k, self.CHUNK)
        chunk = self._chunks.get(number)
        if chunk is None:
            start = number * self.CHUNK
            labels = self._pre.source.index[self._positions[start : start + self.CHUNK]]
            chunk = self._pre.bodies(labels)
            self._chunks[number] = chunk
            self._chunks.pop(number - 2, None)
        return chunk[offset]


class _Twins:
    """Async twins of a sync client: one per :data:`CONNECTIONS_PER_POOL` workers, one pacing gate.

    Why several: httpcore's connection pool does work quadratic in its number
    of connections on every request (it rescans every connection, with a
    socket syscall each), which at 32 connections costs more CPU than the
    request itself and capped the batch at ~1/3 of its throughput. Pools of 8
    keep that cost small. The twins share the client's pacing gate so a 429
    still pauses *every* worker and a stop ends every wait, as the client documents.
    Each twin is made when its first worker starts, and they share one TLS
    context (building one costs ~50 ms of the event loop, which stalled every
    request in flight: the first rounds then taught the adaptive limit an
    "unloaded" latency 50 % too high).
    """

    def __init__(self, client: AnyCaseApi, workers: int) -> None:
        self._client = client
        count = max(1, -(-workers // CONNECTIONS_PER_POOL))
        self._size = -(-workers // count)
        self._limits = httpx.Limits(max_connections=self._size, max_keepalive_connections=self._size)
        self._made: list[AsyncKycApiClient] = []
        self._ssl_context: ssl.SSLContext | None = None

    def for_worker(self, number: int) -> AsyncKycApiClient:
        """The twin whose pool worker ``number`` (0, 1, ...) uses."""
        while len(self._made) <= number // self._size:
            if self._ssl_context is None:
                self._ssl_context = httpx.create_ssl_context()
            self._made.append(self._client.async_twin(limits=self._limits, ssl_context=self._ssl_context))
        return self._made[number // self._size]

    async def aclose(self) -> None:
        for twin in self._made:
            await twin.aclose()


def _postfix(progress: BatchProgress) -> dict[str, Any]:
    """The tqdm postfix: counts per status, then the current rate and requests in flight."""
    return {
        **{status: n for status, n in progress.counts.items() if n},
        "rate": f"{progress.current_rate:.0f}/s",
        "in_flight": progress.in_flight,
    }


class _RecentRate:
    """Rows per second over the last :data:`RATE_WINDOW` seconds, from (time, done) readings."""

    def __init__(self, started: float) -> None:
        self._readings: collections.deque[tuple[float, int]] = collections.deque([(started, 0)])

    def update(self, now: float, done: int) -> float:
        readings = self._readings
        readings.append((now, done))
        while len(readings) > 2 and readings[1][0] <= now - RATE_WINDOW:
            readings.popleft()
        then, done_then = readings[0]
        return (done - done_then) / (now - then) if now > then else 0.0


def _call_progress(callback: Callable[[BatchProgress], None], snapshot: BatchProgress) -> None:
    try:
        callback(snapshot)
    except Exception:  # a broken display must not break the batch
        logger.exception("batch progress callback failed")


