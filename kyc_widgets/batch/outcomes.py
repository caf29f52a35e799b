"""One row's create request, and what its answer means for the report.

Kept apart from the scheduling in :mod:`.sending`: this is where HTTP facts
become row statuses (201 -> created, 409 -> exists or conflict, 400 -> invalid,
401/403 -> failed and stop the batch, a lost answer -> outcome_unknown unless
the client's own-id rule confirmed the case).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from kyc_widgets.api.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    KycApiError,
    PermissionDeniedError,
    RateLimitedError,
)
from kyc_widgets.api.pacing import RateLimitPause, StopSignal
from kyc_widgets.models import KycCaseCreateInput

__all__ = ["RATE_LIMIT_ROUNDS", "Outcome", "differing_fields", "send_row"]

logger = logging.getLogger("kyc_widgets.batch")

RATE_LIMIT_ROUNDS = 200
"""How often one row may be sent again after a 429 before it is reported failed.
A 429 means nothing was done, so going round again is safe; the bound only
keeps an API that never lets anything through from holding the batch forever."""

_COMPARE_EXCLUDED = frozenset({"kyc_case_id", "current_status"})
"""Not compared with an existing case: the id is what matched, and the status
moves with the workflow after creation, so a difference there is expected."""


@dataclass
class Outcome:
    """What happened to one row (the report's columns; ``stop`` asks the batch to stop)."""

    status: str
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


async def send_row(
    aclient: Any,
    body: dict[str, Any],
    *,
    on_conflict: str,
    stop: StopSignal,
    pause: RateLimitPause,
) -> Outcome:
    """Create one case and classify the answer; never raises for an API failure.

    A 429 pauses the whole batch (``pause``) for ``Retry-After`` (or a
    backoff) and the row is sent again, up to :data:`RATE_LIMIT_ROUNDS` times.
    When the batch stops during that pause the row is ``not_attempted`` at
    once: a 429 means nothing was created. A 429 that follows a lost answer
    (the client marks it ``outcome_unknown``) is not taken round again here:
    the row may exist, so it is reported ``outcome_unknown``.
    """
    attempts = 0
    last: RateLimitedError | None = None
    for rounds in range(RATE_LIMIT_ROUNDS):
        try:
            envelope = await aclient.create_case(body)
        except RateLimitedError as exc:
            attempts += _attempts(exc)
            last = exc
            if exc.outcome_unknown:
                return _from_error(exc, attempts)
            seconds = pause.close_after(exc.retry_after, rounds)
            logger.warning(
                "%s: pausing the batch for %.2f s (request_id=%s)", exc.code, seconds, exc.request_id
            )
            if not await pause.wait(stop):
                return Outcome(
                    "not_attempted",
                    http_status=429,
                    error_code=exc.code,
                    request_id=exc.request_id,
                    attempts=attempts,
                    note="stopped while waiting for the API's rate limit; nothing was created",
                )
            continue
        except ConflictError as exc:
            attempts += _attempts(exc)
            if on_conflict == "load":
                return await _compare_existing(aclient, body, exc, attempts)
            return Outcome(
                "exists",
                http_status=exc.status,
                error_code=exc.code,
                request_id=exc.request_id,
                attempts=attempts,
                note="a case with this external id already exists (re-run or earlier import)",
            )
        except KycApiError as exc:
            return _from_error(exc, attempts + _attempts(exc))
        except Exception as exc:  # noqa: BLE001 - a bug must not lose the other rows' outcomes
            logger.error("unexpected %s while creating a case", type(exc).__name__)
            return Outcome(
                "failed",
                error_code="CLIENT_ERROR",
                error_message=f"Unexpected {type(exc).__name__} in the client; see the log.",
                attempts=attempts + 1,
            )
        return Outcome(
            "created",
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
    assert last is not None
    return _from_error(last, attempts)


def _attempts(exc: KycApiError) -> int:
    value = getattr(exc, "attempts", None)
    return int(value) if isinstance(value, int) and value > 0 else 1


def _from_error(exc: KycApiError, attempts: int) -> Outcome:
    outcome = Outcome(
        "failed",
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
        outcome.status = "invalid"
        problems = exc.field_errors
        fields = [f for f, _ in problems if f]
        if fields:
            outcome.error_field = ", ".join(dict.fromkeys(fields))
        if problems:
            outcome.error_message = "; ".join(
                f"{_title(f)}: {m}" if f else m for f, m in problems
            )
    elif exc.outcome_unknown:
        outcome.status = "outcome_unknown"
    return outcome


def _title(name: str) -> str:
    info = KycCaseCreateInput.model_fields.get(name)
    return info.title if info is not None and info.title else name


async def _compare_existing(
    aclient: Any, body: dict[str, Any], conflict: ConflictError, attempts: int
) -> Outcome:
    try:
        found = await aclient.get_case(body["kyc_case_id"])
    except KycApiError as exc:
        outcome = Outcome(
            "exists",
            http_status=conflict.status,
            error_code=conflict.code,
            request_id=conflict.request_id,
            attempts=attempts + _attempts(exc),
            note=f"already exists; loading it to compare failed ({exc.code})",
        )
        if isinstance(exc, AuthenticationError):
            outcome.stop = "authentication"
        return outcome
    differing = differing_fields(body, found.case.model_dump(mode="json"))
    common: dict[str, Any] = {
        "case_id": found.case.id,
        "http_status": conflict.status,
        "error_code": conflict.code,
        "request_id": found.request_id or conflict.request_id,
        "attempts": attempts + found.attempts,
        "principal": found.principal,
    }
    if not differing:
        return Outcome("exists", note="already exists with the same data", **common)
    return Outcome(
        "conflict",
        error_field=", ".join(differing),
        error_message="A case with this external id exists with different data in: "
        + ", ".join(_title(name) for name in differing),
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


def field_title(name: str) -> str:
    """A field's title for messages (``assigned_analyst_email`` -> its form title)."""
    return _title(name)
