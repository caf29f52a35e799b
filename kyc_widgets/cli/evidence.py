"""`kyc-widgets verify-evidence FILE` and `kyc-widgets evidence-key FILE`: what an auditor runs.

``verify-evidence`` reads the record strictly and recomputes its hash chain
(:func:`kyc_widgets.batch.evidence.verify_evidence`); ``--head SHA256`` and
``--public-key FILE.pub`` anchor it (without either, the output says plainly
that a consistent file proves nothing about who wrote it); ``--against-api``
looks each case the record calls created (or existing) up on the API
(:mod:`kyc_widgets.batch.evidence_api`).

Exit codes (:class:`~kyc_widgets.cli.common.ExitCode`):

- 0: the record is intact (and matches ``--head``, its signature verifies with
  ``--public-key``, the API confirms every case, for the options given);
- 1: it is not: malformed (not JSON, a duplicate or unknown key, a wrong type:
  one line, ``NOT OK: the record is malformed: ...``), edited, removed or
  reordered entries, another head, a signature that fails, a case the API
  lacks or holds differently (each problem on a line of its own);
- 2: the command was used wrongly: no such file or unreadable, a ``--head`` that
  is not 64 hex digits, a ``--public-key`` that is not a public key, and for
  ``--against-api`` no base URL or token, another API than the record's, or a
  token the API refuses.

``evidence-key FILE`` writes an Ed25519 key pair for ``batch --signing-key``
(:mod:`kyc_widgets.batch.signing`): exit 0, or 2 when a file exists already
(keys are never overwritten) or cannot be written.

Nothing printed holds personal data: the record holds none, and the API's
answers are reduced to verdicts. Standard library only at import (the parser
is built for ``kyc-widgets --help``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kyc_widgets.cli.common import ExitCode, Subparsers, add_subcommand, usage_error

if TYPE_CHECKING:
    from kyc_widgets.batch.evidence import EvidenceCheck
    from kyc_widgets.batch.evidence_api import ApiComparison

__all__ = ["add_key_parser", "add_verify_parser", "run_key", "run_verify"]

PROBLEMS_LISTED = 50
"""API problems printed; the rest are counted (a forged record could list thousands)."""

_HEAD = re.compile(r"[0-9a-f]{64}")


class _UsageError(Exception):
    """Used wrongly (exit 2), with the one line to print."""


def add_verify_parser(subparsers: Subparsers) -> None:
    """Register the evidence subcommands, ``verify-evidence`` and ``evidence-key``."""
    parser = add_subcommand(
        subparsers,
        "verify-evidence",
        run_verify,
        help="check a campaign's evidence record (written with batch --evidence)",
        description=(
            "Read the record strictly and recompute its hash chain. Exit 0: intact (for the "
            "anchors and checks given); 1: malformed, edited, removed or reordered entries, "
            "another head, a failed signature, cases the API lacks or holds differently; "
            "2: the file cannot be read, or an option cannot be used."
        ),
    )
    parser.add_argument("file", help="the evidence record (.json)")
    parser.add_argument(
        "--head", metavar="SHA256",
        help="the chain head kept elsewhere (e.g. in the change ticket); catches a rewritten file",
    )
    parser.add_argument(
        "--public-key", metavar="FILE.pub",
        help="the analyst's public key (from 'kyc-widgets evidence-key'); checks the signature",
    )
    parser.add_argument(
        "--against-api", action="store_true",
        help="look up every case the record calls created or existing on the API "
        "(KYC_API_BASE_URL or --base-url, which must be the record's API; KYC_API_TOKEN)",
    )
    parser.add_argument("--base-url", help="with --against-api: API base URL (default: $KYC_API_BASE_URL)")
    add_key_parser(subparsers)


def add_key_parser(subparsers: Subparsers) -> None:
    """Register ``evidence-key``: a key pair for signing evidence records."""
    parser = add_subcommand(
        subparsers,
        "evidence-key",
        run_key,
        help="make a key pair to sign evidence records (batch --signing-key)",
        description=(
            "Write an Ed25519 private key to FILE (readable by you alone) and its public key "
            "to FILE.pub. Exit 0: written; 2: a file exists already or cannot be written."
        ),
    )
    parser.add_argument("file", help="where to write the private key (the public key goes to FILE.pub)")


def run_key(args: argparse.Namespace) -> int:
    """Write the key pair; print where, and the key id to compare and anchor."""
    from kyc_widgets.batch.signing import generate_key

    try:
        made = generate_key(args.file)
    except FileExistsError as exc:
        return usage_error("evidence-key", str(exc))
    except OSError as exc:
        return usage_error("evidence-key", f"cannot write {args.file}: {exc.strerror or exc}")
    print(f"Signing key written to {made.private} (readable by you alone; keep it out of "
          "shared folders: whoever reads it can sign)")
    print(f"Public key written to {made.public} (give it to whoever verifies: "
          f"verify-evidence FILE --public-key {made.public.name})")
    print(f"Key id: {made.key_id}")
    return ExitCode.OK


def run_verify(args: argparse.Namespace) -> int:
    """Verify the record (anchors, API); returns the exit code."""
    path = Path(args.file)
    try:
        head, public_key = _anchors(args, path)
        check = _verify(path, head, public_key)
        comparison = _against_api(args, check) if args.against_api and check.record else None
    except _UsageError as exc:
        return usage_error("verify-evidence", str(exc))
    print(str(check))
    if comparison is None:
        return ExitCode.OK if check.ok else ExitCode.NEEDS_ATTENTION
    _print_comparison(comparison, check)
    return ExitCode.OK if check.ok and comparison else ExitCode.NEEDS_ATTENTION


def _anchors(args: argparse.Namespace, path: Path) -> tuple[str | None, Any]:
    """The file exists; ``--head`` is a SHA-256; ``--public-key`` is a usable key."""
    if not path.is_file():
        raise _UsageError(f"no such file: {path}")
    head = args.head.strip().lower() if args.head else None
    if head is not None and not _HEAD.fullmatch(head):
        raise _UsageError("--head must be the chain head: 64 hexadecimal digits")
    if not args.public_key:
        return head, None
    from kyc_widgets.batch.signing import SigningKeyError, load_public_key

    try:
        return head, load_public_key(args.public_key)
    except SigningKeyError as exc:
        raise _UsageError(str(exc)) from None


def _verify(path: Path, head: str | None, public_key: Any) -> EvidenceCheck:
    from kyc_widgets.batch.evidence import verify_evidence

    check = verify_evidence(path, expected_head=head, public_key=public_key)
    if check.unreadable:
        raise _UsageError(check.problems[0])
    return check


def _against_api(args: argparse.Namespace, check: EvidenceCheck) -> ApiComparison:
    """Compare the record with the API it names; configuration problems are usage errors."""
    from kyc_widgets.api.auth import token_from_env
    from kyc_widgets.api.client import KycApiClient
    from kyc_widgets.api.errors import KycConfigurationError
    from kyc_widgets.batch.evidence import public_url
    from kyc_widgets.batch.evidence_api import compare_with_api

    assert check.record is not None
    recorded = check.record["api_base_url"]
    base_url = args.base_url or os.environ.get("KYC_API_BASE_URL", "").strip()
    if not recorded:
        raise _UsageError("the record names no API (a dry run that asked nothing): nothing to compare")
    if not base_url:
        raise _UsageError("--against-api needs the API: pass --base-url or set KYC_API_BASE_URL")
    if public_url(base_url) != public_url(recorded):
        raise _UsageError(
            f"the record was made against {recorded}, not {public_url(base_url)}: "
            "comparing it with another API proves nothing"
        )
    if not token_from_env():
        raise _UsageError("no token: set KYC_API_TOKEN (the token is never read from the command line)")
    try:
        client = KycApiClient(base_url, token=token_from_env)
    except KycConfigurationError as exc:
        raise _UsageError(str(exc)) from None
    with client:
        comparison = compare_with_api(check.record, client)
    if comparison.refused is not None:
        raise _UsageError(
            f"the API refused the token ({comparison.refused}): nothing could be compared. "
            "Check KYC_API_TOKEN."
        )
    return comparison


def _print_comparison(comparison: ApiComparison, check: EvidenceCheck) -> None:
    assert check.record is not None
    where = check.record["api_base_url"]
    if comparison:
        print(f"API: the {comparison.checked} case(s) the record calls created or existing are "
              f"on {where} as recorded (case ids; for created ones, creator and values sent).")
        return
    print(f"NOT OK against the API ({where}): {len(comparison.problems)} problem(s) in "
          f"{comparison.checked} case(s) looked up:")
    for problem in comparison.problems[:PROBLEMS_LISTED]:
        print(f"- {problem}")
    if len(comparison.problems) > PROBLEMS_LISTED:
        print(f"- ... and {len(comparison.problems) - PROBLEMS_LISTED} more", file=sys.stdout)
