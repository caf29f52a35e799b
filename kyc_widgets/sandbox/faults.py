"""Things that make the sandbox misbehave on purpose: fault switches and limits.

A client's retry rules can only be tested against failures, and the
interesting ones (a dropped connection after the case was committed, a 429
with ``Retry-After``) are hard to provoke on a healthy server. These switches
are in-process only (the Python :class:`~kyc_widgets.sandbox.Sandbox` object):
there is no HTTP admin endpoint a notebook could trip over.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "FailRate",
    "Fault",
    "FaultKind",
    "FaultSwitches",
    "RequestCounter",
    "TokenBucket",
    "retry_after_seconds",
]

FaultKind = Literal[
    "unavailable", "rate_limited", "forbidden", "html_502", "drop", "drop_after_commit", "delay"
]
FAULT_KINDS: frozenset[str] = frozenset(get_args(FaultKind))


def _path_matches(pattern: str | None, path: str) -> bool:
    """``pattern`` matches the exact path or any path below it (a prefix)."""
    return pattern is None or path == pattern or path.startswith(pattern.rstrip("/") + "/")


@dataclass
class Fault:
    """One armed switch; fires for the next ``times`` matching requests."""

    kind: str
    times: int = 1
    method: str | None = None
    path: str | None = None
    retry_after: float | str | None = None
    seconds: float | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and _path_matches(
            self.path, path
        )

    def retry_after_header(self) -> str:
        """``Retry-After`` as sent: a given string verbatim (HTTP date), else whole seconds."""
        if isinstance(self.retry_after, str):
            return self.retry_after
        return str(max(0, math.ceil(self.retry_after if self.retry_after is not None else 1)))


class FaultSwitches:
    """One-shot test switches, consumed in the order they were added.

    ``add("drop", times=2, method="POST", path="/api/v1/kyc-cases")`` makes the
    next two matching requests fail that way; other requests are untouched.
    Safe to call from the test thread while the server thread serves.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []

    def add(
        self,
        kind: FaultKind,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        retry_after: float | str | None = None,
        seconds: float | None = None,
    ) -> Fault:
        """Arm a fault: ``unavailable`` (503 envelope, retryable), ``rate_limited``
        (429 + ``Retry-After``, default 1 s), ``forbidden`` (403 envelope: the token is
        valid but not allowed), ``html_502`` (a proxy's HTML page),
        ``drop`` (connection dropped before anything is applied),
        ``drop_after_commit`` (request applied, then connection dropped) or
        ``delay`` (sleep ``seconds`` before handling normally).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        if kind == "delay" and (seconds is None or seconds < 0):
            raise ValueError("a 'delay' fault needs seconds >= 0")
        fault = Fault(kind, times, method, path, retry_after, seconds)
        with self._lock:
            self._armed.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    @property
    def pending(self) -> list[Fault]:
        """Faults still armed (copies of their state)."""
        with self._lock:
            return [Fault(**vars(f)) for f in self._armed]

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first armed fault matching this request."""
        if not self._armed:  # fast path without the lock: the common case
            return None
        with self._lock:
            for fault in self._armed:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._armed.remove(fault)
                    return Fault(**{**vars(fault), "times": 1})
        return None


class TokenBucket:
    """``rate`` requests per second with one second of burst (capacity = rate).

    ``try_acquire`` returns 0 when a request may pass, else the seconds until
    a token will be available (what ``Retry-After`` is built from).
    """

    def __init__(self, rate: float, clock: Callable[[], float] | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = max(1.0, float(rate))
        self._tokens = self.capacity
        self._clock = clock or time.monotonic
        self._stamp = self._clock()
        self._lock = threading.Lock()

    def try_acquire(self) -> float:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate


def retry_after_seconds(wait: float) -> int:
    """Whole seconds for ``Retry-After``: the real wait rounded up, at least 1."""
    return max(1, math.ceil(wait))


class FailRate:
    """Answers "should this request fail?" with probability ``rate`` (0..1)."""

    def __init__(self, rate: float, seed: int | None = None) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fail rate must be between 0 and 1")
        self.rate = rate
        self._random = random.Random(seed)

    def __call__(self) -> bool:
        return self.rate > 0 and (self.rate >= 1.0 or self._random.random() < self.rate)


class RequestCounter:
    """Counts every request the server received, keyed by (method, path)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self._counts[(method, path)] += 1

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Requests matching ``method`` (any when None) and ``path`` (exact or prefix)."""
        want = method.upper() if method else None
        with self._lock:
            return sum(
                n
                for (m, p), n in self._counts.items()
                if (want is None or m == want) and _path_matches(path, p)
            )

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
