"""Talking to the KYC API: the client, its errors, token sources and the pacing gate.

Nothing here imports ipywidgets or pandas: scripts, the command line and the
sandbox's own helpers use this layer without the notebook stack.
"""

from kyc_widgets.api.auth import TokenSource, prompt_token, token_from_env
from kyc_widgets.api.client import AsyncKycApiClient, Diagnosis, KycApiClient
from kyc_widgets.api.pacing import PacingGate

__all__ = [
    "AsyncKycApiClient",
    "Diagnosis",
    "KycApiClient",
    "PacingGate",
    "TokenSource",
    "prompt_token",
    "token_from_env",
]
