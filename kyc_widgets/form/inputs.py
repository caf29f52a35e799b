"""One labelled ipywidgets input per scalar field: build it, read it, write it.

Why a separate module: turning a field into one input is the part every
schema-driven form gets subtly wrong (nullable numbers, unselected choices,
labels not tied to inputs, secrets kept in widget state). Keeping it free of
form state makes it testable on its own; the editors of
:mod:`kyc_widgets.form.leaf` and the groups build on it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

import ipywidgets as W
from pydantic import SecretStr
from pydantic_core import PydanticUndefined

from kyc_widgets.form.fields import UNSELECTED, FieldSpec, choice_label

__all__ = [
    "build_input",
    "label_width_for",
    "normalise_choices",
    "options_for",
    "placeholder_for",
    "read_input",
    "shared_style",
    "write_input",
]

_PLACEHOLDERS: dict[str, str] = {
    "email": "name@example.com",
    "int": "A whole number, e.g. 42",
    "float": "A number, e.g. 2.5",
    "decimal": "A number, e.g. 2.50",
    "uuid": "e.g. 123e4567-e89b-12d3-a456-426614174000",
    "url": "https://…",
}
"""Placeholders that say what a text box expects (numbers typed into a ``Text``)."""


def placeholder_for(spec: FieldSpec) -> str:
    """A ``Text`` input's placeholder: the expected shape, and "(optional)" when it may stay empty."""
    shape = _PLACEHOLDERS.get(spec.kind, "")
    if not spec.nullable:
        return shape
    return f"{shape} (optional)" if shape else "Optional"


def shared_style(widget_cls: type[W.Widget], width: str, cache: dict[type, W.Widget]) -> W.Widget:
    """One style model per style class within one form, shared by its inputs.

    Fewer widget models means a faster build and a smaller saved notebook.
    Styles are form-wide presentation, so sharing them inside a form is safe;
    they are not shared across forms, so closing one form's widgets cannot
    break another. Layouts are never shared: a caller may hide one field.
    """
    style_cls = widget_cls.class_traits()["style"].klass
    if style_cls not in cache:
        cache[style_cls] = style_cls(description_width=width)
    return cache[style_cls]


def options_for(
    spec: FieldSpec, narrowed: tuple[tuple[str, Any], ...] | None, *, preset: bool = False
) -> list[tuple[str, Any]]:
    """Dropdown options: a placeholder first unless a real value is always selected.

    A real value is always selected when the model has a default or the form
    was given an initial value for the field (``preset``): ``reset()`` returns
    to it, so "Select…" would only offer a way to make the form invalid. A
    nullable field keeps its "(none)" option: ``None`` is a real choice there.
    """
    options = list(narrowed if narrowed is not None else spec.choices)
    if spec.kind == "const" and narrowed is None:
        return options
    if spec.kind == "bool":  # Optional[bool]: a tri-state choice rather than a checkbox
        options = [("Yes", True), ("No", False)]
    has_default = spec.default_factory is not None or (
        spec.default is not PydanticUndefined and spec.default is not None
    )
    if spec.nullable or not (has_default or preset):
        options.insert(0, ("Select…" if spec.required else "(none)", UNSELECTED))
    return options


def build_input(
    spec: FieldSpec,
    *,
    label_width: str,
    input_width: str,
    narrowed: tuple[tuple[str, Any], ...] | None,
    styles: dict[type, W.Widget],
    preset: bool = False,
) -> W.ValueWidget:
    """One labelled input for ``spec``: ``description`` becomes a ``<label for=...>`` in ipywidgets 8.

    Text inputs use ``continuous_update=False`` so the kernel hears about a
    value on blur/Enter: validation then runs when the analyst leaves a field,
    not on every keystroke. ``preset`` says the form has an initial value for
    the field (see :func:`options_for`).
    """
    common: dict[str, Any] = {
        "description": spec.label,
        "tooltip": spec.description or spec.title,
        "layout": W.Layout(width=input_width, max_width="100%"),
    }
    kind = spec.kind
    cls: type[W.ValueWidget]
    if narrowed is not None or kind in ("choice", "const") or (kind == "bool" and spec.nullable):
        cls = W.Dropdown
        common["options"] = options_for(spec, narrowed, preset=preset)
    elif kind == "bool":
        cls = W.Checkbox
    elif kind in ("int", "float") and not spec.nullable and isinstance(spec.default, (int, float)):
        # A numeric box cannot be empty (it shows 0), so it is used only when a number is
        # always present; otherwise a Text box with a "whole number" placeholder, parsed on
        # validation, keeps "not filled in" apart from 0.
        cls = W.IntText if kind == "int" else W.FloatText
        common["continuous_update"] = False
    elif kind == "date":
        cls = W.DatePicker
    elif kind == "datetime":
        cls = W.NaiveDatetimePicker
    elif kind == "time":
        cls = W.TimePicker
    elif kind == "secret":
        cls = W.Password
        common["continuous_update"] = False
    else:  # text, email, and numbers that may be empty
        cls = W.Text
        common["continuous_update"] = False
        common["placeholder"] = placeholder_for(spec)
    common["style"] = shared_style(cls, label_width, styles)
    widget = cls(**common)
    if cls is W.Dropdown:
        widget.index = 0  # a placeholder or the first real option, never an empty box
    if kind == "const":  # one possible value (``Literal["x"]``): shown, never a choice
        widget.disabled = True
    return widget


def label_width_for(specs: list[FieldSpec]) -> str:
    """A label column wide enough for the longest label (ipywidgets truncates with "…")."""
    longest = max((len(s.label) for s in specs), default=10)
    return f"{min(max(longest * 0.6 + 1, 8), 20):.1f}em"


# --------------------------------------------------------------------------- values


def read_input(spec: FieldSpec, widget: W.ValueWidget) -> Any:
    """The raw value to validate, from what the input shows.

    Empty means ``None`` for nullable fields; a blank required text stays
    ``""`` (what is shown; the form treats it as missing when validating); an
    unselected choice is ``None``.
    Numbers typed into a text box are parsed when they parse, and otherwise
    passed through so pydantic reports them.
    """
    value = widget.value
    if spec.kind == "uuid" and isinstance(value, str):
        return value.strip() or None
    if isinstance(widget, W.Dropdown):
        return None if value == UNSELECTED and UNSELECTED not in _real_values(spec) else value
    if isinstance(value, str):
        if not value.strip():
            return None if (spec.nullable or spec.kind in ("int", "float", "decimal")) else value
        if spec.kind in ("int", "float", "decimal"):
            return _parse_number(spec.kind, value.strip())
    return value


def _real_values(spec: FieldSpec) -> tuple[Any, ...]:
    return tuple(v for _, v in spec.choices)


def _parse_number(kind: str, text: str) -> Any:
    try:
        if kind == "int":
            return int(text.replace("_", "").replace(",", ""))
        if kind == "float":
            return float(text.replace(",", ""))
        return Decimal(text.replace(",", ""))
    except (ValueError, InvalidOperation):
        return text


def write_input(spec: FieldSpec, widget: W.ValueWidget, value: Any) -> None:
    """Show ``value`` in ``widget`` (the inverse of :func:`read_input`)."""
    if isinstance(widget, W.Dropdown):
        if value is None or value == UNSELECTED:
            widget.index = 0 if _has_placeholder(widget) else widget.index
            return
        if spec.enum_cls is not None and not isinstance(value, spec.enum_cls):
            value = spec.enum_cls(value)
        try:
            widget.value = value
        except Exception as exc:  # traitlets.TraitError: not among the (narrowed) options
            raise ValueError(f"{spec.name}: {value!r} is not one of the options") from exc
        return
    if isinstance(widget, W.Checkbox):
        widget.value = bool(value)
        return
    if isinstance(widget, (W.DatePicker, W.NaiveDatetimePicker, W.TimePicker)):
        if isinstance(value, str):
            value = _parse_temporal(spec.kind, value)
        widget.value = value
        return
    if isinstance(widget, (W.IntText, W.FloatText)):
        widget.value = value if value is not None else 0
        return
    if not isinstance(widget, (W.Text, W.Textarea)):  # a caller's own widget: pass through
        widget.value = widget.trait_defaults("value") if value is None else value
        return
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, Enum):
        value = value.value
    widget.value = "" if value is None else str(value)


def _has_placeholder(widget: W.Dropdown) -> bool:
    return bool(widget.options) and widget.options[0][1] == UNSELECTED


def _parse_temporal(kind: str, text: str) -> Any:
    if not text.strip():
        return None
    if kind == "datetime":
        return datetime.fromisoformat(text)
    if kind == "time":
        return time.fromisoformat(text)
    return date.fromisoformat(text)


def normalise_choices(spec: FieldSpec, items: Any) -> tuple[tuple[str, Any], ...]:
    """``choices={"field": [...]}``: values (enum members or their values) or (label, value) pairs."""
    out: list[tuple[str, Any]] = []
    if isinstance(items, (set, frozenset)):  # e.g. CREATE_STATUSES: keep the model's order
        order = [v for _, v in spec.choices]
        coerce = spec.enum_cls or (lambda v: v)
        items = sorted(items, key=lambda v: order.index(coerce(v)) if coerce(v) in order else 1e9)
    for item in items:
        if isinstance(item, tuple) and len(item) == 2:
            label, value = item
        else:
            label, value = None, item
        if spec.enum_cls is not None and not isinstance(value, spec.enum_cls):
            value = spec.enum_cls(value)
        out.append((label if label is not None else choice_label(value), value))
    return tuple(out)
