"""Dotted paths: how the form names a place in a nested value (``"owners.1.name"``).

Why one convention: the same name keys ``SchemaForm.field_errors``, is what
``set_errors`` accepts (the API's 400 ``details.field``), and what ``fields``,
``rows`` and ``error_widgets`` are keyed by. Field names and dict keys are
parts, list indexes are numbers; the top-level field's path is its name, so
a flat form reads exactly as it did before nesting existed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["as_pattern", "css_token", "join", "loc_path", "normalise", "parts"]

_BRACKETS = re.compile(r"\[(\d+)\]")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def join(parent: str, part: str | int) -> str:
    """``join("owners", 1)`` -> ``"owners.1"``; the top level has the empty path ``""``."""
    return f"{parent}.{part}" if parent else str(part)


def parts(path: str) -> tuple[str | int, ...]:
    """``"owners.1.name"`` -> ``("owners", 1, "name")``: digits are list indexes."""
    if not path:
        return ()
    return tuple(int(p) if p.isdigit() else p for p in path.split("."))


def normalise(path: str) -> str:
    """The API's spellings of a path as the form's: ``owners[1].name``, ``/owners/1/name``.

    A JSON Pointer (RFC 6901, as in JSON Schema and OpenAPI error reports) is
    recognised by its leading ``/``.
    """
    path = path.strip()
    if path.startswith("/"):
        path = ".".join(p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/"))
    path = _BRACKETS.sub(r".\1", path)
    return path.strip(".").replace("..", ".")


def as_pattern(path: str) -> str:
    """``"owners.1.name"`` -> ``"owners.*.name"``: per-field options apply to every item."""
    return ".".join("*" if isinstance(p, int) else p for p in parts(path))


def loc_path(loc: Sequence[Any]) -> str:
    """A pydantic error location as a dotted path (for messages no editor claims)."""
    return ".".join(str(p) for p in loc)


def css_token(text: str) -> str:
    """A CSS-class-safe token: ``.`` becomes ``--``, other unsafe characters ``_xx_``."""
    return _UNSAFE.sub(lambda m: f"_{ord(m.group()):x}_", text.replace(".", "--"))
