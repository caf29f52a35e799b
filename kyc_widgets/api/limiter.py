"""How many requests may be in flight, and how fast they may leave: the gate's adaptive limit.

Why adaptive: a fixed number of requests in flight is right for one latency
only. Throughput is at most ``in_flight / latency`` (Little's law), so 32 in
flight reach 640 requests/s against an API answering in 50 ms but only 64/s
at 500 ms; and against an API that is already busy, more in flight only
queues requests at the server (latency rises, throughput does not).

Two controls, because an API says "too much" in two ways:

**1. Requests in flight: AIMD driven by latency (Vegas-style)**, updated once
per round trip, as TCP does, rather than Netflix's gradient limiter.
Gradient limiters compare a short and a long latency average on every
sample; with a few hundred samples per second on a shared machine that
reacts to noise. Counting in rounds (a round ends with the first answer to
a request sent after the round began) makes every decision look at the
median latency of one full window of requests. Per round:

- The API's *unloaded* latency is what every judgement compares with. The
  limit starts small (:data:`DEFAULT_INITIAL_LIMIT`) and the lowest round
  median is kept, but the first rounds are slowed by the batch's own start-up
  (connections opening, request bodies being built): learned there, it was
  50 % too high and the batch settled at 2-3 times the API's latency. So it
  is re-measured (BBR's "probe RTT"): after :data:`FIRST_PROBE_ROUNDS` rounds
  and then every :data:`PROBE_EVERY_ROUNDS`, the limit drops to
  :data:`PROBE_LIMIT` until :data:`MIN_ROUND_SAMPLES` answers to requests
  sent with that few in flight are in; the lower median of the last two such
  probes is the unloaded latency (so an API that got slower is followed).
  A probe costs about three rounds at a few in flight, ~3 % of the time.
- **Rising latency**: when the smoothed round median (:data:`SMOOTHING`)
  exceeds ``LATENCY_TOLERANCE`` times the unloaded latency plus
  :data:`LATENCY_SLACK` for two rounds running, requests are queueing at the
  API: the limit shrinks in proportion (``limit * tolerance * unloaded /
  median``, by at most :data:`MAX_LATENCY_CUT`), but never below what
  currently gets through times the unloaded latency: fewer in flight could
  not shorten the API's queue. One such round only holds the limit. Once the
  API has refused a request, its refusals regulate the batch (below) and
  latency no longer cuts the limit.
- **Otherwise**, if the round actually used its limit (at least half of it
  in flight; an idle client says nothing about the API), the limit grows:
  doubling per round until the first drop or the first sign of a queue
  (:data:`SLOW_START_EXIT`; "slow start", so a 500 ms API reaches 100 in
  flight in a few seconds), then in proportion to the headroom left
  (``limit * tolerated / median``, at least one more, at most double): a
  500 ms API whose latency wobbled by 12 % during slow start, which ended it,
  still reaches 100 in flight in seconds, and near the tolerance the limit
  creeps by one per round.

When the limit is already at its floor and latency stays high for
:data:`BASELINE_RESET_ROUNDS` rounds, the API itself has become slower: the
unloaded latency is re-learned instead of throttling for ever.

**2. Requests per second, learned from drops** (429, or a 503 that declares
nothing was done). A rate-limited API refuses by rate, not by concurrency,
and every refusal costs a ``Retry-After`` pause of the whole gate (the
sandbox's is a whole second). Cutting the number in flight on each drop
(the first version of this module) left the batch at 76 % of the API's
limit at 250-500 ms latency: after each pause the batch refilled its window
in one burst, was refused again within a second, and paused again. So one
drop event (answers to requests sent before the previous event are the same
event) sets a *learned rate*: the requests sent since the previous event
divided by the time since it, pause included. Against a token bucket that is
the bucket's rate: over a whole cycle (pause, then sending until refused)
the API let through exactly what it refilled, plus the few it refused. The
gate then spaces requests at that rate (:class:`RateSpacer`, no burst after
a pause), and the rate grows by :data:`RATE_PROBE` of itself per second
without a drop, so a low estimate corrects itself and a raised limit is
found; one event never cuts the rate below :data:`DROP_BACKOFF` of what it
was. The limit in flight is then cut to what that rate needs
(:data:`RATE_HEADROOM` times rate times latency), so that the rate, not a
burst of requests in flight, regulates the batch.

``max_rate`` (requests per second agreed with the API's owners) caps the
learned rate, and is a token bucket with a small burst by itself;
``max_concurrency`` caps the limit. A *fixed* limit (``fixed=N``) never
adapts and learns no rate: that is ``--concurrency N``.

Nothing here sleeps or locks: :class:`~kyc_widgets.api.pacing.PacingGate`
owns the waiting and calls these under its lock; the clock is injectable so
the rules are tested with made-up latencies.
"""

from __future__ import annotations

import collections
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
    "RATE_PROBE",
    "AdaptiveLimit",
    "RateSpacer",
]

DEFAULT_INITIAL_LIMIT = 8
"""Requests in flight before anything is known about the API: few enough that the
first rounds measure its unloaded latency."""

LATENCY_TOLERANCE = 1.3
"""A round whose median latency exceeds this times the unloaded latency is queueing."""

MAX_GROWTH = 1.25
"""The most one round grows the limit by (times itself) after slow start: doubling
overshoots by the two rounds a cut waits for, and the limit then swings widely."""

MAX_LATENCY_CUT = 0.7
"""The most one latency decision cuts the limit to (times itself)."""

DROP_BACKOFF = 0.7
"""The lowest one drop event sets the learned rate to, times the rate it had."""

RATE_PROBE = 0.02
"""Share of the learned rate it grows by per second without a drop."""

FIRST_RATE_PROBE = 0.10
"""The same until the second drop: the first estimate spans slow start, when the batch
sent less than the API allowed, so it is low; the second spans a whole refusal cycle."""

RATE_HEADROOM = 2.0
"""Requests in flight kept after a drop, times what the learned rate needs at the current
latency: enough that the rate, not the limit, is what paces."""

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
"""Answers a round needs before it is judged (one answer is not a median), or the limit if lower."""

RATE_WINDOW = 2.0
"""Seconds over which the successful-answer rate is measured (the floor of a latency cut)."""

BASELINE_RESET_ROUNDS = 20
"""Rounds at the floor with high latency after which the unloaded latency is re-learned."""

PROBE_LIMIT = 4
"""Requests in flight while the unloaded latency is re-measured."""

FIRST_PROBE_ROUNDS = 10
"""Judged rounds before the first re-measurement: the batch's own start-up (connections
opening, the first request bodies built) slows the first rounds' answers."""

PROBE_EVERY_ROUNDS = 100
"""Judged rounds between re-measurements: each costs about three rounds at a few in flight."""


class AdaptiveLimit:
    """The number of requests allowed in flight and the learned rate (see the module docstring).

    ``on_send`` is told of every request as it leaves, ``on_sample`` of every
    answer that says something about load (a success or an ordinary client
    error), ``on_drop`` of every 429 or retryable 503; ``sent_at`` is the
    clock reading when that request left.
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
        """True once the API refused (429/503): from then on a learned rate paces the requests."""
        self.unloaded: float | None = None
        """The API's latency without our load (seconds): the lowest round median, then
        the lower of the last two re-measurements with few in flight."""
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
        self._sent = 0
        self._first_sent: float | None = None
        self._event_sent = 0
        self._event_at: float | None = None
        self._event_rate: float | None = None
        self._events = 0
        self._judged = 0
        self._next_probe = FIRST_PROBE_ROUNDS
        self._probe: list[float] | None = None
        """Latencies of the re-measurement under way, or None."""
        self._probes: collections.deque[float] = collections.deque(maxlen=2)

    @property
    def limit(self) -> int:
        """Requests allowed in flight now (a few while the unloaded latency is re-measured)."""
        limit = max(self.min_limit, int(self._limit))
        return min(limit, PROBE_LIMIT) if self._probe is not None else limit

    def rate(self) -> float | None:
        """Requests per second the drops taught (growing since the last one), or None before any."""
        if self._event_rate is None or self._event_at is None:
            return None
        probe = RATE_PROBE if self._events > 1 else FIRST_RATE_PROBE
        return self._event_rate * (1.0 + probe * max(0.0, self._clock() - self._event_at))

    def on_send(self) -> None:
        """A request leaves now."""
        self._sent += 1
        if self._first_sent is None:
            self._first_sent = self._clock()

    def on_sample(self, latency: float, sent_at: float, in_flight: int) -> None:
        """An answer that measures the API's load: ``latency`` seconds, ``in_flight`` when it left."""
        now = self._clock()
        self._successes.append(now)
        while self._successes and self._successes[0] < now - RATE_WINDOW:
            self._successes.popleft()
        if self.fixed is not None:
            return
        if self._probe is not None:
            self._probe_sample(latency, in_flight, now)
            return
        self._round.append(latency)
        self._round_in_flight = max(self._round_in_flight, in_flight)
        if sent_at >= self._round_start and len(self._round) >= min(MIN_ROUND_SAMPLES, self.limit):
            self._end_round(now)

    def on_drop(self, sent_at: float) -> None:
        """A 429 or retryable 503 for a request that left at ``sent_at``."""
        if self.fixed is not None or sent_at < self._last_decrease:
            return  # the same congestion event as the last decrease
        now = self._clock()
        since = self._event_at if self._event_at is not None else self._first_sent
        if since is not None and now > since:
            measured = (self._sent - self._event_sent) / (now - since)
            previous = self.rate()
            if previous is not None:
                measured = max(measured, DROP_BACKOFF * previous)
            self._event_rate = max(measured, 1.0 / 60)  # at least one request a minute
            self._event_at, self._event_sent = now, self._sent
            self._events += 1
        self.found_limit = True
        self._probe = None  # the API's refusals pace the batch now, not its latency
        target = self._limit * DROP_BACKOFF
        latency = self.last_median or self.unloaded
        if self._event_rate is not None and latency is not None:
            target = RATE_HEADROOM * self._event_rate * latency + 1
        self._decrease(target, now)

    def _end_round(self, now: float) -> None:
        median = statistics.median(self._round)
        used = self._round_in_flight
        self._round = []
        self._round_in_flight = 0
        self._round_start = now
        if not self._warmed_up:
            # The first round opens connections: its latency is not the API's, but a full
            # round still says the API answers, and slow start need not wait one more round.
            self._warmed_up = True
            if self.slow_start and 2 * used >= self._limit:
                self._limit = min(float(self.max_limit), self._limit * 2)
            return
        if self.unloaded is None or median < self.unloaded:
            self.unloaded = median
        self._judged += 1
        if self._judged >= self._next_probe and not self.found_limit:
            # Re-measure the unloaded latency with few in flight: learned in the first
            # rounds it is too high, and an API's own latency changes over a long run.
            self._next_probe = self._judged + PROBE_EVERY_ROUNDS
            self._probe = []
            return
        raw = median
        previous = self.last_median
        median = median if previous is None else SMOOTHING * median + (1 - SMOOTHING) * previous
        self.last_median = median
        allowed = LATENCY_TOLERANCE * self.unloaded + LATENCY_SLACK
        if self.slow_start and raw > SLOW_START_EXIT * self.unloaded + LATENCY_SLACK:
            self.slow_start = False  # a queue is forming: stop doubling before it is a long one
        # Once the API has refused (429/503) its refusals regulate us: latency then says more
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
            self._decrease(max(self._limit * max(MAX_LATENCY_CUT, allowed / median), carried), now)
            return
        if high:
            return  # one slow round on a busy machine is not yet a queue: hold
        self._high_at_floor = 0
        if 2 * used >= self._limit:
            # After slow start, grow in proportion to the latency headroom (a gradient): fast
            # while the API answers as if unloaded, by one per round close to the tolerance.
            headroom = 2.0 if self.slow_start else min(MAX_GROWTH, allowed / median)
            grown = max(self._limit + 1, self._limit * headroom)
            self._limit = min(float(self.max_limit), grown)

    def _probe_sample(self, latency: float, in_flight: int, now: float) -> None:
        """During a re-measurement: answers to requests sent with few in flight are the API's own latency."""
        assert self._probe is not None
        if in_flight <= PROBE_LIMIT:
            self._probe.append(latency)
        if len(self._probe) >= MIN_ROUND_SAMPLES:
            # The lower of the last two: one slow moment is not a slower API, two running are.
            self._probes.append(statistics.median(self._probe))
            self.unloaded = min(self._probes)
            self._probe = None
            self._round, self._round_in_flight, self._round_start = [], 0, now

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
    """A token bucket for a rate (``max_rate``, or the learned one): when may the next request leave?

    The burst is :data:`BURST_SECONDS` of the rate (at least one request), so
    a client that was idle, or paused by a ``Retry-After``, does not fire a
    second's worth at once. ``rate`` may change between reservations (the
    learned rate grows with time).
    """

    BURST_SECONDS = 0.05

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("max_rate must be positive")
        self.rate = float(rate)
        self._clock = clock
        self._tat = clock()  # GCRA's "theoretical arrival time" of the next request

    def defer(self, until: float) -> None:
        """No token before ``until`` (the gate is paused until then)."""
        self._tat = max(self._tat, until)

    def reserve(self) -> float:
        """Take the next token; returns the clock time at which the request may leave."""
        now = self._clock()
        tolerance = (max(1.0, self.rate * self.BURST_SECONDS) - 1.0) / self.rate
        tat = max(self._tat, now)
        self._tat = tat + 1.0 / self.rate
        return max(now, tat - tolerance)
