"""Mapping files read strictly: bounded in size, no duplicate keys, no YAML tricks, typed.

Why: a mapping file decides the constants every case of a campaign is
created with, and it comes from outside like a sheet does. Read loosely,
``programme_name: 010`` (a YAML octal) became ``"8"``, ``[Prog One]`` the text
``"['Prog One']"``, ``true`` the text ``"True"``, and cases were created with
them; a key written twice kept the last value without a word; ``Draft`` and
``draft `` mapped to two statuses and the sheet's "Draft" rows were created
``PENDING``; a 470-byte YAML file of nested aliases expanded into gigabytes
in the validator; a 100 MB file took 24 s and produced a 91 MB message.

Here (:func:`read_mapping_file`, then :func:`checked_mapping_data`):

* the file is refused over :attr:`~.limits.ReadLimits.max_mapping_bytes`
  before it is read, and YAML with more than ``max_yaml_aliases`` aliases
  (``*name``) while it is parsed, before anything is built from them;
* a key written twice in one object (JSON or YAML) is refused, naming it;
* the content must be ``{"columns": {header: field or null}, "constants":
  {field: text}, "values": {field: {sheet value: API value}}}``: every
  constant, header and value is *text* (a YAML number, boolean, date, list
  or mapping is refused, naming the field and saying to quote it); another
  key (``confidence`` included: it is never saved) is refused;
* value-map keys that are the same once case, spaces and punctuation are
  ignored (how the pre-flight compares them) are refused: only one of them
  could ever apply.

Messages name keys (shortened) and never repeat a value, so they stay short.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .limits import DEFAULT_LIMITS, ReadLimits
from .synonyms import phrase

__all__ = [
    "MappingError",
    "checked_mapping_data",
    "parse_mapping_bytes",
    "read_mapping_file",
    "shown",
    "value_key_collisions",
]

_KEYS = ("columns", "constants", "values")
_YAML_SUFFIXES = (".yaml", ".yml")
_LISTED = 10
"""At most this many problems are named in one message."""


class MappingError(ValueError):
    """A mapping cannot be used: unknown fields or values, a constant that clashes
    with a column, or guesses nobody confirmed. The message names them."""


def shown(key: object, width: int = 40) -> str:
    """A key for a message: its ``repr``, cut to ``width`` characters."""
    text = repr(key)
    return text if len(text) <= width else text[: width - 4] + "...'"


def read_mapping_file(path: str | os.PathLike[str], limits: ReadLimits | None = None) -> Any:
    """The parsed content of a mapping file (JSON, or YAML by its ending), read strictly.

    Raises :class:`MappingError` for a file over the size limit (checked before
    it is read), unreadable syntax (the parser's message, shortened), a
    duplicate key or too many YAML aliases (:func:`parse_mapping_bytes`).
    """
    limits = DEFAULT_LIMITS if limits is None else limits
    source = Path(path)
    size = os.stat(source).st_size
    if size > limits.max_mapping_bytes:
        raise _too_big(source.name, size, limits)
    return parse_mapping_bytes(source.name, source.read_bytes(), limits)


def parse_mapping_bytes(name: str, data: bytes, limits: ReadLimits | None = None) -> Any:
    """:func:`read_mapping_file` for a file already in memory (a mapping uploaded in the app:
    never written to disk), with the same checks; ``name`` picks JSON or YAML by its ending."""
    limits = DEFAULT_LIMITS if limits is None else limits
    shown_name = Path(name).name
    if len(data) > limits.max_mapping_bytes:
        raise _too_big(shown_name, len(data), limits)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MappingError(f"{shown_name}: not UTF-8 text (byte {exc.start + 1}).") from None
    try:
        if Path(name).suffix.lower() in _YAML_SUFFIXES:
            return _load_yaml(text, limits.max_yaml_aliases)
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except MappingError as exc:
        raise MappingError(f"{shown_name}: {exc}") from None
    except RecursionError:
        raise MappingError(f"{shown_name}: nested too deeply to be a mapping.") from None
    except Exception as exc:  # json.JSONDecodeError, yaml.YAMLError (not a ValueError)
        raise MappingError(
            f"{shown_name}: not a readable mapping file ({_first_line(exc)})."
        ) from None


def _too_big(name: str, size: int, limits: ReadLimits) -> MappingError:
    return MappingError(
        f"{name}: {size:,} bytes, more than a mapping file holds "
        f"({limits.max_mapping_bytes:,}, ReadLimits.max_mapping_bytes)."
    )


def _first_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:160] + "..."


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise MappingError(f"the key {shown(key)} is written twice in one object; keep one.")
        out[key] = value
    return out


def _load_yaml(text: str, max_aliases: int) -> Any:
    import yaml

    class StrictLoader(yaml.SafeLoader):
        """PyYAML's safe loader, counting aliases and refusing duplicate keys."""

        aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > max_aliases:
                    raise MappingError(
                        f"more than {max_aliases} YAML aliases (*name; ReadLimits.max_yaml_aliases): "
                        "nested aliases expand a few lines into gigabytes. Write the values out."
                    )
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                try:
                    twice = key in seen
                    seen.add(key)
                except TypeError:
                    raise MappingError(
                        f"line {key_node.start_mark.line + 1}: a key must be text."
                    ) from None
                if twice:
                    raise MappingError(
                        f"line {key_node.start_mark.line + 1}: the key {shown(key)} is written "
                        "twice in one mapping; keep one."
                    )
            return super().construct_mapping(node, deep=deep)

    loader = StrictLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def checked_mapping_data(data: Any, name: str) -> dict[str, Any]:
    """``data`` if it has exactly the mapping file's shape and types; else :class:`MappingError`.

    Checked before pydantic sees it, so the message names the field and what
    to write, and a nested structure is never walked or printed.
    """
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise MappingError(f"{name}: expected keys columns, constants and values.")
    problems = [_unknown_key(key) for key in data if key not in _KEYS]
    checked_types = len(problems)
    columns, constants, values = (data.get(key, {}) for key in _KEYS)
    problems += _text_table("columns", columns, "column", allow_null=True)
    problems += _text_table("constants", constants, "constant")
    if not isinstance(values, Mapping):
        problems.append("values must be a table of fields, each a table of sheet value: API value.")
    else:
        for field, table in values.items():
            problems += _text_table(f"values.{field}", table, f"value of {field}")
    if problems:
        listed = "; ".join(problems[:_LISTED])
        more = f"; and {len(problems) - _LISTED} more" if len(problems) > _LISTED else ""
        hint = (
            ". Write every header, constant and value as text, in quotes when it could read as "
            "something else (YAML reads 010 as the number 8, and yes or true as a boolean)"
            if len(problems) > checked_types
            else ""
        )
        raise MappingError(f"{name}: {listed}{more}{hint}.")
    return dict(data)


def _unknown_key(key: object) -> str:
    if key in ("confidence", "value_confidence"):
        return (
            f"the key {shown(key)} is not read from a file: how sure a suggestion was is never "
            "saved, a saved mapping is a confirmed one. Remove it"
        )
    return f"unknown key {shown(key)}; a mapping has columns, constants and values"


def _text_table(where: str, table: Any, what: str, *, allow_null: bool = False) -> list[str]:
    """Problems of a table whose keys and values must be text."""
    if not isinstance(table, Mapping):
        return [f"{where} must be a table of text (key: value), not {_kind(table)}"]
    problems = []
    for key, value in table.items():
        if not isinstance(key, str):
            problems.append(f"{where}: the key {shown(key)} is {_kind(key)}, not text")
        elif value is None and allow_null:
            continue
        elif not isinstance(value, str):
            problems.append(f"{what} {shown(key)} is {_kind(value)}, not text")
    return problems


def _kind(value: object) -> str:
    """What a parsed value is, in words (never the value itself)."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    return f"a {type(value).__name__}"


def value_key_collisions(values: Mapping[str, Any]) -> list[str]:
    """Value-map keys of one field that the pre-flight reads as one sheet value, mapped to
    different values (the same value twice, as a suggestion from ``Draft`` and ``draft``
    gives, is harmless)."""
    problems = []
    for field, table in values.items():
        if not isinstance(table, Mapping):
            continue
        groups: dict[str, list[str]] = {}
        for key in table:
            if isinstance(key, str):
                groups.setdefault(phrase(key), []).append(key)
        for keys in groups.values():
            if len({str(table[key]) for key in keys}) > 1:
                problems.append(
                    f"values of {shown(field)}: " + ", ".join(shown(k) for k in keys[:5])
                    + " are one sheet value once case, spaces and punctuation are ignored, "
                    "mapped to different values; keep one"
                )
    return problems
