"""A form generated from any pydantic v2 model: inputs, labels and per-field errors.

Generic on purpose: nothing here knows about KYC cases. The analyst widgets in
:mod:`kyc_widgets.widgets` build on it.
"""

from kyc_widgets.form import country_picker as _country_picker  # noqa: F401 - registers the country input
from kyc_widgets.form.schema_form import SchemaForm

__all__ = ["SchemaForm"]
