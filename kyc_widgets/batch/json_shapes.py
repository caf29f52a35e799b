"""Strict JSON for the files this tool writes and later trusts: one reading, known keys only.

Why: a hash chain hashes what a JSON parser returns, and Python's ``json``
keeps the *last* of two equal keys while other readers may keep the first; a
key the verifier ignores is covered by no hash. Evidence records
(:mod:`.evidence_format`) and campaign plans (:mod:`.plan_file`) are both read
through these pieces: :func:`unique_keys` (an ``object_pairs_hook`` refusing a
duplicate key), :func:`no_constant` (``NaN``/``Infinity`` are not JSON), and
shape specs (:class:`Object`, :class:`List`, :class:`Map`, :class:`Types`,
:class:`Words`, :class:`Nullable`) that refuse unknown keys, missing keys and
wrong types, naming where in one line (:class:`MalformedRecord`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "INT",
    "OPT_INT",
    "OPT_STR",
    "ROOT",
    "SCALAR",
    "STR",
    "List",
    "MalformedRecord",
    "Map",
    "Nullable",
    "Object",
    "Spec",
    "Types",
    "Words",
    "at",
    "kind_of",
    "loads_strictly",
    "no_constant",
    "short_error",
    "unique_keys",
]


class MalformedRecord(ValueError):
    """The file is not one the tool wrote: not JSON, a duplicate or unknown key, a wrong type."""


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            seq = dict(pairs).get("seq")
            where = f" in entry {seq}" if isinstance(seq, int) else ""
            raise MalformedRecord(f"duplicate key {key!r}{where}: one record, two readings")
        found[key] = value
    return found


def no_constant(name: str) -> Any:
    raise MalformedRecord(f"{name} is not a JSON value")


def short_error(exc: ValueError) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


# --------------------------------------------------------------------------- shapes


class Spec:
    def check(self, value: Any, where: str) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Types(Spec):
    """One of these JSON types (``bool`` is not an ``int`` here, nor an ``int`` a ``bool``)."""

    types: tuple[type, ...]

    def check(self, value: Any, where: str) -> None:
        if isinstance(value, bool) and bool not in self.types:
            raise MalformedRecord(f"{where} is {kind_of(value)}, not {self._names()}")
        if not isinstance(value, self.types):
            raise MalformedRecord(f"{where} is {kind_of(value)}, not {self._names()}")

    def _names(self) -> str:
        return " or ".join(_TYPE_NAMES[t] for t in self.types)


@dataclass(frozen=True)
class Words(Spec):
    """A string from a fixed vocabulary."""

    words: frozenset[str]

    def check(self, value: Any, where: str) -> None:
        if not isinstance(value, str) or value not in self.words:
            raise MalformedRecord(f"{where} is not one of the known values")


@dataclass(frozen=True)
class Nullable(Spec):
    """``null``, or a value of ``spec``."""

    spec: Spec

    def check(self, value: Any, where: str) -> None:
        if value is not None:
            self.spec.check(value, where)


@dataclass(frozen=True)
class List(Spec):
    """A list of items of one shape; ``label`` names an item (``entry 3``) in messages."""

    item: Spec
    label: str | None = None

    def check(self, value: Any, where: str) -> None:
        if not isinstance(value, list):
            raise MalformedRecord(f"{where} is {kind_of(value)}, not a list")
        for position, item in enumerate(value):
            name = f"{self.label} {position}" if self.label else f"{where}[{position}]"
            self.item.check(item, name)


@dataclass(frozen=True)
class Map(Spec):
    """An object whose keys are free (or from ``keys``) and whose values all have one shape."""

    value: Spec
    keys: frozenset[str] | None = None

    def check(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise MalformedRecord(f"{where} is {kind_of(value)}, not an object")
        for key, item in value.items():
            if self.keys is not None and key not in self.keys:
                raise MalformedRecord(f"{where} has an unknown key {key!r}")
            self.value.check(item, at(where, key))


@dataclass(frozen=True)
class Object(Spec):
    """An object with exactly these keys (``optional`` ones may be absent); nothing else."""

    required: dict[str, Spec]
    optional: dict[str, Spec] = field(default_factory=dict)

    def check(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise MalformedRecord(f"{where} is {kind_of(value)}, not an object")
        for key in value:
            if key not in self.required and key not in self.optional:
                raise MalformedRecord(f"{where} has an unknown key {key!r}")
        for key, spec in self.required.items():
            if key not in value:
                raise MalformedRecord(f"{where} has no {key!r}")
            spec.check(value[key], at(where, key))
        for key, spec in self.optional.items():
            if key in value:
                spec.check(value[key], at(where, key))

    def extended(self, **more: Spec) -> Object:
        return Object({**self.required, **more}, self.optional)


ROOT = "the record"


def at(where: str, key: str) -> str:
    """Where a key sits, as a reader names it: ``chain``, ``entry 3.status``, ``sheet.rows``."""
    return key if where == ROOT else f"{where}.{key}"


_TYPE_NAMES = {str: "a string", int: "a number", float: "a number", bool: "true or false",
               type(None): "null", list: "a list", dict: "an object"}


def kind_of(value: Any) -> str:
    for kind, name in _TYPE_NAMES.items():
        if type(value) is kind:
            return name
    return type(value).__name__


STR = Types((str,))
INT = Types((int,))
OPT_STR = Types((str, type(None)))
OPT_INT = Types((int, type(None)))
SCALAR = Types((str, int, float, bool, type(None)))


def loads_strictly(text: str, *, what: str, whole: str) -> Any:
    """``text`` parsed as JSON with one reading: no duplicate key, no ``NaN``.

    ``what`` names the file in messages ("the record"), ``whole`` what it should be
    ("an evidence record"); every failure is one :class:`MalformedRecord` line.
    """
    try:
        return json.loads(text, object_pairs_hook=unique_keys, parse_constant=no_constant)
    except MalformedRecord:
        raise
    except RecursionError:
        raise MalformedRecord(f"{what} is nested too deeply to be {whole}") from None
    except ValueError as exc:
        raise MalformedRecord(
            f"{what} is not valid JSON ({short_error(exc)}): it was edited or truncated"
        ) from None
