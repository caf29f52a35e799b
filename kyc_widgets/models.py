"""Pydantic models for the KYC API contract (``docs/api-contract.md``).

These models are the single source of truth: the form generator reads their
titles and descriptions, the batch path validates spreadsheet rows with them,
and the sandbox server validates request bodies with them. Change a rule here
and every surface follows.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PlainValidator,
    PrivateAttr,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from .countries import COUNTRY_CODES, country_refusal
from .labels import words
from .text import (
    BLANK_LOOKING_RANGES,
    DEFAULT_IGNORABLE_RANGES,
    FORBIDDEN_RANGES,
    FORMAT_RANGES,
    WHITESPACE,
    WHITESPACE_RANGES,
    character_name,
    clean_text,
    nfc,
)

__all__ = [
    "BLANK_PATTERN",
    "COUNTRY_CODE_PATTERN",
    "CREATE_STATUSES",
    "DEFAULT_CREATE_STATUS",
    "EMAIL_PATTERN",
    "KYC_CASE_ID_MAX_LENGTH",
    "KYC_CASE_ID_PATTERN",
    "NON_BLANK_PATTERN",
    "REQUIRED_CREATE_FIELDS",
    "SERVER_OWNED_FIELDS",
    "TEXT_MAX_LENGTH",
    "WHITESPACE",
    "CaseEnvelope",
    "CasePriority",
    "CreateStatus",
    "ErrorBody",
    "ErrorEnvelope",
    "FieldError",
    "HealthStatus",
    "KycCaseCreateInput",
    "KycCaseRecord",
    "ReadinessCheck",
    "ReadinessStatus",
    "RelationshipType",
    "UserType",
]


def _title_from_name(name: str, _info: Any = None) -> str:
    """``legal_first_name`` -> ``Legal first name``: reads as words, not Title Case."""
    return words(name)


class RelationshipType(str, Enum):
    """Why the case exists: a new customer, a periodic refresh, a remediation..."""

    NEW_ONBOARDING = "NEW_ONBOARDING"
    KYC_REFRESH = "KYC_REFRESH"
    LIMIT_INCREASE = "LIMIT_INCREASE"
    REMEDIATION = "REMEDIATION"
    REACTIVATION = "REACTIVATION"


class UserType(str, Enum):
    """The role the subject plays for the regulated provider."""

    INDIVIDUAL = "INDIVIDUAL"
    SOLE_TRADER = "SOLE_TRADER"
    LEGAL_REPRESENTATIVE = "LEGAL_REPRESENTATIVE"
    BENEFICIAL_OWNER = "BENEFICIAL_OWNER"


class CreateStatus(str, Enum):
    """Statuses a case may be *created* in.

    Final outcomes (approved, rejected, closed) are deliberately absent: they
    result from human review decisions, never from case creation.
    """

    DRAFT = "DRAFT"
    DOCUMENTS_SUBMITTED = "DOCUMENTS_SUBMITTED"
    EXTRACTION_IN_PROGRESS = "EXTRACTION_IN_PROGRESS"
    EXTRACTION_FAILED = "EXTRACTION_FAILED"
    PENDING = "PENDING"
    PENDING_REVIEW = "PENDING_REVIEW"
    WAITING_FOR_CUSTOMER = "WAITING_FOR_CUSTOMER"
    ESCALATED = "ESCALATED"
    SUSPENDED = "SUSPENDED"


CREATE_STATUSES: frozenset[str] = frozenset(s.value for s in CreateStatus)

DEFAULT_CREATE_STATUS = CreateStatus.DRAFT
"""What the form and a sheet without a status column start a case in.

The contract makes ``current_status`` required, so the default lives in the
product layers (form, batch), never in the model the API validates with.
"""


class CasePriority(str, Enum):
    """How urgently the case should be worked."""

    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    URGENT = "URGENT"


KYC_CASE_ID_MAX_LENGTH = 100
TEXT_MAX_LENGTH = 200

# --- text rules, stated once for the validators and the published JSON schema -----------
#
# Each rule below is a regular expression that the model's validators use and that the
# sandbox's OpenAPI document publishes as ``pattern``, so what the schema calls valid is
# what the API accepts (docs/api-contract.md, "Validation rules"). Character classes are
# explicit ``\uXXXX`` ranges (characters beyond U+FFFF as themselves; no ``\s``, ``\w`` or
# lookarounds), which Python's ``re`` and ECMA-262 (JSON Schema's dialect) read alike.

_INVISIBLE_RANGES = (
    *WHITESPACE_RANGES,
    (0x00, 0x1F), (0x7F, 0x9F),  # control characters (Cc)
    *FORMAT_RANGES,  # soft hyphen, zero-width and joiner characters, bidi controls, BOM, tags...
    # Default-ignorable code points that are letters or marks (Hangul fillers, variation
    # selectors, U+034F, Khmer inherent vowels...), and the braille blank: drawn as nothing
    # or as empty space, so "SPOOF-1" + U+3164 would look like "SPOOF-1".
    *DEFAULT_IGNORABLE_RANGES,
    *BLANK_LOOKING_RANGES,
)
"""Characters nobody can see or type on purpose: never part of an id or an address
(:data:`kyc_widgets.text.IDENTIFIER_INVISIBLE_RANGES` without lone surrogates)."""

_ASCII_PUNCTUATION_BUT_HYPHEN = ((0x21, 0x2C), (0x2E, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E))


def _char_class(*groups: tuple[tuple[int, int], ...]) -> str:
    """The inside of a regex ``[...]`` for code point ranges (astral ones as literal characters)."""

    def one(cp: int) -> str:
        return f"\\u{cp:04x}" if cp <= 0xFFFF else chr(cp)

    return "".join(
        one(lo) if lo == hi else f"{one(lo)}-{one(hi)}" for group in groups for lo, hi in group
    )


_WS = _char_class(WHITESPACE_RANGES)
_FORBIDDEN = _char_class(FORBIDDEN_RANGES)
_TEXT_EDGE_EXCLUDED = _char_class(WHITESPACE_RANGES, FORBIDDEN_RANGES)
_INVISIBLE = _char_class(_INVISIBLE_RANGES)
_LABEL_EXCLUDED = _char_class(_INVISIBLE_RANGES, _ASCII_PUNCTUATION_BUT_HYPHEN)

NON_BLANK_PATTERN = (
    f"^[{_WS}]*[^{_TEXT_EDGE_EXCLUDED}](?:[^{_FORBIDDEN}]*[^{_TEXT_EDGE_EXCLUDED}])?[{_WS}]*$"
)
"""Required text: once surrounding whitespace is trimmed, at least one character, and none
of the control or text-direction characters :func:`~kyc_widgets.text.clean_text` refuses
(:data:`~kyc_widgets.text.FORBIDDEN_RANGES`; tab and line feed only at either end, where
they are trimmed). The text between the first and the last visible character may hold
spaces and any other character."""

BLANK_PATTERN = f"^[{_WS}]*$"
"""Optional text that is empty or only whitespace: the API treats it as ``null``."""

KYC_CASE_ID_PATTERN = f"^[{_WS}]*[^{_INVISIBLE}]*[^.{_INVISIBLE}][^{_INVISIBLE}]*[{_WS}]*$"
"""An external case id: visible characters, not only dots; surrounding whitespace is trimmed."""

EMAIL_PATTERN = (
    f"^[{_WS}]*[^@{_INVISIBLE}]+@[^{_LABEL_EXCLUDED}]+(?:\\.[^{_LABEL_EXCLUDED}]+)+[{_WS}]*$"
)
"""An e-mail address, checked for shape only (docs/api-contract.md, "E-mail addresses").

One ``@``; a local part of visible characters; a domain of two or more
dot-separated labels made of letters (any script), digits and hyphens.
Internal domains such as ``.local``, ``.internal``, ``.corp`` or ``.test`` are
real for an analyst's work address, so nothing is refused for its top-level
domain, and nothing is looked up.
"""

_INVISIBLE_CHARACTER = re.compile(f"[{_INVISIBLE}]")
_EMAIL = re.compile(EMAIL_PATTERN)


def _country_code_pattern() -> str:
    """Every assigned alpha-2 code, either case: ``[Aa][DdEeFf...]|[Bb][...]...``.

    Written out rather than ``[A-Za-z]{2}`` so the schema refuses what the API
    refuses ("XX", "UK"); one character class per first letter keeps it short.
    """
    seconds: dict[str, list[str]] = {}
    for code in sorted(COUNTRY_CODES):
        seconds.setdefault(code[0], []).append(code[1])
    groups = "|".join(
        f"[{first}{first.lower()}][{''.join(c + c.lower() for c in rest)}]"
        for first, rest in seconds.items()
    )
    return f"^[{_WS}]*(?:{groups})[{_WS}]*$"


COUNTRY_CODE_PATTERN = _country_code_pattern()
"""``country_of_onboarding``: an ISO 3166-1 alpha-2 code (docs/api-contract.md, "Countries").

Any case (``de`` is stored as ``DE``), surrounding whitespace trimmed; names,
alpha-3 codes and unassigned pairs are refused. The codes are pycountry's."""


def _check_country(value: Any) -> str:
    """A code people typed in lower case is still the code; a name is refused with the code.

    The message never repeats the value (the contract's rule for messages): it
    names the country the text matched, "for that country use DE (Germany)",
    or the candidates of an ambiguous name.
    """
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    text = clean_text(value)  # the text rule of every field first: the same words for a U+202E
    if not text:
        raise PydanticCustomError(
            "string_too_short", "String should have at least 1 character", {"min_length": 1}
        )
    code = text.upper()
    if len(code) == 2 and code in COUNTRY_CODES:
        return code
    raise ValueError(country_refusal(text))


def _blank_to_none(value: Any) -> Any:
    """Optional fields: an empty (or all-whitespace) input means "not given"."""
    if isinstance(value, str) and not value.strip(WHITESPACE):
        return None
    return value


def _check_kyc_case_id(value: str) -> str:
    """An id is typed, copied into tickets and put in URLs: keep it visible and routable.

    The message names the first invisible character and its position (never the id).
    """
    found = _INVISIBLE_CHARACTER.search(value)
    if found:
        raise ValueError(
            "must not contain spaces, tabs, line breaks, control or invisible characters "
            f"(it contains {character_name(found.group())} at position {found.start() + 1})"
        )
    if set(value) == {"."}:
        # "." and ".." are path segments: a URL with them can never address the case.
        raise ValueError("must not consist of dots only")
    return value


def _check_email(value: Any) -> str:
    """Shape only, as :data:`EMAIL_PATTERN` says; the message never repeats the value."""
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    if not _EMAIL.fullmatch(value):
        raise ValueError("value is not a valid e-mail address")
    return nfc(value.strip(WHITESPACE))


def _at_most(limit: int) -> BeforeValidator:
    """Count the characters as sent, before trimming, as the published ``maxLength`` does.

    Trimming first would accept a value the schema calls too long (an id padded
    with spaces); the error is pydantic's own ``string_too_long``, so every
    message about it stays the same.
    """

    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit:
            raise PydanticCustomError(
                "string_too_long",
                "String should have at most {max_length} characters",
                {"max_length": limit},
            )
        return value

    return BeforeValidator(check)


RequiredText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    BeforeValidator(clean_text),
    _at_most(TEXT_MAX_LENGTH),  # runs first (pydantic runs "before" validators last to first)
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": TEXT_MAX_LENGTH,
            "pattern": NON_BLANK_PATTERN,
        }
    ),
]
"""A required free-text field: NFC, surrounding whitespace stripped, blank is invalid, no
control or text-direction characters (:func:`~kyc_widgets.text.clean_text`); at most
:data:`TEXT_MAX_LENGTH` characters as sent.

The length is checked once, on the value as sent (:func:`_at_most`), not again after NFC:
a few characters (composition exclusions such as U+0958) decompose under NFC, and
normalising must change the value, never whether it is valid."""

_BLANK_MEANS_NULL = {
    "type": "string",
    "pattern": BLANK_PATTERN,
    "description": "Empty or only whitespace: the same as null.",
}

OptionalText = Annotated[
    RequiredText | None,
    BeforeValidator(_blank_to_none),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": TEXT_MAX_LENGTH,
                    "pattern": NON_BLANK_PATTERN,
                },
                _BLANK_MEANS_NULL,
                {"type": "null"},
            ]
        }
    ),
]
"""An optional free-text field: blank means "not given" (None)."""

# ``EmailStr`` stays the declared type so forms still show an e-mail input, but
# ``PlainValidator`` replaces email-validator's rules, which refuse the special-use
# domains (``.local``, ``.test``...) that internal analyst addresses live on.
OptionalEmail = Annotated[
    Annotated[EmailStr, PlainValidator(_check_email, json_schema_input_type=str)] | None,
    BeforeValidator(_blank_to_none),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": EMAIL_PATTERN}, _BLANK_MEANS_NULL, {"type": "null"}]}
    ),
]
"""An optional e-mail address: blank means "not given"; see :data:`EMAIL_PATTERN`."""

_CaseIdText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),  # the length: _at_most, as sent
    BeforeValidator(clean_text),
    _at_most(KYC_CASE_ID_MAX_LENGTH),
    AfterValidator(_check_kyc_case_id),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": KYC_CASE_ID_MAX_LENGTH,
            "pattern": KYC_CASE_ID_PATTERN,
        }
    ),
]
ExternalCaseId = _CaseIdText | None
"""Absent or ``null``: the API generates the id. An empty string is refused (400), not
read as "absent": a sender that means "generate one" leaves the key out."""

CountryCode = Annotated[
    str,
    PlainValidator(_check_country, json_schema_input_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": COUNTRY_CODE_PATTERN, "examples": ["GB", "FR", "DE"]}
    ),
]
"""An ISO 3166-1 alpha-2 country code, stored in capitals (:data:`COUNTRY_CODE_PATTERN`)."""


class _ContractModel(BaseModel):
    model_config = ConfigDict(
        str_strip_whitespace=True,
        field_title_generator=_title_from_name,
        use_enum_values=False,
        populate_by_name=True,
    )


class KycCaseCreateInput(_ContractModel):
    """The body of ``POST /api/v1/kyc-cases``.

    Field order is the order an analyst fills them in; the form follows it.
    Unknown fields are rejected so a typo in a column or key is caught before
    anything reaches the API.
    """

    model_config = ConfigDict(extra="forbid")

    legal_first_name: RequiredText = Field(
        description="The subject's first name exactly as on their identity document."
    )
    legal_last_name: RequiredText = Field(
        description="The subject's last name exactly as on their identity document."
    )
    user_internal_id: RequiredText = Field(
        title="User internal ID",
        description="The provider's own identifier for the subject (keep leading zeros).",
    )
    user_type: UserType = Field(description="The role the subject plays for the provider.")
    relationship_type: RelationshipType = Field(
        description="Why this case exists: onboarding, refresh, limit increase, remediation..."
    )
    current_status: CreateStatus = Field(
        description="Where the case starts; final outcomes come from review, never from creation."
    )
    case_priority: CasePriority = Field(description="How urgently the case should be worked.")
    agency_name: RequiredText = Field(description="The agency that operates the case.")
    regulated_provider_name: RequiredText = Field(
        description="The regulated firm the customer relationship belongs to."
    )
    programme_name: RequiredText = Field(
        description="The product or programme the subject is onboarding to."
    )
    country_of_onboarding: CountryCode = Field(
        description=(
            "Country where the relationship is onboarded: its ISO 3166-1 alpha-2 code "
            "(e.g. GB, FR, DE)."
        ),
        # A UI hint, ignored by validators: forms draw a searchable country picker for it
        # (kyc_widgets.form.country_picker registers itself for "x-input": "country").
        json_schema_extra={"x-input": "country"},
    )
    assigned_team: RequiredText = Field(description="The team that will work the case.")
    assigned_analyst_name: OptionalText = Field(
        default=None, description="The analyst who owns the case, if already known."
    )
    assigned_analyst_email: OptionalEmail = Field(
        default=None,
        title="Assigned analyst e-mail",
        description="The owning analyst's work e-mail address, if already known.",
    )
    kyc_case_id: ExternalCaseId = Field(
        default=None,
        title="External case ID",
        description=(
            "Only when your product owns a stable external case id; "
            "leave empty and the API generates one."
        ),
    )

    def to_request_json(self) -> dict[str, Any]:
        """The JSON body to send: enum values as strings, absent ``kyc_case_id`` omitted."""
        data = self.model_dump(mode="json")
        if data.get("kyc_case_id") is None:
            data.pop("kyc_case_id", None)
        return data


REQUIRED_CREATE_FIELDS: tuple[str, ...] = tuple(
    name for name, info in KycCaseCreateInput.model_fields.items() if info.is_required()
)


def _described_as(name: str) -> Any:
    """The create field's title and description, without its input rules.

    The record shows the same words as the form but must not re-validate what
    the server already stored.
    """
    info = KycCaseCreateInput.model_fields[name]
    default = ... if info.is_required() else None
    return Field(default, title=info.title, description=info.description)


class KycCaseRecord(_ContractModel):
    """A case as the API stores it: the input plus server-owned fields.

    Parsing is tolerant (plain strings for enums and e-mail, unknown fields
    ignored) because the record side may hold more values than the create side
    (e.g. final statuses) and a newer API may add fields: displaying a case
    must never fail because the server knows more than we do.
    """

    model_config = ConfigDict(extra="ignore")

    id: str = Field(title="Internal ID", description="Server-generated internal identifier.")
    kyc_case_id: str = Field(title="KYC case ID", description="The case's external identifier.")
    row_version: int = Field(description="Optimistic concurrency counter; starts at 1.")
    created_by: str = Field(description="The principal that created the case.")
    created_at: datetime = Field(description="When the case was created (UTC).")
    updated_at: datetime = Field(description="When the case was last changed (UTC).")

    legal_first_name: str = _described_as("legal_first_name")
    legal_last_name: str = _described_as("legal_last_name")
    user_internal_id: str = _described_as("user_internal_id")
    user_type: str = _described_as("user_type")
    relationship_type: str = _described_as("relationship_type")
    current_status: str = Field(description="The case's status now (may be a final status).")
    case_priority: str = _described_as("case_priority")
    agency_name: str = _described_as("agency_name")
    regulated_provider_name: str = _described_as("regulated_provider_name")
    programme_name: str = _described_as("programme_name")
    country_of_onboarding: str = _described_as("country_of_onboarding")
    assigned_team: str = _described_as("assigned_team")
    assigned_analyst_name: str | None = _described_as("assigned_analyst_name")
    assigned_analyst_email: str | None = _described_as("assigned_analyst_email")


SERVER_OWNED_FIELDS: tuple[str, ...] = (
    "id",
    "kyc_case_id",
    "row_version",
    "created_by",
    "created_at",
    "updated_at",
)


class CaseEnvelope(_ContractModel):
    """What ``POST`` and ``GET /api/v1/kyc-cases...`` return: the case and who asked."""

    model_config = ConfigDict(extra="ignore")

    principal: str = Field(description="Who the API believes the caller is.")
    case: KycCaseRecord

    # Transport facts the client fills in; not part of the JSON contract.
    _request_id: str | None = PrivateAttr(default=None)
    _attempts: int = PrivateAttr(default=1)
    _recovered: bool = PrivateAttr(default=False)

    @property
    def request_id(self) -> str | None:
        """The ``X-Request-ID`` of the answer this envelope came from, if any."""
        return self._request_id

    @property
    def attempts(self) -> int:
        """How many HTTP attempts the client needed (retries included)."""
        return self._attempts

    @property
    def recovered(self) -> bool:
        """True when a create's answer was lost and the case was confirmed by loading it."""
        return self._recovered

    def record_delivery(
        self, *, attempts: int, recovered: bool = False, request_id: str | None = None
    ) -> None:
        """Called by the client that received this envelope: how it arrived.

        ``request_id`` is kept when not given, so a recovered case keeps the id of
        the answer that delivered it.
        """
        if request_id is not None:
            self._request_id = request_id
        self._attempts = attempts
        self._recovered = recovered


class FieldError(BaseModel):
    """One entry of ``details.errors`` in a 400 answer."""

    field: str | None = None
    message: str = ""


class ErrorBody(BaseModel):
    """The contract's error envelope body (``{"error": {...}}``)."""

    model_config = ConfigDict(extra="ignore")

    code: str = "UNKNOWN_ERROR"
    message: str = "The KYC API returned an error."
    developer_message: str | None = None
    category: str | None = None
    http_status: int | None = None
    request_id: str | None = None
    trace_id: str | None = None
    retryable: bool = False
    docs_url: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorEnvelope(BaseModel):
    """``{"error": ErrorBody}``."""

    error: ErrorBody


class HealthStatus(BaseModel):
    """``GET /healthz``: is the process up."""

    model_config = ConfigDict(extra="ignore")

    status: str
    release: str | None = None


class ReadinessCheck(BaseModel):
    """One dependency check reported by ``/readyz``."""

    model_config = ConfigDict(extra="ignore")

    name: str
    ok: bool
    detail: str | None = None


class ReadinessStatus(BaseModel):
    """``GET /readyz``: can the service do its work right now."""

    model_config = ConfigDict(extra="ignore")

    status: str
    release: str | None = None
    checks: list[ReadinessCheck] = Field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    @property
    def failed_checks(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]
