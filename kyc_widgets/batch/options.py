"""How a campaign runs, validated once: :class:`BatchOptions` and :class:`BatchMode`.

Why one frozen object: ``batch_create``, ``abatch_create``, the campaign
widget and the command line all take the same dozen settings (concurrency and
its caps, the mode, the campaign name, the journal, what to do with a 409, the
same-subject rule). Validating them in each entry point meant four copies of
the same checks and a ``dry_run: bool | str`` that forked three ways. Here
they are checked once, in :meth:`BatchOptions.__post_init__`, and passed on as
one value, the way httpx passes one ``Timeout`` or ``Limits``.

The old keyword ``dry_run`` (``True`` / ``"check"``) still works for one
release, with a ``DeprecationWarning``: :meth:`BatchOptions.from_keywords`
turns it into :attr:`BatchOptions.mode`.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from kyc_widgets.api.pacing import PacingLimits
from kyc_widgets.defaults import DEFAULT_CONCURRENCY, DEFAULT_MAX_CONCURRENCY
from kyc_widgets.enums import TextEnum

__all__ = ["BatchMode", "BatchOptions", "OnConflict"]


class BatchMode(TextEnum):
    """What a run does with the rows that passed the pre-flight."""

    SEND = "send"
    """Create the cases."""
    CHECK_ROWS = "check_rows"
    """Create nothing and ask nothing: every valid row is reported ``would_create``
    (was ``dry_run=True``)."""
    CHECK_API = "check_api"
    """Create nothing; look each row's external id up on the API: would create,
    exists, or exists with different values (was ``dry_run="check"``)."""

    @property
    def is_dry_run(self) -> bool:
        return self is not BatchMode.SEND


class OnConflict(TextEnum):
    """What a 409 (the external id exists) becomes in the report."""

    REPORT = "report"
    """``exists``: the case is there (a re-run, an earlier import)."""
    LOAD = "load"
    """Load the existing case and compare it with the row: ``exists`` or ``conflict``."""


@dataclass(frozen=True)
class BatchOptions:
    """Every setting of a campaign run, validated once (see the module docstring).

    ``concurrency=None`` (the default) lets the number of requests in flight
    adapt to the API, up to ``max_concurrency``; a number is a fixed pool
    (capped by ``max_concurrency`` too). ``max_rate`` caps requests per second.
    ``campaign`` names the campaign: rows without an external id get a stable
    one derived from it. ``journal`` is a file of outcomes for resuming after
    a crash. ``allow_same_subject`` sends rows that repeat another row's
    customer and reason under another id. ``progress`` shows a tqdm bar.
    """

    mode: BatchMode = BatchMode.SEND
    campaign: str | None = None
    concurrency: int | None = DEFAULT_CONCURRENCY
    max_rate: float | None = None
    max_concurrency: int | None = None
    on_conflict: OnConflict = OnConflict.REPORT
    journal: Path | None = None
    allow_same_subject: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise in place, once
        try:
            set_(self, "mode", BatchMode(self.mode))
        except ValueError:
            raise ValueError(
                f"mode must be one of {', '.join(m.value for m in BatchMode)}"
            ) from None
        try:
            set_(self, "on_conflict", OnConflict(self.on_conflict))
        except ValueError:
            raise ValueError("on_conflict must be 'report' or 'load'") from None
        if self.concurrency is not None and (
            isinstance(self.concurrency, bool) or int(self.concurrency) < 1
        ):
            raise ValueError("concurrency must be at least 1")
        if self.max_concurrency is not None and int(self.max_concurrency) < 1:
            raise ValueError("max_concurrency must be at least 1")
        if self.max_rate is not None and not float(self.max_rate) > 0:
            raise ValueError("max_rate must be positive")
        if self.concurrency is not None and self.max_concurrency is not None:
            set_(self, "concurrency", min(int(self.concurrency), int(self.max_concurrency)))
        if self.journal is not None:
            set_(self, "journal", Path(os.fspath(self.journal)))
        if self.campaign is not None:
            set_(self, "campaign", str(self.campaign).strip() or None)

    @property
    def limits(self) -> PacingLimits:
        """The pacing gate's settings for the run."""
        return PacingLimits(
            self.max_rate, self.max_concurrency or DEFAULT_MAX_CONCURRENCY, self.concurrency
        )

    def replace(self, **changes: Any) -> BatchOptions:
        """A copy with ``changes`` (validated again)."""
        return replace(self, **changes)

    def record(self) -> dict[str, Any]:
        """The options as the evidence record keeps them (plain JSON values, no secrets)."""
        return {
            "dry_run": _DRY_RUN_WORDS[self.mode],
            "mode": self.mode.value,
            "on_conflict": self.on_conflict.value,
            "concurrency": self.concurrency,
            "campaign": self.campaign,
            "journal": os.fspath(self.journal) if self.journal is not None else None,
            "allow_same_subject": self.allow_same_subject,
        }

    @classmethod
    def from_keywords(
        cls, options: BatchOptions | None = None, *, stacklevel: int = 3, **keywords: Any
    ) -> BatchOptions:
        """``options`` (or the defaults) with the loose keywords of ``batch_create`` applied.

        ``dry_run=True`` / ``dry_run="check"`` become :attr:`mode` with a
        ``DeprecationWarning``; unknown keywords raise ``TypeError`` as a
        misspelt argument would.
        """
        if "dry_run" in keywords:
            dry_run = keywords.pop("dry_run")
            if dry_run not in (False, True, "check"):
                raise ValueError("dry_run must be False, True or 'check'")
            if dry_run is not False:
                warnings.warn(
                    "dry_run is deprecated: pass mode='check_rows' (dry_run=True) or "
                    "mode='check_api' (dry_run='check')",
                    DeprecationWarning,
                    stacklevel=stacklevel,
                )
                keywords.setdefault("mode", _MODE_OF_DRY_RUN[dry_run])
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(keywords) - known)
        if unknown:
            raise TypeError(f"unexpected keyword argument(s): {', '.join(unknown)}")
        if options is None:
            return cls(**keywords)
        return replace(options, **keywords) if keywords else options


_MODE_OF_DRY_RUN: dict[Any, BatchMode] = {True: BatchMode.CHECK_ROWS, "check": BatchMode.CHECK_API}
_DRY_RUN_WORDS: dict[BatchMode, Any] = {
    BatchMode.SEND: False,
    BatchMode.CHECK_ROWS: True,
    BatchMode.CHECK_API: "check",
}
