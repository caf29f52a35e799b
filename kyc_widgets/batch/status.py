"""Row statuses: one enum, one facts table, the only place a status is spelled.

Every row of a campaign ends in exactly one :class:`RowStatus`. What the rest
of the code needs to know about a status (its words for people, its text
marker, whether the case exists on the API, whether someone has to act,
whether a create may have reached the API) is one row of :data:`FACTS`, the
way :data:`kyc_widgets.widgets.case_flow.FACTS` describes the create flow's
states. Everything else (the report's counts, the CLI's exit code, the
widget's filter, the journal's "already landed") reads these facts instead of
keeping its own list.

``RowStatus`` is a ``str`` enum: a member equals, hashes and prints as its
value (``RowStatus.CREATED == "created"``), so a report's ``status`` column,
a journal line and a CSV export hold the same plain words as before, and
scripts that compare with ``"created"`` keep working.
"""

from __future__ import annotations

from dataclasses import dataclass

from kyc_widgets.enums import TextEnum

__all__ = [
    "ATTENTION_STATUSES",
    "DONE_STATUSES",
    "FACTS",
    "FIXABLE_STATUSES",
    "NEVER_SENT_STATUSES",
    "PREFLIGHT_STATUSES",
    "STATUSES",
    "STATUS_LABELS",
    "STATUS_MARKS",
    "STATUS_SHORT",
    "RowStatus",
    "StatusFacts",
]


class RowStatus(TextEnum):
    """Where one row of a campaign ended (or, for :attr:`READY`, stands before sending)."""

    CREATED = "created"
    EXISTS = "exists"
    CONFLICT = "conflict"
    INVALID = "invalid"
    DUPLICATE_IN_SHEET = "duplicate_in_sheet"
    """Repeats an earlier row: same external case ID, same customer and reason (its case
    is that row's)."""
    DUPLICATE_ID = "duplicate_id"
    """Shares its external case ID with a row of another customer (or reason): neither is
    sent until each has its own ID."""
    FAILED = "failed"
    OUTCOME_UNKNOWN = "outcome_unknown"
    NOT_ATTEMPTED = "not_attempted"
    WOULD_CREATE = "would_create"
    EXISTS_DIFFERS = "exists_differs"
    READY = "ready"
    """Pre-flight only: valid and about to be sent. No report row keeps it."""

    @property
    def facts(self) -> StatusFacts:
        return FACTS[self]

    @property
    def label(self) -> str:
        return FACTS[self].label


@dataclass(frozen=True)
class StatusFacts:
    """Everything known about one status."""

    label: str
    """Words for people where there is room for a sentence (summaries, filters)."""
    short: str
    """One or two words, for a table cell (the long label is its tooltip)."""
    marker: str
    """A text marker before the short word: scannable down a column, and not a colour."""
    done: bool
    """The case exists on the API: nothing left to do (a resumed run skips the row)."""
    needs_attention: bool
    """Someone has to look at the row (fix, re-run or check): every row whose case was
    neither created nor already there. A same-subject repeat (``duplicate_in_sheet``) is
    not: its case is the earlier row's. The app, the command line's exit code and count,
    and the report all count these (:data:`ATTENTION_STATUSES`)."""
    sent: bool
    """A create request for the row may have reached the API."""
    fixable: bool = False
    """The API never stored the row and it can be fixed in place (:mod:`.fixes`): refused
    (``invalid``), or held back because another customer's row has its external ID."""
    never_sent: bool = False
    """The pre-flight kept the row back: no request, so no attempt count to show."""


FACTS: dict[RowStatus, StatusFacts] = {
    RowStatus.CREATED: StatusFacts("Created", "Created", "✓", True, False, True),
    RowStatus.EXISTS: StatusFacts("Already existed", "Exists", "✓", True, False, True),
    RowStatus.CONFLICT: StatusFacts("Exists with different data", "Conflict", "≠", False, True, True),
    RowStatus.INVALID: StatusFacts(
        "Invalid: fix the row", "Invalid", "✗", False, True, False, True, never_sent=True
    ),
    RowStatus.DUPLICATE_IN_SHEET: StatusFacts(
        "Duplicate in sheet (not sent)", "Duplicate", "=", False, False, False, never_sent=True
    ),
    RowStatus.DUPLICATE_ID: StatusFacts(
        "Same external case ID as another customer: fix the row", "Same ID", "!", False, True,
        False, True, never_sent=True,
    ),
    RowStatus.FAILED: StatusFacts("Failed", "Failed", "✗", False, True, True),
    RowStatus.OUTCOME_UNKNOWN: StatusFacts(
        "Outcome unknown: check before re-sending", "Unknown", "?", False, True, True
    ),
    RowStatus.NOT_ATTEMPTED: StatusFacts("Not attempted", "Not sent", "○", False, True, False),
    RowStatus.WOULD_CREATE: StatusFacts(
        "Would be created (dry run)", "Would create", "+", False, False, False
    ),
    RowStatus.EXISTS_DIFFERS: StatusFacts(
        "Exists with different data (dry run)", "Differs", "≠", False, True, False
    ),
    RowStatus.READY: StatusFacts("Ready to send", "Ready", "•", False, False, False),
}

STATUSES: tuple[RowStatus, ...] = tuple(s for s in RowStatus if s is not RowStatus.READY)
"""Every status a report row can end in, in the order counts are shown."""

PREFLIGHT_STATUSES: tuple[RowStatus, ...] = (
    RowStatus.READY,
    RowStatus.INVALID,
    RowStatus.DUPLICATE_IN_SHEET,
    RowStatus.DUPLICATE_ID,
)
"""What the pre-flight says of a row before anything is sent."""

STATUS_LABELS: dict[RowStatus, str] = {s: FACTS[s].label for s in STATUSES}
STATUS_SHORT: dict[RowStatus, str] = {s: FACTS[s].short for s in STATUSES}
STATUS_MARKS: dict[RowStatus, str] = {s: FACTS[s].marker for s in STATUSES}
DONE_STATUSES: frozenset[RowStatus] = frozenset(s for s in STATUSES if FACTS[s].done)
ATTENTION_STATUSES: tuple[RowStatus, ...] = tuple(s for s in STATUSES if FACTS[s].needs_attention)
FIXABLE_STATUSES: frozenset[RowStatus] = frozenset(s for s in STATUSES if FACTS[s].fixable)
NEVER_SENT_STATUSES: frozenset[RowStatus] = frozenset(s for s in STATUSES if FACTS[s].never_sent)
