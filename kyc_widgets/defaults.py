"""Defaults shared across layers that entry points need before anything heavy loads.

This module imports nothing, so ``kyc-widgets --help`` builds its parser from
these values without loading pandas. It sits outside :mod:`kyc_widgets.batch`
on purpose: importing anything under that package runs its ``__init__``, which
imports the pandas-based modules (and has to: some of its names, such as
``preflight``, are also submodule names, which lazy re-exports would shadow).
"""

from __future__ import annotations

__all__ = ["DEFAULT_CONCURRENCY"]

DEFAULT_CONCURRENCY = 32
"""Requests in flight in a batch. High enough for >= 10x a sequential loop at 50 ms
latency; the shared 429 gate keeps it from hammering an API that says it is overloaded."""
