"""Every way a KYC API call can fail, as one exception family.

Whatever went wrong (a contract error envelope, an HTML page from a proxy, an
empty body, a refused connection, a timeout) the caller gets a
:class:`KycApiError` with the same attributes, and ``request_id`` survives to
whatever the user sees: support handoff depends on it.

Exception text never contains the token, request bodies or personal data; the
``message`` is the API's "safe to show" text or one of ours.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any, ClassVar

import httpx

__all__ = [
    "ApiConnectError",
    "ApiTimeoutError",
    "AuthenticationError",
    "ConflictError",
    "InvalidRequestError",
    "KycApiError",
    "KycConfigurationError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RequestStoppedError",
    "ServerError",
    "ServiceUnavailableError",
    "TransportError",
    "UnexpectedResponseError",
    "error_from_response",
    "parse_retry_after",
]


class KycConfigurationError(ValueError):
    """The client was set up in a way that is unsafe or cannot work (e.g. plain http)."""


class KycApiError(Exception):
    """A KYC API call failed. Attributes mirror the contract's error envelope.

    ``status`` is None when no HTTP answer arrived. ``outcome_unknown`` is True
    when a create may have been applied although no answer came back: such a
    request must not be re-sent blindly. ``attempts`` counts the HTTP attempts
    the client made (retries included); ``retry_after`` is the API's
    ``Retry-After`` in seconds, when it sent one.
    """

    kind: ClassVar[str] = "error"
    default_message: ClassVar[str] = "The KYC API call failed."

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        developer_message: str | None = None,
        category: str | None = None,
        request_id: str | None = None,
        trace_id: str | None = None,
        retryable: bool = False,
        docs_url: str | None = None,
        details: dict[str, Any] | None = None,
        outcome_unknown: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.status = status
        self.code = code or (f"HTTP_{status}" if status else self.kind.upper())
        self.developer_message = developer_message
        self.category = category
        self.request_id = request_id
        self.trace_id = trace_id
        self.retryable = retryable
        self.docs_url = docs_url
        self.details: dict[str, Any] = dict(details or {})
        self.outcome_unknown = outcome_unknown
        self.retry_after = retry_after
        self.attempts = 1
        super().__init__(self.message)

    @property
    def field(self) -> str | None:
        """The input field the API blamed (``details.field``), if any."""
        value = self.details.get("field")
        return value if isinstance(value, str) and value else None

    @property
    def field_errors(self) -> list[tuple[str | None, str]]:
        """Every ``(field, message)`` the API reported, ``details.errors`` first.

        Falls back to ``(details.field, message)`` so callers have one list to show.
        """
        found: list[tuple[str | None, str]] = []
        errors = self.details.get("errors")
        if isinstance(errors, list):
            for item in errors:
                if isinstance(item, dict):
                    fld = item.get("field")
                    found.append(
                        (fld if isinstance(fld, str) and fld else None, str(item.get("message") or ""))
                    )
        if not found and (self.field or self.status == 400):
            found.append((self.field, self.message))
        return found

    def support_details(self) -> str:
        """Plain text for a support ticket: ids and codes only, never personal data."""
        lines = [
            f"request_id: {self.request_id or 'none received'}",
            f"status: {self.status if self.status is not None else 'no response'}",
            f"code: {self.code}",
        ]
        if self.trace_id:
            lines.append(f"trace_id: {self.trace_id}")
        if self.outcome_unknown:
            lines.append("outcome: unknown (the request may have been applied)")
        return "\n".join(lines)

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status is not None else "no response"
        rid = f" (request_id={self.request_id})" if self.request_id else ""
        return f"{self.code} [{where}]: {self.message}{rid}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"request_id={self.request_id!r}, outcome_unknown={self.outcome_unknown!r})"
        )


class TransportError(KycApiError):
    """No HTTP answer: connection refused or dropped, DNS failure, timeout."""

    kind = "transport_error"
    default_message = "The KYC API could not be reached."


class ApiConnectError(TransportError):
    """The request never reached the server (refused, DNS, connect timeout)."""

    kind = "connect_error"
    default_message = "Could not connect to the KYC API. Check the base URL and your network."


class ApiTimeoutError(TransportError):
    """The server took too long to answer."""

    kind = "timeout"
    default_message = "The KYC API did not answer in time."


class InvalidRequestError(KycApiError):
    """400: the API rejected the input; see :attr:`field_errors`."""

    kind = "invalid_request"
    default_message = "The KYC API rejected the input."


class AuthenticationError(KycApiError):
    """401: the token is missing, expired or invalid. Sign in again."""

    kind = "unauthorized"
    default_message = "Your session is missing or has expired. Sign in again."


class PermissionDeniedError(KycApiError):
    """403: authenticated, but not allowed to do this."""

    kind = "forbidden"
    default_message = "Your account is not allowed to do this. Access is restricted."


class NotFoundError(KycApiError):
    """404: no such case (or route)."""

    kind = "not_found"
    default_message = "No such case was found."


class ConflictError(KycApiError):
    """409: a case with this external ``kyc_case_id`` already exists."""

    kind = "conflict"
    default_message = "A case with this external case ID already exists."


class RateLimitedError(KycApiError):
    """429: the API is overloaded; wait ``retry_after`` seconds and retry."""

    kind = "rate_limited"
    default_message = "The KYC API is busy. Wait a moment and retry."


class RequestStoppedError(KycApiError):
    """The client's pacing gate was stopped while this call waited to send.

    Nothing was sent by the wait that was cut short (see
    :mod:`kyc_widgets.api.pacing`). ``last_error`` is the answer that made the
    call wait (e.g. the 429), or None when it had not been sent yet;
    ``outcome_unknown`` is True when an earlier attempt's answer was lost.
    """

    kind = "stopped"
    default_message = "Stopped before the request was sent; nothing was sent by this wait."

    def __init__(self, reason: str, last_error: KycApiError | None = None) -> None:
        super().__init__(
            f"Stopped ({reason}) before the request was sent; nothing was sent by this wait.",
            code="STOPPED",
        )
        self.reason = reason
        self.last_error = last_error


class ServerError(KycApiError):
    """5xx: the API (or a proxy in front of it) failed."""

    kind = "server_error"
    default_message = "The KYC API failed to handle the request. Retry later."


class ServiceUnavailableError(ServerError):
    """503: the API is degraded; retry later."""

    kind = "unavailable"
    default_message = "The KYC API is temporarily unavailable. Retry later."


class UnexpectedResponseError(KycApiError):
    """An answer the contract does not describe (bad JSON on success, odd status)."""

    kind = "unexpected_response"
    default_message = "The KYC API returned an answer this client does not understand."


_BY_STATUS: dict[int, type[KycApiError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
    503: ServiceUnavailableError,
}

def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds to wait: delta-seconds or an HTTP date; None if absent/garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds)


def error_class_for(status: int) -> type[KycApiError]:
    """The exception class for an HTTP status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return UnexpectedResponseError


def error_from_response(response: httpx.Response) -> KycApiError:
    """Turn any non-2xx answer into a :class:`KycApiError`, whatever its body.

    The body is read as text first: a proxy may answer with HTML or nothing.
    ``request_id`` falls back to the ``X-Request-ID`` header.
    """
    status = response.status_code
    cls = error_class_for(status)
    header_request_id = response.headers.get("x-request-id")
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    text = response.text
    body: Any = None
    if text.strip():
        try:
            body = json.loads(text)
        except ValueError:
            body = None
    envelope = body.get("error") if isinstance(body, dict) else None
    if isinstance(envelope, dict):
        details = envelope.get("details")
        return cls(
            _as_str(envelope.get("message")),
            status=status,
            code=_as_str(envelope.get("code")),
            developer_message=_as_str(envelope.get("developer_message")),
            category=_as_str(envelope.get("category")),
            request_id=_as_str(envelope.get("request_id")) or header_request_id,
            trace_id=_as_str(envelope.get("trace_id")),
            retryable=envelope.get("retryable") is True,
            docs_url=_as_str(envelope.get("docs_url")),
            details=details if isinstance(details, dict) else None,
            retry_after=retry_after,
        )
    if not text.strip():
        shape = "an empty body"
    elif body is None:
        content_type = response.headers.get("content-type", "")
        shape = "an HTML page" if "html" in content_type or text.lstrip().startswith("<") else "a non-JSON body"
    else:
        shape = "JSON without the error envelope"
    return cls(
        f"{cls.default_message} (HTTP {status} with {shape}, probably from a proxy or gateway.)",
        status=status,
        request_id=header_request_id,
        retry_after=retry_after,
    )


def _as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
