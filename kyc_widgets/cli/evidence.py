"""`kyc-widgets verify-evidence FILE`: check a campaign's evidence record.

Exit 0 when the hash chain is intact (and matches ``--head`` when given), 1
when something was edited, removed or reordered (each problem is printed),
2 when the file cannot be read. Nothing printed holds personal data: the
record holds none (:mod:`kyc_widgets.batch.evidence`).
"""

from __future__ import annotations

import argparse

from kyc_widgets.cli.common import ExitCode, Subparsers, add_subcommand, usage_error

__all__ = ["add_verify_parser", "run_verify"]


def add_verify_parser(subparsers: Subparsers) -> None:
    """Register the ``verify-evidence`` subcommand (no heavy imports here)."""
    parser = add_subcommand(
        subparsers,
        "verify-evidence",
        run_verify,
        help="check a campaign's evidence record (written with batch --evidence)",
        description=(
            "Recompute the record's hash chain. Exit 0: intact; 1: edited, removed or "
            "reordered entries; 2: the file cannot be read."
        ),
    )
    parser.add_argument("file", help="the evidence record (.json)")
    parser.add_argument(
        "--head", metavar="SHA256",
        help="the chain head kept elsewhere (e.g. in the change ticket); catches a rewritten file",
    )


def run_verify(args: argparse.Namespace) -> int:
    """Verify the record's chain (and ``--head``); returns the exit code."""
    from pathlib import Path

    from kyc_widgets.batch.evidence import verify_evidence

    path = Path(args.file)
    if not path.is_file():
        return usage_error("verify-evidence", f"no such file: {path}")
    check = verify_evidence(path, expected_head=args.head)
    print(str(check))
    return ExitCode.OK if check.ok else ExitCode.NEEDS_ATTENTION
