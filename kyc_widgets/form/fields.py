"""Field introspection and input widgets for :class:`kyc_widgets.form.schema_form.SchemaForm`.

Why a separate module: reading a pydantic model once (``field_specs``, cached)
and turning each field into one labelled ipywidgets input is the part every
schema-driven form gets subtly wrong (nullable numbers, unselected choices,
labels not tied to inputs). Keeping it free of form state makes it testable on
its own and keeps ``form.py`` about behaviour (errors, validation, submit).
"""

from __future__ import annotations

import functools
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import ipywidgets as W
from pydantic import BaseModel, EmailStr, NameEmail, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from kyc_widgets.labels import words

__all__ = [
    "REQUIRED_MARK",
    "SECRET_NAME_HINTS",
    "UNSELECTED",
    "FieldKind",
    "FieldSpec",
    "choice_label",
    "field_specs",
]

FieldKind = Literal[
    "text",
    "email",
    "secret",
    "choice",
    "int",
    "float",
    "decimal",
    "bool",
    "date",
    "datetime",
    "time",
]

UNSELECTED = ""
"""Value of a dropdown's placeholder option ("Select…").

An ipywidgets ``Dropdown`` cannot keep an option whose value is ``None``
selected (``value=None`` means "no index" and renders an empty box), so the
placeholder carries ``""``; ``SchemaForm.values()`` reports it as ``None``.
"""

REQUIRED_MARK = " *"
"""Appended to a required field's label; the form's legend explains it in words."""

SECRET_NAME_HINTS: tuple[str, ...] = ("token", "password", "secret", "api_key", "apikey")
"""A ``str`` field whose name contains one of these as whole words is a secret.

Whole ``_``-separated words (camelCase is split too), never substrings:
``access_token``, ``client_secret``, ``apiKey`` are secrets, while
``company_secretary_name`` or ``tokenisation_scheme`` are ordinary text an
analyst must be able to read back. A ``SecretStr`` field is always a secret.
Secrets are masked and never kept in widget state.
"""

_NONE_TYPE = type(None)


@dataclass(frozen=True)
class FieldSpec:
    """Everything the form needs to know about one model field, read once per model.

    ``required`` is pydantic's notion (no default): it drives the required
    marker. ``nullable`` means ``None`` is a valid value (``Optional[X]``):
    it makes an empty input mean ``None`` instead of ``""``/missing.
    """

    name: str
    key: str
    """The key pydantic validates under (the alias when the field has one)."""
    title: str
    description: str | None
    kind: FieldKind
    required: bool
    nullable: bool
    default: Any
    """The static default, or ``PydanticUndefined`` (required or ``default_factory``)."""
    default_factory: Callable[[], Any] | None
    choices: tuple[tuple[str, Any], ...] = ()
    enum_cls: type[Enum] | None = None

    @property
    def label(self) -> str:
        """The visible label, which is also the input's accessible name."""
        return self.title + (REQUIRED_MARK if self.required else "")

    def initial(self) -> Any:
        """The value a fresh form shows: the default, a fresh factory value, or empty."""
        if self.default is not PydanticUndefined:
            return self.default
        if self.default_factory is not None:
            return self.default_factory()
        return None


def choice_label(value: Any) -> str:
    """``KYC_REFRESH`` -> ``KYC refresh``: options read as words, not constants."""
    raw = value.value if isinstance(value, Enum) else value
    if isinstance(raw, Enum):  # pragma: no cover - nested enums are unusual
        raw = raw.name
    if not isinstance(raw, str):
        raw = value.name if isinstance(value, Enum) else str(raw)
    return words(raw.strip()) or str(raw)


def _strip_annotated(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    """``Optional[Annotated[str, ...]]`` -> (``str``, True); other unions are left alone."""
    tp = _strip_annotated(tp)
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(tp) if a is not _NONE_TYPE]
        nullable = len(args) != len(get_args(tp))
        if len(args) == 1:
            return _strip_annotated(args[0]), nullable
        return tp, nullable
    return tp, False


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _name_words(name: str) -> list[str]:
    """``client_secret`` -> [client, secret]; ``apiKey`` -> [api, key]."""
    return [w for w in _CAMEL_BOUNDARY.sub("_", name).lower().split("_") if w]


def _is_secret_name(name: str) -> bool:
    """True when a hint appears in ``name`` as whole words (``api_key`` as two in a row)."""
    found = _name_words(name)
    for hint in SECRET_NAME_HINTS:
        wanted = hint.split("_")
        size = len(wanted)
        if any(found[i : i + size] == wanted for i in range(len(found) - size + 1)):
            return True
    return False


def _classify(
    name: str, tp: Any
) -> tuple[FieldKind, tuple[tuple[str, Any], ...], type[Enum] | None]:
    if get_origin(tp) is Literal:
        return "choice", tuple((choice_label(v), v) for v in get_args(tp)), None
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            return "choice", tuple((choice_label(m), m) for m in tp), tp
        if issubclass(tp, SecretStr) or (issubclass(tp, str) and _is_secret_name(name)):
            return "secret", (), None
        if tp is EmailStr or issubclass(tp, (EmailStr, NameEmail)):
            return "email", (), None
        if issubclass(tp, bool):
            return "bool", (), None
        if issubclass(tp, int):
            return "int", (), None
        if issubclass(tp, float):
            return "float", (), None
        if issubclass(tp, Decimal):
            return "decimal", (), None
        if issubclass(tp, datetime):  # before date: datetime is a date subclass
            return "datetime", (), None
        if issubclass(tp, date):
            return "date", (), None
        if issubclass(tp, time):
            return "time", (), None
        if issubclass(tp, str):
            return "text", (), None
    raise TypeError(
        f"SchemaForm has no input for field {name!r} of type {tp!r}; "
        "pass exclude=[...] or widgets={...: widget} for it"
    )


def _spec_for(name: str, info: FieldInfo) -> FieldSpec:
    tp, nullable = _unwrap_optional(info.annotation)
    kind, choices, enum_cls = _classify(name, tp)
    alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
    return FieldSpec(
        name=name,
        key=alias if isinstance(alias, str) else name,
        title=info.title or words(name),
        description=info.description,
        kind=kind,
        required=info.is_required(),
        nullable=nullable,
        default=info.default,
        default_factory=info.default_factory,  # type: ignore[arg-type]
        choices=choices,
        enum_cls=enum_cls,
    )


@functools.lru_cache(maxsize=128)
def field_specs(model_cls: type[BaseModel]) -> tuple[FieldSpec, ...]:
    """The form-relevant facts of every field of ``model_cls``, in model order.

    Cached: introspecting annotations is the only per-model work, so building
    the same form again (a fresh draft after each created case) skips it.
    Raises ``TypeError`` naming a field the form cannot render, at build time
    rather than when the analyst first touches the form.
    """
    specs: list[FieldSpec] = []
    for name, info in model_cls.model_fields.items():
        try:
            specs.append(_spec_for(name, info))
        except TypeError as exc:
            specs.append(_unsupported(name, info, exc))
    return tuple(specs)


@dataclass(frozen=True)
class _UnsupportedSpec(FieldSpec):
    """A field without a built-in input: fine if excluded or overridden, an error otherwise."""

    error: str = ""


def _unsupported(name: str, info: FieldInfo, exc: TypeError) -> FieldSpec:
    return _UnsupportedSpec(
        name=name,
        key=name,
        title=info.title or words(name),
        description=info.description,
        kind="text",
        required=info.is_required(),
        nullable=False,
        default=info.default,
        default_factory=info.default_factory,  # type: ignore[arg-type]
        error=str(exc),
    )


def is_supported(spec: FieldSpec) -> bool:
    return not isinstance(spec, _UnsupportedSpec)


def unsupported_reason(spec: FieldSpec) -> str:
    return spec.error if isinstance(spec, _UnsupportedSpec) else ""


# --------------------------------------------------------------------------- widgets

_PLACEHOLDERS: dict[str, str] = {
    "email": "name@example.com",
    "int": "A whole number, e.g. 42",
    "float": "A number, e.g. 2.5",
    "decimal": "A number, e.g. 2.50",
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
    if narrowed is not None or kind == "choice" or (kind == "bool" and spec.nullable):
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
