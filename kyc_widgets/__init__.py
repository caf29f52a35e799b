"""kyc-widgets: create durable KYC cases from Jupyter notebooks.

The public API is re-exported here; each concept lives in its own module
(``models``, ``errors``, ``client``, ``form``, ``intake``, ``workspace``,
``status``, ``batch``, ``sandbox``).
"""

from .auth import TokenSource, prompt_token, token_from_env
from .batch import (
    BatchCreator,
    BatchReport,
    CampaignColumnsError,
    CampaignRequiredError,
    abatch_create,
    batch_create,
    read_campaign,
)
from .client import AsyncKycApiClient, Diagnosis, KycApiClient
from .errors import (
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
    ServerError,
    ServiceUnavailableError,
    TransportError,
    UnexpectedResponseError,
)
from .form import SchemaForm
from .intake import CaseCreator, CreatorState
from .models import (
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
from .status import ApiStatus
from .workspace import CaseWorkspace

__version__ = "0.1.0"

__all__ = [
    "CREATE_STATUSES",
    "ApiConnectError",
    "ApiStatus",
    "ApiTimeoutError",
    "AsyncKycApiClient",
    "AuthenticationError",
    "BatchCreator",
    "BatchReport",
    "CampaignColumnsError",
    "CampaignRequiredError",
    "CaseCreator",
    "CaseEnvelope",
    "CasePriority",
    "CaseWorkspace",
    "ConflictError",
    "CreateStatus",
    "CreatorState",
    "Diagnosis",
    "ErrorBody",
    "ErrorEnvelope",
    "HealthStatus",
    "InvalidRequestError",
    "KycApiClient",
    "KycApiError",
    "KycCaseCreateInput",
    "KycCaseRecord",
    "KycConfigurationError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ReadinessStatus",
    "RelationshipType",
    "SchemaForm",
    "ServerError",
    "ServiceUnavailableError",
    "TokenSource",
    "TransportError",
    "UnexpectedResponseError",
    "UserType",
    "__version__",
    "abatch_create",
    "batch_create",
    "prompt_token",
    "read_campaign",
    "token_from_env",
]
