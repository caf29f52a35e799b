"""Contract error envelopes and request ids, as the sandbox sends them.

Every non-2xx answer goes through :func:`error_response` so that its shape is
the contract's ``{"error": {...}}`` with the same ``request_id`` as the
``X-Request-ID`` header. Messages are safe to show: they never repeat submitted
values (names, e-mails, ids), only field names and allowed values.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from kyc_widgets.models import CREATE_STATUSES, ErrorBody, ErrorEnvelope

__all__ = [
    "REQUEST_ID_HEADER",
    "error_body",
    "error_bytes",
    "new_request_id",
    "validation_details",
]

REQUEST_ID_HEADER = "X-Request-ID"

_CATEGORY_BY_STATUS = {
    400: "validation",
    401: "authentication",
    403: "authorization",
    404: "not_found",
    405: "method",
    409: "conflict",
    429: "rate_limit",
    503: "availability",
}

_RETRYABLE_STATUSES = frozenset({429, 503})


def new_request_id() -> str:
    """A fresh, unguessable request id (``req_`` + 24 hex digits)."""
    return "req_" + uuid.uuid4().hex[:24]


def error_body(
    status: int,
    code: str,
    message: str,
    request_id: str,
    *,
    developer_message: str | None = None,
    details: Mapping[str, Any] | None = None,
    retryable: bool | None = None,
) -> dict[str, Any]:
    """The contract envelope as a JSON-ready dict (absent optional keys omitted)."""
    body = ErrorBody(
        code=code,
        message=message,
        developer_message=developer_message,
        category=_CATEGORY_BY_STATUS.get(status, "error"),
        http_status=status,
        request_id=request_id,
        retryable=(status in _RETRYABLE_STATUSES) if retryable is None else retryable,
        details=dict(details or {}),
    )
    dumped = ErrorEnvelope(error=body).model_dump(mode="json")
    dumped["error"] = {k: v for k, v in dumped["error"].items() if v is not None}
    return dumped


def error_bytes(*args: Any, **kwargs: Any) -> bytes:
    """:func:`error_body` serialised, ready to send."""
    return json.dumps(error_body(*args, **kwargs), separators=(",", ":")).encode()


_ENUM_CHOICES_HINT = "Choose one of: {choices}."
_MAX_FIELD_NAME = 100


def _field_name(loc: Iterable[Any]) -> str | None:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    # Unknown keys come from the caller; cap them so an answer stays small.
    return ".".join(parts)[:_MAX_FIELD_NAME] if parts else None


def _safe_message(field: str | None, error: Mapping[str, Any]) -> str:
    """A message for one pydantic error that never echoes the submitted value.

    Pydantic's own ``msg`` does not contain the input except for validators
    that build text from it (the e-mail validator quotes offending parts), so
    those get a fixed text.
    """
    kind = str(error.get("type", ""))
    if kind == "missing":
        return "This field is required."
    if kind == "extra_forbidden":
        return "This field is not part of a case; remove it."
    if field == "current_status" and kind == "enum":
        return (
            "Cases can only be created in an open status; final outcomes come from review. "
            + _ENUM_CHOICES_HINT.format(choices=", ".join(sorted(CREATE_STATUSES)))
        )
    if field == "kyc_case_id" and kind == "string_too_short":
        return "Leave kyc_case_id out (or send null) to have one generated; it must not be empty."
    if field == "assigned_analyst_email":
        return "Enter a valid e-mail address, like name@example.org, or leave it empty."
    if kind == "string_too_short":
        return "This field must not be blank."
    if kind == "string_too_long":
        limit = (error.get("ctx") or {}).get("max_length")
        return f"This field is too long (at most {limit} characters)." if limit else "Too long."
    if kind == "string_type":
        return "This field must be text."
    if kind == "enum":
        expected = (error.get("ctx") or {}).get("expected")
        return f"Choose one of: {expected}." if expected else "Choose one of the allowed values."
    if kind == "value_error":
        # Our own validators word their messages without the value. Only the first letter
        # is raised: "U+202E RIGHT-TO-LEFT OVERRIDE" must keep its case.
        message = str(error.get("msg", "Invalid value.")).removeprefix("Value error, ")
        return message[:1].upper() + message[1:]
    return "This value is not valid."


def validation_details(exc: ValidationError) -> dict[str, Any]:
    """``details`` for a 400: the first bad field and every ``{field, message}``."""
    errors: list[dict[str, Any]] = []
    for err in exc.errors(include_input=False, include_url=False):
        field = _field_name(err.get("loc", ()))
        errors.append({"field": field, "message": _safe_message(field, err)})
    return {"field": errors[0]["field"] if errors else None, "errors": errors}
