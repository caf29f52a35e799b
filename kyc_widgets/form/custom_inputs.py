"""Custom inputs by field type: a registry every ``SchemaForm`` consults.

Why: some values deserve a better input than the one their Python type
implies (a country code is a ``str`` but wants a searchable picker). A form's
``widgets={...}`` option replaces one field's input in one form; a rule
registered here replaces the input of every field it matches, in every form
built afterwards, so a model says once what its fields are (an annotation, or
``json_schema_extra={"input": "country"}``) and every form follows.

A rule's factory receives the field's :class:`~kyc_widgets.form.fields.FieldSpec`
and returns a widget whose ``value`` is the field's value (``None`` when empty);
its ``description`` is set to the field's label when it has none, so the label
stays tied to the input. Example::

    from kyc_widgets.form.custom_inputs import register_input

    register_input(lambda spec: CountryPicker(), extra=("input", "country"))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ipywidgets as W

from kyc_widgets.form.fields import FieldSpec

__all__ = ["InputFactory", "InputRule", "custom_input_for", "register_input"]

InputFactory = Callable[[FieldSpec], W.Widget]


@dataclass(frozen=True)
class InputRule:
    """One registered rule: which fields it matches, and what it builds for them."""

    matches: Callable[[FieldSpec], bool]
    factory: InputFactory


_RULES: list[InputRule] = []


def register_input(
    factory: InputFactory,
    *,
    annotation: Any = None,
    extra: tuple[str, Any] | None = None,
    when: Callable[[FieldSpec], bool] | None = None,
) -> Callable[[], None]:
    """Use ``factory`` for every field matching all the given conditions; returns an undo.

    ``annotation``: the field's type, once ``Optional``/``Annotated`` are taken
    off (a ``NewType`` or a class of your own). ``extra``: a ``(key, value)``
    pair of the field's ``json_schema_extra`` (or of a JSON Schema property).
    ``when``: any test of the spec. The rule registered last wins.
    """
    if annotation is None and extra is None and when is None:
        raise ValueError("register_input needs annotation=, extra= or when=")

    def matches(spec: FieldSpec) -> bool:
        if annotation is not None and spec.annotation is not annotation:
            return False
        if extra is not None and spec.extra.get(extra[0]) != extra[1]:
            return False
        return when is None or bool(when(spec))

    rule = InputRule(matches, factory)
    _RULES.append(rule)
    return lambda: _RULES.remove(rule) if rule in _RULES else None


def custom_input_for(spec: FieldSpec) -> Callable[[], W.Widget] | None:
    """The factory of the latest rule matching ``spec``, bound to it; ``None`` if none does."""
    for rule in reversed(_RULES):
        if rule.matches(spec):
            return lambda: rule.factory(spec)
    return None
