"""Reading an evidence record strictly: one meaning per file, or a refusal in one line.

Why strict: the hash chain of :mod:`.evidence` hashes what a JSON parser
returns, and Python's ``json`` keeps the *last* of two equal keys while other
readers (a spreadsheet's import, ``jq`` in some modes, an auditor's own
script) may keep the first. A record with ``"status": "created", …,
"status": "invalid"`` in one entry would then verify, and mean two things.
So would keys that the verifier ignores (an ``"approved_by"`` slipped into
``chain``, which no hash covers). Hence:

- :func:`parse_record` refuses duplicate keys in any object (``object_pairs_hook``),
  ``NaN`` and ``Infinity`` (not JSON), and text that is not JSON at all;
- :func:`check_shape` refuses unknown keys, missing keys and values of the
  wrong type at every level the tool defines (header, runs, sheet, mapping,
  entries and their problems, chain and signature), so nothing in a record
  goes unchecked. ``options`` and ``mapping.columns`` are maps by nature:
  their keys are free, their values must be plain (hashed into the genesis).

Both raise :class:`MalformedRecord`, whose message is one line naming where
(``entry 3``, ``chain``): the command line prints it as is, never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .status import STATUSES

__all__ = [
    "EVIDENCE_FORMAT",
    "LEGACY_FORMATS",
    "MalformedRecord",
    "check_shape",
    "parse_record",
]

EVIDENCE_FORMAT = "kyc-widgets/campaign-evidence/2"
"""The format written now: format 1 plus ``sent_values`` (the header) and ``values_sha256``
(entries of created rows), an optional ``chain.signature`` and an optional ``plan`` (the
approved plan it was sent with: hashes, maker, checker, times)."""
LEGACY_FORMATS = ("kyc-widgets/campaign-evidence/1",)
"""Formats still verified (records written by earlier versions)."""

_STATUS_WORDS = frozenset(status.value for status in STATUSES)


class MalformedRecord(ValueError):
    """The record is not one the tool wrote: not JSON, a duplicate or unknown key, a wrong type."""


# --------------------------------------------------------------------------- parsing


def parse_record(text: str) -> dict[str, Any]:
    """The record in ``text``, parsed strictly and checked (:func:`check_shape`)."""
    try:
        record = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except MalformedRecord:
        raise
    except RecursionError:
        raise MalformedRecord("the record is nested too deeply to be an evidence record") from None
    except ValueError as exc:
        raise MalformedRecord(f"the record is not valid JSON ({_short(exc)}): it was edited "
                              "or truncated") from None
    check_shape(record)
    return record


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            seq = dict(pairs).get("seq")
            where = f" in entry {seq}" if isinstance(seq, int) else ""
            raise MalformedRecord(f"duplicate key {key!r}{where}: one record, two readings")
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise MalformedRecord(f"{name} is not a JSON value")


def _short(exc: ValueError) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


# --------------------------------------------------------------------------- shapes


class _Spec:
    def check(self, value: Any, where: str) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class _Types(_Spec):
    """One of these JSON types (``bool`` is not an ``int`` here, nor an ``int`` a ``bool``)."""

    types: tuple[type, ...]

    def check(self, value: Any, where: str) -> None:
        if isinstance(value, bool) and bool not in self.types:
            raise MalformedRecord(f"{where} is {_kind(value)}, not {self._names()}")
        if not isinstance(value, self.types):
            raise MalformedRecord(f"{where} is {_kind(value)}, not {self._names()}")

    def _names(self) -> str:
        return " or ".join(_TYPE_NAMES[t] for t in self.types)


@dataclass(frozen=True)
class _Words(_Spec):
    """A string from a fixed vocabulary."""

    words: frozenset[str]

    def check(self, value: Any, where: str) -> None:
        if not isinstance(value, str) or value not in self.words:
            raise MalformedRecord(f"{where} is not one of the known values")


@dataclass(frozen=True)
class _Nullable(_Spec):
    """``null``, or a value of ``spec``."""

    spec: _Spec

    def check(self, value: Any, where: str) -> None:
        if value is not None:
            self.spec.check(value, where)


@dataclass(frozen=True)
class _List(_Spec):
    """A list of items of one shape; ``label`` names an item (``entry 3``) in messages."""

    item: _Spec
    label: str | None = None

    def check(self, value: Any, where: str) -> None:
        if not isinstance(value, list):
            raise MalformedRecord(f"{where} is {_kind(value)}, not a list")
        for position, item in enumerate(value):
            name = f"{self.label} {position}" if self.label else f"{where}[{position}]"
            self.item.check(item, name)


@dataclass(frozen=True)
class _Map(_Spec):
    """An object whose keys are free (or from ``keys``) and whose values all have one shape."""

    value: _Spec
    keys: frozenset[str] | None = None

    def check(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise MalformedRecord(f"{where} is {_kind(value)}, not an object")
        for key, item in value.items():
            if self.keys is not None and key not in self.keys:
                raise MalformedRecord(f"{where} has an unknown key {key!r}")
            self.value.check(item, _at(where, key))


@dataclass(frozen=True)
class _Object(_Spec):
    """An object with exactly these keys (``optional`` ones may be absent); nothing else."""

    required: dict[str, _Spec]
    optional: dict[str, _Spec] = field(default_factory=dict)

    def check(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise MalformedRecord(f"{where} is {_kind(value)}, not an object")
        for key in value:
            if key not in self.required and key not in self.optional:
                raise MalformedRecord(f"{where} has an unknown key {key!r}")
        for key, spec in self.required.items():
            if key not in value:
                raise MalformedRecord(f"{where} has no {key!r}")
            spec.check(value[key], _at(where, key))
        for key, spec in self.optional.items():
            if key in value:
                spec.check(value[key], _at(where, key))

    def extended(self, **more: _Spec) -> _Object:
        return _Object({**self.required, **more}, self.optional)


_ROOT = "the record"


def _at(where: str, key: str) -> str:
    """Where a key sits, as a reader names it: ``chain``, ``entry 3.status``, ``sheet.rows``."""
    return key if where == _ROOT else f"{where}.{key}"


_TYPE_NAMES = {str: "a string", int: "a number", float: "a number", bool: "true or false",
               type(None): "null", list: "a list", dict: "an object"}


def _kind(value: Any) -> str:
    for kind, name in _TYPE_NAMES.items():
        if type(value) is kind:
            return name
    return type(value).__name__


_STR = _Types((str,))
_INT = _Types((int,))
_OPT_STR = _Types((str, type(None)))
_OPT_INT = _Types((int, type(None)))
_SCALAR = _Types((str, int, float, bool, type(None)))

_PROBLEM = _Object({"field": _OPT_STR, "code": _OPT_STR})
_ENTRY = _Object(
    {
        "seq": _INT, "sheet_row": _OPT_INT, "kyc_case_id": _OPT_STR,
        "status": _Words(_STATUS_WORDS), "http_status": _OPT_INT, "request_id": _OPT_STR,
        "case_id": _OPT_STR, "prev": _STR, "hash": _STR,
    },
    {"problems": _List(_PROBLEM), "values_sha256": _STR},
)
_RUN = _Object(
    {"started_at": _OPT_STR, "finished_at": _OPT_STR, "principals": _List(_STR), "rows_sent": _INT},
    {"dry_run": _Types((bool, str)), "from_journal": _Types((bool,))},
)
_SIGNATURE = _Object({"algorithm": _STR, "key_id": _STR, "value": _STR})
_CHAIN = _Object(
    {"algorithm": _STR, "genesis": _STR, "head": _STR, "length": _INT}, {"signature": _SIGNATURE}
)
_MAPPING = _Object(
    {
        "columns": _Map(_STR),
        "sha256": _STR,
        "campaign_mapping": _Nullable(
            _Object({"file": _OPT_STR, "fingerprint": _STR}, {"values": _Map(_Map(_STR))})
        ),
    }
)
_HEADER_V1 = _Object(
    {
        "format": _STR,
        "tool": _Object({"name": _STR, "version": _STR}),
        "api_base_url": _OPT_STR,
        "principals": _List(_STR),
        "started_at": _OPT_STR,
        "finished_at": _OPT_STR,
        "runs": _List(_RUN),
        "campaign": _OPT_STR,
        "sheet": _Object({"file_name": _OPT_STR, "sha256": _OPT_STR, "rows": _INT},
                         {"hashed": _STR}),
        "mapping": _MAPPING,
        "options": _Map(_SCALAR),
        "dry_run": _Types((bool,)),
        "stopped_reason": _OPT_STR,
        "counts": _Map(_INT, keys=_STATUS_WORDS),
        "fixed_in_notebook": _List(_Object(
            {"sheet_row": _INT, "fields": _List(_STR)},
            optional={"sent_at": _OPT_STR, "by": _List(_STR)},
        )),
        "entries": _List(_ENTRY, label="entry"),
        "chain": _CHAIN,
    }
)
_SENT_VALUES = _Object({"algorithm": _Words(frozenset({"sha256"})), "salt": _STR,
                        "fields": _List(_STR)})
_PLAN = _Object(
    {"sha256": _STR, "approval_sha256": _STR, "maker": _STR, "made_at": _STR, "checker": _STR,
     "approved_at": _STR, "expires_at": _STR, "signed_by": _OPT_STR}
)
"""The approved plan a campaign was sent with (:mod:`.plan_file`); absent without one."""
_SHAPES = {
    LEGACY_FORMATS[0]: _HEADER_V1,
    EVIDENCE_FORMAT: _Object(
        {**_HEADER_V1.required, "sent_values": _SENT_VALUES}, {"plan": _PLAN}
    ),
}


def check_shape(record: Any) -> None:
    """Raise :class:`MalformedRecord` unless ``record`` has exactly the shape its format defines."""
    if not isinstance(record, dict):
        raise MalformedRecord(f"the record is {_kind(record)}, not an evidence record")
    fmt = record.get("format")
    shape = _SHAPES.get(fmt) if isinstance(fmt, str) else None
    if shape is None:
        known = ", ".join(_SHAPES)
        raise MalformedRecord(f"not an evidence record of a known format ({known})")
    shape.check(record, _ROOT)
