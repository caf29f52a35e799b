"""How many requests may be in flight, and how fast they may leave: the gate's adaptive limit.

Why adaptive: a fixed number of requests in flight is right for one latency
only. Throughput is at most ``in_flight / latency`` (Little's law), so 32 in
flight reach 640 requests/s against an API answering in 50 ms but only 64/s
at 500 ms; and against an API that is already busy, more in flight only
queues requests at the server (latency rises, throughput does not).

The choice: **AIMD driven by latency (Vegas-style) and by drops**, updated
once per round trip, as TCP does, rather than Netflix's gradient limiter.
Gradient limiters compare a short and a long latency average on every
sample; with a few hundred samples per second on a shared machine that
reacts to noise. Counting in rounds (a round ends with the first answer to
a request sent after the round began) makes every decision look at the
median latency of one full window of requests, and lets one congestion
event cause one decrease, however many answers report it. Per round:

- **Drop** (429, or a 503 that declares nothing was done): the limit drops
  to ``DROP_BACKOFF`` times itself. The first drop, which ends slow start,
  also cuts it to at most what actually got through (the rate of successful
  answers over the last :data:`RATE_WINDOW` seconds times the current
  latency, plus 10 %): a token-bucket API lets a burst through before it
  refuses, so the limit reached by doubling is often several times the
  API's rate. (Later drops do not: with ``Retry-After`` pauses in the
  window that rate under-counts.) Answers to requests sent before the previous
  decrease are part of that same event and change nothing.
- **Rising latency**: when the smoothed round median (:data:`SMOOTHING`)
  exceeds ``LATENCY_TOLERANCE`` times the *unloaded* latency (the lowest round
  median seen) plus :data:`LATENCY_SLACK` for two rounds running, requests
  are queueing at the API: the limit shrinks in proportion
  (``limit * tolerance * unloaded / median``, by at most 30 %), but never
  below what currently gets through times the unloaded latency: fewer in
  flight could not shorten the API's queue (on a busy machine the latency
  also rises for reasons that are not our load). One such round only holds
  the limit where it is. Once the API has refused a request it regulates
  the batch itself, and latency no longer cuts the limit (it is then mostly
  the noise of the machine or network, and cutting only loses rows).
- **Otherwise**, if the round actually used its limit (at least half of it
  in flight; an idle client says nothing about the API), the limit grows:
  doubling per round until the first drop or the first sign of a queue
  (:data:`SLOW_START_EXIT`; "slow start", so a 500 ms API reaches 100 in
  flight in a few seconds), then by ``sqrt(limit)`` per round until the API
  first refuses, then by one per round: the drop estimate is close to the
  API's rate, and every overshoot costs a ``Retry-After`` pause.

The first round is not judged: it opens the connections, and its latency
would make the API look slower than it is.

When the limit is already at its floor and latency stays high for
:data:`BASELINE_RESET_ROUNDS` rounds, the API itself has become slower: the
unloaded latency is re-learned instead of throttling for ever.

``max_rate`` (requests per second agreed with the API's owners) is a token
bucket with a small burst (:class:`RateSpacer`); ``max_concurrency`` caps the
limit. A *fixed* limit (``fixed=N``) never adapts: that is ``--concurrency N``.

Nothing here sleeps or locks: :class:`~kyc_widgets.api.pacing.PacingGate`
owns the waiting and calls these under its lock; the clock is injectable so
the rules are tested with made-up latencies.
"""

from __future__ import annotations

import collections
import math
import statistics
import time
from collections.abc import Callable

from kyc_widgets.defaults import DEFAULT_MAX_CONCURRENCY

__all__ = [
    "BASELINE_RESET_ROUNDS",
    "DEFAULT_INITIAL_LIMIT",
    "DEFAULT_MAX_CONCURRENCY",
    "DROP_BACKOFF",
    "LATENCY_SLACK",
    "LATENCY_TOLERANCE",
    "RATE_WINDOW",
    "AdaptiveLimit",
    "RateSpacer",
]

DEFAULT_INITIAL_LIMIT = 16
"""Requests in flight before anything is known about the API."""

LATENCY_TOLERANCE = 1.5
"""A round whose median latency exceeds this times the unloaded latency is queueing."""

DROP_BACKOFF = 0.9
"""Multiplier of the limit on a 429 / retryable 503 (gentle: the API said "a bit less")."""

LATENCY_SLACK = 0.010
"""Seconds of latency that are jitter, not queueing: a shared machine or network adds
a few ms whatever the load, which is a large ratio for an API answering in 20 ms."""

SMOOTHING = 0.5
"""Weight of the newest round's median in the smoothed latency: one slow round
on a busy machine is not yet a queue."""

SLOW_START_EXIT = 1.2
"""Slow start ends when a round's median exceeds this times the unloaded latency (plus
:data:`LATENCY_SLACK`): doubling again would overshoot by the time the queue shows."""

MIN_ROUND_SAMPLES = 8
"""Answers a round needs before it is judged (one answer is not a median)."""

RATE_WINDOW = 2.0
"""Seconds over which the successful-answer rate is measured (for the drop estimate)."""

BASELINE_RESET_ROUNDS = 20
"""Rounds at the floor with high latency after which the unloaded latency is re-learned."""


class AdaptiveLimit:
    """The number of requests allowed in flight, learned from answers (see the module docstring).

    ``on_sample`` is told of every answer that says something about load
    (a success or an ordinary client error), ``on_drop`` of every 429 or
    retryable 503; ``sent_at`` is the clock reading when that request left.
    """

    def __init__(
        self,
        *,
        initial: int = DEFAULT_INITIAL_LIMIT,
        max_limit: int = DEFAULT_MAX_CONCURRENCY,
        min_limit: int = 1,
        fixed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if fixed is not None and fixed < 1:
            raise ValueError("a fixed concurrency must be at least 1")
        if max_limit < 1 or min_limit < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.fixed = fixed
        self.max_limit = fixed if fixed is not None else max_limit
        self.min_limit = min(min_limit, self.max_limit)
        self._clock = clock
        self._limit = float(fixed if fixed is not None else min(max(initial, self.min_limit), self.max_limit))
        self.slow_start = True
        self.found_limit = False
        """True once the API refused (429/503): from then on the limit grows by one per round."""
        self.unloaded: float | None = None
        """The lowest round-median latency seen (seconds): the API's latency without our load."""
        self.last_median: float | None = None
        """Smoothed round-median latency (an average of the last few rounds)."""
        self._round_start = clock()
        self._round: list[float] = []
        self._round_in_flight = 0
        self._last_decrease = float("-inf")
        self._high_at_floor = 0
        self._high_rounds = 0
        self._warmed_up = False
        self._successes: collections.deque[float] = collections.deque()

    @property
    def limit(self) -> int:
        """Requests allowed in flight now."""
        return max(self.min_limit, int(self._limit))

    def on_sample(self, latency: float, sent_at: float, in_flight: int) -> None:
        """An answer that measures the API's load: ``latency`` seconds, ``in_flight`` when it left."""
        now = self._clock()
        self._successes.append(now)
        while self._successes and self._successes[0] < now - RATE_WINDOW:
            self._successes.popleft()
        if self.fixed is not None:
            return
        self._round.append(latency)
        self._round_in_flight = max(self._round_in_flight, in_flight)
        if sent_at >= self._round_start and len(self._round) >= MIN_ROUND_SAMPLES:
            self._end_round(now)

    def on_drop(self, sent_at: float) -> None:
        """A 429 or retryable 503 for a request that left at ``sent_at``."""
        if self.fixed is not None or sent_at < self._last_decrease:
            return  # the same congestion event as the last decrease
        now = self._clock()
        target = self._limit * DROP_BACKOFF
        latency = self.last_median
        if self.slow_start and latency is not None and self._successes:
            target = min(target, 1.1 * self._got_through() * latency)
        self.found_limit = True
        self._decrease(target, now)

    def _end_round(self, now: float) -> None:
        median = statistics.median(self._round)
        used = self._round_in_flight
        self._round = []
        self._round_in_flight = 0
        self._round_start = now
        if not self._warmed_up:
            self._warmed_up = True  # the first round opens connections: its latency is not the API's
            return
        if self.unloaded is None or median < self.unloaded:
            self.unloaded = median
        raw = median
        previous = self.last_median
        median = median if previous is None else SMOOTHING * median + (1 - SMOOTHING) * previous
        self.last_median = median
        allowed = LATENCY_TOLERANCE * self.unloaded + LATENCY_SLACK
        if self.slow_start and raw > SLOW_START_EXIT * self.unloaded + LATENCY_SLACK:
            self.slow_start = False  # a queue is forming: stop doubling before it is a long one
        # Once the API has refused (429/503) it regulates us itself: latency then says more
        # about this machine or the network than about our load, and cuts only lose rows.
        high = median > allowed and not self.found_limit
        self._high_rounds = self._high_rounds + 1 if high else 0
        if self._high_rounds >= 2:
            if self._limit <= self.min_limit:
                self._high_at_floor += 1
                if self._high_at_floor >= BASELINE_RESET_ROUNDS:
                    self.unloaded = median  # the API got slower; it is not our load
                    self._high_at_floor = 0
                return
            # Never below what gets through now at the unloaded latency (Little's law): fewer
            # in flight could not shorten the API's queue, only the batch's throughput.
            carried = self._got_through() * self.unloaded
            self._decrease(max(self._limit * max(0.7, allowed / median), carried), now)
            return
        if high:
            return  # one slow round on a busy machine is not yet a queue: hold
        self._high_at_floor = 0
        if 2 * used >= self._limit:
            if self.slow_start:
                grown = self._limit * 2
            elif self.found_limit:
                grown = self._limit + 1
            else:
                grown = self._limit + max(1.0, math.sqrt(self._limit))
            self._limit = min(float(self.max_limit), grown)

    def _got_through(self) -> float:
        """Successful answers per second over the last :data:`RATE_WINDOW` seconds."""
        return len(self._successes) / RATE_WINDOW

    def _decrease(self, target: float, now: float) -> None:
        self.slow_start = False
        self._limit = max(float(self.min_limit), min(self._limit, target))
        self._last_decrease = now
        self._high_rounds = 0
        self._round = []
        self._round_in_flight = 0
        self._round_start = now


class RateSpacer:
    """A token bucket for ``max_rate``: when may the next request leave?

    The burst is :data:`BURST_SECONDS` of the rate (at least one request), so
    a client that was idle does not fire a second's worth at once.
    """

    BURST_SECONDS = 0.05

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("max_rate must be positive")
        self.rate = float(rate)
        self._clock = clock
        self._tolerance = (max(1.0, self.rate * self.BURST_SECONDS) - 1.0) / self.rate
        self._tat = clock()  # GCRA's "theoretical arrival time" of the next request

    def reserve(self) -> float:
        """Take the next token; returns the clock time at which the request may leave."""
        now = self._clock()
        tat = max(self._tat, now)
        self._tat = tat + 1.0 / self.rate
        return max(now, tat - self._tolerance)
