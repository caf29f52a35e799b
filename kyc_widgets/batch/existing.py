"""The dry run that asks the API: would each row create a case, or does it exist already?

``batch_create(..., dry_run="check")`` runs the rows through the sender's own
workers, async clients, 429 pause and stop rules (:mod:`.sending`) with
:func:`check_row` in place of the create: one ``GET /api/v1/kyc-cases/{id}``
per row's external id (given or derived). Nothing is created. Each row ends

- ``would_create``: the API answered 404, no case has that id;
- ``exists``: a case has that id and the same values;
- ``exists_differs``: a case has that id with other values; ``error_field``
  names the differing fields (never their values).

A 429 pauses every worker and the row is asked again, exactly like a create;
a 401 (or 403) stops the check like a real run, since every further row
would fail the same way.
"""

from __future__ import annotations

import logging
from typing import Any

from kyc_widgets.api.errors import KycApiError, NotFoundError, RateLimitedError
from kyc_widgets.api.pacing import RateLimitPause, StopSignal

from .outcomes import (
    RATE_LIMIT_ROUNDS,
    Outcome,
    _attempts,
    _from_error,
    differing_fields,
    field_title,
)

__all__ = ["check_row"]

logger = logging.getLogger("kyc_widgets.batch")


async def check_row(
    aclient: Any,
    body: dict[str, Any],
    *,
    on_conflict: str = "report",
    stop: StopSignal,
    pause: RateLimitPause,
) -> Outcome:
    """Look one row's external id up and classify it; never raises for an API failure.

    Same signature as :func:`~.outcomes.send_row` (``on_conflict`` is unused:
    a lookup always compares), so the sender can schedule either.
    """
    attempts = 0
    last: RateLimitedError | None = None
    for rounds in range(RATE_LIMIT_ROUNDS):
        try:
            found = await aclient.get_case(body["kyc_case_id"])
        except NotFoundError as exc:
            return Outcome(
                "would_create",
                http_status=exc.status,
                request_id=exc.request_id,
                attempts=attempts + _attempts(exc),
                note="no case with this external id yet (checked on the API)",
            )
        except RateLimitedError as exc:
            attempts += _attempts(exc)
            last = exc
            seconds = pause.close_after(exc.retry_after, rounds)
            logger.warning(
                "%s: pausing the check for %.2f s (request_id=%s)", exc.code, seconds, exc.request_id
            )
            if not await pause.wait(stop):
                return Outcome(
                    "not_attempted",
                    http_status=429,
                    error_code=exc.code,
                    request_id=exc.request_id,
                    attempts=attempts,
                    note="stopped while waiting for the API's rate limit",
                )
            continue
        except KycApiError as exc:
            outcome = _from_error(exc, attempts + _attempts(exc))
            if outcome.status == "invalid":  # a lookup has no body to be invalid: keep it a failure
                outcome.status = "failed"
            return outcome
        except Exception as exc:  # noqa: BLE001 - a bug must not lose the other rows' outcomes
            logger.error("unexpected %s while checking a case", type(exc).__name__)
            return Outcome(
                "failed",
                error_code="CLIENT_ERROR",
                error_message=f"Unexpected {type(exc).__name__} in the client; see the log.",
                attempts=attempts + 1,
            )
        differing = differing_fields(body, found.case.model_dump(mode="json"))
        common: dict[str, Any] = {
            "case_id": found.case.id,
            "http_status": 200,
            "request_id": found.request_id,
            "attempts": attempts + max(found.attempts, 1),
            "principal": found.principal,
        }
        if not differing:
            return Outcome("exists", note="already exists with the same data", **common)
        return Outcome(
            "exists_differs",
            error_field=", ".join(differing),
            error_message="A case with this external id exists with different data in: "
            + ", ".join(field_title(name) for name in differing),
            **common,
        )
    assert last is not None
    return _from_error(last, attempts)
