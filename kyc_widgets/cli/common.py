"""What the ``kyc-widgets`` subcommands share: exit codes, usage errors, registration.

Standard library only, like every parser module: ``kyc-widgets --help`` must
answer without loading the heavy packages (``tests/test_imports.py``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TypeAlias

__all__ = ["EXIT_OK", "EXIT_PROBLEM", "EXIT_USAGE", "add_subcommand", "usage_error"]

EXIT_OK = 0
EXIT_PROBLEM = 1
"""Ran, but something needs a person: the API failed, rows need attention, a record was edited."""
EXIT_USAGE = 2
"""Used wrongly: a bad option, an unreadable input, missing configuration."""

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


def usage_error(command: str, message: str) -> int:
    """Print ``kyc-widgets COMMAND: error: MESSAGE`` to stderr; returns :data:`EXIT_USAGE`."""
    print(f"kyc-widgets {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE
