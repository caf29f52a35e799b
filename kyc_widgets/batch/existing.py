"""The dry run that asks the API: would each row create a case, or does it exist already?

``batch_create(..., mode="check_api")`` runs the rows through the sender's own
workers, async clients, pacing gate and stop rules (:mod:`.sending`) with
:func:`check_row` in place of the create: one ``GET /api/v1/kyc-cases/{id}``
per row's external id (given or derived). Nothing is created. Each row ends

- ``would_create``: the API answered 404, no case has that id;
- ``exists``: a case has that id and the same values;
- ``exists_differs``: a case has that id with other values; ``error_field``
  names the differing fields (never their values).

A 429 pauses every worker at the client's pacing gate and the row is asked
again, exactly like a create (both go through :func:`~.outcomes.paced_row`);
a stop while waiting leaves the row ``not_attempted``; a 401 (or 403) stops
the check like a real run, since every further row would fail the same way.
"""

from __future__ import annotations

from typing import Any

from kyc_widgets.api.errors import KycApiError, NotFoundError
from kyc_widgets.api.protocols import AsyncCaseApi
from kyc_widgets.models import CaseEnvelope

from .outcomes import Outcome, compared, from_error, paced_row
from .status import RowStatus

__all__ = ["check_row"]


async def check_row(aclient: AsyncCaseApi, body: dict[str, Any], *, on_conflict: str = "report") -> Outcome:
    """Look one row's external id up and classify it; never raises for an API failure.

    Same signature as :func:`~.outcomes.send_row` (``on_conflict`` is unused:
    a lookup always compares), so the sender can schedule either.
    """

    async def answered(found: CaseEnvelope, attempts: int) -> Outcome:
        return compared(
            body,
            found,
            RowStatus.EXISTS_DIFFERS,
            case_id=found.case.id,
            http_status=200,
            request_id=found.request_id,
            attempts=attempts + max(found.attempts, 1),
            principal=found.principal,
        )

    async def refused(exc: KycApiError, attempts: int) -> Outcome:
        if isinstance(exc, NotFoundError):
            return Outcome(
                RowStatus.WOULD_CREATE,
                http_status=exc.status,
                request_id=exc.request_id,
                attempts=attempts,
                note="no case with this external id yet (checked on the API)",
            )
        outcome = from_error(exc, attempts)
        if outcome.status == RowStatus.INVALID:  # a lookup has no body to be invalid: keep it a failure
            outcome.status = RowStatus.FAILED
        return outcome

    return await paced_row(
        lambda: aclient.get_case(body["kyc_case_id"]), answered, refused, doing="checking a case"
    )
