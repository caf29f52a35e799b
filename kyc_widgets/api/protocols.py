"""What the widgets and the batch need from a client, as typing protocols.

Why: a widget or a campaign takes "something that creates and reads cases",
not one concrete class, so a test double or a future client fits without
subclassing; and the sync/async choice is read from the type the caller
passed (:func:`is_async_api`) instead of sniffed from a method. Every client
also offers its :class:`~kyc_widgets.api.pacing.PacingGate` (``pacing``), which
a batch stops to end waits at once, and ``async_twin()`` sharing that gate.
:class:`~kyc_widgets.api.client.KycApiClient` satisfies :class:`CaseApi`,
:class:`~kyc_widgets.api.client.AsyncKycApiClient` satisfies :class:`AsyncCaseApi`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, runtime_checkable

if TYPE_CHECKING:
    from kyc_widgets.api.client import AsyncKycApiClient, Diagnosis
    from kyc_widgets.api.pacing import PacingGate
    from kyc_widgets.models import CaseEnvelope, KycCaseCreateInput

__all__ = ["AnyCaseApi", "AsyncCaseApi", "CaseApi", "is_async_api"]


class _ClientFacts(Protocol):
    """What every client tells without a request (never the token itself)."""

    is_async: bool
    """True when the case calls return awaitables: declared by the client, never guessed."""

    @property
    def base_url(self) -> str: ...

    @property
    def has_token(self) -> bool: ...

    def token_fingerprint(self) -> str | None: ...

    @property
    def pacing(self) -> PacingGate:
        """The gate every request passes through; a batch stops it to end waits at once."""
        ...

    def async_twin(self, *, share_rate_gate: bool = True, **overrides: Any) -> AsyncKycApiClient:
        """An async client with the same settings and, by default, the same gate."""
        ...


@runtime_checkable
class CaseApi(_ClientFacts, Protocol):
    """A synchronous client: each call returns when the API has answered."""

    def create_case(self, data: KycCaseCreateInput | Mapping[str, Any]) -> CaseEnvelope: ...

    def get_case(self, kyc_case_id: str) -> CaseEnvelope: ...

    def diagnose(self) -> Diagnosis: ...


@runtime_checkable
class AsyncCaseApi(_ClientFacts, Protocol):
    """An asynchronous client: each call returns an awaitable."""

    async def create_case(self, data: KycCaseCreateInput | Mapping[str, Any]) -> CaseEnvelope: ...

    async def get_case(self, kyc_case_id: str) -> CaseEnvelope: ...

    async def diagnose(self) -> Diagnosis: ...


AnyCaseApi = CaseApi | AsyncCaseApi
"""Either kind; widgets accept both and run the call the way the kind needs."""


def is_async_api(client: AnyCaseApi) -> TypeGuard[AsyncCaseApi]:
    """True for an async client, as the client itself declares (``is_async``)."""
    return bool(getattr(client, "is_async", False))
