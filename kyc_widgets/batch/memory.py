"""Handing freed memory back to the system after a large step (a million-row sheet read,
a pre-flight, a workbook slice).

Why: two allocators keep what a step freed for their own next use, and the
next step mostly cannot use it. Arrow's pool (mimalloc) holds the chunks of a
column once they are joined and what factorising a million names took: ~100 to
170 MB for a million rows, until the process ends. glibc keeps the holes that
Python objects and NumPy arrays leave between what stays: ~50 MB for a
million-row workbook read in slices. Between steps that is memory a campaign
holds for nothing, and the next step's peak lands on top of it.

Both calls take about a millisecond when there is little to give back;
elsewhere than glibc (macOS, musl) the second does nothing.

Arrow's pool cannot give back everything it freed: its heaps are per thread,
and what Arrow's compute threads freed stays with them. A process of ours (the
command line) makes the system's allocator Arrow's pool for the whole process
(:func:`use_system_allocator`), so that one ``malloc_trim`` reaches all of it;
measured on a million-row sending run through the command line, that held
~40 MB less after the pre-flight, and ~50 MB less at the report's peak. It is
not done on import: which allocator a notebook's pyarrow uses is its owner's choice.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

import pyarrow as pa

__all__ = ["give_back_memory", "use_system_allocator"]


def give_back_memory() -> None:
    """Return what Arrow's pool and glibc's heap hold freed (see the module docstring)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim:
        trim(0)


def use_system_allocator() -> None:
    """Make the system's allocator Arrow's pool for this process (see the module docstring).

    For our own processes only (the command line's campaign commands), before
    they read a sheet: what was allocated in the previous pool stays there.
    """
    pa.set_memory_pool(pa.system_memory_pool())


def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, looked up once; False where there is none."""
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        try:
            _MALLOC_TRIM = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _MALLOC_TRIM = False
    return _MALLOC_TRIM


_MALLOC_TRIM: Any = None
"""glibc's ``malloc_trim``; False where there is none; None until looked up."""
