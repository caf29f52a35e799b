"""The one pacing gate every request of a client passes through, and what stops it.

Why one gate: a 429 means "the whole client is going too fast", not "this
one call is". So a client and all its :meth:`async_twin` copies share one
:class:`PacingGate`; every request, sync or async, enters it
(``with gate.slot():`` / ``async with gate.slot():``) just before it is sent.
A 429 closes the gate for ``Retry-After`` (capped by ``retry_after_cap``) or,
when the API gave none, for an exponential backoff with jitter that grows with
the run of 429s; every request waiting at the gate then leaves together.

Why the gate can be stopped: a wait for ``Retry-After`` can last 30 s, and a
batch that is cancelled (Cancel button, Ctrl-C) or whose token was refused
(401 seen by another worker) must not sit it out. :meth:`PacingGate.stop`
wakes every waiter at once, from any thread, and they raise
:class:`PacingStopped`: nothing is sent after a stop. Only waits are cut
short; a request already on the wire is never interrupted, because its answer
says whether a case was created. The client turns :class:`PacingStopped` into
a :class:`~kyc_widgets.api.errors.RequestStoppedError` that keeps the last
answer (e.g. the 429) for the report. A stop lasts until :meth:`PacingGate.resume`.

How many requests may be in flight: :meth:`PacingGate.slot` also takes one
place under the gate's adaptive limit (:class:`~kyc_widgets.api.limiter.AdaptiveLimit`:
it grows while latency stays near the API's unloaded level, shrinks on 429,
503 and rising latency), after a token (:class:`~kyc_widgets.api.limiter.RateSpacer`)
at ``max_rate`` or at the rate the limit learned from 429s and 503s, whichever
is lower (:attr:`PacingGate.rate`). Leaving the slot gives the place back
and tells the limit what the answer said (:meth:`Slot.answered`). Waiters get places first come, first served; a stop wakes them too. A
request that must go out whatever happens (``stoppable=False``) never waits
for a place. :meth:`PacingGate.configure` sets ``max_rate``,
``max_concurrency`` or a fixed concurrency (a batch does so for its run).

The backoff constants live here once (:data:`DEFAULT_BACKOFF_BASE`,
:data:`DEFAULT_BACKOFF_MAX`, :data:`DEFAULT_RETRY_AFTER_CAP`); the client's
per-call retry waits use the same tenacity wait (:attr:`PacingGate.backoff`).

:class:`StopSignal` is the batch's side: it gathers why sending stops (an
outside cancel event, a 401) and passes the stop on to the gate.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from types import TracebackType
from typing import NamedTuple, final

import tenacity

from kyc_widgets.api.limiter import DEFAULT_MAX_CONCURRENCY, AdaptiveLimit, RateSpacer

__all__ = [
    "DEFAULT_BACKOFF_BASE",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_RETRY_AFTER_CAP",
    "POLL_INTERVAL",
    "PacingGate",
    "PacingLimits",
    "PacingStopped",
]

DEFAULT_BACKOFF_BASE = 0.25
"""Seconds: first backoff step, and the width of the random jitter added to each."""

DEFAULT_BACKOFF_MAX = 8.0
"""Longest backoff step (before jitter)."""

DEFAULT_RETRY_AFTER_CAP = 30.0
"""Longest wait honoured for one ``Retry-After``: a misconfigured API cannot park us for hours."""

POLL_INTERVAL = 0.05
"""Seconds between looks at an outside cancel event (one set from another thread is polled)."""


class PacingStopped(Exception):  # noqa: N818 - reads as what happened: "pacing stopped"
    """A wait at a stopped :class:`PacingGate`: nothing was sent by this wait."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"stopped while waiting to send ({reason})")
        self.reason = reason


class PacingLimits(NamedTuple):
    """What :meth:`PacingGate.configure` sets: ``concurrency`` fixed, or adaptive under the caps."""

    max_rate: float | None = None
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    concurrency: int | None = None


@final
class _Waiter:
    """One request waiting for a place in flight: a thread (event) or a task (future)."""

    __slots__ = ("event", "future", "granted", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.granted = False
        self.loop = loop
        self.future: asyncio.Future[None] | None = loop.create_future() if loop else None
        self.event = threading.Event() if loop is None else None

    def wake(self) -> bool:
        """Wake it from any thread; False when its loop is closed (nobody waits any more)."""
        if self.event is not None:
            self.event.set()
            return True
        assert self.loop is not None and self.future is not None
        if _running_loop() is self.loop:  # its own loop's thread: no wake-up pipe needed
            _wake(self.future)
            return True
        try:
            self.loop.call_soon_threadsafe(_wake, self.future)
        except RuntimeError:
            return False
        return True


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class PacingGate:
    """The shared pause of one client family; thread- and task-safe.

    ``open_at`` is a monotonic time that only moves forward. Sync waiters sleep
    on a ``threading.Event`` and async waiters on a future of their own loop,
    so :meth:`stop` (from any thread) wakes both at once instead of at their
    next poll.
    """

    def __init__(
        self,
        *,
        retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        max_rate: float | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        concurrency: int | None = None,
    ) -> None:
        self.retry_after_cap = retry_after_cap
        self.backoff: tenacity.wait.wait_base = tenacity.wait_exponential(
            multiplier=backoff_base, max=backoff_max
        ) + tenacity.wait_random(0, backoff_base)
        """The tenacity wait for retry ``n``: exponential from ``backoff_base`` up to
        ``backoff_max``, plus jitter so a crowd of callers does not return in step."""
        self._open_at = 0.0
        self._pauses = 0
        self._rate_limited_run = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._stop_reason: str | None = None
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()
        self._in_flight = 0
        self._queue: collections.deque[_Waiter] = collections.deque()
        self._limits = PacingLimits()
        self._limiter = AdaptiveLimit()
        self._spacer = RateSpacer(1.0)
        self.configure(PacingLimits(max_rate, max_concurrency, concurrency))

    # -- limits --------------------------------------------------------------

    def configure(self, limits: PacingLimits) -> PacingLimits:
        """Set ``max_rate`` / ``max_concurrency`` / a fixed ``concurrency``; returns the previous ones.

        The limit starts afresh (what was learned belongs to the old caps).
        Requests already in flight keep their places.
        """
        if limits.max_rate is not None and limits.max_rate <= 0:
            raise ValueError("max_rate must be positive")
        if limits.max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        limiter = AdaptiveLimit(max_limit=limits.max_concurrency, fixed=limits.concurrency)
        spacer = RateSpacer(limits.max_rate or 1.0)
        with self._lock:
            previous, self._limits = self._limits, limits
            self._limiter, self._spacer = limiter, spacer
            woken = self._grant()
        self._wake_granted(woken)
        return previous

    @property
    def limits(self) -> PacingLimits:
        return self._limits

    @property
    def in_flight(self) -> int:
        """Requests sent through this gate and not yet answered."""
        return self._in_flight

    @property
    def limit(self) -> int:
        """Requests allowed in flight now (adapts unless a fixed concurrency is set)."""
        return self._limiter.limit

    @property
    def limiter(self) -> AdaptiveLimit:
        return self._limiter

    # -- closing -------------------------------------------------------------

    def close_for(self, seconds: float) -> None:
        """No request leaves for ``seconds`` from now (never shortens a longer pause)."""
        with self._lock:
            self._close_until(time.monotonic() + max(seconds, 0.0))

    def rate_limited(self, retry_after: float | None) -> float:
        """A 429 arrived: close for ``Retry-After`` (capped) or the next backoff; return the seconds.

        Without ``Retry-After`` the backoff grows with each round of 429s. A 429
        that arrives while the gate is already closed was sent before the pause
        began (nothing leaves a closed gate), so it belongs to the same round:
        eight workers refused at once do not make an eight-step backoff.
        """
        with self._lock:
            now = time.monotonic()
            if retry_after is not None:
                seconds = min(max(retry_after, 0.0), self.retry_after_cap)
            elif now < self._open_at:
                return self._open_at - now
            else:
                self._rate_limited_run += 1
                seconds = self.backoff_seconds(self._rate_limited_run)
            self._close_until(now + seconds)
        return seconds

    def _close_until(self, until: float) -> None:
        """Under the lock: move the opening time; tokens after a pause start from the opening."""
        if until > self._open_at:
            self._open_at = until
            self._pauses += 1
            self._spacer.defer(until)

    def passed(self) -> None:
        """A request got through: the next 429 without ``Retry-After`` starts the backoff afresh."""
        if self._rate_limited_run:
            with self._lock:
                self._rate_limited_run = 0

    def backoff_seconds(self, attempt: int) -> float:
        """:attr:`backoff` for the ``attempt``-th retry (1 = first)."""
        state = tenacity.RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.attempt_number = max(attempt, 1)
        return float(self.backoff(state))

    def remaining(self) -> float:
        """Seconds until the gate opens (0 when open)."""
        return max(0.0, self._open_at - time.monotonic())

    # -- stopping ------------------------------------------------------------

    def stop(self, reason: str = "stopped") -> bool:
        """Wake every waiter with :class:`PacingStopped`; later waits fail at once until :meth:`resume`.

        Returns False when the gate was already stopped (the first reason is kept).
        """
        with self._lock:
            if self._stopped.is_set():
                return False
            self._stop_reason = reason
            self._stopped.set()
            waiters = list(self._async_waiters)
            queued = list(self._queue)
        for waiter in queued:
            waiter.wake()
        for loop, future in waiters:
            try:
                loop.call_soon_threadsafe(_wake, future)
            except RuntimeError:  # that loop is closed: nobody is waiting there any more
                pass
        return True

    def resume(self) -> None:
        """Let requests through again after :meth:`stop` (a pause still in force still holds)."""
        with self._lock:
            self._stopped.clear()
            self._stop_reason = None

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    # -- waiting -------------------------------------------------------------

    def wait(self, *, stoppable: bool = True) -> None:
        """Block until the gate is open; :class:`PacingStopped` at once when it is stopped.

        ``stoppable=False`` is for a request that must go out whatever happens
        (the client's re-send that confirms a create whose answer was lost).
        """
        self.sleep(0.0, stoppable=stoppable)

    def sleep(self, seconds: float, *, stoppable: bool = True) -> None:
        """Sleep ``seconds`` and until the gate is open, cut short by :meth:`stop`."""
        deadline = time.monotonic() + max(seconds, 0.0)
        while (left := self._time_left(deadline, stoppable)) > 0:
            if stoppable:
                self._stopped.wait(left)
            else:
                time.sleep(left)

    def _time_left(self, deadline: float, stoppable: bool) -> float:
        """Seconds still to wait (deadline or gate, whichever is later); raises when stopped."""
        if stoppable and self._stopped.is_set():
            raise PacingStopped(self._stop_reason or "stopped")
        return max(deadline - time.monotonic(), self.remaining())

    async def await_open(self, *, stoppable: bool = True) -> None:
        """Async :meth:`wait`."""
        await self.asleep(0.0, stoppable=stoppable)

    async def asleep(self, seconds: float, *, stoppable: bool = True) -> None:
        """Async :meth:`sleep`; the waiter is woken by :meth:`stop` from any thread."""
        deadline = time.monotonic() + max(seconds, 0.0)
        while (left := self._time_left(deadline, stoppable)) > 0:
            if not stoppable:
                await asyncio.sleep(left)
                continue
            loop = asyncio.get_running_loop()
            entry = (loop, loop.create_future())
            with self._lock:
                self._async_waiters.add(entry)
            try:
                if not self._stopped.is_set():  # a stop between the check and the add
                    await asyncio.wait({entry[1]}, timeout=left)
            finally:
                with self._lock:
                    self._async_waiters.discard(entry)
                entry[1].cancel()

    def slot(self, *, stoppable: bool = True) -> Slot:
        """The way into the gate for one request: ``with gate.slot():`` or ``async with gate.slot():``.

        Entering waits until the gate is open, for a token under :attr:`rate`
        (``max_rate`` or the learned rate; a pause meanwhile means a fresh
        token after it), then for a place under the limit of requests in
        flight (or raises :class:`PacingStopped`); leaving gives the place
        back. Tell the slot the answer's status (:meth:`Slot.answered`) so the
        limit learns from it.
        """
        return Slot(self, stoppable)

    # -- places in flight ----------------------------------------------------

    def _grant(self) -> list[_Waiter]:
        """Under the lock: give free places to waiters in order; returns those to wake."""
        granted = []
        limit = self._limiter.limit
        while self._queue and self._in_flight < limit:
            waiter = self._queue.popleft()
            waiter.granted = True
            self._in_flight += 1
            granted.append(waiter)
        return granted

    def _wake_granted(self, granted: list[_Waiter]) -> None:
        for waiter in granted:
            if not waiter.wake():  # its loop is gone: the place is free again
                self._release(None)

    def _take_now(self, stoppable: bool, loop: asyncio.AbstractEventLoop | None) -> _Waiter | None:
        """A place at once (None), or a queued waiter; raises when stopped."""
        with self._lock:
            if stoppable and self._stopped.is_set():
                raise PacingStopped(self._stop_reason or "stopped")
            if not stoppable or (not self._queue and self._in_flight < self._limiter.limit):
                self._in_flight += 1
                return None
            waiter = _Waiter(loop)
            self._queue.append(waiter)
            return waiter

    def _still_waiting(self, waiter: _Waiter) -> bool:
        """After a wake-up: False when the place is ours; raises when stopped."""
        with self._lock:
            if waiter.granted:
                return False
            if self._stopped.is_set():
                self._queue.remove(waiter)
                raise PacingStopped(self._stop_reason or "stopped")
            if waiter.event is not None:
                waiter.event.clear()
            elif waiter.loop is not None and waiter.future is not None and waiter.future.done():
                waiter.future = waiter.loop.create_future()
            return True

    def _abandon(self, waiter: _Waiter) -> None:
        """A waiter leaves (interrupt, task cancelled): give back a place granted meanwhile."""
        with self._lock:
            if not waiter.granted:
                if waiter in self._queue:
                    self._queue.remove(waiter)
                return
        self._release(None)

    def _acquire(self, stoppable: bool) -> None:
        waiter = self._take_now(stoppable, None)
        if waiter is None:
            return
        assert waiter.event is not None
        try:
            while self._still_waiting(waiter):
                waiter.event.wait(_WAKE_CHECK)
        except BaseException:
            self._abandon(waiter)
            raise

    async def _aacquire(self, stoppable: bool) -> None:
        waiter = self._take_now(stoppable, asyncio.get_running_loop())
        if waiter is None:
            return
        try:
            while self._still_waiting(waiter):
                assert waiter.future is not None
                await asyncio.wait({waiter.future}, timeout=_WAKE_CHECK)
        except BaseException:
            self._abandon(waiter)
            raise

    def _token_delay(self) -> float:
        """Seconds until this request may leave under the rate (0 with neither ``max_rate`` nor a learned one)."""
        with self._lock:
            rate = self.rate
            if rate is None:
                return 0.0
            self._spacer.rate = rate
            return max(0.0, self._spacer.reserve() - time.monotonic())

    @property
    def rate(self) -> float | None:
        """Requests per second the gate lets out now: ``max_rate`` or the learned rate, the lower."""
        rates = [r for r in (self._limits.max_rate, self._limiter.rate()) if r is not None]
        return min(rates) if rates else None

    def _sending(self) -> None:
        with self._lock:
            self._limiter.on_send()

    def _release(self, answer: tuple[int, float, int] | None) -> None:
        """Give a place back; ``answer`` is (status, sent_at, in flight when sent) for the limit."""
        with self._lock:
            self._in_flight -= 1
            if answer is not None:
                status, sent_at, in_flight = answer
                if status in _DROP_STATUSES:
                    self._limiter.on_drop(sent_at)
                elif status < 500:
                    self._limiter.on_sample(time.monotonic() - sent_at, sent_at, in_flight)
            granted = self._grant()
        self._wake_granted(granted)


_DROP_STATUSES = frozenset({429, 503})
"""Answers meaning "too much": 429, and 503 Service Unavailable (the API's retryable
503 declares it; a gateway's 503 means the same). Other 5xx say nothing about load."""

_WAKE_CHECK = 0.5
"""Seconds between a queued waiter's own looks at its state (a safety net: wake-ups are pushed)."""


@final
class Slot:
    """One request's passage through a :class:`PacingGate` (sync or async context manager)."""

    __slots__ = ("_gate", "_in_flight", "_sent_at", "_status", "_stoppable")

    def __init__(self, gate: PacingGate, stoppable: bool) -> None:
        self._gate = gate
        self._stoppable = stoppable
        self._status: int | None = None
        self._sent_at = 0.0
        self._in_flight = 0

    def answered(self, status: int) -> None:
        """The HTTP status of the answer: what the limit learns from when the slot is left."""
        self._status = status

    def _sent(self) -> Slot:
        self._gate._sending()
        self._sent_at = time.monotonic()
        self._in_flight = self._gate.in_flight
        return self

    def __enter__(self) -> Slot:
        # The token first, then a place: a request waiting for its token is not in flight
        # (counting it would grow the limit by requests the rate holds back).
        gate = self._gate
        while True:
            gate.wait(stoppable=self._stoppable)
            pauses = gate._pauses
            gate.sleep(gate._token_delay(), stoppable=self._stoppable)
            if gate._pauses == pauses:
                break  # else a 429 paused the gate meanwhile: a fresh token, spaced after the pause
        gate._acquire(self._stoppable)
        try:
            gate.wait(stoppable=self._stoppable)  # a 429 may have closed the gate meanwhile
        except BaseException:
            gate._release(None)
            raise
        return self._sent()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._gate._release(self._answer())

    async def __aenter__(self) -> Slot:
        gate = self._gate
        while True:
            await gate.await_open(stoppable=self._stoppable)
            pauses = gate._pauses
            await gate.asleep(gate._token_delay(), stoppable=self._stoppable)
            if gate._pauses == pauses:
                break
        await gate._aacquire(self._stoppable)
        try:
            await gate.await_open(stoppable=self._stoppable)
        except BaseException:
            gate._release(None)
            raise
        return self._sent()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._gate._release(self._answer())

    def _answer(self) -> tuple[int, float, int] | None:
        return None if self._status is None else (self._status, self._sent_at, self._in_flight)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
