"""What the ``kyc-widgets`` subcommands share: exit codes, usage errors, registration.

Standard library only, like every parser module: ``kyc-widgets --help`` must
answer without loading the heavy packages (``tests/test_imports.py``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import TypeAlias

__all__ = ["ExitCode", "Subparsers", "add_subcommand", "parse_pairs", "usage_error"]


class ExitCode(IntEnum):
    """The exit codes of every ``kyc-widgets`` subcommand (the only place they are defined).

    An ``IntEnum``: a handler returns a member, and ``sys.exit`` and the tests
    see the plain number.
    """

    OK = 0
    """Done: every case created or already there, the record intact, the server stopped cleanly."""
    NEEDS_ATTENTION = 1
    """Ran, but something needs a person: the API (or the server) failed, rows need
    attention (see the report), an evidence record was edited."""
    USAGE = 2
    """Used wrongly: a bad option, an unreadable input, missing configuration, a
    refused token before anything was created."""


Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``ArgumentParser.add_subparsers()`` returns (a string: the class is not generic at run time)."""


def add_subcommand(
    subparsers: Subparsers,
    name: str,
    handler: Callable[[argparse.Namespace], int],
    *,
    help: str,  # noqa: A002 - argparse's own keyword
    description: str,
) -> argparse.ArgumentParser:
    """Register ``name``, run by ``handler(args)`` (its return value is the exit code)."""
    parser = subparsers.add_parser(name, help=help, description=description)
    parser.set_defaults(handler=handler)
    return parser


def usage_error(command: str, message: str) -> ExitCode:
    """Print ``kyc-widgets COMMAND: error: MESSAGE`` to stderr; returns :attr:`ExitCode.USAGE`."""
    print(f"kyc-widgets {command}: error: {message}", file=sys.stderr)
    return ExitCode.USAGE


def parse_pairs(
    values: Sequence[str] | None, option: str, *, empty_value: bool = True
) -> dict[str, str]:
    """The items of a repeatable ``NAME=VALUE`` option as a dict.

    Used for ``create --field NAME=VALUE``, ``batch --set FIELD=VALUE`` and
    ``sandbox --token TOKEN=PRINCIPAL``: ``["A=b", "C=d"]`` becomes
    ``{"A": "b", "C": "d"}``. Names are stripped, values kept as given; a
    later item wins over an earlier one with the same name. ``None`` (the
    option not given) is an empty dict.

    Raises ``ValueError("OPTION must look like NAME=VALUE")`` for an item
    without ``=`` or with an empty name, and, when ``empty_value`` is false,
    for an empty (or blank) value too.
    """
    found: dict[str, str] = {}
    for item in values or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or (not empty_value and not value.strip()):
            raise ValueError(f"{option} must look like NAME=VALUE")
        found[name.strip()] = value
    return found
