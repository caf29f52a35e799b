"""Stopping a campaign run: an outside cancel event, or a reason a row's answer gave (401, 403).

Why here, beside the batch, and not in :mod:`kyc_widgets.api.pacing`: the
pacing gate knows how to *be* stopped (:meth:`~kyc_widgets.api.pacing.PacingGate.stop`,
``resume``); deciding *that* a campaign stops (the analyst's Cancel, a kernel
interrupt, a 401 that every further row would get too) is the batch's business.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from kyc_widgets.api.pacing import POLL_INTERVAL, PacingGate

__all__ = ["STOP_WORDS", "Settable", "StopSignal", "stop_words"]

STOP_WORDS: dict[str, str] = {
    "cancelled": "cancelled by the user; unsent rows are 'not attempted'",
    "authentication": "the API rejected the token (401); sign in again and re-run",
    "permission": "the API refused access (403); unsent rows are 'not attempted'",
    "journal": "the journal could not be written (disk full?); unsent rows are 'not attempted'",
}
"""Why a batch stopped early (``report.stopped_reason``), in words for people."""


def stop_words(reason: str) -> str:
    """:data:`STOP_WORDS` for ``reason``, or the reason itself when it has none."""
    return STOP_WORDS.get(reason, reason)


class Settable(Protocol):
    """Anything with ``is_set()``: ``threading.Event``, ``asyncio.Event``, :class:`StopSignal`."""

    def is_set(self) -> bool: ...


class StopSignal:
    """Why a batch stops: an outside cancel event, or a reason set by a worker (401, 403).

    ``cancel`` may be a ``threading.Event`` set from another thread (the
    notebook's Cancel button, a kernel interrupt) or an ``asyncio.Event``; it
    is polled (:meth:`watch`), because a thread cannot wake an event loop's
    waiter directly. Once set, the stop is passed on to ``gate`` so that
    requests waiting there end at once.
    """

    def __init__(self, cancel: Settable | None = None, gate: PacingGate | None = None) -> None:
        self._cancel = cancel
        self._gate = gate
        self.stopped_gate = False
        """True when this signal stopped the gate (so the batch resumes it when it is done)."""
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        if self._gate is not None and self._gate.stop(self.reason):
            self.stopped_gate = True

    def is_set(self) -> bool:
        if self.reason is None and self._cancel is not None and self._cancel.is_set():
            self.set("cancelled")
        return self.reason is not None

    async def watch(self) -> None:
        """Poll the cancel event until the signal is set (run as a task; cancel it when done)."""
        while not self.is_set():
            await asyncio.sleep(POLL_INTERVAL)

    def release(self) -> None:
        """Resume the gate if this signal stopped it: the client is usable again after the batch."""
        if self.stopped_gate and self._gate is not None:
            self._gate.resume()
            self.stopped_gate = False
