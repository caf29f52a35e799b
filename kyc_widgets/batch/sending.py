"""Sending a campaign: bounded concurrency, back-pressure, stop on 401, interruptible.

How it is built, and why:

- **Pre-flight first** (:mod:`.preflight`): nothing is sent unless the columns
  are right; invalid and duplicate rows are never sent. A plan computed
  already (a UI's preview) can be passed instead of the frame and is sent as is.
- **Every sent row carries an external id** (given, or derived from the
  campaign: :mod:`.identity`). That is what makes re-runs safe (a second
  create gets 409 and the row is reported ``exists``) and what lets the
  client's own-id rule retry a create whose answer was lost: the retry gets
  409, the client loads the case and confirms it is ours.
- **Worker tasks over one queue, bounded by the gate's adaptive limit**: a
  remote API is latency-bound (throughput = requests in flight / latency), and
  the right number in flight depends on that latency and on the API's limit.
  By default (``concurrency=None``, :data:`DEFAULT_CONCURRENCY`) each request
  waits for a place under the client's pacing gate's adaptive limit
  (:mod:`kyc_widgets.api.limiter`), which grows while latency stays near the
  API's unloaded level, shrinks on rising latency, and turns 429s and 503s
  into a learned rate; workers are started as the limit grows (a few more
  than it), not all ``max_concurrency`` at once. ``concurrency=N`` is a fixed
  pool of N. ``max_rate`` caps requests per second and ``max_concurrency``
  caps the number in flight, in either mode. The caps are set on the gate for
  the run and restored afterwards.
- **429 back-pressure is the client's pacing gate**
  (:class:`~kyc_widgets.api.pacing.PacingGate`): every request of the client
  and of the twins made here passes through one gate, so a 429 pauses *every*
  worker for ``Retry-After`` (or a backoff when the API gave none) and the
  batch settles at the API's rate instead of hammering it. The client's
  retry rules decide what is safe to re-send (a 429 always is); a row whose
  429 retries ran out goes round again (:func:`.outcomes.send_row`).
- **Stopping reaches the gate**: a cancel, a Ctrl-C or a 401 stops the
  client's gate (through its public ``pacing``), so a worker waiting out a
  pause or a retry ends at once with the row ``not_attempted`` instead of
  after the client's retries; the gate is resumed when the batch returns.
- **401 stops everything at once** (every further row would fail the same
  way), and so does 403; requests already in flight finish and are reported.
- **Cancellation** (a ``cancel`` event, task cancellation, Ctrl-C / kernel
  interrupt) stops taking new rows and ends the gate's waits at once (no
  request is sent after it), waits for the requests in flight (never cancelled: their
  answer says whether a case was created), and returns the report with every
  unsent row ``not_attempted``.
- **Journal** (:mod:`.journal`): opened before the first request (an
  unwritable path fails before anything is sent); outcomes are appended as
  they happen; a later run with the same journal skips rows that already
  landed, and warns when the journal was written for another campaign.
- **A dry run that asks the API** (``dry_run="check"``) goes through the same
  workers, twins, pacing gate and 401 stop, with :func:`~.existing.check_row`
  (a ``GET`` per row) in place of :func:`~.outcomes.send_row`.
- **The same subject twice** (:mod:`.subjects`): a row that repeats another
  row's customer and reason under another external id is held back
  (``not_attempted``, with a ``note``) unless ``allow_same_subject=True``.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import os
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from kyc_widgets.api.client import AsyncKycApiClient
from kyc_widgets.api.pacing import PacingLimits, Settable, StopSignal
from kyc_widgets.api.protocols import AnyCaseApi, AsyncCaseApi, is_async_api
from kyc_widgets.defaults import DEFAULT_CONCURRENCY, DEFAULT_MAX_CONCURRENCY

from .evidence import stamp_run, utc_now
from .identity import CampaignRequiredError, campaign_slug
from .journal import Journal, JournalEntry
from .outcomes import Outcome, send_row
from .preflight import READY, Preflight, preflight
from .report import DONE_STATUSES, RESULT_COLUMNS, STATUSES, BatchReport
from .subjects import hold_same_subject

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BatchProgress",
    "abatch_create",
    "batch_create",
]

logger = logging.getLogger("kyc_widgets.batch")

CONNECTIONS_PER_POOL = 8
"""Connections per HTTP pool when the batch makes its own async clients (see :class:`_Twins`)."""

SPARE_WORKERS = 8
"""Workers beyond the adaptive limit, ready to take a place the moment the limit grows."""

PROGRESS_INTERVAL = 0.25
"""Seconds between ``on_progress`` calls (the tqdm bar uses ``mininterval=0.5``)."""

RATE_WINDOW = 3.0
"""Seconds over which the progress line's current rate is measured."""

@dataclass(frozen=True)
class BatchProgress:
    """A snapshot for progress displays: rows done of rows to send, counts per status."""

    done: int
    total: int
    counts: dict[str, int]
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


_FROM_PLAN = ("source_index", "sheet_row")
"""Report columns taken whole from the plan; every other one of
:data:`~.report.RESULT_COLUMNS` is filled row by row."""

_FROM_OUTCOME = tuple(
    name for name in RESULT_COLUMNS if name not in _FROM_PLAN and name != "kyc_case_id"
)
"""Report columns an :class:`~.outcomes.Outcome` sets (``kyc_case_id`` is the plan's)."""

_INTEGER_COLUMNS = ("http_status", "attempts")

RowSender = Callable[..., Awaitable[Outcome]]
"""``send_row`` or ``check_row``: ``(aclient, body, *, on_conflict) -> Outcome``; both pace
through :func:`~.outcomes.paced_row`."""


@dataclass
class _Columns:
    """Result columns as plain arrays by position: a DataFrame ``.at`` per row would cost
    seconds on 100k rows."""

    n: int
    data: dict[str, np.ndarray] = field(init=False)
    principals: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.data = {
            name: np.full(self.n, None, dtype=object)
            for name in RESULT_COLUMNS
            if name not in _FROM_PLAN
        }

    def set(self, position: int, outcome: Outcome) -> None:
        for name in _FROM_OUTCOME:
            value = getattr(outcome, name)
            if value is not None or name != "note":  # keep a pre-flight note (same subject)
                self.data[name][position] = value
        if outcome.principal:
            self.principals.add(outcome.principal)


async def abatch_create(
    client: AnyCaseApi | None,
    df: pd.DataFrame | Preflight,
    *,
    concurrency: int | None = DEFAULT_CONCURRENCY,
    max_rate: float | None = None,
    max_concurrency: int | None = None,
    dry_run: bool | str = False,
    campaign: str | None = None,
    on_conflict: str = "report",
    progress: bool = True,
    journal: str | os.PathLike[str] | None = None,
    cancel: Settable | None = None,
    on_progress: Callable[[BatchProgress], None] | None = None,
    allow_same_subject: bool = False,
    mapping: Any = None,
) -> BatchReport:
    """Create one case per valid row of ``df``; return a :class:`BatchReport` for every row.

    ``df`` is the campaign frame, or a :class:`~.preflight.Preflight` already
    computed from it (a UI that previewed the sheet sends exactly the plan it
    showed, without validating it again); a plan carries its campaign, so
    ``campaign`` may then be left out, and must match the plan's if given.

    ``client`` is an ``AsyncKycApiClient`` (used as is) or a ``KycApiClient``
    (async twins with the same URL, token, retry settings and pacing gate are
    made and closed here); None only for a dry run. A stop (cancel, 401)
    stops the client's pacing gate while the batch runs, so other calls on the
    same client fail with ``RequestStoppedError`` until the batch returns. ``campaign`` names the
    campaign and is required when some rows have no ``kyc_case_id``: see
    :mod:`kyc_widgets.batch.identity` for why there is no default. ``on_conflict="report"`` reports a 409 as ``exists``;
    ``"load"`` fetches the existing case and reports ``conflict`` with the
    differing fields (``error_field``) when it does not match the row.
    Pacing: by default (``concurrency=None``) a number of requests in flight that
    adapts to the API (up to ``max_concurrency``, default
    :data:`~kyc_widgets.defaults.DEFAULT_MAX_CONCURRENCY`), or a fixed ``concurrency``;
    ``max_concurrency`` also caps a fixed ``concurrency``; ``max_rate`` caps
    requests per second.
    ``cancel`` is any object with ``is_set()`` (``threading.Event``,
    ``asyncio.Event``); ``on_progress`` receives a :class:`BatchProgress` at
    most every :data:`PROGRESS_INTERVAL` seconds, and once at the end.
    ``mapping`` is a :class:`~.mapping.CampaignMapping` or the path of a saved
    one: how to read a sheet whose headers, missing constant columns or values
    are a source system's own (the report records which mapping was used).

    ``dry_run=True`` sends nothing and reports the rows ``would_create``;
    ``dry_run="check"`` creates nothing but looks each row's external id up
    on the API (:mod:`.existing`): ``would_create``, ``exists`` (same values)
    or ``exists_differs``. ``allow_same_subject=True`` sends the rows that
    repeat another row's customer and reason (:mod:`.subjects`).

    Raises before sending anything: :class:`~.preflight.CampaignColumnsError`
    (required columns missing), :class:`~.identity.CampaignRequiredError`,
    ``OSError`` when the journal cannot be opened for appending.
    Cancelling the task returns the report (unsent rows ``not_attempted``)
    instead of raising ``CancelledError``.
    """
    if on_conflict not in ("report", "load"):
        raise ValueError("on_conflict must be 'report' or 'load'")
    if concurrency is not None and concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if dry_run not in (False, True, "check"):
        raise ValueError("dry_run must be False, True or 'check'")
    if dry_run == "check" and client is None:
        raise ValueError("dry_run='check' asks the API: pass a client")
    if max_concurrency is not None and max_concurrency < 1:
        raise ValueError("max_concurrency must be at least 1")
    if max_rate is not None and max_rate <= 0:
        raise ValueError("max_rate must be positive")
    if concurrency is not None and max_concurrency is not None:
        concurrency = min(concurrency, max_concurrency)
    limits = PacingLimits(max_rate, max_concurrency or DEFAULT_MAX_CONCURRENCY, concurrency)
    started = time.monotonic()
    started_at = utc_now()
    pre = _plan(df, campaign, mapping)
    campaign = pre.campaign
    if pre.missing_ids:
        raise CampaignRequiredError(
            f"{pre.missing_ids} row(s) have no kyc_case_id. Pass campaign='<name>' so each gets "
            "a stable external id and a re-run cannot create it twice. Nothing was sent."
        )
    columns = _initial_columns(pre)
    slug = _slug_or_none(campaign)
    journal_file = Journal(journal) if journal is not None else None
    to_send, notes = _skip_journaled(pre, columns, journal_file, slug)
    to_send = hold_same_subject(pre, columns.data, to_send, allow=allow_same_subject)
    stop = StopSignal(cancel, gate=client.pacing if client is not None else None)
    options = {
        "dry_run": dry_run, "on_conflict": on_conflict, "concurrency": concurrency,
        "campaign": campaign, "journal": os.fspath(journal) if journal is not None else None,
        "allow_same_subject": allow_same_subject,
    }

    if dry_run and dry_run != "check":  # True (or 1): validate only
        columns.data["status"][to_send] = "would_create"
        report = _report(pre, columns, campaign, dry_run=True, stopped=None, started=started,
                         notes=notes)
        return stamp_run(report, client, options, started_at, columns.principals)
    if dry_run == "check":
        from .existing import check_row

        stop_reason = await _send_all(
            client, pre, columns, to_send, on_conflict=on_conflict, limits=limits,
            progress=progress, journal=None, slug=slug, stop=stop, on_progress=on_progress,
            started=started, row=check_row,
        )
        report = _report(pre, columns, campaign, dry_run=True, stopped=stop_reason,
                         started=started, notes=notes)
        return stamp_run(report, client, options, started_at, columns.principals)

    if journal_file is not None:
        journal_file.run = started_at
        journal_file.open()  # before the first request: an unwritable journal sends nothing
    try:
        stop_reason = await _send_all(
            client,
            pre,
            columns,
            to_send,
            on_conflict=on_conflict,
            limits=limits,
            progress=progress,
            journal=journal_file,
            slug=slug,
            stop=stop,
            on_progress=on_progress,
            started=started,
        )
    finally:
        if journal_file is not None:
            journal_file.close()
    report = _report(pre, columns, campaign, dry_run=False, stopped=stop_reason, started=started,
                     notes=notes)
    return stamp_run(report, client, options, started_at, columns.principals)


def batch_create(client: AnyCaseApi | None, df: pd.DataFrame | Preflight, **kwargs: Any) -> BatchReport:
    """:func:`abatch_create` as a plain function, for scripts and notebook cells alike.

    In a script (no event loop running) it runs the coroutine with
    ``asyncio.run``; Ctrl-C then cancels it, which stops sending, waits for the
    requests in flight and returns the report.

    In a notebook cell an event loop is *already running* in this thread (the
    kernel's), and a loop cannot be re-entered: ``asyncio.run`` refuses and
    ``run_until_complete`` would deadlock. So the batch runs on its own loop in
    a worker thread while this thread waits; a kernel interrupt
    (``KeyboardInterrupt`` here) sets the batch's cancel event and the report
    is still returned. An ``AsyncKycApiClient`` is replaced by its
    ``async_twin()`` on that path, because an httpx async connection pool
    belongs to the loop it was first used on.

    Takes the same keyword arguments as :func:`abatch_create`.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_run_with_own_client(client, df, kwargs))

    cancel = kwargs.get("cancel")
    if cancel is None:
        cancel = threading.Event()
        kwargs["cancel"] = cancel
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kyc-batch") as pool:
        future = pool.submit(asyncio.run, _run_with_own_client(client, df, kwargs))
        while True:
            try:
                return future.result()
            except KeyboardInterrupt:
                if isinstance(cancel, threading.Event):
                    cancel.set()
                else:  # pragma: no cover - a foreign event type we cannot set
                    raise


async def _run_with_own_client(
    client: AnyCaseApi | None, df: pd.DataFrame | Preflight, kwargs: dict[str, Any]
) -> BatchReport:
    if client is not None and is_async_api(client):
        twin = client.async_twin()
        try:
            return await abatch_create(twin, df, **kwargs)
        finally:
            await twin.aclose()
    return await abatch_create(client, df, **kwargs)


# --------------------------------------------------------------------------- set-up


def _plan(df: pd.DataFrame | Preflight, campaign: str | None, mapping: Any = None) -> Preflight:
    """The pre-flight of ``df``, or ``df`` itself when it is one already (validated once)."""
    if not isinstance(df, Preflight):
        return preflight(df, campaign=campaign, mapping=mapping)
    if campaign is not None and campaign != df.campaign:
        raise ValueError(
            "campaign differs from the one the plan was made with; run preflight() again "
            "with the new campaign. Nothing was sent."
        )
    if mapping is not None:
        from .mapping import as_mapping

        given = as_mapping(mapping)
        if df.mapping is None or given is None or given.fingerprint() != df.mapping.fingerprint():
            raise ValueError(
                "mapping differs from the one the plan was made with; run preflight() again "
                "with the new mapping. Nothing was sent."
            )
    return df


def _slug_or_none(campaign: str | None) -> str | None:
    if campaign is None or not str(campaign).strip():
        return None
    try:
        return campaign_slug(str(campaign))
    except CampaignRequiredError:
        return None  # only fatal when an id must be derived: pre-flight has said so already


def _initial_columns(pre: Preflight) -> _Columns:
    columns = _Columns(len(pre.status))
    columns.data["kyc_case_id"][:] = pre.kyc_case_id.astype(object).where(pre.kyc_case_id.notna(), None)
    status = pre.status.to_numpy(dtype=object).copy()
    status[status == READY] = "not_attempted"
    columns.data["status"][:] = status
    columns.data["error_field"][:] = pre.error_field.to_numpy(dtype=object)
    columns.data["error_message"][:] = pre.error_message.to_numpy(dtype=object)
    columns.data["attempts"][:] = 0
    return columns


def _skip_journaled(
    pre: Preflight, columns: _Columns, journal: Journal | None, slug: str | None
) -> tuple[np.ndarray, list[str]]:
    """Positions to send (ready rows, minus those an earlier run's journal says landed),
    and warnings about the journal."""
    ready = np.flatnonzero(pre.ready.to_numpy())
    if journal is None:
        return ready, []
    previous = journal.load()
    if not previous:
        return ready, []
    notes = []
    other = sorted({e.campaign for e in previous.values() if e.campaign} - {slug})
    if other and slug is not None:
        notes.append(
            f"The journal was written for campaign {', '.join(repr(c) for c in other)}, this run is "
            f"for {slug!r}: rows whose external id is derived from the campaign name get different "
            "ids, so the journal cannot skip them and the API will not recognise them as the same "
            "cases. If this is a resume, use the earlier campaign name."
        )
        logger.warning("journal: written for another campaign than this run's")
    ids = columns.data["kyc_case_id"]
    keep = []
    for position in ready.tolist():
        entry = previous.get(ids[position])
        if entry is not None and entry.status in DONE_STATUSES:
            columns.set(
                position,
                Outcome(
                    entry.status,
                    case_id=entry.case_id,
                    http_status=entry.http_status,
                    request_id=entry.request_id,
                    attempts=0,
                    note="outcome from the journal of an earlier run; not sent again",
                ),
            )
        else:
            keep.append(position)
    return np.asarray(keep, dtype=np.int64), notes


def _report(
    pre: Preflight,
    columns: _Columns,
    campaign: str | None,
    *,
    dry_run: bool,
    stopped: str | None,
    started: float,
    notes: list[str] | None = None,
) -> BatchReport:
    index = pre.source.index
    data: dict[str, Any] = {
        "source_index": index.to_numpy(dtype=object),
        "sheet_row": pre.sheet_row.to_numpy(),
        **columns.data,
    }
    for name in _INTEGER_COLUMNS:
        data[name] = pd.array(data[name], dtype="Int64")
    results = pd.DataFrame({name: data[name] for name in RESULT_COLUMNS}, index=index)
    return BatchReport(
        results=results,
        source=pre.source,
        column_map=dict(pre.column_map),
        unknown_columns=list(pre.unknown_columns),
        campaign=campaign,
        dry_run=dry_run,
        stopped_reason=stopped,
        elapsed=time.monotonic() - started,
        warnings=[*pre.warnings, *(notes or [])],
        mapping=pre.mapping,
    )


# --------------------------------------------------------------------------- sending


async def _send_all(
    client: AnyCaseApi | None,
    pre: Preflight,
    columns: _Columns,
    to_send: np.ndarray,
    *,
    on_conflict: str,
    limits: PacingLimits,
    progress: bool,
    journal: Journal | None,
    slug: str | None,
    stop: StopSignal,
    on_progress: Callable[[BatchProgress], None] | None,
    started: float,
    row: RowSender = send_row,
) -> str | None:
    total = len(to_send)
    if total == 0:
        return stop.reason if stop.is_set() else None
    if client is None:
        raise ValueError("a client is needed to send (only a dry run works without one)")
    bodies = _Bodies(pre, pre.source.index[to_send])
    positions = to_send.tolist()
    queue = list(range(total))
    queue.reverse()  # pop() from the end = rows in sheet order
    counts = {status: 0 for status in STATUSES}
    done = 0
    last_progress = 0.0
    bar = tqdm(
        total=total,
        desc="Creating cases" if row is send_row else "Checking cases",
        unit="row",
        mininterval=0.5,
        disable=not progress,
        dynamic_ncols=True,
    )

    gate = client.pacing
    workers = min(limits.concurrency or limits.max_concurrency, total)
    own: AsyncCaseApi | None = client if is_async_api(client) else None
    twins = None if own is not None else _Twins(client, workers)  # made here, so closed here
    rate = _RecentRate(started)

    def record(k: int, outcome: Outcome) -> None:
        nonlocal done, last_progress
        position = positions[k]
        columns.set(position, outcome)
        if outcome.stop:
            stop.set(outcome.stop)
        if journal is not None and outcome.status != "not_attempted":
            try:
                journal.append(
                    JournalEntry(
                        kyc_case_id=columns.data["kyc_case_id"][position],
                        status=outcome.status,
                        case_id=outcome.case_id,
                        request_id=outcome.request_id,
                        http_status=outcome.http_status,
                        campaign=slug,
                        principal=outcome.principal,
                    )
                )
            except OSError as exc:  # a disk full mid-run: a resume could not trust the journal
                logger.error("journal: cannot append (%s); stopping the batch", type(exc).__name__)
                stop.set("journal")
        counts[outcome.status] += 1
        done += 1
        now = time.monotonic()
        if now - last_progress >= PROGRESS_INTERVAL or done == total:
            last_progress = now
            snapshot = BatchProgress(
                done, total, dict(counts), now - started, rate.update(now, done), gate.in_flight
            )
            bar.set_postfix(_postfix(snapshot), refresh=False)
            if on_progress is not None:
                _call_progress(on_progress, snapshot)
        bar.update(1)

    async def worker(aclient: AsyncCaseApi) -> None:
        # Pauses happen inside the client, at its gate; a stop ends them (the row is then
        # not_attempted) and no further row is taken.
        while queue and not stop.is_set():
            k = queue.pop()
            record(k, await row(aclient, bodies[k], on_conflict=on_conflict))
            spawn()

    tasks: list[asyncio.Task[None]] = []

    def spawn() -> None:
        # A fixed pool starts whole; an adaptive one keeps SPARE_WORKERS more workers than
        # the gate's current limit (idle workers queued at the gate cost CPU, and every
        # worker of a new twin opens a connection), filling one twin's pool after another.
        wanted = workers if limits.concurrency else min(workers, gate.limit + SPARE_WORKERS)
        while len(tasks) < wanted and queue and not stop.is_set():
            aclient = own if twins is None else twins.for_worker(len(tasks))
            assert aclient is not None
            tasks.append(asyncio.create_task(worker(aclient)))

    async def all_done() -> None:
        while pending := [task for task in tasks if not task.done()]:
            await asyncio.wait(pending)

    watcher = asyncio.create_task(stop.watch())  # an outside cancel event reaches the gate
    previous_limits = gate.configure(limits)
    spawn()
    try:
        try:
            await all_done()
        except asyncio.CancelledError:
            # Ctrl-C under asyncio.run, a cancelled task, an anyio cancel scope:
            # stop taking rows, let the requests in flight finish, report.
            stop.set("cancelled")
            await all_done()
            current = asyncio.current_task()
            uncancel = getattr(current, "uncancel", None)  # Python >= 3.11
            if uncancel is not None:
                uncancel()
        for task in tasks:
            error = task.exception()
            if error is not None:
                raise error
    finally:
        watcher.cancel()
        await asyncio.wait([watcher])
        gate.configure(previous_limits)
        stop.release()  # the client's gate lets requests through again
        bar.close()
        if twins is not None:
            await twins.aclose()
        if on_progress is not None and done < total:
            now = time.monotonic()
            _call_progress(
                on_progress, BatchProgress(done, total, dict(counts), now - started, rate.update(now, done), 0)
            )
    return stop.reason if stop.is_set() else None


class _Bodies:
    """Request bodies built a chunk at a time as the workers reach them.

    A dict per row for a whole 100,000-row sheet would be most of the batch's
    memory; workers take rows in sheet order, so only the chunk being taken
    and the one before it are kept (a worker holding a body keeps its own reference).
    """

    CHUNK = 1024

    def __init__(self, pre: Preflight, labels: pd.Index) -> None:
        self._pre = pre
        self._labels = labels
        self._chunks: dict[int, list[dict[str, Any]]] = {}

    def __getitem__(self, k: int) -> dict[str, Any]:
        number, offset = divmod(k, self.CHUNK)
        chunk = self._chunks.get(number)
        if chunk is None:
            start = number * self.CHUNK
            chunk = self._pre.bodies(self._labels[start : start + self.CHUNK])
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


