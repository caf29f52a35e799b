"""Defaults shared across layers that entry points need before anything heavy loads.

This module imports nothing, so ``kyc-widgets --help`` builds its parser from
these values without loading pandas. It sits outside :mod:`kyc_widgets.batch`
on purpose: importing anything under that package runs its ``__init__``, which
imports the pandas-based modules (and has to: some of its names, such as
``preflight``, are also submodule names, which lazy re-exports would shadow).
"""

from __future__ import annotations

__all__ = ["DEFAULT_CONCURRENCY", "DEFAULT_MAX_CONCURRENCY"]

DEFAULT_CONCURRENCY: int | None = None
"""Requests in flight for a batch unless the caller says otherwise: None (``--concurrency
auto``), the pacing gate's adaptive limit finds the number, up to
:data:`DEFAULT_MAX_CONCURRENCY`, and learns a rate from the API's 429s. In
``benchmarks/bench_pacing.py`` it reaches the API's rate limit at 20-500 ms latency,
where the old fixed 32 could not pass 32 / latency, and without a limit it comes
within 10 % of the best fixed number at a lower latency. A whole number is a fixed
pool (``--concurrency N``)."""

DEFAULT_MAX_CONCURRENCY = 256
"""Cap on requests in flight unless the caller sets one: 200 requests/s at 1 s latency."""
