"""One row's create request, and what its answer means for the report.

Kept apart from the scheduling in :mod:`.sending`: this is where HTTP facts
become row statuses (201 -> created, 409 -> exists or conflict, 400 -> invalid,
401/403 -> failed and stop the batch, a lost answer -> outcome_unknown unless
the client's own-id rule confirmed the case, a stop while waiting at the
client's pacing gate -> not_attempted).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from kyc_widgets.api.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    KycApiError,
    PermissionDeniedError,
    RateLimitedError,
    RequestStoppedError,
)
from kyc_widgets.api.protocols import AsyncCaseApi
from kyc_widgets.models import CaseEnvelope, KycCaseCreateInput

from .fields import field_title
from .problems import render
from .status import RowStatus

__all__ = [
    "RATE_LIMIT_ROUNDS",
    "Outcome",
    "attempts_of",
    "compared",
    "differing_fields",
    "from_error",
    "paced_row",
    "send_row",
]

logger = logging.getLogger("kyc_widgets.batch")

_T = TypeVar("_T")

RATE_LIMIT_ROUNDS = 200
"""How often one row is handed to the client again after its own 429 retries ran out,
before it is reported failed. A 429 means nothing was done, so going round again
is safe (the client's pacing gate still holds every worker for the pause); the
bound only keeps an API that never lets anything through from holding the batch
forever."""

_COMPARE_EXCLUDED = frozenset({"kyc_case_id", "current_status"})
"""Not compared with an existing case: the id is what matched, and the status
moves with the workflow after creation, so a difference there is expected."""


@dataclass
class Outcome:
    """What happened to one row (the report's columns; ``stop`` asks the batch to stop)."""

    status: RowStatus
    case_id: str | None = None
    http_status: int | None = None
    error_code: str | None = None
    error_field: str | None = None
    error_message: str | None = None
    request_id: str | None = None
    attempts: int = 0
    note: str | None = None
    stop: str | None = None
    principal: str | None = None
    """Who the API said the caller was (kept for the evidence record, not a report column)."""
    problems: tuple[tuple[str | None, str], ...] = ()
    """The API's refusal as ``(field, message)`` pairs (a 400's ``details``), for the
    report's problems table; ``error_field`` and ``error_message`` are rendered from them."""


async def send_row(aclient: AsyncCaseApi, body: dict[str, Any], *, on_conflict: str) -> Outcome:
    """Create one case and classify the answer; never raises for an API failure.

    Paced by :func:`paced_row` (429 rounds, a stop while waiting ->
    ``not_attempted``). A 409 is ``exists``, or with ``on_conflict="load"``
    the stored case is compared with the row (``exists`` or ``conflict``).
    """

    async def answered(envelope: CaseEnvelope, attempts: int) -> Outcome:
        return Outcome(
            RowStatus.CREATED,
            case_id=envelope.case.id,
            http_status=200 if envelope.recovered else 201,
            request_id=envelope.request_id,
            attempts=attempts + envelope.attempts,
            principal=envelope.principal,
            note=(
                "the answer was lost; the client confirmed the case by loading it"
                if envelope.recovered
                else None
            ),
        )

    async def refused(exc: KycApiError, attempts: int) -> Outcome:
        if not isinstance(exc, ConflictError):
            return from_error(exc, attempts)
        if on_conflict == "load":
            return await _compare_existing(aclient, body, exc, attempts)
        return Outcome(
            RowStatus.EXISTS,
            http_status=exc.status,
            error_code=exc.code,
            request_id=exc.request_id,
            attempts=attempts,
            note="a case with this external id already exists (re-run or earlier import)",
        )

    return await paced_row(
        lambda: aclient.create_case(body), answered, refused, doing="creating a case"
    )


async def paced_row(
    call: Callable[[], Awaitable[_T]],
    answered: Callable[[_T, int], Awaitable[Outcome]],
    refused: Callable[[KycApiError, int], Awaitable[Outcome]],
    *,
    doing: str,
) -> Outcome:
    """One row's request (a create or a lookup) through the client's pacing gate.

    The one definition of how a row meets the API's rate limit, shared by
    :func:`send_row` and :func:`~.existing.check_row`. The client paces every
    attempt through its gate: a 429 pauses every worker for ``Retry-After``
    (or a backoff) before the next attempt. When the client's own 429 retries
    run out the row goes round again, up to :data:`RATE_LIMIT_ROUNDS` times.
    When the batch stops the gate during a pause the client raises
    :class:`RequestStoppedError` and the row is ``not_attempted``: the wait
    sent nothing, and a 429 means nothing was done. A 429 that follows a lost
    answer (the client marks it ``outcome_unknown``) is not taken round again:
    the row may exist, so it is reported ``outcome_unknown``.

    ``answered(result, attempts)`` classifies a success and
    ``refused(error, attempts)`` any other API error (``attempts`` counts the
    requests sent for the row, the error's own included); an unexpected
    exception is a ``failed`` row (``doing`` names the call in the log).
    """
    attempts = 0
    last: RateLimitedError | None = None
    for _ in range(RATE_LIMIT_ROUNDS):
        try:
            result = await call()
        except RequestStoppedError as exc:
            return _stopped(exc, attempts + exc.attempts, exc.last_error or last)
        except RateLimitedError as exc:
            attempts += attempts_of(exc)
            last = exc
            if exc.outcome_unknown:
                return from_error(exc, attempts)
            logger.warning("%s after the client's retries (request_id=%s); sending again after the pause",
                           exc.code, exc.request_id)
            continue
        except KycApiError as exc:
            return await refused(exc, attempts + attempts_of(exc))
        except Exception as exc:  # noqa: BLE001 - a bug must not lose the other rows' outcomes
            logger.error("unexpected %s while %s", type(exc).__name__, doing)
            return Outcome(
                RowStatus.FAILED,
                error_code="CLIENT_ERROR",
                error_message=f"Unexpected {type(exc).__name__} in the client; see the log.",
                attempts=attempts + 1,
            )
        return await answered(result, attempts)
    assert last is not None
    return from_error(last, attempts)


def _stopped(exc: RequestStoppedError, attempts: int, last: KycApiError | None) -> Outcome:
    """The batch stopped while this row waited at the gate: nothing more was sent for it.

    ``last`` is the answer that made it wait (the 429), shown in the report.
    """
    if exc.outcome_unknown:
        return from_error(exc, attempts)
    rate_limited = isinstance(last, RateLimitedError)
    return Outcome(
        RowStatus.NOT_ATTEMPTED,
        http_status=last.status if last is not None else None,
        error_code=last.code if last is not None else None,
        request_id=last.request_id if last is not None else None,
        attempts=attempts,
        note=(
            "stopped while waiting for the API's rate limit; nothing was created"
            if rate_limited
            else "stopped before it was sent again; nothing was created"
            if last is not None
            else None
        ),
    )


def attempts_of(exc: KycApiError) -> int:
    """How many requests an API error stands for (the client's retries included; at least 1)."""
    value = getattr(exc, "attempts", None)
    return int(value) if isinstance(value, int) and value > 0 else 1


def from_error(exc: KycApiError, attempts: int) -> Outcome:
    """A row's outcome for an API error: ``invalid`` (400, with its fields), ``outcome_unknown``
    (a lost answer) or ``failed``; a 401/403 also asks the batch to stop."""
    outcome = Outcome(
        RowStatus.FAILED,
        http_status=exc.status,
        error_code=exc.code,
        error_field=exc.field,
        error_message=exc.message,
        request_id=exc.request_id,
        attempts=attempts,
    )
    if isinstance(exc, AuthenticationError):
        outcome.stop = "authentication"
    elif isinstance(exc, PermissionDeniedError):
        outcome.stop = "permission"
    elif isinstance(exc, InvalidRequestError):
        outcome.status = RowStatus.INVALID
        outcome.problems = tuple(exc.field_errors)
        fields = [f for f, _ in outcome.problems if f]
        if fields:
            outcome.error_field = ", ".join(dict.fromkeys(fields))
        if outcome.problems:
            outcome.error_message = "; ".join(render(f, m) for f, m in outcome.problems)
    elif exc.outcome_unknown:
        outcome.status = RowStatus.OUTCOME_UNKNOWN
    return outcome


async def _compare_existing(
    aclient: AsyncCaseApi, body: dict[str, Any], conflict: ConflictError, attempts: int
) -> Outcome:
    try:
        found = await aclient.get_case(body["kyc_case_id"])
    except KycApiError as exc:
        outcome = Outcome(
            RowStatus.EXISTS,
            http_status=conflict.status,
            error_code=conflict.code,
            request_id=conflict.request_id,
            attempts=attempts + attempts_of(exc),
            note=f"already exists; loading it to compare failed ({exc.code})",
        )
        if isinstance(exc, AuthenticationError):
            outcome.stop = "authentication"
        return outcome
    common: dict[str, Any] = {
        "case_id": found.case.id,
        "http_status": conflict.status,
        "error_code": conflict.code,
        "request_id": found.request_id or conflict.request_id,
        "attempts": attempts + found.attempts,
        "principal": found.principal,
    }
    return compared(body, found, RowStatus.CONFLICT, **common)


def compared(
    body: dict[str, Any], found: CaseEnvelope, differs: RowStatus, **common: Any
) -> Outcome:
    """``exists`` when the stored case ``found`` holds ``body``'s values, else ``differs``.

    ``differs`` is ``conflict`` after a refused create and ``exists_differs`` in a
    check; either way the outcome names the differing fields, never their values.
    ``common`` are the other :class:`Outcome` fields (ids, status, attempts).
    """
    differing = differing_fields(body, found.case.model_dump(mode="json"))
    if not differing:
        return Outcome(RowStatus.EXISTS, note="already exists with the same data", **common)
    return Outcome(
        differs,
        error_field=", ".join(differing),
        error_message="A case with this external id exists with different data in: "
        + ", ".join(field_title(name) for name in differing),
        **common,
    )


def differing_fields(body: dict[str, Any], stored: dict[str, Any]) -> list[str]:
    """Fields (form order) where a row's create body and a stored case differ.

    ``kyc_case_id`` and ``current_status`` are not compared (see
    ``_COMPARE_EXCLUDED``). Only names are returned, never values.
    """
    wanted = KycCaseCreateInput.model_validate(body).to_request_json()
    return [
        name
        for name in KycCaseCreateInput.model_fields
        if name not in _COMPARE_EXCLUDED and wanted.get(name) != stored.get(name)
    ]
