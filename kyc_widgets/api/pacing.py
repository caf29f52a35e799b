"""When the batch waits, and what cuts a wait short: the stop signal and the 429 pause.

Why the batch keeps its own pause instead of relying only on the client's 429
gate: a wait inside ``create_case`` cannot be interrupted safely from outside
(the batch cannot tell a coroutine sleeping before a retry from one whose
request is on the wire, and cancelling the latter loses the answer). So the
batch asks its clients not to retry a 429 themselves (``retry_rate_limited=
False``, see :func:`kyc_widgets.batch.sending._twins`), takes the 429 back,
and waits here, where a cancel, a Ctrl-C or a 401 seen by another worker ends
the wait within :data:`POLL_INTERVAL`. A 429 means the API did nothing, so
sending the row again after the pause is always safe.

Every worker waits on the same :class:`RateLimitPause` before taking a row,
so one ``Retry-After`` pauses the whole batch, exactly like the client's
shared gate. A 429 without ``Retry-After`` still pauses, for an exponential
backoff with jitter (the client's defaults), instead of re-sending at once.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Protocol

__all__ = ["POLL_INTERVAL", "RETRY_AFTER_CAP", "RateLimitPause", "StopSignal"]

POLL_INTERVAL = 0.05
"""Seconds between looks at an outside cancel event while waiting."""

RETRY_AFTER_CAP = 30.0
"""Longest single pause for one ``Retry-After`` (the client's default cap)."""

_BACKOFF_BASE = 0.25
_BACKOFF_MAX = 8.0


class Settable(Protocol):
    def is_set(self) -> bool: ...


class StopSignal:
    """Why sending stops: an outside cancel event, or a 401/403 seen by a worker.

    ``cancel`` may be a ``threading.Event`` set from another thread (the
    notebook UI's Cancel button, a kernel interrupt) or an ``asyncio.Event``;
    it is polled, because a thread cannot wake an event loop's waiter directly.
    """

    def __init__(self, cancel: Settable | None = None) -> None:
        self._cancel = cancel
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason

    def is_set(self) -> bool:
        if self.reason is None and self._cancel is not None and self._cancel.is_set():
            self.reason = "cancelled"
        return self.reason is not None

    async def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; return True as soon as the batch is stopping."""
        deadline = time.monotonic() + timeout
        while not self.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            await asyncio.sleep(min(left, POLL_INTERVAL))
        return True


class RateLimitPause:
    """The batch-wide pause after a 429 (monotonic clock; only ever moves forward)."""

    def __init__(self, *, retry_after_cap: float = RETRY_AFTER_CAP) -> None:
        self._open_at = 0.0
        self._cap = retry_after_cap

    def close_after(self, retry_after: float | None, rounds: int = 0) -> float:
        """Pause for ``Retry-After`` (capped), or a backoff when the API gave none; return seconds."""
        if retry_after is not None:
            seconds = min(max(retry_after, 0.0), self._cap)
        else:
            seconds = min(_BACKOFF_MAX, _BACKOFF_BASE * 2 ** min(rounds, 10))
            seconds += random.uniform(0, _BACKOFF_BASE)  # noqa: S311 - jitter, not security
        self._open_at = max(self._open_at, time.monotonic() + seconds)
        return seconds

    def remaining(self) -> float:
        return max(0.0, self._open_at - time.monotonic())

    async def wait(self, stop: StopSignal) -> bool:
        """Wait until the pause is over; False (at once) when the batch is stopping."""
        while (left := self.remaining()) > 0:
            if await stop.wait(left):
                return False
        return not stop.is_set()
