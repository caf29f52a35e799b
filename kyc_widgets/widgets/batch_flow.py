"""The campaign flow as a pure state machine: states, transitions, the thread hand-off.

Why apart from the widget: when a sheet can be sent, what "Create N cases"
sends, what a Cancel that lands as the run ends does, and how a run's
progress gets from the batch's thread to the kernel's are decisions, not
drawing. Here they are plain Python (no ipywidgets: this module imports
without it), driven by events (:meth:`BatchFlow.load`,
:meth:`BatchFlow.mapping_changed`, :meth:`BatchFlow.create`, ...) and tested
without a widget; :class:`~kyc_widgets.widgets.batch_creator.BatchCreator`
only draws :class:`BatchFlow` and wires its controls to these events, as
:class:`~.case_creator.CaseCreator` does with :class:`~.case_flow.CaseFlow`.
Everything about one state is one row of :data:`FACTS`; every event and the
states it may lead to are :data:`TRANSITIONS`.

A campaign goes upload -> mapping -> preview -> sending -> report -> fixing:
the sheet is read (:attr:`BatchState.LOADING`, or :attr:`~BatchState.ERROR`
when it cannot be), each change of the mapping, the campaign name or the
same-subject box computes the preview again (``error``, ``blocked`` without
a campaign name, ``ready``), "Create N cases" sends exactly the previewed
plan (``running``, ``cancelling``), the report is shown (``done``), and the
rows fixed in place are sent the same way and folded into the same report.
Fixing is not a state of its own: it happens in ``done``, and sending the
fixes is a run (``running``) whose report is merged (:attr:`BatchFlow.fixing`),
so a desk that asks "is a campaign running?" gets the same answer for both.
A run that cannot run at all (an unwritable journal, a broken client) ends
``failed``: unlike ``error``, nothing can be changed and sent again.

Why a background thread: the batch runs on its own event loop in a worker
thread, so the kernel stays free to handle the Cancel click (a widget event is
a kernel message; a cell blocked on the batch could not receive it) and the
kernel's loop does not carry the batch's work. Cancel sets a
``threading.Event`` that the sender checks before each row; requests in
flight finish and every row is still reported.

The flow's state, and so every widget, changes only on the thread that
started the run (:class:`Handover`): ipywidgets and traitlets are not
thread-safe, and observers run on the thread that sets a value. The worker
leaves the latest progress snapshot and, at the end, the report in a pending
slot and asks the kernel's event loop (the one running when Create was
clicked) to apply them with ``loop.call_soon_threadsafe``. The sender reports
progress at most every :data:`~kyc_widgets.batch.sending.PROGRESS_INTERVAL`
seconds and snapshots that pile up while the kernel is busy are merged into
the latest one, so a 100k-row run does not flood the front end. Without a
running loop (a plain script or a test), nothing is applied until
:meth:`BatchFlow.wait` is called on the thread that clicked: it applies
pending updates while it waits.

Because the state only changes on that one thread, a Cancel that lands as the
run finishes cannot leave the flow ``cancelling``: either the Cancel comes
first and the report then moves the state to ``done``, or the report comes
first and the Cancel is ignored.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Flag, auto
from pathlib import Path
from typing import IO, Any, Literal

import pandas as pd

from kyc_widgets.api.protocols import AnyCaseApi
from kyc_widgets.batch.fixes import FixError
from kyc_widgets.batch.mapping import CampaignMapping, as_mapping
from kyc_widgets.batch.options import BatchMode, BatchOptions
from kyc_widgets.batch.plan_file import PlanRefusedError, authorise_sending
from kyc_widgets.batch.preflight import Preflight, preflight
from kyc_widgets.batch.reading import read_campaign
from kyc_widgets.batch.report import BatchReport
from kyc_widgets.batch.sending import BatchProgress, batch_create
from kyc_widgets.batch.status import FACTS as STATUS_FACTS
from kyc_widgets.batch.status import STATUSES, RowStatus
from kyc_widgets.enums import TextEnum
from kyc_widgets.widgets.campaign_words import analyst_message, in_titles

__all__ = [
    "CANCELLING_NOTE",
    "FACTS",
    "TRANSITIONS",
    "BatchFlow",
    "BatchState",
    "Changed",
    "Focus",
    "Handover",
    "MappingSource",
    "StateFacts",
]


class BatchState(TextEnum):
    """Where a campaign is; compares equal to its string value (``"done"`` ...)."""

    LOADING = "loading"
    """The sheet is being read (a widget reads it in its constructor: never seen drawn)."""
    ERROR = "error"
    """The sheet, or the mapping shown, cannot be used; the message says why."""
    BLOCKED = "blocked"
    """Some rows have no external id: a campaign name is needed to derive them."""
    READY = "ready"
    RUNNING = "running"
    CANCELLING = "cancelling"
    DONE = "done"
    """A run ended, cancelled or not (``report.stopped_reason`` says); fixes can be sent."""
    FAILED = "failed"
    """A run could not run at all (the message says why); nothing more is sent from here."""


Focus = Literal["none", "progress"]
"""Where keyboard focus goes when an event enters a state: the progress line, once the
button just pressed is disabled (Create, Cancel), so keyboard focus is not left on a
control that no longer works; "none" where the state is entered while the analyst may
be elsewhere (a run that ends on its own) or is typing (a preview)."""

ProgressLine = Literal["none", "live", "cancelling", "ended"]


@dataclass(frozen=True)
class StateFacts:
    """Everything about one state, as the view draws it and the flow decides by it."""

    editable: bool = False
    """The campaign box, the mapping step and the same-subject box accept changes (each
    change computes the preview again)."""
    create: bool = False
    """"Create N cases" is accepted (when N > 0)."""
    cancel_shown: bool = False
    cancel: bool = False
    """Cancel is accepted."""
    progress: ProgressLine = "none"
    """The progress line: hidden, the latest snapshot, the snapshot with "cancelling", or
    how the run ended."""
    fixes: bool = False
    """The fix step is shown and "Send N fixed rows" is accepted."""
    focus: Focus = "none"
    """Where keyboard focus goes when an event enters this state."""


S = BatchState

FACTS: dict[BatchState, StateFacts] = {
    S.LOADING: StateFacts(),
    S.ERROR: StateFacts(editable=True),
    S.BLOCKED: StateFacts(editable=True),
    S.READY: StateFacts(editable=True, create=True),
    S.RUNNING: StateFacts(cancel_shown=True, cancel=True, progress="live", focus="progress"),
    S.CANCELLING: StateFacts(cancel_shown=True, progress="cancelling", focus="progress"),
    S.DONE: StateFacts(progress="ended", fixes=True),
    S.FAILED: StateFacts(progress="live"),
}

_PREVIEWS = frozenset({S.ERROR, S.BLOCKED, S.READY})
_IN_FLIGHT = frozenset({S.RUNNING, S.CANCELLING})

TRANSITIONS: dict[str, dict[BatchState, frozenset[BatchState]]] = {
    "load": {S.LOADING: frozenset({S.LOADING, S.ERROR})},
    "load_failed": {S.LOADING: frozenset({S.ERROR})},
    "mapping_changed": {s: _PREVIEWS for s in (S.LOADING, *_PREVIEWS)},
    "campaign_changed": {s: _PREVIEWS for s in _PREVIEWS},
    "allow_same_subject_changed": {s: frozenset({s}) for s in _PREVIEWS},
    "create": {S.READY: frozenset({S.RUNNING})},
    "check": {S.READY: frozenset({S.RUNNING})},
    "cancel": {S.RUNNING: frozenset({S.CANCELLING})},
    "run_ended": {s: frozenset({S.DONE, S.FAILED, S.READY}) for s in _IN_FLIGHT},
    "send_fixes": {S.DONE: frozenset({S.RUNNING, S.DONE})},
}
"""Event -> {state it is accepted in: the states it may lead to}. An event in any other
state is ignored (returns False). ``progress_posted`` changes no state (it is accepted in
``running`` and ``cancelling``); ``send_fixes`` stays ``done`` when the fixes clash; a
``check`` run (ask the API about each row, create nothing) ends back in ``ready``."""

CANCELLING_NOTE = " - cancelling, waiting for requests in flight..."

MappingSource = CampaignMapping | Callable[[], CampaignMapping | None] | None
"""A mapping, or what builds the one shown (a mapping step's ``build``, which raises
``ValueError`` while the mapping is unusable), or None: the sheet's own headers."""


class Changed(Flag):
    """What an event changed: the view redraws only that (a 100k-row report is not
    redrawn for a progress snapshot)."""

    STATE = auto()
    """The state and what its facts decide: buttons, boxes, the progress line."""
    PREVIEW = auto()
    """The preview, or the error shown in its place."""
    PROGRESS = auto()
    """A progress snapshot."""
    REPORT = auto()
    """A report was shown, or fixed rows' outcomes merged into it."""
    ALL = STATE | PREVIEW | PROGRESS | REPORT


class BatchFlow:
    """The campaign state machine; see the module docstring.

    ``client`` is what the batch sends with (a ``KycApiClient`` or an async
    one; None only for a dry run). ``options`` are the run's settings; the
    campaign name and the same-subject choice start from them and follow the
    analyst's events. ``on_change(changed)`` is called on the kernel's thread
    after every accepted event and every update handed over from the worker.
    Events return True when accepted, False when ignored in the current state.
    """

    def __init__(
        self,
        client: AnyCaseApi | None,
        options: BatchOptions | None = None,
        *,
        on_change: Callable[[Changed], None] | None = None,
    ) -> None:
        self.client = client
        self.options = options if options is not None else BatchOptions(progress=False)
        self.on_change = on_change
        self.state: BatchState = S.LOADING
        self.focus: Focus = "none"
        self.transitions: list[tuple[str, BatchState, BatchState]] = []
        """Every accepted event as ``(event, from, to)`` (progress snapshots left out)."""
        self.frame: pd.DataFrame | None = None
        self.source_name = "DataFrame"
        self.start_mapping: CampaignMapping | None = None
        """The mapping given to :meth:`load` (a mapping step starts from it)."""
        self.campaign: str | None = self.options.campaign
        self.allow_same_subject = self.options.allow_same_subject
        self._mapping_source: MappingSource = None
        self._mapped = False  # a mapping source was given: previews may run
        self.plan: Preflight | None = None
        """The last preview's plan: what "Create N cases" sends (None while in error)."""
        self.mapping: CampaignMapping | None = None
        """The mapping of the last preview: what the batch is sent with."""
        self.counts: dict[str, int] | None = None
        """The last successful preview's counts (kept while a later preview fails)."""
        self.needs_campaign = False
        """Some rows of the last successful preview get an id derived from the campaign."""
        self.error: str | None = None
        self.report: BatchReport | None = None
        self.progress: BatchProgress | None = None
        self.total = 0
        """Rows the current (or last) run sends."""
        self.fixing = False
        """The current run sends fixed rows: its report is merged into :attr:`report`."""
        self.approved_plan: Any = None
        """The approved :class:`~kyc_widgets.batch.plan_file.CampaignPlan` "Create" sends
        exactly (loaded by the panel's plan step), or None."""
        self.plan_refusal: list[str] = []
        """Why the last "Create" sent nothing: the plan is missing (approval required), not
        approved, or does not match the preview (:meth:`_plan_allows_sending`)."""
        self.fix_error: str | None = None
        """Why the last "Send fixed rows" sent nothing (two fixed rows now clash...)."""
        self.checking = False
        """The current run only asks the API about each row (:meth:`check`): it creates nothing."""
        self.check_report: BatchReport | None = None
        """The last check against the API of the plan shown (cleared when the preview changes)."""
        self.check_error: str | None = None
        """Why the last check against the API could not run."""
        self._cancel = threading.Event()
        self.handover = Handover(self._apply_handed_over)

    # ------------------------------------------------------------------ what is shown

    @property
    def facts(self) -> StateFacts:
        return FACTS[self.state]

    @property
    def thread(self) -> threading.Thread | None:
        """The worker thread of the current (or last) run; None before the first."""
        return self.handover.thread

    @property
    def same_subject(self) -> int:
        """Rows of the last preview that repeat another row's customer and reason."""
        return (self.counts or {}).get("same_subject", 0)

    @property
    def to_send(self) -> int:
        """Rows "Create" sends: the ready ones, less the repeats unless they are allowed."""
        if self.counts is None:
            return 0
        return self.counts["ready"] - (0 if self.allow_same_subject else self.same_subject)

    @property
    def can_create(self) -> bool:
        return self.facts.create and self.plan is not None and self.to_send > 0

    @property
    def create_label(self) -> str:
        """The Create button's words: "Create 6 cases", then "Done" once there is a report."""
        if self.report is not None:
            return "Done"
        if self.counts is None:
            return "Create cases"
        n = self.to_send
        return f"Create {n} case{'s' if n != 1 else ''}"

    @property
    def progress_bar(self) -> tuple[int, int]:
        """``(value, max)`` of the progress bar: rows done of rows sent (full once done)."""
        total = self.progress.total if self.progress is not None else self.total
        top = max(total, 1)
        if self.facts.progress == "ended":
            return top, top
        return (self.progress.done if self.progress is not None else 0), top

    @property
    def progress_text(self) -> str:
        """The progress line: rows done, counts, time left, pace; how the run ended."""
        line = self.facts.progress
        if line == "none":
            return ""
        if line == "ended":
            stopped = self.report is not None and self.report.stopped_reason
            return "Stopped early." if stopped else "Finished."
        text = _progress_words(self.progress, self.total)
        if self.checking:
            text = "Checking against the API (nothing is created): " + text
        return text + CANCELLING_NOTE if line == "cancelling" else text

    @property
    def filter_options(self) -> list[tuple[str, str]]:
        """The report's status filter: all rows, then each status some row is in, with counts."""
        if self.report is None:
            return [("All rows", "")]
        counts = self.report.summary()
        return [(f"All rows ({len(self.report.results)})", "")] + [
            (f"{STATUS_FACTS[s].label} ({n})", s.value) for s in STATUSES if (n := counts[s])
        ]

    # ------------------------------------------------------------------ upload, mapping, preview

    def load(
        self,
        df_or_path: pd.DataFrame | str | Path | IO[bytes],
        *,
        sheet: str | None = None,
        mapping: CampaignMapping | str | Path | None = None,
        name: str | None = None,
    ) -> bool:
        """Read the sheet (a DataFrame is used as is) and the saved mapping, if a path.

        An open binary file (an upload's bytes in a ``BytesIO``: nothing on disk)
        is read as its content says; ``name`` is the file's name for people.
        False (state ``error``) when either cannot be read. The preview waits
        for :meth:`mapping_changed`: a view shows its mapping step first.
        """
        if self.state is not S.LOADING:
            return False
        try:
            if isinstance(df_or_path, pd.DataFrame):
                frame = df_or_path
            else:
                if isinstance(df_or_path, (str, Path)):
                    self.source_name = Path(df_or_path).name
                frame = read_campaign(df_or_path, sheet=sheet)
            if name:
                self.source_name = name
            self.start_mapping = as_mapping(mapping)
        except (OSError, ValueError) as exc:
            self._fail(analyst_message(exc), "load")
            return False
        self.frame = frame
        self._enter(S.LOADING, "load")
        return True

    def load_failed(self, message: str) -> bool:
        """The view could not show the sheet's mapping step (the sheet cannot be used)."""
        if self.state is not S.LOADING:
            return False
        self.frame = None
        self._fail(message, "load_failed")
        return True

    def mapping_changed(self, source: MappingSource) -> bool:
        """The mapping shown changed (or is first shown): compute the preview again."""
        if self.frame is None or (self.state is not S.LOADING and not self.facts.editable):
            return False
        self._mapping_source, self._mapped = source, True
        self._preview("mapping_changed")
        return True

    def campaign_changed(self, text: str) -> bool:
        """The campaign box changed: derived ids change with it, so preview again."""
        if not self.facts.editable or self.frame is None:
            return False
        self.campaign = text.strip() or None
        self._preview("campaign_changed")
        return True

    def allow_same_subject_changed(self, allow: bool) -> bool:
        """The "Also send rows that repeat..." box: only the count to send changes."""
        if not self.facts.editable or self.frame is None:
            return False
        self.allow_same_subject = bool(allow)
        self._enter(self.state, "allow_same_subject_changed")
        return True

    def _preview(self, event: str) -> None:
        if self.frame is None or not self._mapped:
            return
        source = self._mapping_source
        try:
            mapping = source() if callable(source) else source
            plan = preflight(self.frame, campaign=self.campaign, mapping=mapping)
        except (ValueError, TypeError) as exc:  # missing columns, no campaign, unusable mapping
            self.plan = None
            self.check_report = self.check_error = None
            self._fail(analyst_message(exc), event)
            return
        self.plan, self.mapping, self.error = plan, mapping, None
        self.check_report = self.check_error = None  # it described another plan
        self.counts = plan.counts()
        self.needs_campaign = bool(plan.derived_id.any())
        self._enter(S.BLOCKED if plan.missing_ids else S.READY, event, Changed.PREVIEW)

    def _fail(self, message: str, event: str) -> None:
        self.error = message
        self._enter(S.ERROR, event, Changed.PREVIEW)

    # ------------------------------------------------------------------ sending

    def create(self) -> bool:
        """"Create N cases": send the previewed plan, as it was previewed, in a worker thread."""
        if not self.can_create or self.plan is None:
            return False
        if not self._plan_allows_sending(self.plan):
            return False  # the reasons are in plan_refusal; nothing was sent
        self.fixing = self.checking = False
        self._start(self.plan, self.to_send, "create")
        return True

    def check(self) -> bool:
        """"Check against the API": look each row of the previewed plan up; create nothing.

        The rows "Create" would send are asked about (would be created, already
        exists, exists with other values); the run ends back in ``ready``
        with :attr:`check_report`, so the analyst can then create the cases.
        """
        if not self.can_create or self.plan is None or self.client is None:
            return False
        self.fixing, self.checking = False, True
        self.check_report = self.check_error = None
        self._start(self.plan, self.to_send, "check", BatchMode.CHECK_API)
        return True

    def send_fixes(self, rows: Sequence[int]) -> bool:
        """Send the rows fixed in place (by sheet row) like a run; their outcomes are merged.

        False when there is nothing to send here, or the fixes clash (two fixed
        rows now share an external id): :attr:`fix_error` then says why.
        """
        report = self.report
        self.fix_error = None
        if not self.facts.fixes or report is None or not rows:
            return False
        try:
            fixed = report.apply_fixes({row: {} for row in rows})
        except FixError as exc:
            self.fix_error = in_titles(str(exc))
            self._enter(S.DONE, "send_fixes")
            return False
        # Fixes are in API field terms, written under the sheet's own headers: read them
        # back with the mapping the report was made with.
        plan = preflight(fixed, campaign=report.campaign, mapping=report.mapping)
        self.fixing = True
        self._start(plan, plan.counts()["ready"], "send_fixes")
        return True

    def cancel(self) -> bool:
        """Stop sending: rows not sent yet are reported ``not_attempted``."""
        if not self.facts.cancel:
            return False  # not started, already cancelling, or the report is already shown
        self._cancel.set()
        self._enter(S.CANCELLING, "cancel")
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run's end is applied; True if it was within ``timeout``.

        See :meth:`Handover.wait`: on the thread that started the run it
        applies the pending updates while it waits.
        """
        return self.handover.wait(timeout)

    def _start(
        self, plan: Preflight, total: int, event: str, mode: BatchMode = BatchMode.SEND
    ) -> None:
        """Start a run of ``plan`` in the worker thread (on the thread of the click)."""
        self.total, self.progress = total, None
        self._cancel.clear()
        options = self.options.replace(
            campaign=plan.campaign, allow_same_subject=self.allow_same_subject, progress=False,
            mode=mode,
        )
        self._enter(S.RUNNING, event, Changed.PROGRESS)
        self.handover.start(lambda: self._run(plan, options))

    def _run(self, plan: Preflight, options: BatchOptions) -> None:
        """The worker thread: runs the batch, changes nothing of the flow, hands over the end."""
        end: BatchReport | str
        try:  # the previewed plan, sent as is (not validated again); it carries its mapping
            end = batch_create(
                self.client, plan, options, cancel=self._cancel,
                on_progress=self.handover.post_progress, plan=self._sending_plan(options),
            )
        except Exception as exc:  # noqa: BLE001 - shown; the batch itself never logs row data
            end = f"The batch could not run: {analyst_message(exc)}"
        self.handover.post(end=end)

    # ------------------------------------------------------------------ handed over

    def progress_posted(self, progress: BatchProgress) -> bool:
        """A progress snapshot of the run (on the kernel's thread)."""
        if self.state not in _IN_FLIGHT:
            return False
        self.progress = progress
        self._changed(Changed.PROGRESS)
        return True

    def run_ended(self, end: BatchReport | str) -> bool:
        """The run's report, or why it could not run (on the kernel's thread).

        A fix run's report is merged into the report shown; a Cancel that came
        first does not matter any more: the report says what happened.
        """
        if self.state not in _IN_FLIGHT:
            return False
        fixing, self.fixing = self.fixing, False
        if self.checking:
            self.checking = False
            if isinstance(end, str):
                self.check_error = end
            else:
                self.check_report = end
            self._enter(S.READY, "run_ended", Changed.PREVIEW)
            return True
        if isinstance(end, str):
            self.error = end
            self._enter(S.FAILED, "run_ended", Changed.PREVIEW)
            return True
        if fixing and self.report is not None:
            self.report.merge(end)  # the fixed rows' outcomes, in the same report
        else:
            self.report = end
        self._enter(S.DONE, "run_ended", Changed.REPORT)
        return True

    def _apply_handed_over(
        self, progress: BatchProgress | None, end: BatchReport | str | None
    ) -> None:
        # The progress is drawn before the end: an observer of the progress bar sees the
        # last snapshot while the run is still "running" (and may Cancel, too late).
        if progress is not None:
            self.progress_posted(progress)
        if end is not None:
            self.run_ended(end)

    # ------------------------------------------------------------------ internals

    def _enter(self, state: BatchState, event: str, changed: Changed = Changed.STATE) -> None:
        self.transitions.append((event, self.state, state))
        self.state = state
        self.focus = FACTS[state].focus
        self._changed(changed | Changed.STATE)

    def _changed(self, changed: Changed) -> None:
        if self.on_change is not None:
            self.on_change(changed)

    def _plan_allows_sending(self, plan: Preflight) -> bool:
        """Check the approved plan (or that none is required) before the run; the reasons
        go to :attr:`plan_refusal`. The batch checks again before its first request."""
        options = self.options.replace(allow_same_subject=self.allow_same_subject)
        try:
            authorise_sending(self.approved_plan, plan, options, self.client)
        except PlanRefusedError as exc:
            self.plan_refusal = list(exc.problems)
            self._changed(Changed.STATE)
            return False
        self.plan_refusal = []
        return True

    def _sending_plan(self, options: BatchOptions) -> Any:
        """The plan a run sends with: the approved one for "Create" (not for fixes or checks)."""
        return None if self.fixing or options.mode.is_dry_run else self.approved_plan

    def __repr__(self) -> str:
        return f"BatchFlow(state={self.state.value!r})"


class Handover:
    """Worker thread -> the thread that started the run: the latest progress, then the end.

    See the module docstring. :meth:`post` (worker side) leaves an update in
    a pending slot, an older progress snapshot not applied yet being dropped,
    and wakes the starting thread: through its event loop when one was
    running there, else through :meth:`wait`. ``apply(progress, end)`` runs
    only on the starting thread.
    """

    def __init__(
        self, apply: Callable[[BatchProgress | None, BatchReport | str | None], None]
    ) -> None:
        self._apply = apply
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._progress: BatchProgress | None = None
        self._end: BatchReport | str | None = None
        self._posted = threading.Event()  # something is pending: wakes wait()
        self._ended = threading.Event()  # the end of the run has been applied
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_called = False  # an apply is already queued on the loop
        self._owner: int | None = None  # the thread that started the run

    def start(self, work: Callable[[], None]) -> None:
        """Run ``work`` in a new worker thread; updates come back to this thread."""
        self._ended.clear()
        self._owner = threading.get_ident()
        self._loop = _running_loop()
        self.thread = threading.Thread(target=work, name="kyc-batch-creator", daemon=True)
        self.thread.start()

    def post_progress(self, progress: BatchProgress) -> None:
        self.post(progress=progress)

    def post(
        self, *, progress: BatchProgress | None = None, end: BatchReport | str | None = None
    ) -> None:
        """Leave an update for the starting thread and wake it (worker thread side)."""
        with self._lock:
            if progress is not None:
                self._progress = progress  # an older snapshot not applied yet is dropped
            if end is not None:
                self._end = end
            loop = None if self._loop_called else self._loop
            self._loop_called = self._loop_called or loop is not None
        self._posted.set()
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self.apply_pending)
            except RuntimeError:  # the loop has closed: wait() applies what is pending
                with self._lock:
                    self._loop = None
                    self._loop_called = False

    def apply_pending(self) -> None:
        """Apply what is pending (the starting thread's side)."""
        with self._lock:
            progress, end = self._progress, self._end
            self._progress = self._end = None
            self._loop_called = False
            self._posted.clear()
        try:
            self._apply(progress, end)
        finally:
            if end is not None:
                self._ended.set()  # wait() must not hang on an end that failed to draw

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run's end is applied; True if it was within ``timeout``.

        Called on the thread that started the run (the kernel's, or a script's
        or test's), it applies pending progress and the end while it waits:
        without a running event loop that is how they get applied. From any
        other thread it only waits for them to be applied.
        """
        thread = self.thread
        if thread is None:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        owner = threading.get_ident() == self._owner
        while True:
            if owner:
                self.apply_pending()
            if self._ended.is_set():
                break
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            (self._posted if owner else self._ended).wait(left)
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        thread.join(left)  # the worker's last step was handing over the end
        return not thread.is_alive()


def _progress_words(progress: BatchProgress | None, total: int) -> str:
    """"40 / 100 (created 38, failed 2), about 3 s left; 20 rows/s, 4 in flight"."""
    if progress is None:
        return f"0 / {total}"
    counts = ", ".join(
        f"{RowStatus(s).label.split(':')[0].lower()} {n}" for s, n in progress.counts.items() if n
    )
    left = progress.total - progress.done
    eta = f", about {left / progress.rate:.0f} s left" if progress.rate > 0 and left else ""
    pace = f"; {progress.current_rate:.0f} rows/s, {progress.in_flight} in flight" if left else ""
    return f"{progress.done} / {progress.total} ({counts}){eta}{pace}"


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running on this thread (the kernel's, in Jupyter and Voila), or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
