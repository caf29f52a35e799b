"""kyc-widgets: create durable KYC cases from Jupyter notebooks.

The public API is re-exported here; each concept lives in its own module
(``models``, ``errors``, ``client``, ``form``, ``intake``, ``workspace``,
``status``, ``batch``, ``sandbox``).
"""

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
from .auth import TokenSource, prompt_token, token_from_env
from .form import SchemaForm
from .intake import CaseCreator, CreatorState
from .status import ApiStatus
from .workspace import CaseWorkspace
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

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "KycApiClient",
    "AsyncKycApiClient",
    "Diagnosis",
    "KycApiError",
    "KycConfigurationError",
    "TransportError",
    "ApiConnectError",
    "ApiTimeoutError",
    "InvalidRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitedError",
    "ServerError",
    "ServiceUnavailableError",
    "UnexpectedResponseError",
    "SchemaForm",
    "batch_create",
    "abatch_create",
    "read_campaign",
    "BatchReport",
    "BatchCreator",
    "CampaignColumnsError",
    "CampaignRequiredError",
    "CaseCreator",
    "CreatorState",
    "CaseWorkspace",
    "ApiStatus",
    "TokenSource",
    "prompt_token",
    "token_from_env",
    "KycCaseCreateInput",
    "KycCaseRecord",
    "CaseEnvelope",
    "ErrorBody",
    "ErrorEnvelope",
    "HealthStatus",
    "ReadinessStatus",
    "RelationshipType",
    "UserType",
    "CreateStatus",
    "CasePriority",
    "CREATE_STATUSES",
]
