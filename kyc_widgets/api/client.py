"""One KYC API client, sync and async, sharing a single base.

Like httpx, :class:`KycApiClient` and :class:`AsyncKycApiClient` differ only in
how they send bytes; everything that decides *what* to send and *what an
answer means* lives in :class:`_BaseClient` so the two can never drift apart:

- the bearer token is attached per request (a string, or a callable so a
  notebook can refresh it) and never appears in a repr, an exception or a log;
- every failure becomes a :class:`~kyc_widgets.api.errors.KycApiError` that keeps
  ``request_id``;
- retries follow the contract's rules (see :class:`_RetryPolicy` and
  ``docs/api-contract.md``), driven by
  tenacity rather than a hand-written loop;
- every request passes through one :class:`~kyc_widgets.api.pacing.PacingGate`,
  shared by the client and its :meth:`~_BaseClient.async_twin` copies: a 429
  closes it for ``Retry-After`` (or a backoff), so concurrent callers (batch
  workers) all pause together, and :meth:`PacingGate.stop
  <kyc_widgets.api.pacing.PacingGate.stop>` ends every wait at once with a
  :class:`~kyc_widgets.api.errors.RequestStoppedError` (nothing more is sent);
- every call is a *flow* written once, in the base: a generator that yields
  each request (:class:`_Send`) and gets back its answer or failure. A call of
  several requests (a create's 409 recovery loads the case and compares it;
  :meth:`~KycApiClient.diagnose` asks ``/readyz``, then probes the token) thus
  cannot differ between the clients, whose ``_run`` only performs the steps.
"""

from __future__ import annotations

import logging
import os
import ssl
import time
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeAlias, TypeVar, cast
from urllib.parse import urlsplit

import httpx
import pydantic
import tenacity
from typing_extensions import Self

from kyc_widgets.api.auth import fingerprint, token_from_env
from kyc_widgets.api.errors import (
    ApiConnectError,
    ApiTimeoutError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    KycApiError,
    KycConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RequestStoppedError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    error_from_response,
)
from kyc_widgets.api.pacing import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_RETRY_AFTER_CAP,
    PacingGate,
    PacingStopped,
)
from kyc_widgets.api.paths import CASE_PATH_TEMPLATE, CASES_PATH, case_path, is_loopback_host
from kyc_widgets.models import CaseEnvelope, HealthStatus, KycCaseCreateInput, ReadinessStatus

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncKycApiClient",
    "Diagnosis",
    "KycApiClient",
    "TokenLike",
]

logger = logging.getLogger("kyc_widgets.api.client")

TokenLike = str | Callable[[], str | None] | None
"""A bearer token, or a zero-argument callable returning the current one."""

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=30.0)
"""Connect fails fast (a wrong URL should not hang a notebook); reads allow a slow create."""


class _RedactCaseUrls(logging.Filter):
    """httpx logs every request URL at INFO; a case URL carries a case id (regulated data).

    Installed on the ``httpx`` logger: a case URL's path is replaced by its
    template, everything else passes unchanged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(_redacted(a) for a in record.args)
        return True


def _redacted(arg: Any) -> Any:
    if isinstance(arg, httpx.URL) and arg.path.startswith(CASES_PATH + "/"):
        return f"{arg.scheme}://{arg.netloc.decode('ascii', 'replace')}{CASE_PATH_TEMPLATE}"
    return arg


logging.getLogger("httpx").addFilter(_RedactCaseUrls())
_RETRYABLE_READ_STATUSES = frozenset({429, 500, 502, 503, 504})
_T = TypeVar("_T")


# --------------------------------------------------------------------------- helpers


def _check_base_url(base_url: str, allow_insecure_http: bool) -> str:
    """Refuse URLs that would send a bearer token in clear text over a network."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise KycConfigurationError(
            "base_url must be an absolute http(s) URL such as https://kyc.example.com"
        )
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback_host(parts.hostname):
        raise KycConfigurationError(
            "Refusing plain http:// for a non-loopback host: the bearer token would travel "
            "unencrypted. Use https://, or pass allow_insecure_http=True if you really mean it."
        )
    return base_url.strip().rstrip("/")


@dataclass
class _RetryPolicy:
    """Which failures may be retried for one logical call.

    Reads (GET) are idempotent: retry connection errors, timeouts, 429 and 5xx.
    A create is retried only where that cannot duplicate a case:

    - the request never reached the server (connection refused, connect timeout);
    - 429 (the API refused before doing anything);
    - a 503 whose envelope says ``retryable: true`` (the API declares nothing was
      done; an HTML 502/503/504 from a proxy declares nothing);
    - the input carries its own ``kyc_case_id``: then re-sending is safe because a
      duplicate is refused with 409, which we resolve by loading the case.

    A create without its own id whose answer was lost is never re-sent.

    A stop of the pacing gate is never retried: the call ends with a
    :class:`RequestStoppedError` carrying ``last_error``. After a lost answer
    the re-send ignores the stop, because only it can still confirm the case
    with the 409 check.
    """

    is_create: bool
    has_own_id: bool = False
    answer_lost: bool = False
    sent: int = 0
    """Attempts that reached the point of sending and failed (for ``attempts`` on a stop)."""
    last_error: KycApiError | None = None

    def should_retry(self, exc: BaseException) -> bool:
        if not isinstance(exc, KycApiError) or isinstance(exc, RequestStoppedError):
            return False
        self.sent += 1
        self.last_error = exc
        if isinstance(exc, (ApiConnectError, RateLimitedError)):
            return True
        if not self.is_create:
            if isinstance(exc, TransportError):
                return True
            return exc.status in _RETRYABLE_READ_STATUSES
        if exc.outcome_unknown:
            if self.has_own_id:
                self.answer_lost = True
                return True
            return False
        return exc.status == 503 and exc.retryable


class _Request(NamedTuple):
    """One HTTP request as the client sends it; ``template`` is what logs show of the path."""

    method: str
    path: str
    template: str
    json: Any = None
    auth: bool = True


_READYZ = _Request("GET", "/readyz", "/readyz", auth=False)
_HEALTHZ = _Request("GET", "/healthz", "/healthz", auth=False)


@dataclass(frozen=True)
class _Send:
    """One step of a flow: a request, retried by ``policy`` (a read's unless given).

    Answered with the 2xx response, or the :class:`KycApiError` thrown in. ``once``
    is one attempt answered with any status: ``/readyz`` says "not ready" as a 503
    carrying its checks, an answer rather than a failure.
    """

    request: _Request
    policy: _RetryPolicy = field(default_factory=lambda: _RetryPolicy(is_create=False))
    max_retries: int | None = None
    once: bool = False


class _Answer(NamedTuple):
    """What a flow receives for a step: the response and the attempts it took."""

    response: httpx.Response
    attempts: int


_Flow: TypeAlias = Generator[_Send, _Answer, _T]
"""A call written once for both clients: yields steps, returns the call's result."""


def _resume(flow: _Flow[_T], outcome: _Answer | KycApiError | None) -> _Send:
    """The flow's next step after handing it ``outcome`` (None starts it).

    A failure is thrown in at the ``yield``, so the flow handles it with a plain
    ``try`` where it made the request. StopIteration carries the flow's result.
    """
    if outcome is None:
        return next(flow)
    if isinstance(outcome, KycApiError):
        return flow.throw(outcome)
    return flow.send(outcome)


@dataclass
class Diagnosis:
    """What :meth:`KycApiClient.diagnose` found, as separate facts.

    An analyst can tell a wrong URL (not reachable) from a degraded service
    (reachable, not ready) from an expired token (ready, not authenticated).
    Never contains the token.
    """

    base_url: str
    token_configured: bool
    reachable: bool = False
    reach_error: str | None = None
    ready: bool | None = None
    release: str | None = None
    failed_checks: list[str] = field(default_factory=list)
    ready_error: str | None = None
    authenticated: bool | None = None
    principal: str | None = None
    auth_error: str | None = None
    request_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.reachable and self.ready and self.authenticated)

    def __str__(self) -> str:
        def yn(value: bool | None) -> str:
            return "unknown" if value is None else ("yes" if value else "no")

        lines = [
            f"base URL: {self.base_url} (token {'set' if self.token_configured else 'not set'})",
            f"reachable: {yn(self.reachable)}" + (f" ({self.reach_error})" if self.reach_error else ""),
            f"ready: {yn(self.ready)}"
            + (f" release {self.release}" if self.release else "")
            + (f" failed checks: {', '.join(self.failed_checks)}" if self.failed_checks else "")
            + (f" ({self.ready_error})" if self.ready_error else ""),
            f"authenticated: {yn(self.authenticated)}"
            + (f" as {self.principal}" if self.principal else "")
            + (f" ({self.auth_error})" if self.auth_error else ""),
        ]
        return "\n".join(lines)




# --------------------------------------------------------------------------- shared base


class _BaseClient:
    """Everything the sync and async clients share: settings, headers, pacing, meaning of answers."""

    def __init__(
        self,
        base_url: str,
        token: TokenLike = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        allow_insecure_http: bool = False,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP,
        pacing: PacingGate | None = None,
    ) -> None:
        if max_retries < 0:
            raise KycConfigurationError("max_retries must be >= 0")
        self._base_url = _check_base_url(base_url, allow_insecure_http)
        self._token: TokenLike = token
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.max_retries = max_retries
        self._allow_insecure_http = allow_insecure_http
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._pacing = pacing if pacing is not None else PacingGate(
            retry_after_cap=retry_after_cap, backoff_base=backoff_base, backoff_max=backoff_max
        )

    @classmethod
    def from_env(cls, **kwargs: Any) -> Self:
        """``KYC_API_BASE_URL`` and ``KYC_API_TOKEN`` (re-read on each request: it can be refreshed)."""
        kwargs.setdefault("token", token_from_env)
        return cls(_env_base_url(), **kwargs)

    # -- configuration -------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def pacing(self) -> PacingGate:
        """The gate every request of this client (and its twins) passes through.

        Stop it (:meth:`~kyc_widgets.api.pacing.PacingGate.stop`) to end every
        wait for a 429 pause or a retry at once; :meth:`~kyc_widgets.api.pacing.PacingGate.resume`
        lets requests through again.
        """
        return self._pacing

    @property
    def retry_after_cap(self) -> float:
        """Longest wait this client honours for one ``Retry-After`` (its gate's cap)."""
        return self._pacing.retry_after_cap

    @property
    def has_token(self) -> bool:
        try:
            return bool(self._current_token())
        except AuthenticationError:
            return False

    def token_fingerprint(self) -> str | None:
        """A keyed hash of the token the next request would send (None without one).

        Lets a widget ask "did the token change?" without holding the token;
        see :func:`kyc_widgets.api.auth.fingerprint`. A failing token source counts as none.
        """
        try:
            return fingerprint(self._current_token())
        except AuthenticationError:
            return None

    def set_token(self, token: TokenLike) -> None:
        """Replace the token (string or callable), e.g. after signing in again."""
        self._token = token

    def _current_token(self) -> str | None:
        if not callable(self._token):
            return self._token or None
        try:
            return self._token() or None
        except Exception as exc:
            # A token source that fails (expired refresh, cancelled prompt) is a sign-in
            # problem, not a crash; the exception text may hold secrets, so only its type.
            raise AuthenticationError(
                f"Could not get a token ({type(exc).__name__}). Sign in again.",
                code="TOKEN_UNAVAILABLE",
            ) from None

    def async_twin(self, *, share_rate_gate: bool = True, **overrides: Any) -> AsyncKycApiClient:
        """An :class:`AsyncKycApiClient` with the same URL, token and retry settings.

        By default the twin shares this client's :attr:`pacing` gate: a
        ``Retry-After`` seen by any of them pauses all of them, and a stop ends
        all their waits, which is what lets a batch split its workers over
        several small connection pools and still back off (and stop) as one.
        A twin sharing the gate paces with the gate's cap and backoff.
        """
        settings: dict[str, Any] = {
            "base_url": self._base_url,
            "token": self._token,
            "timeout": self._timeout,
            "max_retries": self.max_retries,
            "allow_insecure_http": self._allow_insecure_http,
            "backoff_base": self._backoff_base,
            "backoff_max": self._backoff_max,
            "retry_after_cap": self.retry_after_cap,
        }
        if share_rate_gate:
            settings["pacing"] = self._pacing
        return AsyncKycApiClient(**{**settings, **overrides})

    def __repr__(self) -> str:
        # Never call a token callable here: a repr must not prompt or refresh anything.
        token_state = "callable" if callable(self._token) else ("set" if self._token else "none")
        return f"{type(self).__name__}(base_url={self._base_url!r}, token=<{token_state}>)"

    # -- requests ------------------------------------------------------------

    def _headers(self, *, auth: bool, has_body: bool) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if has_body:
            headers["Content-Type"] = "application/json"
        if auth:
            token = self._current_token()
            if token:
                headers["Authorization"] = f"Bearer {token}"
        return headers

    @staticmethod
    def _case_path(kyc_case_id: str) -> str:
        if not isinstance(kyc_case_id, str) or not kyc_case_id.strip():
            raise KycConfigurationError("kyc_case_id must be a non-empty string")
        return case_path(kyc_case_id.strip())

    @staticmethod
    def _coerce_input(data: KycCaseCreateInput | Mapping[str, Any]) -> KycCaseCreateInput:
        """Validate a dict before anything is sent; bad input never reaches the API."""
        if isinstance(data, KycCaseCreateInput):
            return data
        try:
            return KycCaseCreateInput.model_validate(dict(data))
        except pydantic.ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in err["loc"]) or None, "message": err["msg"]}
                for err in exc.errors()
            ]
            raise InvalidRequestError(
                "The case input is invalid; nothing was sent.",
                code="CLIENT_VALIDATION",
                details={"field": errors[0]["field"] if errors else None, "errors": errors},
            ) from None

    def _get_request(self, kyc_case_id: str) -> _Request:
        return _Request("GET", self._case_path(kyc_case_id), CASE_PATH_TEMPLATE)

    def _create_request(
        self, data: KycCaseCreateInput | Mapping[str, Any]
    ) -> tuple[KycCaseCreateInput, _RetryPolicy]:
        """The validated input and the retry rules of one create (own id or not)."""
        wanted = self._coerce_input(data)
        return wanted, _RetryPolicy(is_create=True, has_own_id=wanted.kyc_case_id is not None)

    def _retrying_kwargs(
        self, policy: _RetryPolicy, max_retries: int | None, sleep: Callable[..., Any]
    ) -> dict[str, Any]:
        """tenacity's settings for one call; ``sleep`` is the gate's (a stop cuts it short)."""
        retries = self.max_retries if max_retries is None else max_retries
        return {
            "sleep": lambda seconds: sleep(seconds, stoppable=not policy.answer_lost),
            "retry": tenacity.retry_if_exception(policy.should_retry),
            "stop": tenacity.stop_after_attempt(retries + 1),
            "wait": self._wait_for,
            "before_sleep": self._log_retry,
            "reraise": True,
        }

    def _wait_for(self, retry_state: tenacity.RetryCallState) -> float:
        """How long this call sleeps before its next attempt.

        After a 429 nothing: the 429 closed the shared gate, and the next
        attempt waits there (with every other request). Otherwise Retry-After
        when the API gave one (capped), else the gate's backoff with jitter.
        """
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, RateLimitedError):
            return 0.0
        if isinstance(exc, KycApiError) and exc.retry_after is not None:
            return min(exc.retry_after, self.retry_after_cap)
        return float(self._pacing.backoff(retry_state))

    def _log_retry(self, retry_state: tenacity.RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        sleep = retry_state.next_action.sleep if retry_state.next_action else 0.0
        logger.warning(
            "retrying after %s (attempt %d, waiting %.2f s, request_id=%s)",
            getattr(exc, "code", type(exc).__name__),
            retry_state.attempt_number,
            max(sleep, self._pacing.remaining()),
            getattr(exc, "request_id", None),
        )

    def _stopped(self, stop: PacingStopped, policy: _RetryPolicy) -> RequestStoppedError:
        """The error for a call whose wait the gate cut short (keeps the answer that made it wait)."""
        error = RequestStoppedError(stop.reason, policy.last_error)
        error.request_id = policy.last_error.request_id if policy.last_error else None
        error.outcome_unknown = policy.answer_lost
        error.attempts = policy.sent
        return error

    def _transport_error(self, exc: httpx.RequestError, *, is_create: bool) -> KycApiError:
        """Map httpx's failures; for a create, anything after connecting leaves the outcome unknown."""
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
            return ApiConnectError(code="CONNECT_ERROR")
        unknown = is_create
        note = (
            " The case may or may not have been created." if unknown else ""
        )
        if isinstance(exc, httpx.TimeoutException):
            return ApiTimeoutError(
                ApiTimeoutError.default_message + note, code="TIMEOUT", outcome_unknown=unknown
            )
        if isinstance(exc, httpx.DecodingError):
            return UnexpectedResponseError(
                "The KYC API's answer could not be decoded." + note,
                code="UNREADABLE_ANSWER",
                outcome_unknown=unknown,
            )
        return TransportError(
            "The connection to the KYC API was lost before an answer arrived." + note,
            code="CONNECTION_LOST",
            outcome_unknown=unknown,
        )

    def _send_failed(self, exc: httpx.RequestError, request: _Request, started: float) -> KycApiError:
        """No answer: the mapped error, logged without the URL's case id."""
        error = self._transport_error(exc, is_create=request.method == "POST")
        logger.debug(
            "%s %s -> %s in %.1f ms",
            request.method, request.template, error.code, (time.perf_counter() - started) * 1000,
        )
        return error

    def _handle_response(self, response: httpx.Response, request: _Request) -> httpx.Response:
        """Log the call (no bodies, no personal data), tell the gate, raise for anything but 2xx."""
        error = None if response.is_success else error_from_response(response)
        logger.debug(
            "%s %s -> %d in %.1f ms request_id=%s",
            request.method,
            request.template,
            response.status_code,
            _elapsed_ms(response),
            error.request_id if error else response.headers.get("x-request-id"),
        )
        if error is None:
            self._pacing.passed()
            return response
        if isinstance(error, RateLimitedError):
            self._pacing.rate_limited(error.retry_after)
        if request.method == "POST" and isinstance(error, ServerError) and not (error.status == 503 and error.retryable):
            # A 5xx that does not declare "nothing was done" may hide a stored case.
            error.outcome_unknown = True
        raise error

    @staticmethod
    def _parse(response: httpx.Response, model: type[_T]) -> _T:
        try:
            return model.model_validate_json(response.content)  # type: ignore[attr-defined]
        except (pydantic.ValidationError, ValueError):
            raise UnexpectedResponseError(
                f"The KYC API answered HTTP {response.status_code} with a body this client "
                "does not understand.",
                status=response.status_code,
                request_id=response.headers.get("x-request-id"),
            ) from None

    def _created_envelope(self, response: httpx.Response, attempts: int) -> CaseEnvelope:
        """A create's 2xx: if its body cannot be read, the case exists but we cannot say which."""
        try:
            return self._envelope(response, attempts)
        except UnexpectedResponseError as exc:
            exc.outcome_unknown = True
            exc.attempts = attempts
            raise

    def _envelope(self, response: httpx.Response, attempts: int, recovered: bool = False) -> CaseEnvelope:
        envelope = self._parse(response, CaseEnvelope)
        envelope.record_delivery(
            attempts=attempts, recovered=recovered, request_id=response.headers.get("x-request-id")
        )
        return envelope

    @staticmethod
    def _recovery_id(policy: _RetryPolicy, wanted: KycCaseCreateInput, conflict: ConflictError) -> str:
        """The id to load when a 409 may be our own lost create; re-raise the 409 otherwise."""
        if not policy.answer_lost or wanted.kyc_case_id is None:
            raise conflict
        return wanted.kyc_case_id

    @staticmethod
    def _confirm_recovered(
        wanted: KycCaseCreateInput, found: CaseEnvelope | None, conflict: ConflictError
    ) -> CaseEnvelope:
        """Return the loaded case if it is the one we tried to create, else the 409.

        Our own earlier attempt, had it landed, would match the input field for
        field; a case that differs belongs to someone else, so ours did not land.
        """
        if found is None:
            raise conflict
        record = found.case.model_dump(mode="json")
        if any(record.get(k) != v for k, v in wanted.to_request_json().items()):
            conflict.outcome_unknown = False
            raise conflict
        found.record_delivery(attempts=conflict.attempts, recovered=True)
        return found

    @staticmethod
    def _finish_failure(exc: KycApiError, policy: _RetryPolicy, attempts: int) -> KycApiError:
        if policy.answer_lost:
            exc.outcome_unknown = True
        exc.attempts = max(attempts, 1)
        return exc

    @staticmethod
    def _readiness_from(response: httpx.Response) -> ReadinessStatus | None:
        """/readyz answers 503 with its checks when not ready: keep them."""
        try:
            return ReadinessStatus.model_validate_json(response.content)
        except (pydantic.ValidationError, ValueError):
            return None

    def _readiness_or_raise(self, response: httpx.Response) -> ReadinessStatus:
        status = self._readiness_from(response) if response.status_code in (200, 503) else None
        if status is not None:
            logger.debug("GET /readyz -> %d in %.1f ms", response.status_code,
                         _elapsed_ms(response))
            return status
        self._handle_response(response, _READYZ)
        return self._parse(response, ReadinessStatus)

    def _diagnose_readiness(self, diagnosis: Diagnosis, response: httpx.Response | KycApiError) -> bool:
        """Record what ``/readyz`` said; True when the token is worth probing next."""
        if isinstance(response, KycApiError):
            diagnosis.reach_error = response.message
            return False
        _fill_readiness(diagnosis, response, self._readiness_from(response))
        if not diagnosis.token_configured:
            diagnosis.authenticated, diagnosis.auth_error = False, "No token is configured."
            return False
        return True

    def _probe(self) -> _Request:
        """A read of a case that cannot exist: 404 proves the token was accepted."""
        return _Request("GET", self._case_path(f"diagnose-probe-{uuid.uuid4().hex}"), CASE_PATH_TEMPLATE)

    @staticmethod
    def _auth_fact(diagnosis: Diagnosis, exc: KycApiError | None) -> None:
        if exc is None:
            diagnosis.authenticated = True
        elif isinstance(exc, NotFoundError):
            diagnosis.authenticated = True  # the probe id does not exist: the token was accepted
        elif isinstance(exc, AuthenticationError):
            diagnosis.authenticated, diagnosis.auth_error = False, exc.message
        elif isinstance(exc, PermissionDeniedError):
            diagnosis.authenticated, diagnosis.auth_error = True, exc.message
        else:
            diagnosis.auth_error = exc.message
        if exc is not None and exc.request_id:
            diagnosis.request_ids.append(exc.request_id)

    # -- flows (each call once; the clients only run them) --------------------

    def _create_flow(self, data: KycCaseCreateInput | Mapping[str, Any]) -> _Flow[CaseEnvelope]:
        """POST the case; a 409 after a lost answer may be our own case, so load and compare it."""
        wanted, policy = self._create_request(data)
        try:
            response, attempts = yield _Send(_post_request(wanted), policy)
        except ConflictError as conflict:
            case_id = self._recovery_id(policy, wanted, conflict)
            try:
                found: CaseEnvelope | None = yield from self._get_flow(case_id)
            except KycApiError:
                found = None
            return self._confirm_recovered(wanted, found, conflict)
        return self._created_envelope(response, attempts)

    def _get_flow(self, kyc_case_id: str) -> _Flow[CaseEnvelope]:
        response, attempts = yield _Send(self._get_request(kyc_case_id))
        return self._envelope(response, attempts)

    def _health_flow(self) -> _Flow[HealthStatus]:
        answer = yield _Send(_HEALTHZ)
        return self._parse(answer.response, HealthStatus)

    def _readiness_flow(self) -> _Flow[ReadinessStatus]:
        answer = yield _Send(_READYZ, once=True)
        return self._readiness_or_raise(answer.response)

    def _diagnose_flow(self) -> _Flow[Diagnosis]:
        """``/readyz`` once, then (if it answered and a token is set) one probe for the token."""
        diagnosis = Diagnosis(base_url=self._base_url, token_configured=self.has_token)
        try:
            readyz: httpx.Response | KycApiError = (yield _Send(_READYZ, once=True)).response
        except KycApiError as exc:
            readyz = exc
        if self._diagnose_readiness(diagnosis, readyz):
            try:
                yield _Send(self._probe(), max_retries=0)
            except KycApiError as exc:
                self._auth_fact(diagnosis, exc)
            else:
                self._auth_fact(diagnosis, None)
        return diagnosis


def _post_request(wanted: KycCaseCreateInput) -> _Request:
    return _Request("POST", CASES_PATH, CASES_PATH, json=wanted.to_request_json())


_ELAPSED_KEY = "kyc_widgets.elapsed_ms"


def _timed(response: httpx.Response, started: float) -> httpx.Response:
    """Note how long the request took (for the debug log); ``elapsed`` is unset for a mock transport."""
    response.extensions[_ELAPSED_KEY] = (time.perf_counter() - started) * 1000
    return response


def _elapsed_ms(response: httpx.Response) -> float:
    return float(response.extensions.get(_ELAPSED_KEY, 0.0))


def _env_base_url() -> str:
    base_url = os.environ.get("KYC_API_BASE_URL")
    if not base_url:
        raise KycConfigurationError("KYC_API_BASE_URL is not set")
    return base_url


# --------------------------------------------------------------------------- sync client


class KycApiClient(_BaseClient):
    """Synchronous KYC API client (notebooks, scripts, the form widgets).

    ``token`` may be a string or a callable returning the current token; it is
    read on every request so a refreshed token is picked up without rebuilding
    anything. ``pacing`` joins an existing :class:`~kyc_widgets.api.pacing.PacingGate`
    (then its cap and backoff apply); without it the client makes its own from
    ``retry_after_cap``, ``backoff_base`` and ``backoff_max``.
    """

    is_async = False

    def __init__(
        self,
        base_url: str,
        token: TokenLike = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        allow_insecure_http: bool = False,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP,
        pacing: PacingGate | None = None,
    ) -> None:
        super().__init__(
            base_url,
            token,
            timeout=timeout,
            max_retries=max_retries,
            allow_insecure_http=allow_insecure_http,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            retry_after_cap=retry_after_cap,
            pacing=pacing,
        )
        self._http = httpx.Client(base_url=self._base_url, timeout=self._timeout, transport=transport)

    # -- plumbing ------------------------------------------------------------

    def _exchange(self, policy: _RetryPolicy, request: _Request) -> httpx.Response:
        """One request through the pacing gate; any HTTP answer is returned as is."""
        with self._pacing.slot(stoppable=not policy.answer_lost) as slot:
            started = time.perf_counter()
            headers = self._headers(auth=request.auth, has_body=request.json is not None)
            try:
                response = self._http.request(request.method, request.path, json=request.json, headers=headers)
            except httpx.RequestError as exc:
                raise self._send_failed(exc, request, started) from None
            slot.answered(response.status_code)
        return _timed(response, started)

    def _call(
        self, policy: _RetryPolicy, request: _Request, max_retries: int | None = None
    ) -> tuple[httpx.Response, int]:
        attempts = 0
        try:
            for attempt in tenacity.Retrying(**self._retrying_kwargs(policy, max_retries, self._pacing.sleep)):
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    return self._handle_response(self._exchange(policy, request), request), attempts
        except PacingStopped as stop:
            raise self._stopped(stop, policy) from None
        except KycApiError as exc:
            raise self._finish_failure(exc, policy, attempts) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _run(self, flow: _Flow[_T]) -> _T:
        """Perform each step ``flow`` yields, blocking; the async ``_run`` awaits the same steps."""
        outcome: _Answer | KycApiError | None = None
        while True:
            try:
                step = _resume(flow, outcome)
            except StopIteration as done:
                return cast(_T, done.value)
            try:
                if step.once:
                    outcome = _Answer(self._exchange(step.policy, step.request), 1)
                else:
                    outcome = _Answer(*self._call(step.policy, step.request, step.max_retries))
            except PacingStopped as stop:  # only a single attempt lets the gate's stop out
                outcome = self._stopped(stop, step.policy)
            except KycApiError as exc:
                outcome = exc

    # -- API -----------------------------------------------------------------

    def create_case(self, data: KycCaseCreateInput | Mapping[str, Any]) -> CaseEnvelope:
        """``POST /api/v1/kyc-cases``. Accepts the model or a dict (validated before sending).

        Raises :class:`~kyc_widgets.api.errors.ConflictError` on a duplicate external id,
        and a :class:`~kyc_widgets.api.errors.KycApiError` with ``outcome_unknown=True``
        when the case may have been created but no answer came back.
        """
        return self._run(self._create_flow(data))

    def get_case(self, kyc_case_id: str) -> CaseEnvelope:
        """``GET /api/v1/kyc-cases/{case_id}``; :class:`NotFoundError` when absent."""
        return self._run(self._get_flow(kyc_case_id))

    def health(self) -> HealthStatus:
        """``GET /healthz`` (public)."""
        return self._run(self._health_flow())

    def readiness(self) -> ReadinessStatus:
        """``GET /readyz`` (public), one attempt: a not-ready answer is returned, not raised.

        Not retried on purpose: readiness is a diagnostic, and a retry would hide
        exactly the flapping it is meant to show.
        """
        return self._run(self._readiness_flow())

    def diagnose(self) -> Diagnosis:
        """Reachability, readiness and token acceptance as separate facts; never raises."""
        return self._run(self._diagnose_flow())

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --------------------------------------------------------------------------- async client


class AsyncKycApiClient(_BaseClient):
    """Asynchronous twin of :class:`KycApiClient` (batch creation, async apps).

    ``ssl_context`` lets many clients share one TLS context: building one
    reads the system's certificates and costs ~50 ms, which a batch that makes
    a client per connection pool would otherwise pay, on its event loop, for each.
    """

    is_async = True

    def __init__(
        self,
        base_url: str,
        token: TokenLike = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        allow_insecure_http: bool = False,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP,
        limits: httpx.Limits | None = None,
        pacing: PacingGate | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(
            base_url,
            token,
            timeout=timeout,
            max_retries=max_retries,
            allow_insecure_http=allow_insecure_http,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            retry_after_cap=retry_after_cap,
            pacing=pacing,
        )
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            timeout=self._timeout,
            transport=transport,
            limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=100),
            verify=ssl_context if ssl_context is not None else True,
        )

    # -- plumbing ------------------------------------------------------------

    async def _exchange(self, policy: _RetryPolicy, request: _Request) -> httpx.Response:
        """Async :meth:`KycApiClient._exchange`."""
        async with self._pacing.slot(stoppable=not policy.answer_lost) as slot:
            started = time.perf_counter()
            headers = self._headers(auth=request.auth, has_body=request.json is not None)
            try:
                response = await self._http.request(
                    request.method, request.path, json=request.json, headers=headers
                )
            except httpx.RequestError as exc:
                raise self._send_failed(exc, request, started) from None
            slot.answered(response.status_code)
        return _timed(response, started)

    async def _call(
        self, policy: _RetryPolicy, request: _Request, max_retries: int | None = None
    ) -> tuple[httpx.Response, int]:
        attempts = 0
        try:
            async for attempt in tenacity.AsyncRetrying(
                **self._retrying_kwargs(policy, max_retries, self._pacing.asleep)
            ):
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    return self._handle_response(await self._exchange(policy, request), request), attempts
        except PacingStopped as stop:
            raise self._stopped(stop, policy) from None
        except KycApiError as exc:
            raise self._finish_failure(exc, policy, attempts) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _run(self, flow: _Flow[_T]) -> _T:
        """:meth:`KycApiClient._run`, awaiting each step."""
        outcome: _Answer | KycApiError | None = None
        while True:
            try:
                step = _resume(flow, outcome)
            except StopIteration as done:
                return cast(_T, done.value)
            try:
                if step.once:
                    outcome = _Answer(await self._exchange(step.policy, step.request), 1)
                else:
                    answer = await self._call(step.policy, step.request, step.max_retries)
                    outcome = _Answer(*answer)
            except PacingStopped as stop:  # only a single attempt lets the gate's stop out
                outcome = self._stopped(stop, step.policy)
            except KycApiError as exc:
                outcome = exc

    # -- API -----------------------------------------------------------------

    async def create_case(self, data: KycCaseCreateInput | Mapping[str, Any]) -> CaseEnvelope:
        """Async :meth:`KycApiClient.create_case`: same flow, same rules, same errors."""
        return await self._run(self._create_flow(data))

    async def get_case(self, kyc_case_id: str) -> CaseEnvelope:
        """Async :meth:`KycApiClient.get_case`."""
        return await self._run(self._get_flow(kyc_case_id))

    async def health(self) -> HealthStatus:
        """Async :meth:`KycApiClient.health`."""
        return await self._run(self._health_flow())

    async def readiness(self) -> ReadinessStatus:
        """Async :meth:`KycApiClient.readiness`."""
        return await self._run(self._readiness_flow())

    async def diagnose(self) -> Diagnosis:
        """Async :meth:`KycApiClient.diagnose`; never raises."""
        return await self._run(self._diagnose_flow())

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _fill_readiness(
    diagnosis: Diagnosis, response: httpx.Response, status: ReadinessStatus | None
) -> None:
    """Any HTTP answer proves reachability; the body (if it parses) says readiness."""
    diagnosis.reachable = True
    request_id = response.headers.get("x-request-id")
    if request_id:
        diagnosis.request_ids.append(request_id)
    if status is None:
        diagnosis.ready = False
        diagnosis.ready_error = f"/readyz answered HTTP {response.status_code} without a readiness body"
        return
    diagnosis.ready = status.ready
    diagnosis.release = status.release
    diagnosis.failed_checks = status.failed_checks

