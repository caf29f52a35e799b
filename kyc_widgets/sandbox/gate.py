"""The ASGI layer in front of the API: ids, counting, latency, faults, auth, limits.

It is a plain ASGI middleware (not Starlette's ``BaseHTTPMiddleware``) because
it must be cheap (every request passes through it) and because dropping a
connection on purpose needs control over the raw ``send``.

Order, per request: count it (so dropped requests count too), give it a fresh
request id, fire an armed fault switch, then for ``/api/`` paths:
authenticate, rate-limit, apply ``--fail-rate``; then ``--latency-ms``, and
only then does the request reach the application. The latency stands for the
API's own work (screening, database writes), so a refusal by the gateway in
front of it (401, 429, the fail rate's 503, an armed 503 or 429) comes at
once, as a real gateway's does: a client learns it is too fast one round trip
sooner. Every answer, error or not, carries ``X-Request-ID``; so does the imitation proxy page of ``html_502``, as a
gateway that tags requests would, so support can still trace it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from kyc_widgets.sandbox.envelope import error_bytes, new_request_id
from kyc_widgets.sandbox.faults import (
    FailRate,
    Fault,
    FaultSwitches,
    RequestCounter,
    TokenBucket,
    retry_after_seconds,
)

__all__ = ["API_PREFIX", "ConnectionDropped", "GateSettings", "SandboxGate", "log_unexpected"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
logger = logging.getLogger("kyc_widgets.sandbox")

Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_PREFIX = "/api/"

_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class ConnectionDropped(Exception):
    """Raised after the status line was sent: the server then closes the socket.

    That is how an ASGI application makes a server drop a connection: the
    client sees a broken response (a transport error), never an HTTP status.
    """


class _DropFilter(logging.Filter):
    """Keeps deliberate drops out of uvicorn's error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


_drop_filter_installed = False

_LOGGED = "unexpected_error_logged"
"""Request-state flag: this request's unexpected error is already in the log."""


def log_unexpected(exc: BaseException, request_id: str, state: MutableMapping[str, Any]) -> None:
    """Log a server bug once per request: its type and request id, never its text.

    The exception text (and so a traceback) may quote request values such as
    names or e-mails. ``state`` is the request's ``scope["state"]`` (Starlette's
    ``request.state``): the app's 500 handler logs first and the gate, which
    catches the same exception when Starlette re-raises it, then logs nothing.
    """
    if state.get(_LOGGED):
        return
    state[_LOGGED] = True
    logger.error(
        "sandbox: unexpected %s while serving request %s", type(exc).__name__, request_id
    )


def install_drop_log_filter() -> None:
    """Idempotently silence the "Exception in ASGI application" of deliberate drops."""
    global _drop_filter_installed
    if not _drop_filter_installed:
        logging.getLogger("uvicorn.error").addFilter(_DropFilter())
        _drop_filter_installed = True


@dataclass
class GateSettings:
    """The sandbox's knobs and in-process switches, shared with the Python API."""

    tokens: dict[str, str]
    latency_ms: float = 0.0
    rate_limit: float | None = None
    fail_rate: float = 0.0
    faults: FaultSwitches = field(default_factory=FaultSwitches)
    counter: RequestCounter = field(default_factory=RequestCounter)

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        self.bucket = TokenBucket(self.rate_limit) if self.rate_limit else None
        self.failer = FailRate(self.fail_rate)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


def _bearer_token(scope: Scope) -> str | None:
    raw = _header(scope, b"authorization")
    if raw is None:
        return None
    try:
        scheme, _, token = raw.decode("latin-1").strip().partition(" ")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes anything
        return None
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    request_id: str,
    *,
    headers: tuple[tuple[bytes, bytes], ...] = (),
    **kwargs: Any,
) -> None:
    """Send a complete contract error answer on a raw ASGI ``send``."""
    body = error_bytes(status, code, message, request_id, **kwargs)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_rate_limited(
    send: Send, request_id: str, retry_after: str, details: dict[str, Any] | None = None
) -> None:
    """429 ``retryable: true`` with ``Retry-After`` (seconds or an HTTP date)."""
    await send_error(
        send,
        429,
        "RATE_LIMITED",
        "Too many requests; wait a moment and try again.",
        request_id,
        retryable=True,
        details=details,
        headers=((b"retry-after", retry_after.encode()),),
    )


async def send_unavailable(send: Send, request_id: str) -> None:
    """503 ``retryable: true``: the API declares that nothing was done (fault or fail rate)."""
    await send_error(
        send,
        503,
        "SERVICE_UNAVAILABLE",
        "The KYC API is temporarily unavailable; nothing was changed. Try again shortly.",
        request_id,
        retryable=True,
    )


class SandboxGate:
    """ASGI middleware applying :class:`GateSettings` in front of ``app``."""

    def __init__(self, app: ASGIApp, settings: GateSettings) -> None:
        self.app = app
        self.settings = settings
        install_drop_log_filter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.settings
        method: str = scope["method"]
        path: str = scope["path"]
        settings.counter.record(method, path)
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"]
                headers.append(id_header)
                message = {**message, "headers": headers}
            await send(message)

        fault = settings.faults.take(method, path)
        if fault is not None:
            if fault.kind == "drop_after_commit":
                await self._run_then_drop(scope, receive, send_with_id, request_id)
                return
            if await self._fire(fault, send, send_with_id, request_id):
                return

        if not await self._let_through(scope, send, request_id):
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_id(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            # Starlette re-raises after its 500 handler, and uvicorn would then log the
            # traceback with the exception text, which may quote request values
            # (names, e-mails). Stop it here; log it unless the app's handler did, and
            # answer with the envelope unless the app already answered.
            log_unexpected(exc, request_id, scope["state"])
            if not started:
                await send_error(
                    send_with_id, 500, "INTERNAL_ERROR", "Something went wrong on our side.",
                    request_id,
                )

    async def _fire(self, fault: Fault, raw_send: Send, send: Send, request_id: str) -> bool:
        """Apply a fault; True when it answered (or dropped) the request itself."""
        if fault.kind == "delay":
            await asyncio.sleep(fault.seconds or 0.0)
            return False
        if fault.kind == "unavailable":
            await send_unavailable(send, request_id)
        elif fault.kind == "rate_limited":
            await send_rate_limited(send, request_id, fault.retry_after_header())
        elif fault.kind == "forbidden":
            await send_error(
                send,
                403,
                "FORBIDDEN",
                "Your account is not allowed to do this.",
                request_id,
            )
        elif fault.kind == "html_502":
            await send(
                {
                    "type": "http.response.start",
                    "status": 502,
                    "headers": [
                        (b"content-type", b"text/html"),
                        (b"content-length", str(len(_HTML_502)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _HTML_502})
        elif fault.kind == "drop":
            await raw_send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
                }
            )
            raise ConnectionDropped()
        return True

    async def _run_then_drop(
        self, scope: Scope, receive: Receive, send: Send, request_id: str
    ) -> None:
        """Let the request be applied in full, then lose its answer on the wire."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        if not await self._let_through(scope, send, request_id):
            return
        await self.app(scope, receive, hold)
        start = next((m for m in held if m["type"] == "http.response.start"), None)
        if start is not None:
            await send(start)  # the status line goes out, the body never does
        raise ConnectionDropped()

    async def _let_through(self, scope: Scope, send: Send, request_id: str) -> bool:
        """The gateway's checks on ``/api/`` paths, then the API's own latency; False when refused.

        A refusal comes at once, as a real gateway's does; only an accepted request
        waits ``--latency-ms``, the API's work (screening, database writes).
        """
        if scope["path"].startswith(API_PREFIX) and not await self._admit(scope, send, request_id):
            return False
        if self.settings.latency_ms:
            await asyncio.sleep(self.settings.latency_ms / 1000.0)
        return True

    async def _admit(self, scope: Scope, send: Send, request_id: str) -> bool:
        """Authenticate, rate-limit and apply the fail rate; False when answered."""
        settings = self.settings
        token = _bearer_token(scope)
        principal = settings.tokens.get(token) if token is not None else None
        if principal is None:
            missing = token is None
            await send_error(
                send,
                401,
                "UNAUTHORIZED",
                "Sign in again: no access token was sent."
                if missing
                else "Sign in again: the access token was not accepted (expired or invalid).",
                request_id,
                headers=(
                    (
                        b"www-authenticate",
                        b'Bearer realm="kyc-sandbox"'
                        if missing
                        else b'Bearer realm="kyc-sandbox", error="invalid_token"',
                    ),
                ),
            )
            return False
        scope.setdefault("state", {})["principal"] = principal
        if settings.bucket is not None:
            wait = settings.bucket.try_acquire()
            if wait > 0:
                seconds = retry_after_seconds(wait)
                await send_rate_limited(
                    send, request_id, str(seconds), details={"retry_after_seconds": seconds}
                )
                return False
        if settings.failer():
            await send_unavailable(send, request_id)
            return False
        return True
