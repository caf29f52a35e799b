"""The sandbox KYC API as a FastAPI application.

Request bodies are parsed here rather than by FastAPI so that every way a body
can be wrong (wrong content type, too large, not JSON, not an object, invalid
fields) answers with the contract's envelope and ``details.field`` /
``details.errors``, and so the OpenAPI document still describes the body with
:class:`~kyc_widgets.models.KycCaseCreateInput` (via ``openapi_extra``).
FastAPI's own 404/405/422/500 handlers are replaced for the same reason.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from kyc_widgets.api.paths import CASE_PATH_TEMPLATE, CASES_PATH, case_path
from kyc_widgets.models import (
    CaseEnvelope,
    ErrorEnvelope,
    HealthStatus,
    KycCaseCreateInput,
    KycCaseRecord,
    ReadinessStatus,
)
from kyc_widgets.sandbox.envelope import error_bytes, new_request_id, validation_details
from kyc_widgets.sandbox.gate import GateSettings, SandboxGate, log_unexpected
from kyc_widgets.sandbox.store import CaseStore, DuplicateCaseError

__all__ = ["CASES_PATH", "MAX_BODY_BYTES", "SandboxState", "create_app", "create_fastapi_app"]

MAX_BODY_BYTES = 64 * 1024
"""A case is a few hundred bytes; anything above 64 KiB is a mistake, not a case."""

_MAX_DRAIN_BYTES = 16 * 1024 * 1024
CASE_ROUTE = CASE_PATH_TEMPLATE.format(case_id="{kyc_case_id:path}")
"""The case path as a route: ``:path`` because Starlette matches the decoded path, where an
id's encoded ``/`` is a slash again."""

T = TypeVar("T")


@dataclass
class SandboxState:
    """Everything a running sandbox app needs: its store, its knobs, its release."""

    store: CaseStore
    settings: GateSettings
    release: str
    executor: ThreadPoolExecutor

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a store call on the single database thread, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = content if isinstance(content, bytes) else json.dumps(content, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    return rid if isinstance(rid, str) else new_request_id()


def _error(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> Response:
    rid = _request_id(request)
    return _json(
        error_bytes(status, code, message, rid, **kwargs),
        status,
        {**(headers or {}), "X-Request-ID": rid, "Cache-Control": "no-store"},
    )


def _bad_request(request: Request, code: str, message: str, field_message: str) -> Response:
    """A 400 about the body as a whole: no single field to blame."""
    return _error(
        request,
        400,
        code,
        message,
        details={"field": None, "errors": [{"field": None, "message": field_message}]},
    )


async def _read_body(request: Request) -> tuple[bytes, bool]:
    """The body up to :data:`MAX_BODY_BYTES`, and whether it was longer.

    An oversized body is still drained (up to a cap) so the client gets to
    read our 400 instead of a broken pipe.
    """
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= MAX_BODY_BYTES:
            chunks.append(chunk)
        elif size > _MAX_DRAIN_BYTES:
            break
    return b"".join(chunks), size > MAX_BODY_BYTES


def _is_json_media_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": text}
    for status, text in {
        400: "Validation failed (see details.field and details.errors)",
        401: "Missing or invalid bearer token",
        404: "No such case",
        409: "A case with this kyc_case_id already exists",
        429: "Rate limited (see Retry-After)",
        503: "Temporarily unavailable; nothing was changed",
    }.items()
}

_CREATE_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/KycCaseCreateInput"}}
        },
    }
}


def create_fastapi_app(state: SandboxState) -> FastAPI:
    """The FastAPI application (routes and handlers), without the gate."""
    app = FastAPI(
        title="kyc-widgets sandbox KYC API",
        version=state.release,
        description="A local reference implementation of the KYC API contract.",
        docs_url=None,  # Swagger UI would fetch assets from a CDN: no network here
        redoc_url=None,
        openapi_url="/openapi.json",
        redirect_slashes=False,
    )
    app.state.sandbox = state
    _add_error_handlers(app)
    _add_health_routes(app, state)
    _add_case_routes(app, state)
    _use_contract_openapi(app)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Answer FastAPI's own 404/405/422/500 cases with the contract's envelope."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 404:
            return _error(request, 404, "NOT_FOUND", "There is nothing at this address.", headers)
        if exc.status_code == 405:
            return _error(
                request,
                405,
                "METHOD_NOT_ALLOWED",
                "This address does not support that method.",
                headers,
                details={"allow": headers.get("Allow", "")},
            )
        return _error(
            request, exc.status_code, f"HTTP_{exc.status_code}", "The request failed.", headers
        )

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> Response:
        return _error(
            request,
            400,
            "VALIDATION_FAILED",
            "The request is not valid.",
            details={"field": None, "errors": []},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        request.state.request_id = _request_id(request)  # the log and the answer quote one id
        log_unexpected(exc, request.state.request_id, request.scope["state"])
        return _error(request, 500, "INTERNAL_ERROR", "Something went wrong on our side.")


def _add_health_routes(app: FastAPI, state: SandboxState) -> None:
    """``/healthz`` and ``/readyz`` (the function names are the OpenAPI operation ids)."""

    @app.get("/healthz", response_model=HealthStatus, tags=["health"])
    async def healthz() -> Response:
        """Is the process up (no dependency checks)."""
        return _json({"status": "ok", "release": state.release})

    @app.get("/readyz", response_model=ReadinessStatus, tags=["health"])
    async def readyz() -> Response:
        """Can the service do its work: the database must answer a query."""
        try:
            await state.db(state.store.ping)
            check: dict[str, Any] = {"name": "database", "ok": True}
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            check = {"name": "database", "ok": False, "detail": type(exc).__name__}
        return _json(
            {
                "status": "ready" if check["ok"] else "not_ready",
                "release": state.release,
                "checks": [check],
            }
        )


def _add_case_routes(app: FastAPI, state: SandboxState) -> None:
    """Create a case and load a case (the function names are the OpenAPI operation ids)."""

    @app.post(
        CASES_PATH,
        status_code=201,
        response_model=CaseEnvelope,
        responses=_ERROR_RESPONSES,
        openapi_extra=_CREATE_BODY_DOC,
        tags=["cases"],
        summary="Create a KYC case",
    )
    async def create_case(request: Request) -> Response:
        """Create a case; ``kyc_case_id`` is generated when absent, 409 when taken."""
        case_input = await _case_input_or_refusal(request)
        if isinstance(case_input, Response):
            return case_input
        principal = str(request.state.principal)
        try:
            record = await state.db(
                state.store.insert, case_input.model_dump(mode="json"), principal
            )
        except DuplicateCaseError:
            return _error(
                request,
                409,
                "KYC_CASE_ALREADY_EXISTS",
                "A case with this external case ID already exists.",
                details={"field": "kyc_case_id"},
            )
        envelope = CaseEnvelope(principal=principal, case=KycCaseRecord.model_validate(record))
        return _json(
            envelope.model_dump_json().encode(),
            201,
            {"Location": case_path(record["kyc_case_id"])},
        )

    @app.get(
        CASE_ROUTE,
        response_model=CaseEnvelope,
        responses=_ERROR_RESPONSES,
        tags=["cases"],
        summary="Load a KYC case by its kyc_case_id",
    )
    async def get_case(request: Request, kyc_case_id: str) -> Response:
        """Load one case by its external id (URL-encoded in the path)."""
        record = await state.db(state.store.get, kyc_case_id) if kyc_case_id else None
        if record is None:
            return _error(
                request,
                404,
                "NOT_FOUND",
                "No case with this external case ID exists.",
                # sandbox decides: the caller's own principal, so a lookup answers "who am I"
                # without reading a case (docs/api-contract.md, "Who the caller is")
                details={"resource": "kyc_case", "principal": str(request.state.principal)},
            )
        envelope = CaseEnvelope(
            principal=str(request.state.principal), case=KycCaseRecord.model_validate(record)
        )
        return _json(envelope.model_dump_json().encode())


async def _case_input_or_refusal(request: Request) -> KycCaseCreateInput | Response:
    """The case in the request body, or the 400 that says what is wrong with the body.

    The checks go from the outside in (media type, size, JSON, object, fields), so
    the answer names the first thing a client has to fix.
    """
    raw, too_large = await _read_body(request)
    if not _is_json_media_type(request.headers.get("content-type")):
        return _bad_request(
            request,
            "UNSUPPORTED_MEDIA_TYPE",
            "Send the case as JSON (Content-Type: application/json).",
            "The request body must be JSON with Content-Type: application/json.",
        )
    if too_large:
        return _bad_request(
            request,
            "PAYLOAD_TOO_LARGE",
            f"The request body is too large (at most {MAX_BODY_BYTES // 1024} KiB).",
            "The request body is too large.",
        )
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return _bad_request(
            request, "INVALID_JSON", "The request body is not valid JSON.", "Not valid JSON."
        )
    if not isinstance(data, dict):
        return _bad_request(
            request,
            "VALIDATION_FAILED",
            "The request body must be a JSON object with the case fields.",
            "Expected a JSON object.",
        )
    try:
        return KycCaseCreateInput.model_validate(data)
    except ValidationError as exc:
        return _fields_invalid(request, exc)


def _fields_invalid(request: Request, exc: ValidationError) -> Response:
    """The 400 for a body whose fields break the model: one entry per field."""
    details = validation_details(exc)
    count = len(details["errors"])
    return _error(
        request,
        400,
        "VALIDATION_FAILED",
        "One field needs attention." if count == 1 else f"{count} fields need attention.",
        details=details,
    )


def _use_contract_openapi(app: FastAPI) -> None:
    """Serve :func:`_contract_openapi` as the app's document, built once, on first use."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _contract_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _contract_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document for ``app``, completed to describe what the server really does."""
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    _add_case_input_schema(schema)
    schema.setdefault("components", {})["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer"}
    }
    _document_what_the_gate_does(schema)
    return schema


def _add_case_input_schema(schema: dict[str, Any]) -> None:
    """Add :class:`KycCaseCreateInput` (and the models it uses) to the document's schemas.

    ``create_case`` parses its body itself, so FastAPI never sees the model; the
    ``$ref`` in :data:`_CREATE_BODY_DOC` needs it among the components.
    """
    body_schema = KycCaseCreateInput.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, sub in body_schema.pop("$defs", {}).items():
        components.setdefault(name, sub)
    components["KycCaseCreateInput"] = body_schema


def _document_what_the_gate_does(schema: dict[str, Any]) -> None:
    """Make the document say what the server does, not what FastAPI assumes.

    Every ``/api/`` operation needs the bearer token (the gate answers 401
    without one). FastAPI's own 422 answer never happens here: request
    validation errors are 400s with the contract envelope (see
    ``request_invalid``), so the 422 entries and their schemas are removed.
    """
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            if path.startswith("/api/"):
                operation["security"] = [{"bearer": []}]
            operation.get("responses", {}).pop("422", None)
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def create_app(state: SandboxState) -> SandboxGate:
    """The ASGI application to serve: the API behind the sandbox gate."""
    return SandboxGate(create_fastapi_app(state), state.settings)
