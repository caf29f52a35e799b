"""What :class:`~kyc_widgets.form.schema_form.SchemaForm` knows about a field: ``FieldSpec``.

Why a separate module: the facts read from a pydantic model (title, required,
nullable, input kind, and for nested fields the *shape* of what they hold) are
data that every part of the form reads: the classifier
(:mod:`kyc_widgets.form.shapes`) writes them, the inputs
(:mod:`kyc_widgets.form.inputs`) and the editors of nested models, lists,
dicts and unions read them. Keeping the data apart from both keeps the
imports one-way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from kyc_widgets.labels import words

__all__ = [
    "COMPOSITE_KINDS",
    "REQUIRED_MARK",
    "SECRET_NAME_HINTS",
    "UNSELECTED",
    "DictShape",
    "FieldKind",
    "FieldSpec",
    "ListShape",
    "ModelShape",
    "Shape",
    "UnionOption",
    "UnionShape",
    "choice_label",
    "in_sentence",
]

FieldKind = Literal[
    "text",
    "email",
    "secret",
    "choice",
    "const",
    "int",
    "float",
    "decimal",
    "bool",
    "date",
    "datetime",
    "time",
    "uuid",
    "url",
    "model",
    "list",
    "dict",
    "union",
]

COMPOSITE_KINDS: frozenset[str] = frozenset({"model", "list", "dict", "union"})
"""Kinds drawn as a group of inputs (an editor) rather than one input."""

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


@dataclass(frozen=True)
class ModelShape:
    """A nested pydantic model: its fields come from ``shapes.field_specs(model)`` (cached)."""

    model: type[BaseModel]
    title: str


@dataclass(frozen=True)
class ListShape:
    """``list[X]`` (also ``set``/``frozenset``/``tuple[X, ...]``): one editor per item."""

    item: FieldSpec
    min_items: int = 0
    max_items: int | None = None
    item_title: str = ""
    """What one item is called ("Beneficial owner"): numbered in the form ("… 2")."""


@dataclass(frozen=True)
class DictShape:
    """``dict[str, X]``: key/value rows."""

    value: FieldSpec
    min_items: int = 0
    max_items: int | None = None


@dataclass(frozen=True)
class UnionOption:
    """One option of a union: what the selector calls it and the spec of its value."""

    label: str
    spec: FieldSpec
    tag: Any = None
    """The discriminator's value for this option (discriminated unions only)."""
    member: str | None = None
    """How pydantic names this member in an error's location (``Cat``, ``int``...)."""


@dataclass(frozen=True)
class UnionShape:
    """``A | B | ...`` of anything: a selector, then the chosen option's editor."""

    options: tuple[UnionOption, ...]
    discriminator: str | None = None
    """The discriminating field's name in each option model (``Field(discriminator=...)``)."""
    discriminator_key: str | None = None
    """The key it is validated under (its alias when it has one)."""
    annotation: Any = None


Shape = ModelShape | ListShape | DictShape | UnionShape


@dataclass(frozen=True)
class FieldSpec:
    """Everything the form needs to know about one field, read once per model.

    ``required`` is pydantic's notion (no default): it drives the required
    marker. ``nullable`` means ``None`` is a valid value (``Optional[X]``):
    it makes an empty input mean ``None`` instead of ``""``/missing, and gives
    a nested model, list or dict an explicit "none" state. ``shape`` describes
    what a composite field (``kind`` in :data:`COMPOSITE_KINDS`) holds.
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
    shape: Shape | None = None
    read_only: bool = False
    """``Field(frozen=True)`` or ``json_schema_extra={"readOnly": True}``: shown, not editable."""
    annotation: Any = None
    """The field's type without ``Optional``/``Annotated`` (custom inputs match on it)."""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """The field's ``json_schema_extra`` (custom inputs may match on it)."""
    secret_type: bool = False
    """True for ``SecretStr``: the form's values hold a ``SecretStr``, never the bare text."""

    @property
    def label(self) -> str:
        """The visible label, which is also the input's accessible name."""
        return self.title + (REQUIRED_MARK if self.required else "")

    @property
    def composite(self) -> bool:
        """Drawn as a group (nested model, list, dict, union) rather than one input."""
        return self.kind in COMPOSITE_KINDS

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


def in_sentence(title: str) -> str:
    """A title inside a sentence: "Add postal address", but "Add KYC contact" and "Add ID"."""
    if len(title) > 1 and title[1].isupper():
        return title
    return title[:1].lower() + title[1:]
