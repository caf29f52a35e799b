"""Defaults shared across layers that entry points need before anything heavy loads.

This module imports nothing, so ``kyc-widgets --help`` builds its parser from
these values without loading pandas. It sits outside :mod:`kyc_widgets.batch`
on purpose: importing anything under that package runs its ``__init__``, which
imports the pandas-based modules (and has to: some of its names, such as
``preflight``, are also submodule names, which lazy re-exports would shadow).
"""

from __future__ import annotations

__all__ = ["DEFAULT_CONCURRENCY", "DEFAULT_MAX_CONCURRENCY"]

DEFAULT_CONCURRENCY = 32
"""Requests in flight for a batch unless the caller says otherwise. Fixed, because in
``benchmarks/bench_pacing.py`` it still beats the adaptive limit at 50-250 ms latency;
``concurrency=None`` (``--concurrency auto``) lets the pacing gate's adaptive limit find
the number, up to :data:`DEFAULT_MAX_CONCURRENCY`."""

DEFAULT_MAX_CONCURRENCY = 256
"""Cap on requests in flight unless the caller sets one: 200 requests/s at 1 s latency."""
