"""The sandbox KYC API: a real local server implementing the contract.

``with Sandbox() as sb:`` runs it on a free loopback port; ``kyc-widgets
sandbox`` runs it in the foreground. See :mod:`kyc_widgets.sandbox.server`.
"""

from kyc_widgets.sandbox.app import SandboxState, create_app, create_fastapi_app
from kyc_widgets.sandbox.faults import FaultSwitches
from kyc_widgets.sandbox.server import DEFAULT_PRINCIPAL, Sandbox, default_db_path
from kyc_widgets.sandbox.store import CaseStore

__all__ = [
    "DEFAULT_PRINCIPAL",
    "CaseStore",
    "FaultSwitches",
    "Sandbox",
    "SandboxState",
    "create_app",
    "create_fastapi_app",
    "default_db_path",
]
