"""A form generated from any pydantic v2 model: inputs, labels and per-field errors.

Generic on purpose: nothing here knows about KYC cases. The analyst widgets in
:mod:`kyc_widgets.widgets` build on it. Nested models, lists, dicts and
unions are edited at dotted paths (``"owners.1.name"``); a JSON Schema
document gives the same form (:meth:`SchemaForm.from_json_schema`); a field
type can get its own input in every form (:func:`register_input`).
"""

from kyc_widgets.form import country_picker as _country_picker  # noqa: F401 - registers the country input
from kyc_widgets.form.custom_inputs import register_input
from kyc_widgets.form.json_schema import model_from_json_schema
from kyc_widgets.form.schema_form import SchemaForm

__all__ = ["SchemaForm", "model_from_json_schema", "register_input"]
