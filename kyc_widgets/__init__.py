"""kyc-widgets: create durable KYC cases from Jupyter notebooks.

The public API is re-exported here. One folder per layer:

- :mod:`kyc_widgets.models`: the contract (``docs/api-contract.md``);
- :mod:`kyc_widgets.api`: client, errors, token sources, the pacing gate;
- :mod:`kyc_widgets.batch`: campaigns from sheets, no widgets;
- :mod:`kyc_widgets.form`: the generic pydantic form;
- :mod:`kyc_widgets.widgets`: the analyst widgets;
- :mod:`kyc_widgets.sandbox` and :mod:`kyc_widgets.cli`: the local API and the entry points.

Names are resolved on first use (PEP 562), so ``from kyc_widgets import
KycApiClient`` or ``import kyc_widgets.sandbox`` loads neither ipywidgets nor
pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kyc_widgets._version import __version__

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("TokenSource", "prompt_token", "token_from_env"), "kyc_widgets.api.auth"),
    **dict.fromkeys(("AsyncKycApiClient", "Diagnosis", "KycApiClient"), "kyc_widgets.api.client"),
    **dict.fromkeys(("AsyncCaseApi", "CaseApi"), "kyc_widgets.api.protocols"),
    **dict.fromkeys(("PacingGate", "PacingLimits"), "kyc_widgets.api.pacing"),
    **dict.fromkeys(
        (
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
        ),
        "kyc_widgets.api.errors",
    ),
    **dict.fromkeys(
        (
            "BatchMode",
            "BatchOptions",
            "BatchReport",
            "CampaignColumnsError",
            "CampaignMapping",
            "CampaignRequiredError",
            "MappingError",
            "OnConflict",
            "RowStatus",
            "abatch_create",
            "batch_create",
            "read_campaign",
            "suggest_mapping",
            "write_template",
        ),
        "kyc_widgets.batch",
    ),
    **dict.fromkeys(
        (
            "CREATE_STATUSES",
            "CaseEnvelope",
            "CasePriority",
            "CreateStatus",
            "ErrorBody",
            "ErrorEnvelope",
            "HealthStatus",
            "KycCaseCreateInput",
            "KycCaseRecord",
            "ReadinessStatus",
            "RelationshipType",
            "UserType",
        ),
        "kyc_widgets.models",
    ),
    **dict.fromkeys(
        ("EvidenceCheck", "verify_evidence", "write_report_evidence"), "kyc_widgets.batch.evidence"
    ),
    **dict.fromkeys(("plain", "plain_records"), "kyc_widgets.batch.columns"),
    "FixError": "kyc_widgets.batch.fixes",
    "SchemaForm": "kyc_widgets.form.schema_form",
    "register_input": "kyc_widgets.form.custom_inputs",
    "ApiStatus": "kyc_widgets.widgets.api_status",
    "BatchCreator": "kyc_widgets.widgets.batch_creator",
    "CaseCreator": "kyc_widgets.widgets.case_creator",
    "CreatorState": "kyc_widgets.widgets.case_flow",
    "CaseWorkspace": "kyc_widgets.widgets.case_workspace",
    "CaseDesk": "kyc_widgets.widgets.desk",
    **dict.fromkeys(
        ("PlanCheck", "PrincipalUnknownError", "approve_plan", "make_plan", "review_plan", "whoami"),
        "kyc_widgets.batch.plan",
    ),
    **dict.fromkeys(("CampaignPlan", "PlanRefusedError", "read_plan"), "kyc_widgets.batch.plan_file"),
    "PlanReview": "kyc_widgets.widgets.plan_review",
    **dict.fromkeys(("CountryError", "country_code"), "kyc_widgets.countries"),
    "CountryPicker": "kyc_widgets.form.country_picker",
    "ReportView": "kyc_widgets.widgets.report_html",
}

__all__ = [
    "ApiConnectError",
    "ApiStatus",
    "ApiTimeoutError",
    "AsyncCaseApi",
    "AsyncKycApiClient",
    "AuthenticationError",
    "BatchCreator",
    "BatchMode",
    "BatchOptions",
    "BatchReport",
    "CREATE_STATUSES",
    "CampaignColumnsError",
    "CampaignMapping",
    "CampaignPlan",
    "CampaignRequiredError",
    "CaseApi",
    "CaseCreator",
    "CaseDesk",
    "CaseEnvelope",
    "CasePriority",
    "CaseWorkspace",
    "ConflictError",
    "CountryError",
    "CountryPicker",
    "CreateStatus",
    "CreatorState",
    "Diagnosis",
    "ErrorBody",
    "ErrorEnvelope",
    "EvidenceCheck",
    "FixError",
    "HealthStatus",
    "InvalidRequestError",
    "KycApiClient",
    "KycApiError",
    "KycCaseCreateInput",
    "KycCaseRecord",
    "KycConfigurationError",
    "MappingError",
    "NotFoundError",
    "OnConflict",
    "PacingGate",
    "PacingLimits",
    "PermissionDeniedError",
    "PlanCheck",
    "PlanRefusedError",
    "PlanReview",
    "PrincipalUnknownError",
    "RateLimitedError",
    "ReadinessStatus",
    "RelationshipType",
    "ReportView",
    "RequestStoppedError",
    "RowStatus",
    "SchemaForm",
    "ServerError",
    "ServiceUnavailableError",
    "TokenSource",
    "TransportError",
    "UnexpectedResponseError",
    "UserType",
    "__version__",
    "abatch_create",
    "approve_plan",
    "batch_create",
    "country_code",
    "make_plan",
    "plain",
    "plain_records",
    "prompt_token",
    "read_campaign",
    "read_plan",
    "register_input",
    "review_plan",
    "suggest_mapping",
    "token_from_env",
    "verify_evidence",
    "write_report_evidence",
    "whoami",
    "write_template",
]  # literal, so linters see it; tests check it against _EXPORTS


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:  # what type checkers and IDEs see: the same names, imported eagerly
    from kyc_widgets.api.auth import TokenSource, prompt_token, token_from_env
    from kyc_widgets.api.client import AsyncKycApiClient, Diagnosis, KycApiClient
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
        ServiceUnavailableError,
        TransportError,
        UnexpectedResponseError,
    )
    from kyc_widgets.api.pacing import PacingGate, PacingLimits
    from kyc_widgets.api.protocols import AsyncCaseApi, CaseApi
    from kyc_widgets.batch import (
        BatchMode,
        BatchOptions,
        BatchReport,
        CampaignColumnsError,
        CampaignMapping,
        CampaignRequiredError,
        MappingError,
        OnConflict,
        RowStatus,
        abatch_create,
        batch_create,
        read_campaign,
        suggest_mapping,
        write_template,
    )
    from kyc_widgets.batch.columns import plain, plain_records
    from kyc_widgets.batch.evidence import EvidenceCheck, verify_evidence, write_report_evidence
    from kyc_widgets.batch.fixes import FixError
    from kyc_widgets.batch.plan import (
        PlanCheck,
        PrincipalUnknownError,
        approve_plan,
        make_plan,
        review_plan,
        whoami,
    )
    from kyc_widgets.batch.plan_file import CampaignPlan, PlanRefusedError, read_plan
    from kyc_widgets.countries import CountryError, country_code
    from kyc_widgets.form.country_picker import CountryPicker
    from kyc_widgets.form.custom_inputs import register_input
    from kyc_widgets.form.schema_form import SchemaForm
    from kyc_widgets.models import (
        CREATE_STATUSES,
        CaseEnvelope,
        CasePriority,
        CreateStatus,
        ErrorBody,
        ErrorEnvelope,
        HealthStatus,
        KycCaseCreateInput,
        KycCaseRecord,
        ReadinessStatus,
        RelationshipType,
        UserType,
    )
    from kyc_widgets.widgets.api_status import ApiStatus
    from kyc_widgets.widgets.batch_creator import BatchCreator
    from kyc_widgets.widgets.case_creator import CaseCreator
    from kyc_widgets.widgets.case_flow import CreatorState
    from kyc_widgets.widgets.case_workspace import CaseWorkspace
    from kyc_widgets.widgets.desk import CaseDesk
    from kyc_widgets.widgets.plan_review import PlanReview
    from kyc_widgets.widgets.report_html import ReportView
