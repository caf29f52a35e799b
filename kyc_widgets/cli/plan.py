"""`kyc-widgets plan` and `kyc-widgets approve`: the maker's plan and the checker's approval.

``plan SHEET --campaign C [--mapping M] [--set F=V ...] -o PLAN.json`` runs the
checking dry run with the maker's token (``KYC_API_TOKEN``) and writes the
plan (:func:`kyc_widgets.batch.plan.make_plan`): no personal data, so it can
go to the approving analyst and into the change ticket. ``approve PLAN.json``
prints what the plan will do (counts, mapping, rows whose case differs),
looks its rows up again with the checker's own token, and writes the approval
into the file (:func:`~kyc_widgets.batch.plan.approve_plan`); ``--review-only``
prints the review and approves nothing. ``batch SHEET ... --plan PLAN.json``
then sends exactly the approved rows (:mod:`kyc_widgets.cli.batch`).

Exit codes (:class:`~kyc_widgets.cli.common.ExitCode`):

- ``plan``: 0 written; 1 the API could not be asked about every row, or did
  not say who you are (nothing written); 2 used wrongly (no such sheet, a
  mapping that cannot be used, no campaign name where one is needed, an
  output that cannot be written, no base URL or token, a refused token).
- ``approve``: 0 approved (or, with ``--review-only``, approvable); 1 refused
  (you made the plan, it expired, was edited, is approved already, or the
  API's answers changed), with every reason on a line; 2 used wrongly (no such
  file, no base URL or token, a refused token, a signing key that cannot be used).

The token comes from the environment only, and the base URL from
``--base-url`` or ``KYC_API_BASE_URL``, never from the plan: a plan file must
not be able to send the checker's token elsewhere. Nothing printed holds
personal data (sheet rows and field names, never values or external ids).
Standard library only at import (``kyc-widgets --help``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kyc_widgets.cli.common import ExitCode, Subparsers, add_subcommand, usage_error

if TYPE_CHECKING:
    from kyc_widgets.batch.plan import PlanCheck
    from kyc_widgets.batch.plan_file import CampaignPlan

__all__ = ["add_plan_parsers", "run_approve", "run_plan"]

ROWS_LISTED = 20
"""Rows whose case differs, printed by ``approve``; the rest are counted."""


class _UsageError(Exception):
    """Used wrongly (exit 2), with the one line to print."""


def add_plan_parsers(subparsers: Subparsers) -> None:
    """Register ``plan`` and ``approve``; the batch modules load only when one runs."""
    plan = add_subcommand(
        subparsers,
        "plan",
        run_plan,
        help="check a sheet against the API and write a plan for a second analyst to approve",
        description=(
            "Run the checking dry run with your token (KYC_API_TOKEN) and write what the "
            "campaign would do, without personal data, for another analyst to approve "
            "(kyc-widgets approve). Exit 0: written; 1: the API could not be asked about "
            "every row; 2: usage or configuration error."
        ),
    )
    plan.add_argument("sheet", help="the campaign file (.csv, .xlsx, ...)")
    plan.add_argument("-o", "--output", required=True, metavar="PLAN.json",
                      help="where to write the plan")
    plan.add_argument("--campaign", metavar="NAME", help="campaign name (as for batch)")
    plan.add_argument("--mapping", metavar="FILE", help="a saved column mapping")
    plan.add_argument("--set", action="append", metavar="FIELD=VALUE", dest="constants",
                      help="a campaign constant (repeatable)")
    plan.add_argument("--sheet", dest="sheet_name", metavar="NAME", help="worksheet of a workbook")
    plan.add_argument("--expires-in", type=float, default=72.0, metavar="HOURS",
                      help="how long the plan can be approved and sent (default 72)")
    plan.add_argument("--allow-same-subject", action="store_true",
                      help="also send rows that repeat another row's customer and reason")
    plan.add_argument("--max-rate", type=float, default=None, metavar="PER_SECOND",
                      help="at most this many lookups per second")
    plan.add_argument("--base-url", help="API base URL (default: $KYC_API_BASE_URL)")
    plan.add_argument("--quiet", action="store_true", help="no progress bar")
    from kyc_widgets.cli.campaign import add_reading_options

    add_reading_options(plan)
    approve = add_subcommand(
        subparsers,
        "approve",
        run_approve,
        help="review and approve another analyst's plan (with your own token)",
        description=(
            "Print what the plan will do, look its rows up again with your token "
            "(KYC_API_TOKEN) and write your approval into the file. Exit 0: approved; 1: "
            "refused (you made it, it expired or was edited, the API's answers changed); "
            "2: usage or configuration error."
        ),
    )
    approve.add_argument("file", help="the plan (.json)")
    approve.add_argument("--base-url", help="API base URL (default: $KYC_API_BASE_URL)")
    approve.add_argument("--review-only", action="store_true",
                         help="print the review and whether it could be approved; change nothing")
    approve.add_argument("--no-recheck", action="store_true",
                         help="do not look the plan's rows up again (the API is still asked who "
                         "you are)")
    approve.add_argument("--signing-key", metavar="FILE",
                         help="sign the approval with this key (from 'kyc-widgets evidence-key'); "
                         "the sender checks it with batch --approver-key FILE.pub")


# --------------------------------------------------------------------------- plan


def run_plan(args: argparse.Namespace) -> int:
    """Make and write the plan; returns the exit code."""
    from kyc_widgets.api.errors import AuthenticationError, KycApiError, PermissionDeniedError
    from kyc_widgets.batch.memory import use_system_allocator
    from kyc_widgets.batch.plan import PlanRefusedError, make_plan

    use_system_allocator()  # (this process's: see kyc_widgets.batch.memory)
    try:
        output = _writable(Path(args.output))
        frame, mapping, options = _plan_inputs(args)
        client = _client(args)
    except _UsageError as exc:
        return usage_error("plan", str(exc))
    try:
        with client:
            plan = make_plan(client, frame, campaign=args.campaign, mapping=mapping,
                             expires_in=_hours(args.expires_in), options=options)
    except (AuthenticationError, PermissionDeniedError) as exc:
        return usage_error("plan", f"the API refused the token ({exc.message}): no plan was "
                           "written. Check KYC_API_TOKEN and the base URL.")
    except PlanRefusedError as exc:
        print("No plan was written:", file=sys.stderr)
        for problem in exc.problems:
            print(f"- {problem}", file=sys.stderr)
        return ExitCode.NEEDS_ATTENTION
    except KycApiError as exc:
        print(f"No plan was written: the API failed ({exc.message})", file=sys.stderr)
        return ExitCode.NEEDS_ATTENTION
    except ValueError as exc:  # missing columns, no campaign name, an unusable mapping
        return usage_error("plan", str(exc).replace("campaign='<name>'", "--campaign NAME"))
    try:
        plan.save(output)
    except OSError as exc:
        return usage_error("plan", f"cannot write {output}: {exc.strerror or exc}")
    _print_plan(plan, output)
    return ExitCode.OK


def _hours(hours: float) -> Any:
    from datetime import timedelta

    if not hours > 0:
        raise _UsageError("--expires-in must be a positive number of hours")
    return timedelta(hours=hours)


def _writable(path: Path) -> Path:
    if path.suffix.lower() != ".json":
        raise _UsageError("-o must name a .json file")
    if path.is_dir() or not path.parent.is_dir():
        raise _UsageError(f"cannot write the plan to {path}: no such folder, or a folder")
    return path


def _plan_inputs(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """The sheet as read, the mapping (``--mapping`` with ``--set``) and the lookups' options."""
    from kyc_widgets.batch.options import BatchOptions
    from kyc_widgets.cli.batch import _read_sheet_and_mapping
    from kyc_widgets.cli.batch import _UsageError as BatchUsageError

    _hours(args.expires_in)
    try:
        frame, mapping = _read_sheet_and_mapping(args)
        options = BatchOptions(max_rate=args.max_rate, progress=not args.quiet,
                               allow_same_subject=args.allow_same_subject)
    except BatchUsageError as exc:
        raise _UsageError(str(exc)) from None
    except ValueError as exc:
        raise _UsageError(f"--max-rate {str(exc).partition(' ')[2]}") from None
    return frame, mapping, options


def _client(args: argparse.Namespace) -> Any:
    """The API client: base URL from the option or the environment, token from the environment."""
    from kyc_widgets.api.auth import token_from_env
    from kyc_widgets.api.client import KycApiClient
    from kyc_widgets.api.errors import KycConfigurationError

    base_url = args.base_url or os.environ.get("KYC_API_BASE_URL", "").strip()
    if not base_url:
        raise _UsageError("no API base URL: pass --base-url or set KYC_API_BASE_URL")
    if not token_from_env():
        raise _UsageError("no token: set KYC_API_TOKEN (the token is never read from the "
                          "command line)")
    try:
        return KycApiClient(base_url, token=token_from_env)
    except KycConfigurationError as exc:
        raise _UsageError(str(exc)) from None


def _print_plan(plan: CampaignPlan, output: Path) -> None:
    sheet = plan.record["sheet"]
    print(f"Plan written to {output} (no personal data: give it to the approving analyst)")
    _print_facts(plan)
    print(f"Plan SHA-256: {plan.sha256}")
    print(f"Next: another analyst runs 'kyc-widgets approve {output.name}' with their own "
          f"token; then 'kyc-widgets batch {sheet['file_name'] or 'SHEET'} ... --plan "
          f"{output.name}' sends exactly these rows.")


def _print_facts(plan: CampaignPlan) -> None:
    """Campaign, sheet, mapping, maker, times and counts: what a reviewer reads first."""
    from kyc_widgets.batch.status import RowStatus

    sheet = plan.record["sheet"]
    mapping = plan.record["mapping"]
    print(f"Campaign: {plan.campaign or '(none)'}; API: {plan.api_base_url}")
    print(f"Sheet: {sheet['file_name'] or '(a DataFrame)'}, {sheet['rows']} rows, "
          f"SHA-256 {sheet['sha256'] or '(not a file)'}")
    given = "none (the sheet uses the API's names)" if mapping["content"] is None else "given"
    print(f"Mapping: {given}, fingerprint {mapping['fingerprint']}")
    print(f"Made by {plan.maker} at {plan.made_at}; expires at {plan.expires_at}")
    counts = ", ".join(f"{RowStatus(s).label}: {n}" for s, n in plan.counts.items())
    print(f"Rows to send: {plan.to_send} ({counts})")


# --------------------------------------------------------------------------- approve


def run_approve(args: argparse.Namespace) -> int:
    """Review the plan and, unless ``--review-only``, approve it; returns the exit code."""
    from kyc_widgets.api.errors import AuthenticationError, KycApiError, PermissionDeniedError
    from kyc_widgets.batch.plan import review_plan

    path = Path(args.file)
    try:
        if not path.is_file():
            raise _UsageError(f"no such file: {path}")
        signing_key = _signing_key(args)
        client = _client(args)
    except _UsageError as exc:
        return usage_error("approve", str(exc))
    try:
        with client:
            review = review_plan(client, path, recheck=not args.no_recheck)
    except (AuthenticationError, PermissionDeniedError) as exc:
        return usage_error("approve", f"the API refused the token ({exc.message}): nothing "
                           "was approved. Check KYC_API_TOKEN and the base URL.")
    except KycApiError as exc:
        print(f"NOT approved: the API failed ({exc.message})")
        return ExitCode.NEEDS_ATTENTION
    except OSError as exc:
        return usage_error("approve", f"cannot read {path}: {exc.strerror or exc}")
    return _decide(review, path, args.review_only, signing_key)


def _signing_key(args: argparse.Namespace) -> Any:
    if not args.signing_key:
        return None
    from kyc_widgets.batch.signing import SigningKeyError, load_signing_key

    try:
        return load_signing_key(args.signing_key)
    except SigningKeyError as exc:
        raise _UsageError(f"{exc}. Nothing was approved.") from None


def _decide(review: PlanCheck, path: Path, review_only: bool, signing_key: Any) -> int:
    """Print the review; approve and write the plan when nothing stands in the way."""
    if review.plan.record:
        _print_review(review)
    if review.problems:
        print("NOT approved:")
        for problem in review.problems:
            print(f"- {problem}")
        return ExitCode.NEEDS_ATTENTION
    if review_only:
        print(f"Could be approved by {review.checker} (nothing was changed: --review-only).")
        return ExitCode.OK
    from kyc_widgets.batch.plan import approve_reviewed

    approved = approve_reviewed(review, signing_key=signing_key)
    try:
        approved.save(path)
    except OSError as exc:
        return usage_error("approve", f"cannot write the approval into {path}: "
                           f"{exc.strerror or exc}")
    signed = f", signed with key {approved.signed_by}" if approved.signed_by else ""
    print(f"Approved by {approved.checker} at {approved.approved_at}{signed}.")
    print(f"Approval SHA-256: {approved.head} (keep it with the change ticket)")
    return ExitCode.OK


def _print_review(review: PlanCheck) -> None:
    from kyc_widgets.batch.fields import field_title

    plan = review.plan
    _print_facts(plan)
    content = plan.record["mapping"]["content"] or {}
    for header, name in (content.get("columns") or {}).items():
        print(f"  column {header!r} -> {field_title(name) if name else '(ignored)'}")
    for name, value in (content.get("constants") or {}).items():
        print(f"  every row: {field_title(name)} = {value}")
    differing = plan.differing_rows()
    if differing:
        print(f"Rows whose case exists with other values ({len(differing)}):")
        for row in differing[:ROWS_LISTED]:
            fields = ", ".join(field_title(n) for n in row.get("differs", []))
            print(f"  sheet row {row['sheet_row']}: {fields}")
        if len(differing) > ROWS_LISTED:
            print(f"  ... and {len(differing) - ROWS_LISTED} more")
    if review.rechecked:
        print(f"Looked up again on the API: {review.rechecked} row(s), "
              f"{len(review.changes)} changed.")
