"""Reading a pydantic annotation into a :class:`~kyc_widgets.form.fields.FieldSpec`.

Why one classifier: every pydantic v2 field shape (nested models, lists, dicts,
``Optional``, unions with or without a discriminator, ``Literal``, ``Enum``,
``Annotated`` metadata, constrained and temporal types, ``SecretStr``) must map
to exactly one editor, and the answer must be computed once per model: a form
rebuilt after each created case, or a list item added, reads the cached specs.

Recursion is safe: a nested model is described by its class only
(:class:`~kyc_widgets.form.fields.ModelShape`); its own fields are read when an
editor for it is built (:func:`field_specs`, cached), never while classifying.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin
from uuid import UUID

import annotated_types
from pydantic import AnyUrl, BaseModel, EmailStr, NameEmail, SecretStr, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from kyc_widgets.form.fields import (
    SECRET_NAME_HINTS,
    DictShape,
    FieldKind,
    FieldSpec,
    ListShape,
    ModelShape,
    UnionOption,
    UnionShape,
    choice_label,
)
from kyc_widgets.labels import words

__all__ = [
    "field_specs",
    "is_supported",
    "model_title",
    "spec_for_annotation",
    "unsupported_reason",
]

_NONE_TYPE = type(None)
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_LIST_ORIGINS = (list, set, frozenset, tuple, Sequence)
_OPTION_WORDS: dict[str, str] = {
    "text": "Text",
    "email": "E-mail address",
    "secret": "Secret",
    "int": "Whole number",
    "float": "Number",
    "decimal": "Number",
    "bool": "Yes or no",
    "date": "Date",
    "datetime": "Date and time",
    "time": "Time",
    "uuid": "UUID",
    "url": "Web address",
    "list": "List",
    "dict": "Key and value pairs",
}
"""What a union's selector calls an option that is not a model or a choice."""


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


def model_title(model: type[BaseModel]) -> str:
    """A model's own title (``model_config["title"]``) or its class name in words."""
    title = model.model_config.get("title")
    return title if isinstance(title, str) and title else words(_CAMEL_BOUNDARY.sub("_", model.__name__))


# --------------------------------------------------------------------------- annotations


def _strip_annotated(tp: Any, metadata: list[Any]) -> Any:
    """``Annotated[X, m1, m2]`` -> X, with m1, m2 appended to ``metadata``."""
    while get_origin(tp) is Annotated:
        args = get_args(tp)
        metadata.extend(args[1:])
        tp = args[0]
    return tp


def _is_union(tp: Any) -> bool:
    origin = get_origin(tp)
    return origin is Union or origin is types.UnionType


def _unwrap(tp: Any, metadata: list[Any]) -> tuple[Any, bool]:
    """(the type without ``Annotated``/``None``, nullable); metadata collected on the way."""
    tp = _strip_annotated(tp, metadata)
    if not _is_union(tp):
        return tp, False
    args = [a for a in get_args(tp) if a is not _NONE_TYPE]
    nullable = len(args) != len(get_args(tp))
    if len(args) == 1:
        return _strip_annotated(args[0], metadata), nullable
    return Union[tuple(args)], nullable  # noqa: UP007 - rebuilt from a runtime tuple


def _length_bounds(metadata: list[Any]) -> tuple[int, int | None]:
    """``Field(min_length=..., max_length=...)`` of a list or dict (annotated-types metadata)."""
    low, high = 0, None
    for item in metadata:
        if isinstance(item, annotated_types.MinLen):
            low = int(item.min_length)
        elif isinstance(item, annotated_types.MaxLen):
            high = int(item.max_length)
        elif isinstance(item, annotated_types.Len):
            low, high = int(item.min_length), item.max_length
    return low, high


def _discriminator(metadata: list[Any]) -> str | None:
    for item in metadata:
        if isinstance(item, FieldInfo) and isinstance(item.discriminator, str):
            return item.discriminator
    return None


# --------------------------------------------------------------------------- scalars


def _scalar_kind(name: str, tp: Any) -> tuple[FieldKind, tuple[tuple[str, Any], ...], Any]:
    """(kind, choices, enum class) of a one-input type; ``TypeError`` when there is none."""
    if get_origin(tp) is Literal:
        values = get_args(tp)
        kind: FieldKind = "const" if len(values) == 1 else "choice"
        return kind, tuple((choice_label(v), v) for v in values), None
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            return "choice", tuple((choice_label(m), m) for m in tp), tp
        if issubclass(tp, SecretStr) or (issubclass(tp, str) and _is_secret_name(name)):
            return "secret", (), None
        if tp is EmailStr or issubclass(tp, (EmailStr, NameEmail)):
            return "email", (), None
        for base, kind in _SCALARS:
            if issubclass(tp, base):
                return kind, (), None
    raise TypeError(
        f"SchemaForm has no input for field {name!r} of type {tp!r}; "
        "pass exclude=[...] or widgets={...: widget} for it"
    )


_SCALARS: tuple[tuple[type, FieldKind], ...] = (
    (bool, "bool"),  # before int: bool is an int subclass
    (int, "int"),
    (float, "float"),
    (Decimal, "decimal"),
    (datetime, "datetime"),  # before date: datetime is a date subclass
    (date, "date"),
    (time, "time"),
    (UUID, "uuid"),
    (AnyUrl, "url"),
    (str, "text"),
)


# --------------------------------------------------------------------------- composites


def _list_shape(name: str, title: str, tp: Any, metadata: list[Any], extra: Mapping[str, Any]) -> ListShape:
    args = get_args(tp)
    if get_origin(tp) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        raise TypeError(f"SchemaForm has no input for field {name!r}: fixed-length tuple {tp!r}")
    item_tp = args[0] if args else str
    item = spec_for_annotation(name, item_tp, title=title)
    low, high = _length_bounds(metadata)
    if isinstance(item.shape, ModelShape):
        item_title = item.shape.title
    else:
        item_title = f"{title}, item"
    return ListShape(
        item=item, min_items=low, max_items=high, item_title=str(extra.get("item_title", item_title))
    )


def _dict_shape(name: str, tp: Any, metadata: list[Any]) -> DictShape:
    args = get_args(tp)
    if args and args[0] is not str:
        raise TypeError(f"SchemaForm has no input for field {name!r}: dict keys must be str")
    value = spec_for_annotation(name, args[1] if len(args) == 2 else str, title="Value")
    low, high = _length_bounds(metadata)
    return DictShape(value=value, min_items=low, max_items=high)


def _option_label(spec: FieldSpec) -> str:
    if isinstance(spec.shape, ModelShape):
        return spec.shape.title
    if spec.kind in ("choice", "const"):
        return " or ".join(label for label, _ in spec.choices)
    return _OPTION_WORDS.get(spec.kind, spec.kind)


def _member_names(annotation: Any, count: int) -> list[str | None]:
    """How pydantic names each member of a union in error locations (``Cat``, ``int``...).

    Read from pydantic itself: a value no member accepts gives one error per
    member, located at that member's name, in member order. When that does not
    hold (a member accepting anything), names are unknown (``None``).
    """
    try:
        TypeAdapter(annotation).validate_python(object())
    except ValidationError as exc:
        names = [e["loc"][0] if e["loc"] else None for e in exc.errors()]
        if len(names) == count and all(isinstance(n, str) for n in names):
            return [str(n) for n in names]
    except Exception:  # noqa: BLE001 - a type pydantic cannot adapt alone: names unknown
        pass
    return [None] * count


def _union_shape(name: str, tp: Any, metadata: list[Any]) -> UnionShape:
    members = get_args(tp)
    discriminator = _discriminator(metadata)
    specs = [spec_for_annotation(name, m, title="") for m in members]
    options: list[UnionOption] = []
    key = None
    if discriminator is not None:
        for spec in specs:
            model = spec.shape.model if isinstance(spec.shape, ModelShape) else None
            if model is None or discriminator not in model.model_fields:
                raise TypeError(f"field {name!r}: discriminator {discriminator!r} on a non-model")
            info = model.model_fields[discriminator]
            key = info.alias if isinstance(info.alias, str) else discriminator
            tags = get_args(_strip_annotated(info.annotation, []))
            options.append(UnionOption(_option_label(spec), _titled(spec), tag=tags[0] if tags else None))
    else:
        annotation = Annotated.__class_getitem__((tp, *metadata)) if metadata else tp  # type: ignore[attr-defined]
        names = _member_names(annotation, len(specs))
        options = [
            UnionOption(_option_label(s), _titled(s), member=n) for s, n in zip(specs, names, strict=True)
        ]
    seen: dict[str, int] = {}
    for i, option in enumerate(options):  # two options read alike: number them
        seen[option.label] = seen.get(option.label, 0) + 1
        if seen[option.label] > 1:
            options[i] = UnionOption(f"{option.label} ({seen[option.label]})", option.spec, option.tag, option.member)
    return UnionShape(tuple(options), discriminator, key, tp)


def _titled(spec: FieldSpec) -> FieldSpec:
    """A union option's spec, titled by what the selector calls it."""
    return _replace(spec, title=_option_label(spec))


def _replace(spec: FieldSpec, **changes: Any) -> FieldSpec:
    return dataclasses.replace(spec, **changes)


# --------------------------------------------------------------------------- specs


def _classify(
    name: str, title: str, tp: Any, metadata: list[Any], extra: Mapping[str, Any]
) -> dict[str, Any]:
    """The kind-dependent part of a spec: kind, choices, enum class, shape."""
    origin = get_origin(tp)
    if _is_union(tp):
        return {"kind": "union", "shape": _union_shape(name, tp, metadata)}
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return {"kind": "model", "shape": ModelShape(tp, model_title(tp))}
    if origin in _LIST_ORIGINS or tp in (list, set, frozenset):
        return {"kind": "list", "shape": _list_shape(name, title, tp, metadata, extra)}
    if origin in (dict, Mapping) or tp is dict:
        return {"kind": "dict", "shape": _dict_shape(name, tp, metadata)}
    if tp is str and (extra.get("format") == "password" or extra.get("writeOnly")):
        return {"kind": "secret"}  # a JSON Schema secret: ``format: password`` or write-only
    kind, choices, enum_cls = _scalar_kind(name, tp)
    return {"kind": kind, "choices": choices, "enum_cls": enum_cls}


def spec_for_annotation(
    name: str,
    annotation: Any,
    *,
    title: str,
    key: str | None = None,
    description: str | None = None,
    required: bool = True,
    default: Any = PydanticUndefined,
    default_factory: Any = None,
    read_only: bool = False,
    extra: Mapping[str, Any] | None = None,
    metadata: Sequence[Any] = (),
) -> FieldSpec:
    """The spec of a value of type ``annotation`` (a model field, a list item, a union option).

    Raises ``TypeError`` when no editor fits (a fixed-length tuple, ``dict`` with
    non-``str`` keys, an arbitrary class).
    """
    found = list(metadata)
    tp, nullable = _unwrap(annotation, found)
    extra = dict(extra or {})
    for item in found:  # Annotated[..., Field(json_schema_extra=...)] on an item or option
        if isinstance(item, FieldInfo) and isinstance(item.json_schema_extra, dict):
            extra = {**item.json_schema_extra, **extra}
    facts = _classify(name, title, tp, found, extra)
    return FieldSpec(
        name=name,
        key=key or name,
        title=title,
        description=description,
        required=required,
        nullable=nullable,
        default=default,
        default_factory=default_factory,
        read_only=read_only or bool(extra.get("readOnly")),
        annotation=tp,
        extra=extra,
        secret_type=isinstance(tp, type) and issubclass(tp, SecretStr),
        **facts,
    )


def _spec_for(name: str, info: FieldInfo) -> FieldSpec:
    alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return spec_for_annotation(
        name,
        info.annotation,
        title=info.title or words(name),
        key=alias if isinstance(alias, str) else name,
        description=info.description,
        required=info.is_required(),
        default=info.default,
        default_factory=info.default_factory,
        read_only=bool(info.frozen),
        extra=extra,
        metadata=[*info.metadata, info] if info.discriminator is not None else info.metadata,
    )


@functools.lru_cache(maxsize=256)
def field_specs(model_cls: type[BaseModel]) -> tuple[FieldSpec, ...]:
    """The form-relevant facts of every field of ``model_cls``, in model order.

    Cached: introspecting annotations is the only per-model work, so building
    the same form again (a fresh draft after each created case, a new list
    item) skips it. A field the form cannot render gets a spec that makes
    building its input raise ``TypeError`` naming it, unless it is excluded or
    given its own widget.
    """
    specs: list[FieldSpec] = []
    for name, info in model_cls.model_fields.items():
        try:
            specs.append(_spec_for(name, info))
        except TypeError as exc:
            specs.append(_unsupported(name, info, exc))
    return tuple(specs)


@dataclasses.dataclass(frozen=True)
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
        default_factory=cast(Callable[[], Any] | None, info.default_factory),
        annotation=info.annotation,
        error=str(exc),
    )


def is_supported(spec: FieldSpec) -> bool:
    """False for a field no built-in input fits (it needs ``exclude`` or ``widgets``)."""
    return not isinstance(spec, _UnsupportedSpec)


def unsupported_reason(spec: FieldSpec) -> str:
    """Why no built-in input fits ``spec`` ("" when one does)."""
    return spec.error if isinstance(spec, _UnsupportedSpec) else ""
