"""The analyst widgets: create a case, read it, check the API, run a campaign."""

from kyc_widgets.widgets.api_status import ApiStatus
from kyc_widgets.widgets.batch_creator import BatchCreator
from kyc_widgets.widgets.case_creator import CaseCreator, CreatorState
from kyc_widgets.widgets.case_workspace import CaseWorkspace
from kyc_widgets.widgets.desk import CaseDesk

__all__ = ["ApiStatus", "BatchCreator", "CaseCreator", "CaseDesk", "CaseWorkspace", "CreatorState"]
