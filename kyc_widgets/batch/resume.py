"""Resuming a campaign from its journal: every journaled outcome confirmed on the API first.

Why: the journal (:mod:`.journal`) is a text file. A line forged by hand, or a
journal copied from another campaign, API or analyst, would otherwise make a
run skip rows and report them "created" while the API holds no such case, and
the evidence record would repeat the claim. So :func:`resume_from_journal`

1. refuses a journal whose header names another API than the client's
   (:class:`~.journal.JournalMismatchError`, before any request);
2. in a real run (``mode="send"``), looks up every ready row the journal calls
   done (``created`` or ``exists``) with one ``GET`` each, through the same
   workers, pacing gate and stop rules as the sending (:class:`~.run.Run` with
   :func:`confirm_row`). A row keeps its journaled outcome (status, case id,
   ``request_id``) only when the API holds the case with the journaled case id
   and, for ``created``, ``created_by`` equal to the journaled principal.
   Every other row is sent like any other row: a 409 then reports what exists;
3. names the earlier runs whose outcomes were confirmed, and their principals
   (the cases' creators), for the evidence record (:func:`~.evidence.stamp_run`).

A dry run asks nothing of the journal: ``check_rows`` asks nothing at all (the
rows the journal calls done are reported ``would_create`` with a note that a
real run confirms them first) and ``check_api`` looks every row up anyway.

The journal is held as columns (:class:`~.journal.JournalEntries`): the
claimed rows are found by looking the sheet's ids up in them, in Arrow, and a
:class:`~.journal.JournalEntry` is made only for the rows being confirmed, a
chunk at a time as the run reaches them (:class:`_Claims`). A resume of a
million-row sheet from a million-line journal holds the journal's texts and
a few bytes a row, not a Python object per line.

The cost: a resumed run sends one ``GET`` per journaled row instead of none.
A ``GET`` creates nothing, may be retried freely and is cheaper for the API
than a create refused with 409, and the row keeps the facts of the run that
created it. A journal that cannot be checked cannot be believed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kyc_widgets.api.errors import KycApiError, NotFoundError
from kyc_widgets.api.protocols import AnyCaseApi, AsyncCaseApi
from kyc_widgets.models import CaseEnvelope

from .evidence import public_url
from .journal import (
    Journal,
    JournalContents,
    JournalEntries,
    JournalEntry,
    JournalHeader,
    JournalMismatchError,
)
from .memory import give_back_memory
from .options import BatchMode, BatchOptions
from .outcomes import Outcome, from_error, paced_row
from .preflight import Preflight
from .run import ResultColumns, Run
from .status import DONE_STATUSES, RowStatus
from .stop import StopSignal

__all__ = ["CONFIRMED_NOTE", "Resumed", "confirm_row", "resume_from_journal"]

logger = logging.getLogger("kyc_widgets.batch")

CONFIRMED_NOTE = "outcome from the journal of an earlier run, confirmed on the API; not sent again"


@dataclass
class Resumed:
    """What the journal leaves to do: positions to send, warnings, confirmed earlier runs."""

    to_send: np.ndarray
    notes: list[str] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)


async def resume_from_journal(
    client: AnyCaseApi | None,
    pre: Preflight,
    columns: ResultColumns,
    journal: Journal | None,
    options: BatchOptions,
    *,
    slug: str | None,
    stop: StopSignal,
    started: float,
    started_at: str,
) -> Resumed:
    """The ready rows still to send once the journal's confirmed outcomes are taken.

    Opens the journal for appending in a real run (before the first request:
    an unwritable journal sends nothing). Raises ``OSError`` (the journal
    cannot be read or opened) and :class:`~.journal.JournalMismatchError`.
    """
    ready = np.flatnonzero(pre.ready.to_numpy())
    if journal is None:
        return Resumed(ready)
    contents = journal.read()
    api = public_url(client.base_url) if client is not None else None
    _refuse_another_api(contents.header, api, journal)
    journal.header = JournalHeader(api, slug, None, started_at)
    journal.run = started_at
    notes = _campaign_notes(contents, slug)
    claimed, rows = _claimed(ready, pre.kyc_case_id.array, contents.entries)
    if options.mode is not BatchMode.SEND or client is None:
        if len(claimed) and options.mode is BatchMode.CHECK_ROWS:
            notes.append(
                f"The journal says {len(claimed)} of these rows landed in an earlier run. A dry "
                "run asks the API nothing, so they are shown as they would be sent; a real run "
                "looks each one up before it skips it."
            )
        return Resumed(ready, notes)
    journal.open()
    if not len(claimed):
        return Resumed(ready, notes)
    resumed = await _confirm(client, pre, columns, contents, options, ready, claimed, rows,
                             stop=stop, started=started, started_at=started_at)
    resumed.notes[:0] = notes
    del contents  # (the journal's columns: the run that follows does not need them)
    give_back_memory()
    return resumed


async def _confirm(
    client: AnyCaseApi,
    pre: Preflight,
    columns: ResultColumns,
    contents: JournalContents,
    options: BatchOptions,
    ready: np.ndarray,
    claimed: np.ndarray,
    rows: np.ndarray,
    *,
    stop: StopSignal,
    started: float,
    started_at: str,
) -> Resumed:
    """Look the ``claimed`` rows up (``rows``: their outcomes in the journal); what is left."""
    claims = _Claims(contents.entries, rows)
    run = Run(
        client, pre, columns, claimed, options, stop=stop,
        started=started, row=functools.partial(confirm_row, claims=claims),
    )
    await run.execute()
    done = columns.has_status(claimed, DONE_STATUSES)
    confirmed = claimed[done]
    to_send = ready[~np.isin(ready, confirmed)]
    notes = _confirmation_notes(contents, columns, len(claimed) - len(confirmed), stop)
    return Resumed(to_send, notes, _earlier_runs(contents.entries, rows[done], started_at))


def _claimed(ready: np.ndarray, ids: Any, entries: JournalEntries) -> tuple[np.ndarray, np.ndarray]:
    """The positions among ``ready`` whose external id the journal calls done, and the row
    of each one's outcome in ``entries``.

    By arrays, not a Python object per row: the journal's done ids are looked
    up against the ready rows' ids in Arrow (:meth:`~.journal.JournalEntries.lookup`;
    the pre-flight's ids are a categorical, so each distinct id once).
    """
    done = entries.rows_where("status", (status.value for status in DONE_STATUSES))
    if not len(done) or not len(ready):
        return ready[:0], ready[:0]
    rows = entries.lookup(ids[ready], done)
    found = rows >= 0
    return ready[found], rows[found]


class _Claims(Mapping[str, JournalEntry]):
    """The journaled outcome of each claimed row, by ``kyc_case_id``, for :func:`confirm_row`.

    Entries are made :data:`CHUNK` at a time, in the order of ``rows``: the
    confirmation :class:`~.run.Run` takes its rows in that order, and asks for
    a row's claim as the row is taken, so only the current chunk and the one
    before it are held (a million claims are not a million objects at once).
    An id asked out of that order is looked up in the whole journal.
    """

    CHUNK = 1024

    def __init__(self, entries: JournalEntries, rows: np.ndarray) -> None:
        self._entries = entries
        self._rows = rows
        self._next = 0
        self._held: dict[str, JournalEntry] = {}
        self._before: dict[str, JournalEntry] = {}

    def __getitem__(self, kyc_case_id: str) -> JournalEntry:
        while True:
            for held in (self._held, self._before):
                if kyc_case_id in held:
                    return held[kyc_case_id]
            if self._next >= len(self._rows):
                return self._entries[kyc_case_id]
            chunk = self._entries.at(self._rows[self._next : self._next + self.CHUNK])
            self._next += self.CHUNK
            self._before, self._held = self._held, {e.kyc_case_id: e for e in chunk}

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self._rows), self.CHUNK):
            chunk = self._entries.at(self._rows[start : start + self.CHUNK])
            yield from (entry.kyc_case_id for entry in chunk)

    def __len__(self) -> int:
        return len(self._rows)


def _refuse_another_api(header: JournalHeader | None, api: str | None, journal: Journal) -> None:
    """Refuse a journal bound to another API: its lines speak of cases on another server."""
    if header is None or api is None or header.api_base_url is None:
        return
    if public_url(header.api_base_url) != api:
        raise JournalMismatchError(
            f"the journal {journal.path.name} was written against the API at "
            f"{header.api_base_url}, and this run talks to {api}. Its outcomes say nothing "
            "about this API's cases: use another journal file (or the right API). "
            "Nothing was sent."
        )


def _campaign_notes(contents: JournalContents, slug: str | None) -> list[str]:
    campaigns = {campaign for campaign in contents.entries.distinct("campaign") if campaign}
    if contents.header is not None and contents.header.campaign:
        campaigns.add(contents.header.campaign)
    other = sorted(campaigns - {slug})
    if not other or slug is None:
        return []
    logger.warning("journal: written for another campaign than this run's")
    return [
        f"The journal was written for campaign {', '.join(repr(c) for c in other)}, this run is "
        f"for {slug!r}: rows whose external id is derived from the campaign name get different "
        "ids, so the journal cannot skip them and the API will not recognise them as the same "
        "cases. If this is a resume, use the earlier campaign name."
    ]


def _confirmation_notes(
    contents: JournalContents, columns: ResultColumns, unconfirmed: int, stop: StopSignal
) -> list[str]:
    """Say when journaled rows were not confirmed, and when another principal answers now."""
    notes = []
    if unconfirmed and not stop.is_set():
        notes.append(
            f"The journal says {unconfirmed} row(s) landed that the API does not confirm (no "
            "such case, another case id, or another creator): they were sent like any other "
            "row, and their notes say what the journal claimed."
        )
    started_by = contents.header.principal if contents.header is not None else None
    if started_by and columns.principals and started_by not in columns.principals:
        notes.append(
            f"The journal was started by principal {started_by!r}; the API now answers as "
            f"{', '.join(sorted(columns.principals))}. Its rows were confirmed on the API "
            "(each case's creator is checked), never taken on the journal's word."
        )
    return notes


def _earlier_runs(entries: JournalEntries, rows: np.ndarray, current: str) -> list[dict[str, Any]]:
    """The earlier runs behind the confirmed outcomes (``rows`` of ``entries``, in sheet
    order), for the evidence record: each run once, in the order of its first row.

    Grouped in Arrow, not an entry per row: a run's rows, its principals, and
    when it finished (its latest outcome's time, UTC written ``Z``).
    """
    if not len(rows):
        return []
    table = pa.table({
        "run": entries.column("run", rows),
        "at": pc.replace_substring(entries.column("at", rows), "+00:00", "Z"),
        "principal": entries.column("principal", rows),
        "order": np.arange(len(rows)),
    })
    table = table.filter(pc.fill_null(pc.not_equal(table["run"], current), True))
    groups = table.group_by("run", use_threads=False).aggregate([
        ("order", "min"), ("order", "count"), ("at", "max"),
        ("principal", "distinct", pc.CountOptions(mode="only_valid")),
    ]).sort_by("order_min")
    runs = []
    for group in groups.to_pylist():
        run, last = group["run"], group["at_max"]
        finished = run if last is None else max(run, last) if run else last
        runs.append({
            "started_at": run, "finished_at": finished,
            "principals": sorted(p for p in group["principal_distinct"] if p),
            "rows_sent": group["order_count"], "from_journal": True,
        })
    return runs


async def confirm_row(
    aclient: AsyncCaseApi,
    body: dict[str, Any],
    *,
    on_conflict: str = "report",
    claims: Mapping[str, JournalEntry],
) -> Outcome:
    """Look up one row the journal calls done; its journaled outcome, or ``not_attempted``.

    Same call shape as :func:`~.outcomes.send_row` (``on_conflict`` unused),
    so :class:`~.run.Run` schedules it. ``not_attempted`` rows are then sent;
    a 401 or 403 stops the run as it would a create.
    """
    claim = claims[body["kyc_case_id"]]

    async def answered(found: CaseEnvelope, attempts: int) -> Outcome:
        why = _mismatch(claim, found)
        if why is None:
            return Outcome(
                RowStatus(claim.status), case_id=claim.case_id or found.case.id,
                http_status=claim.http_status, request_id=claim.request_id, attempts=0,
                principal=found.principal, note=CONFIRMED_NOTE,
            )
        return Outcome(RowStatus.NOT_ATTEMPTED, principal=found.principal,
                       note=f"the journal said {claim.status}, but {why}; sent again")

    async def refused(exc: KycApiError, attempts: int) -> Outcome:
        if isinstance(exc, NotFoundError):
            return Outcome(RowStatus.NOT_ATTEMPTED,
                           note=f"the journal said {claim.status}, but the API has no such case; sent")
        outcome = from_error(exc, attempts)
        if outcome.stop:
            return outcome
        return Outcome(RowStatus.NOT_ATTEMPTED,
                       note=f"the journal's outcome could not be confirmed ({exc.code}); sent again")

    return await paced_row(
        lambda: aclient.get_case(body["kyc_case_id"]), answered, refused,
        doing="confirming a journaled outcome",
    )


def _mismatch(claim: JournalEntry, found: CaseEnvelope) -> str | None:
    """Why the API's case does not bear out the journal line (None when it does)."""
    if claim.status == RowStatus.CREATED:
        if claim.case_id is None or claim.case_id != found.case.id:
            return "the API's case has another case id than the journal's"
        if claim.principal is None or found.case.created_by != claim.principal:
            return "the API's case was created by another principal than the journal names"
    elif claim.case_id is not None and claim.case_id != found.case.id:
        return "the API's case has another case id than the journal's"
    return None
