"""A JSON Schema document as pydantic models, so ``SchemaForm`` can draw it.

Why through pydantic: the form's promise is that validation is the model's
own. Turning the schema into models (``pydantic.create_model``) gives a form
from an API's OpenAPI document exactly the behaviour of a form from Python
code (editors, messages, paths) with one validator, instead of a second
JSON Schema validator that would disagree on the details.

Read (draft 2020-12, and what OpenAPI 3 writes): ``type`` (a list with
``"null"`` too), ``properties``/``required``, ``additionalProperties`` (a
schema: ``dict[str, X]``; ``false``: unknown keys refused), ``items``,
``minItems``/``maxItems``, ``enum``, ``const``, ``anyOf``/``oneOf`` (with a
``discriminator.propertyName``: a discriminated union), ``allOf`` of one
schema, ``$ref`` to ``$defs``/``definitions``/``components/schemas`` (a model
that refers to itself works), ``format`` (``date``, ``date-time``, ``time``,
``uuid``, ``email``, ``password``), string, number and array constraints,
``default``, ``title``, ``description``, ``readOnly``, ``writeOnly``,
``nullable`` (OpenAPI 3.0). A property that is neither required nor has a
default may be left empty (``None``). Anything else raises ``ValueError``
naming where it is.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, ForwardRef, Literal, Union
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field, create_model

__all__ = ["model_from_json_schema"]

_FORMATS: dict[str, Any] = {
    "date": date,
    "date-time": datetime,
    "time": time,
    "uuid": UUID,
    "email": EmailStr,
}
_NUMBER_RULES = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "multipleOf": "multiple_of",
}
_STRING_RULES = {"minLength": "min_length", "maxLength": "max_length", "pattern": "pattern"}
_ARRAY_RULES = {"minItems": "min_length", "maxItems": "max_length"}
_OBJECT_RULES = {"minProperties": "min_length", "maxProperties": "max_length"}
_EXTRA_KEYS = ("readOnly", "writeOnly", "format", "input", "x-input", "item_title")
"""Schema keywords kept in each field's ``json_schema_extra`` (read-only, secrets, custom inputs)."""
_NAME = re.compile(r"\W")


def model_from_json_schema(
    schema: Mapping[str, Any], *, document: Mapping[str, Any] | None = None
) -> type[BaseModel]:
    """Pydantic models for ``schema`` (an object schema); the top one is returned.

    ``document`` is what ``$ref`` pointers are read in (an OpenAPI document
    whose ``components/schemas`` entry ``schema`` is); by default ``schema`` itself.
    """
    return _Builder(document if document is not None else schema).top(schema)


class _Builder:
    """Builds the models of one document; each ``$ref`` becomes one model, built once."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.models: dict[str, type[BaseModel]] = {}
        self.by_ref: dict[str, str] = {}
        self.building: set[str] = set()

    def top(self, schema: Mapping[str, Any]) -> type[BaseModel]:
        schema = self._resolve(schema)
        if not _is_object_schema(schema):
            raise ValueError("from_json_schema needs an object schema (with properties) at the top")
        model = self._model(schema, str(schema.get("title") or "Form"))
        namespace = dict(self.models)
        for built in self.models.values():
            built.model_rebuild(_types_namespace=namespace)
        return model

    # -- references ----------------------------------------------------------------------

    def _pointer(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#"):
            raise ValueError(f"$ref {ref!r}: only references inside the document are read")
        node: Any = self.document
        for part in ref[1:].strip("/").split("/") if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                raise ValueError(f"$ref {ref!r} points nowhere")
            node = node[part]
        return node

    def _resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow ``$ref`` and one-schema ``allOf`` (siblings such as a title are kept)."""
        while True:
            if "$ref" in node:
                target = self._pointer(str(node["$ref"]))
                node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            elif isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1:
                node = {**node["allOf"][0], **{k: v for k, v in node.items() if k != "allOf"}}
            else:
                return node

    # -- types ---------------------------------------------------------------------------

    def annotation(self, node: Mapping[str, Any], hint: str) -> Any:
        """The Python type for a schema node (``hint`` names an inline object's model)."""
        ref = node.get("$ref")
        if isinstance(ref, str) and _is_object_schema(self._pointer(ref)):
            return self._model_for_ref(ref)
        node = self._resolve(node)
        if "const" in node:
            return Literal[node["const"]]
        if isinstance(node.get("enum"), list):
            values = [v for v in node["enum"] if v is not None]
            found: Any = Literal.__getitem__(tuple(values))
            return found | None if None in node["enum"] else found
        for key in ("oneOf", "anyOf"):
            if isinstance(node.get(key), list):
                return self._union(node, node[key], hint)
        kind = node.get("type")
        if isinstance(kind, list):
            members = [{**node, "type": k} for k in kind]
            return self._union({}, members, hint)
        found = self._typed(node, kind, hint)
        return found | None if node.get("nullable") is True else found

    def _typed(self, node: Mapping[str, Any], kind: Any, hint: str) -> Any:
        if kind == "null":
            return type(None)
        if kind == "boolean":
            return bool
        if kind in ("integer", "number"):
            base = int if kind == "integer" else float
            return _constrained(base, node, _NUMBER_RULES)
        if kind == "array":
            items = node.get("items", {})
            if not isinstance(items, Mapping):
                raise ValueError(f"{hint}: only arrays of one item schema are read")
            return _constrained(list[self.annotation(items, f"{hint} item")], node, _ARRAY_RULES)  # type: ignore[misc]
        if kind == "object" or (kind is None and ("properties" in node or "additionalProperties" in node)):
            return self._object(node, hint)
        if kind in ("string", None):
            fmt = node.get("format")
            base = _FORMATS.get(str(fmt), str)
            return _constrained(base, node, _STRING_RULES if base is str else {})
        raise ValueError(f"{hint}: JSON Schema type {kind!r} is not read")

    def _object(self, node: Mapping[str, Any], hint: str) -> Any:
        if node.get("properties"):
            return self._model(node, str(node.get("title") or _NAME.sub("_", hint)))
        extra = node.get("additionalProperties", {})
        value = self.annotation(extra, f"{hint} value") if isinstance(extra, Mapping) else str
        return _constrained(dict[str, value], node, _OBJECT_RULES)  # type: ignore[valid-type]

    def _union(self, node: Mapping[str, Any], members: list[Any], hint: str) -> Any:
        nullable = any(self._resolve(m).get("type") == "null" for m in members)
        real = [m for m in members if self._resolve(m).get("type") != "null"]
        kinds = sorted(str(self._resolve(m).get("type")) for m in real)
        if kinds == ["number", "string"] and all(
            "format" not in self._resolve(m) for m in real
        ):
            # how pydantic writes a Decimal: a number (with the constraints) or a numeric string
            number = next(self._resolve(m) for m in real if self._resolve(m).get("type") == "number")
            rules = {k: Decimal(str(v)) for k, v in number.items() if k in _NUMBER_RULES}
            found: Any = _constrained(Decimal, rules, _NUMBER_RULES)
        elif len(real) == 1:
            found = self.annotation(real[0], hint)
        else:
            options = tuple(self.annotation(m, f"{hint} option {i + 1}") for i, m in enumerate(real))
            found = Union.__getitem__(options)
            tag = self._discriminator(node, real)
            if tag is not None:
                found = Annotated[found, Field(discriminator=tag)]
        return found | None if nullable else found

    def _discriminator(self, node: Mapping[str, Any], members: list[Any]) -> str | None:
        """The tag property, when every option is an object whose tag is a constant."""
        spec = node.get("discriminator")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("propertyName"), str):
            return None
        tag = spec["propertyName"]
        for member in members:
            prop = self._resolve(member).get("properties", {}).get(tag, {})
            if "const" not in prop and not (isinstance(prop.get("enum"), list) and len(prop["enum"]) == 1):
                return None
        return str(tag)

    # -- models --------------------------------------------------------------------------

    def _model_for_ref(self, ref: str) -> Any:
        if ref in self.by_ref:
            name = self.by_ref[ref]
            return self.models.get(name) or ForwardRef(name)
        target = self._resolve(self._pointer(ref))
        hint = ref.rsplit("/", 1)[-1]
        name = self._class_name(hint)
        self.by_ref[ref] = name
        return self._model(target, str(target.get("title") or hint), name=name)

    def _class_name(self, hint: str) -> str:
        base = _NAME.sub("_", hint.replace(" ", "_")) or "Model"
        base = base if base[0].isalpha() else f"M{base}"
        name, n = base, 1
        while name in self.models or name in self.building:
            n += 1
            name = f"{base}{n}"
        return name

    def _model(self, node: Mapping[str, Any], title: str, *, name: str | None = None) -> type[BaseModel]:
        name = name or self._class_name(title)
        self.building.add(name)
        if title == name:  # the schema's title is the class name: the form words it itself
            title = ""
        required = set(node.get("required") or ())
        fields: dict[str, Any] = {}
        for prop, sub in (node.get("properties") or {}).items():
            fields[_field_name(prop)] = self._field(prop, sub, prop in required, title)
        config = ConfigDict(
            title=title or None,
            populate_by_name=True,
            extra="forbid" if node.get("additionalProperties") is False else "ignore",
        )
        model = create_model(name, __config__=config, __doc__=node.get("description"), **fields)
        self.building.discard(name)
        self.models[name] = model
        return model

    def _field(self, prop: str, sub: Mapping[str, Any], required: bool, owner: str) -> tuple[Any, Any]:
        resolved = self._resolve(sub)
        annotation = self.annotation(sub, f"{owner} {prop}")
        extra = {k: resolved[k] for k in _EXTRA_KEYS if k in resolved}
        title = resolved.get("title") or None
        if title == prop.replace("_", " ").title():
            title = None  # pydantic's own "Born On": the form words the name itself ("Born on")
        kwargs: dict[str, Any] = {
            "alias": prop if _field_name(prop) != prop else None,
            "title": title,
            "description": resolved.get("description"),
            "json_schema_extra": extra or None,
        }
        if "default" in resolved:
            kwargs["default"] = resolved["default"]
        elif not required:
            annotation = annotation | None
            kwargs["default"] = None
        return annotation, Field(**kwargs)


def _is_object_schema(node: Mapping[str, Any]) -> bool:
    return node.get("type") == "object" and bool(node.get("properties")) or (
        "type" not in node and bool(node.get("properties"))
    )


def _field_name(prop: str) -> str:
    """A property name as a Python identifier pydantic accepts (the property stays its alias)."""
    name = _NAME.sub("_", prop)
    if not name or not name[0].isalpha() or keyword.iskeyword(name) or name.startswith("model_"):
        name = f"f_{name}"
    return name


def _constrained(base: Any, node: Mapping[str, Any], rules: Mapping[str, str]) -> Any:
    """``base`` with the node's constraints as ``Field`` metadata (``Annotated``)."""
    found = {rules[k]: node[k] for k in rules if k in node}
    if not found:
        return base
    return Annotated[base, Field(**found)]
