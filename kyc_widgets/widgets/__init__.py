"""The analyst widgets: create a case, read it, check the API, run a campaign.

Names are imported on first use, so the widget-free modules of this folder
(:mod:`.case_flow`, :mod:`.calls`, :mod:`.html`) load without ipywidgets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "ApiStatus": "kyc_widgets.widgets.api_status",
    "BatchCreator": "kyc_widgets.widgets.batch_creator",
    "CaseCreator": "kyc_widgets.widgets.case_creator",
    "CaseDesk": "kyc_widgets.widgets.desk",
    "CaseWorkspace": "kyc_widgets.widgets.case_workspace",
    "CreatorState": "kyc_widgets.widgets.case_flow",
}

__all__ = ["ApiStatus", "BatchCreator", "CaseCreator", "CaseDesk", "CaseWorkspace", "CreatorState"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from kyc_widgets.widgets.api_status import ApiStatus
    from kyc_widgets.widgets.batch_creator import BatchCreator
    from kyc_widgets.widgets.case_creator import CaseCreator
    from kyc_widgets.widgets.case_flow import CreatorState
    from kyc_widgets.widgets.case_workspace import CaseWorkspace
    from kyc_widgets.widgets.desk import CaseDesk
