"""Sending a campaign: bounded concurrency, back-pressure, stop on 401, interruptible.

How it is built, and why:

- **Pre-flight first** (:mod:`.preflight`): nothing is sent unless the columns
  are right; invalid and duplicate rows are never sent. A plan computed
  already (a UI's preview) can be passed instead of the frame and is sent as is.
- **Every sent row carries an external id** (given, or derived from the
  campaign: :mod:`.identity`). That is what makes re-runs safe (a second
  create gets 409 and the row is reported ``exists``) and what lets the
  client's own-id rule retry a create whose answer was lost: the retry gets
  409, the client loads the case and confirms it is ours.
- **Worker tasks over one queue, bounded by the gate's adaptive limit**: a
  remote API is latency-bound (throughput = requests in flight / latency), and
  the right number in flight depends on that latency and on the API's limit.
  By default (``concurrency=None``, :data:`DEFAULT_CONCURRENCY`) each request
  waits for a place under the client's pacing gate's adaptive limit
  (:mod:`kyc_widgets.api.limiter`), which grows while latency stays near the
  API's unloaded level, shrinks on rising latency, and turns 429s and 503s
  into a learned rate; workers are started as the limit grows (a few more
  than it), not all ``max_concurrency`` at once. ``concurrency=N`` is a fixed
  pool of N. ``max_rate`` caps requests per second and ``max_concurrency``
  caps the number in flight, in either mode. The caps are set on the gate for
  the run and restored afterwards.
- **429 back-pressure is the client's pacing gate**
  (:class:`~kyc_widgets.api.pacing.PacingGate`): every request of the client
  and of the twins made here passes through one gate, so a 429 pauses *every*
  worker for ``Retry-After`` (or a backoff when the API gave none) and the
  batch settles at the API's rate instead of hammering it. The client's
  retry rules decide what is safe to re-send (a 429 always is); a row whose
  429 retries ran out goes round again (:func:`.outcomes.send_row`).
- **Stopping reaches the gate**: a cancel, a Ctrl-C or a 401 stops the
  client's gate (through its public ``pacing``), so a worker waiting out a
  pause or a retry ends at once with the row ``not_attempted`` instead of
  after the client's retries; the gate is resumed when the batch returns.
- **401 stops everything at once** (every further row would fail the same
  way), and so does 403; requests already in flight finish and are reported.
- **Cancellation** (a ``cancel`` event, task cancellation, Ctrl-C / kernel
  interrupt) stops taking new rows and ends the gate's waits at once (no
  request is sent after it), waits for the requests in flight (never cancelled: their
  answer says whether a case was created), and returns the report with every
  unsent row ``not_attempted``.
- **Journal** (:mod:`.journal`): opened before the first request (an
  unwritable path fails before anything is sent); outcomes are appended as
  they happen, after a header naming the API, campaign and principal. A later
  run with the same journal refuses it when it names another API, looks up
  each row it calls done and skips only those the API confirms
  (:mod:`.resume`), and warns when it was written for another campaign.
- **One options object** (:class:`~.options.BatchOptions`): the settings are
  validated once, before anything else; ``mode`` says whether rows are sent
  (``send``), only checked (``check_rows``) or looked up on the API
  (``check_api``). The old ``dry_run`` keyword still works, with a warning.
- **The run is an object** (:class:`~.run.Run`): workers, progress, journal
  and stop share its attributes.
- **A dry run that asks the API** (``mode="check_api"``) goes through the same
  workers, twins, pacing gate and 401 stop, with :func:`~.existing.check_row`
  (a ``GET`` per row) in place of :func:`~.outcomes.send_row`.
- **The same subject twice** (:mod:`.subjects`): a row that repeats another
  row's customer and reason under another external id is held back
  (``not_attempted``, with a ``note``) unless ``allow_same_subject=True``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from kyc_widgets.api.protocols import AnyCaseApi, is_async_api
from kyc_widgets.defaults import DEFAULT_CONCURRENCY

from .evidence import stamp_run, utc_now
from .existing import check_row
from .identity import CampaignRequiredError, campaign_slug
from .journal import Journal
from .mapping import as_mapping
from .options import BatchMode, BatchOptions
from .outcomes import send_row
from .plan_file import authorise_sending
from .preflight import Preflight, preflight
from .problems import concat_problems, field_problems
from .report import BatchReport
from .results import results_frame
from .resume import resume_from_journal
from .run import PROGRESS_INTERVAL, BatchProgress, ResultColumns, Run
from .status import RowStatus
from .stop import Settable, StopSignal
from .subjects import hold_same_subject

__all__ = [
    "DEFAULT_CONCURRENCY",
    "PROGRESS_INTERVAL",
    "BatchProgress",
    "abatch_create",
    "batch_create",
]

logger = logging.getLogger("kyc_widgets.batch")

async def abatch_create(
    client: AnyCaseApi | None,
    df: pd.DataFrame | Preflight,
    options: BatchOptions | None = None,
    *,
    mapping: Any = None,
    cancel: Settable | None = None,
    on_progress: Callable[[BatchProgress], None] | None = None,
    plan: Any = None,
    require_approval: bool | None = None,
    approver_key: Any = None,
    **keywords: Any,
) -> BatchReport:
    """Create one case per valid row of ``df``; return a :class:`BatchReport` for every row.

    ``df`` is the campaign frame, or a :class:`~.preflight.Preflight` already
    computed from it (a UI that previewed the sheet sends exactly the plan it
    showed, without validating it again); a plan carries its campaign, so
    ``options.campaign`` may then be left out, and must match the plan's if given.

    ``options`` is a :class:`~.options.BatchOptions` (mode, campaign,
    concurrency and its caps, journal, what a 409 becomes, the same-subject
    rule, the progress bar); its fields may also be given as keywords
    (``campaign="refresh-q1"``, ``concurrency=8``), which override it. The old
    ``dry_run=True`` / ``dry_run="check"`` keywords are deprecated
    (``mode="check_rows"`` / ``mode="check_api"``).

    ``client`` is an ``AsyncKycApiClient`` (used as is) or a ``KycApiClient``
    (async twins with the same URL, token, retry settings and pacing gate are
    made and closed here); None only for ``mode="check_rows"``. A stop (cancel,
    401) stops the client's pacing gate while the batch runs, so other calls on
    the same client fail with ``RequestStoppedError`` until the batch returns.
    ``campaign`` is required when some rows have no ``kyc_case_id``: see
    :mod:`kyc_widgets.batch.identity` for why there is no default.
    ``cancel`` is any object with ``is_set()`` (``threading.Event``,
    ``asyncio.Event``); ``on_progress`` receives a :class:`BatchProgress` at
    most every :data:`~.run.PROGRESS_INTERVAL` seconds, and once at the end.
    ``mapping`` is a :class:`~.mapping.CampaignMapping` or the path of a saved
    one: how to read a sheet whose headers, missing constant columns or values
    are a source system's own (the report records which mapping was used).
    ``plan`` is an approved :class:`~.plan_file.CampaignPlan` (or its file):
    exactly its rows are sent, with exactly its values, or nothing
    (:func:`~.plan_file.authorise_sending`; the evidence record names its
    maker and checker). ``require_approval=True`` (default: the
    ``KYC_REQUIRE_APPROVAL`` environment variable) refuses to send without one;
    ``approver_key`` (an Ed25519 public key) requires the approval's signature.

    Raises before sending anything: ``ValueError`` for invalid options,
    :class:`~.mapping.CampaignColumnsError` (required columns missing),
    :class:`~.identity.CampaignRequiredError`, ``OSError`` when the journal
    cannot be opened for appending, :class:`~.plan_file.PlanRefusedError`.
    Cancelling the task returns the report (unsent rows ``not_attempted``)
    instead of raising ``CancelledError``.
    """
    options = BatchOptions.from_keywords(options, **keywords)
    if options.mode is BatchMode.CHECK_API and client is None:
        raise ValueError("mode='check_api' asks the API: pass a client")
    started, started_at = time.monotonic(), utc_now()
    pre = _plan(df, options.campaign, mapping)
    options = options.replace(campaign=pre.campaign)
    if pre.missing_ids:
        raise CampaignRequiredError(
            f"{pre.missing_ids} row(s) have no kyc_case_id. Pass campaign='<name>' so each gets "
            "a stable external id and a re-run cannot create it twice. Nothing was sent."
        )
    approved = authorise_sending(plan, pre, options, client, require=require_approval,
                                 approver_key=approver_key)  # before any request
    columns = _initial_columns(pre)
    slug = _slug_or_none(options.campaign)
    journal = Journal(options.journal) if options.journal is not None else None
    stop = StopSignal(cancel, gate=client.pacing if client is not None else None)
    stop_reason: str | None = None
    try:  # the journal's outcomes count only once the API confirms them (see .resume)
        resumed = await resume_from_journal(
            client, pre, columns, journal, options, slug=slug, stop=stop, started=started,
            started_at=started_at,
        )
        to_send = hold_same_subject(pre, columns.data, resumed.to_send,
                                    allow=options.allow_same_subject)
        if approved is not None:
            to_send = approved.only(to_send)
        if options.mode is BatchMode.CHECK_ROWS:
            columns.set_status(to_send, RowStatus.WOULD_CREATE)
        else:
            stop_reason = await _execute(
                client, pre, columns, to_send, options, stop=stop, started=started, slug=slug,
                journal=journal, on_progress=on_progress, started_at=started_at,
            )
    finally:
        if journal is not None:
            journal.close()
    notes = resumed.notes
    report = _report(pre, columns, options, stopped=stop_reason, started=started, notes=notes)
    report.plan = approved.facts if approved is not None else None
    return stamp_run(report, client, options.record(), started_at, columns.principals,
                     earlier=resumed.runs)


async def _execute(
    client: AnyCaseApi | None,
    pre: Preflight,
    columns: ResultColumns,
    to_send: np.ndarray,
    options: BatchOptions,
    *,
    stop: StopSignal,
    started: float,
    started_at: str,
    slug: str | None,
    journal: Journal | None,
    on_progress: Callable[[BatchProgress], None] | None,
) -> str | None:
    """Send (or look up, in ``check_api`` mode) the rows at ``to_send``; the stop reason."""
    if len(to_send) == 0:
        return stop.reason if stop.is_set() else None
    if client is None:
        raise ValueError("a client is needed to send (only mode='check_rows' works without one)")
    checking = options.mode is BatchMode.CHECK_API
    if checking:
        journal = None  # a lookup creates nothing: nothing to resume
    elif journal is not None:
        journal.run = started_at
        journal.open()  # before the first request: an unwritable journal sends nothing
    run = Run(
        client, pre, columns, to_send, options, stop=stop, started=started, journal=journal,
        slug=slug, on_progress=on_progress, row=check_row if checking else send_row,
    )
    try:
        return await run.execute()
    finally:
        if journal is not None:
            journal.close()


def batch_create(
    client: AnyCaseApi | None,
    df: pd.DataFrame | Preflight,
    options: BatchOptions | None = None,
    **kwargs: Any,
) -> BatchReport:
    """:func:`abatch_create` as a plain function, for scripts and notebook cells alike.

    In a script (no event loop running) it runs the coroutine with
    ``asyncio.run``; Ctrl-C then cancels it, which stops sending, waits for the
    requests in flight and returns the report.

    In a notebook cell an event loop is *already running* in this thread (the
    kernel's), and a loop cannot be re-entered: ``asyncio.run`` refuses and
    ``run_until_complete`` would deadlock. So the batch runs on its own loop in
    a worker thread while this thread waits; a kernel interrupt
    (``KeyboardInterrupt`` here) sets the batch's cancel event and the report
    is still returned. An ``AsyncKycApiClient`` is replaced by its
    ``async_twin()`` on that path, because an httpx async connection pool
    belongs to the loop it was first used on.

    Takes the same arguments as :func:`abatch_create`.
    """
    hooks: dict[str, Any] = {
        k: kwargs.pop(k)
        for k in ("mapping", "cancel", "on_progress", "plan", "require_approval", "approver_key")
        if k in kwargs
    }
    options = BatchOptions.from_keywords(options, **kwargs)  # validated (and warned) here
    kwargs = {"options": options, **hooks}
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_run_with_own_client(client, df, kwargs))

    cancel = kwargs.get("cancel")
    if cancel is None:
        cancel = threading.Event()
        kwargs["cancel"] = cancel
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kyc-batch") as pool:
        future = pool.submit(asyncio.run, _run_with_own_client(client, df, kwargs))
        while True:
            try:
                return future.result()
            except KeyboardInterrupt:
                if isinstance(cancel, threading.Event):
                    cancel.set()
                else:  # pragma: no cover - a foreign event type we cannot set
                    raise




async def _run_with_own_client(
    client: AnyCaseApi | None, df: pd.DataFrame | Preflight, kwargs: dict[str, Any]
) -> BatchReport:
    if client is not None and is_async_api(client):
        twin = client.async_twin()
        try:
            return await abatch_create(twin, df, **kwargs)
        finally:
            await twin.aclose()
    return await abatch_create(client, df, **kwargs)


# --------------------------------------------------------------------------- set-up


def _plan(df: pd.DataFrame | Preflight, campaign: str | None, mapping: Any = None) -> Preflight:
    """The pre-flight of ``df``, or ``df`` itself when it is one already (validated once)."""
    if not isinstance(df, Preflight):
        return preflight(df, campaign=campaign, mapping=mapping)
    if campaign is not None and campaign != (str(df.campaign or "").strip() or None):
        raise ValueError(
            "campaign differs from the one the plan was made with; run preflight() again "
            "with the new campaign. Nothing was sent."
        )
    if mapping is not None:
        given = as_mapping(mapping)
        if df.mapping is None or given is None or given.fingerprint() != df.mapping.fingerprint():
            raise ValueError(
                "mapping differs from the one the plan was made with; run preflight() again "
                "with the new mapping. Nothing was sent."
            )
    return df


def _slug_or_none(campaign: str | None) -> str | None:
    if campaign is None or not str(campaign).strip():
        return None
    try:
        return campaign_slug(str(campaign))
    except CampaignRequiredError:
        return None  # only fatal when an id must be derived: pre-flight has said so already


def _initial_columns(pre: Preflight) -> ResultColumns:
    """The report's columns before anything is sent: the pre-flight's statuses (``ready`` rows
    are ``not_attempted`` until sent), error fields and messages; the ids stay the
    pre-flight's own column. Its columns may be objects or categoricals."""
    return ResultColumns.planned(pre.status, pre.error_field, pre.error_message)


def _report(
    pre: Preflight,
    columns: ResultColumns,
    options: BatchOptions,
    *,
    stopped: str | None,
    started: float,
    notes: list[str] | None = None,
) -> BatchReport:
    results = results_frame(pre.source.index, pre.sheet_row, pre.kyc_case_id, columns.for_report())
    return BatchReport(
        results=results,
        source=pre.source,
        column_map=dict(pre.column_map),
        unknown_columns=list(pre.unknown_columns),
        campaign=options.campaign,
        dry_run=options.mode.is_dry_run,
        stopped_reason=stopped,
        elapsed=time.monotonic() - started,
        warnings=[*pre.warnings, *(notes or [])],
        mapping=pre.mapping,
        problems=_with_api_problems(pre, columns),
        sheet_values=pre.sheet_values,
    )


def _with_api_problems(pre: Preflight, columns: ResultColumns) -> pd.DataFrame:
    """The pre-flight's problems and those of the rows the API refused (a 400 names fields)."""
    if not columns.api_problems:
        return pre.problems
    index = pre.source.index
    parts = [pre.problems]
    for position, outcome in sorted(columns.api_problems.items()):
        fields, messages = zip(*outcome.problems)
        labels = pd.Index([index[position]] * len(fields), dtype=object)
        table = field_problems(labels, None, outcome.error_code, list(messages))
        parts.append(table.assign(field=list(fields)))
    return concat_problems(parts, pre.sheet_row)
