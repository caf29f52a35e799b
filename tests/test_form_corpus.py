"""Every field shape of the corpus (tests/form_corpus.py), set, validated and read back.

Each valid instance goes in with ``set_values`` and must come out of
``validate()`` with the same ``model_dump()``; each invalid value must be
refused with its message at the expected dotted path (and nowhere else
claiming it). The same corpus runs through ``SchemaForm.from_json_schema``
on the model's own JSON Schema, where the result is plain JSON.
"""

from __future__ import annotations

import html
from typing import Any

import pytest
from form_corpus import CASES, Case, Invalid, as_json, revealed
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from kyc_widgets.form.schema_form import SchemaForm

VALID = [
    pytest.param(case, instance, id=f"{name}-{i}")
    for name, case in CASES.items()
    for i, instance in enumerate(case.valid)
]
INVALID = [
    pytest.param(case, invalid, id=f"{name}-{invalid.path or 'model'}")
    for name, case in CASES.items()
    for invalid in case.invalid
]


def where(form: SchemaForm[Any], invalid: Invalid) -> str | None:
    """The message the form shows for ``invalid``: at its path, or in the summary ("")."""
    if not invalid.path:
        return form.summary_text()
    return form.field_errors.get(invalid.path)


@pytest.mark.parametrize(("case", "instance"), VALID)
def test_a_valid_instance_round_trips(case: Case, instance: BaseModel) -> None:
    form = SchemaForm(case.model)
    form.set_values(instance)
    result = form.validate()
    assert form.field_errors == {} and form.summary_text() == ""
    assert result is not None
    assert result.model_dump() == instance.model_dump()
    # values() is the nested raw value: what the next validate() reads
    assert case.model.model_validate(form.values()).model_dump() == instance.model_dump()


@pytest.mark.parametrize(("case", "invalid"), INVALID)
def test_an_invalid_value_is_refused_at_its_path(case: Case, invalid: Invalid) -> None:
    form = SchemaForm(case.model)
    form.set_values(invalid.values)
    assert form.validate() is None
    message = where(form, invalid)
    assert message, (form.field_errors, form.summary_text())
    if invalid.message:
        assert invalid.message in message
    if invalid.path:  # shown under that field, named by the summary
        shown = form.error_widgets[invalid.path]
        assert shown.layout.display != "none"
        assert (invalid.message or "") in html.unescape(shown.value)
        assert form.summary_text().startswith("Please fix")


@pytest.mark.parametrize(("case", "instance"), VALID)
def test_the_json_schema_form_returns_the_same_values_as_json(
    case: Case, instance: BaseModel
) -> None:
    form = SchemaForm.from_json_schema(case.model.model_json_schema())
    form.set_values(as_json(instance))
    result = form.validate()
    assert form.field_errors == {}
    assert isinstance(result, dict)
    assert result == as_json(instance)


@pytest.mark.parametrize(
    ("case", "invalid"),
    [p for p in INVALID if not getattr(p.values[1], "python_only", False)],
)
def test_the_json_schema_form_refuses_at_the_same_path(case: Case, invalid: Invalid) -> None:
    form = SchemaForm.from_json_schema(case.model.model_json_schema())
    form.set_values(to_jsonable_python(revealed(invalid.values)))
    assert form.validate() is None
    message = where(form, invalid)
    assert message, (form.field_errors, form.summary_text())
    if invalid.message:
        assert invalid.message in message


def test_the_json_schema_form_draws_the_same_inputs() -> None:
    """Same paths, same kinds of input, same labels: the schema is only another way in."""
    for case in CASES.values():
        instance = case.valid[0]
        by_model = SchemaForm(case.model)
        by_schema = SchemaForm.from_json_schema(case.model.model_json_schema())
        by_model.set_values(instance)
        by_schema.set_values(as_json(instance))
        assert list(by_schema.fields) == list(by_model.fields)
        kinds = {p: type(w).__name__ for p, w in by_model.fields.items()}
        assert {p: type(w).__name__ for p, w in by_schema.fields.items()} == kinds
        labels = {p: getattr(w, "description", "") for p, w in by_model.fields.items()}
        assert {p: getattr(w, "description", "") for p, w in by_schema.fields.items()} == labels
