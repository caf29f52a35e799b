"""`kyc-widgets batch`: create cases from a CSV/XLSX sheet on the command line.

Exit codes: 0 when every row was created or already existed (duplicates in the
sheet are fine: their case is the first occurrence's), 1 when some rows need
attention (invalid, failed, outcome unknown, not attempted, conflict), 2 for
usage or configuration errors: missing file, missing columns, a ``--mapping``
or ``--set`` that cannot be used (unknown fields or values, a constant that
is also a column, unconfirmed guesses), no token, no
base URL, a campaign name needed, a ``--report`` folder or ``--journal`` that
cannot be written (both checked before the first request), and a token the
API refuses (401/403) before any case was created or found, since every row
would fail the same way. A 401 *after* some rows landed (a token that expired
mid-run) is exit 1: the report says which rows to run again. When the report
cannot be written after the batch ran (the disk filled up, say), the summary
is still printed and the exit code is 2.

``--dry-run --check-existing`` creates nothing but asks the API about each
row (``would_create``, ``exists``, ``exists_differs``); it needs the token and
base URL like a real run, and a refused token exits 2 the same way.
``--evidence OUT.json`` writes the campaign's hash-chained evidence record and
a one-page HTML summary beside it (checked with ``kyc-widgets
verify-evidence``); its folder is checked before the first request.

Progress goes to stderr, the summary to stdout; nothing printed contains
names, e-mails or user ids.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from kyc_widgets.defaults import DEFAULT_CONCURRENCY, DEFAULT_MAX_CONCURRENCY

__all__ = ["add_batch_parser", "run_batch"]

EXIT_OK = 0
EXIT_ATTENTION = 1
EXIT_USAGE = 2


def add_batch_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``batch`` subcommand; pandas loads only when :func:`run_batch` runs."""
    parser = subparsers.add_parser(
        "batch",
        help="create cases from a CSV/XLSX sheet",
        description=(
            "Create one case per row of a campaign sheet. The token comes from "
            "KYC_API_TOKEN. Exit 0: every row created or already there; 1: some rows "
            "need attention (see --report); 2: usage or configuration error."
        ),
    )
    parser.add_argument("sheet", help="the campaign file (.csv or .xlsx)")
    parser.add_argument("--sheet", dest="sheet_name", metavar="NAME", help="worksheet of an .xlsx file")
    parser.add_argument("--base-url", help="API base URL (default: $KYC_API_BASE_URL)")
    parser.add_argument(
        "--report", metavar="OUT", help="write the report joined with the sheet (.csv or .xlsx)"
    )
    parser.add_argument(
        "--no-personal-data",
        action="store_true",
        help=(
            "leave names, e-mails, user ids and unrecognised columns out of --report; "
            "kyc_case_id stays (a re-run from the report needs it) and, when derived, "
            "can be traced back to a user id, so keep the file as you would the sheet"
        ),
    )
    parser.add_argument("--dry-run", action="store_true", help="validate and report; send nothing")
    parser.add_argument(
        "--check-existing", action="store_true",
        help="with --dry-run: look each row's external id up on the API (creates nothing)",
    )
    parser.add_argument(
        "--evidence", metavar="OUT.json",
        help="write the campaign's evidence record (and OUT.html, a printable summary)",
    )
    parser.add_argument(
        "--allow-same-subject", action="store_true",
        help="also send rows that repeat another row's customer and reason under another id",
    )
    parser.add_argument(
        "--concurrency", type=_concurrency, default=DEFAULT_CONCURRENCY, metavar="N|auto",
        help="requests in flight: 'auto' (the default) adapts to the API's latency and 429s; "
        "a number N keeps N in flight",
    )
    parser.add_argument(
        "--max-concurrency", type=int, default=None, metavar="N",
        help=f"at most N requests in flight while adapting (default {DEFAULT_MAX_CONCURRENCY})",
    )
    parser.add_argument(
        "--max-rate", type=float, default=None, metavar="PER_SECOND",
        help="at most this many requests per second (the rate agreed with the API's owners)",
    )
    parser.add_argument(
        "--journal", metavar="PATH",
        help="append each outcome here; a later run with the same journal resumes",
    )
    parser.add_argument(
        "--campaign", metavar="NAME",
        help="campaign name; required when rows have no kyc_case_id (their stable ids derive from it)",
    )
    parser.add_argument(
        "--on-conflict", choices=("report", "load"), default="report",
        help="'load' compares an existing case with the row and reports differences",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--mapping", metavar="FILE",
        help="a saved column mapping (see 'kyc-widgets mapping') for a sheet from another system",
    )
    parser.add_argument(
        "--set", action="append", metavar="FIELD=VALUE", dest="constants",
        help="a campaign constant: this value for every row (repeatable)",
    )
    from kyc_widgets.cli.campaign import add_reading_options

    add_reading_options(parser)
    parser.set_defaults(handler=run_batch)


def _concurrency(text: str) -> int | None:
    """``--concurrency``: a whole number, or ``auto`` (None: the pacing gate adapts)."""
    if text.strip().lower() == "auto":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("give a whole number or 'auto'") from None


def _error(message: str) -> int:
    print(f"kyc-widgets batch: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _unwritable(path: Path) -> str | None:
    """Why ``path`` cannot be written (checked by really creating a file next to it), or None."""
    folder = path.parent
    if path.is_dir():
        return f"--report {path} is a folder; give a file name ending in .csv or .xlsx"
    if not folder.is_dir():
        return f"the folder for --report does not exist: {folder}"
    if path.exists() and not os.access(path, os.W_OK):
        return f"--report {path} exists and cannot be overwritten"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"cannot write the report into {folder}: {exc.strerror or exc}"
    return None


def _mapping(args: argparse.Namespace) -> object | None:
    """``--mapping FILE`` and ``--set FIELD=VALUE`` as one mapping, or None."""
    path = getattr(args, "mapping", None)
    constants = getattr(args, "constants", None)
    if not path and not constants:
        return None
    from kyc_widgets.batch.mapping import CampaignMapping
    from kyc_widgets.cli.main import _pairs

    mapping = CampaignMapping.load(path) if path else CampaignMapping()
    if constants:
        mapping = mapping.with_constants(_pairs(constants, "--set", empty_value=False))
    return mapping


def run_batch(args: argparse.Namespace) -> int:
    """Run the batch subcommand; returns the process exit code."""
    from kyc_widgets.api.auth import token_from_env
    from kyc_widgets.api.client import KycApiClient
    from kyc_widgets.api.errors import KycConfigurationError
    from kyc_widgets.batch import (
        CampaignColumnsError,
        CampaignRequiredError,
        MappingError,
        batch_create,
        read_campaign,
    )
    from kyc_widgets.batch.report import DONE_STATUSES

    report_path: Path | None = Path(args.report) if getattr(args, "report", None) else None
    if report_path is not None and report_path.suffix.lower() not in (".csv", ".xlsx"):
        return _error("--report must end in .csv or .xlsx")
    if args.concurrency is not None and args.concurrency < 1:
        return _error("--concurrency must be at least 1")
    check_existing = bool(getattr(args, "check_existing", False))
    if check_existing and not args.dry_run:
        return _error("--check-existing is a kind of dry run: use it with --dry-run")
    evidence_path: Path | None = Path(args.evidence) if getattr(args, "evidence", None) else None
    if evidence_path is not None and evidence_path.suffix.lower() != ".json":
        return _error("--evidence must end in .json")
    if args.max_concurrency is not None and args.max_concurrency < 1:
        return _error("--max-concurrency must be at least 1")
    if args.max_rate is not None and not args.max_rate > 0:
        return _error("--max-rate must be a positive number of requests per second")
    try:
        frame = read_campaign(
            args.sheet,
            sheet=args.sheet_name,
            header_row=getattr(args, "header_row", None),
            encoding=getattr(args, "encoding", None),
        )
        mapping = _mapping(args)
    except (OSError, ValueError) as exc:
        return _error(str(exc))
    if report_path is not None and (problem := _unwritable(report_path)) is not None:
        return _error(problem + ". Nothing was sent.")
    if evidence_path is not None and (problem := _unwritable(evidence_path)) is not None:
        return _error(problem.replace("--report", "--evidence") + ". Nothing was sent.")

    base_url = args.base_url or os.environ.get("KYC_API_BASE_URL")
    token = token_from_env()
    client: KycApiClient | None = None
    if not args.dry_run or check_existing:
        if not base_url:
            return _error("no API base URL: pass --base-url or set KYC_API_BASE_URL")
        if not token:
            return _error("no token: set KYC_API_TOKEN (the token is never read from the command line)")
    try:
        if base_url:
            client = KycApiClient(base_url, token=token_from_env)  # re-read on each request
        report = batch_create(
            client,
            frame,
            concurrency=args.concurrency,
            max_rate=args.max_rate,
            max_concurrency=args.max_concurrency,
            dry_run="check" if check_existing else args.dry_run,
            campaign=args.campaign,
            on_conflict=args.on_conflict,
            progress=not args.quiet,
            journal=args.journal,
            allow_same_subject=bool(getattr(args, "allow_same_subject", False)),
            mapping=mapping,
        )
    except (CampaignColumnsError, KycConfigurationError, MappingError) as exc:
        return _error(str(exc))
    except CampaignRequiredError as exc:
        return _error(str(exc).replace("campaign='<name>'", "--campaign NAME"))
    except OSError as exc:  # the journal: opened before the first request
        return _error(f"cannot use the journal {args.journal}: {exc.strerror or exc}. Nothing was sent.")
    finally:
        if client is not None:
            client.close()

    for warning in report.warnings:
        print(f"note: {warning}", file=sys.stderr)
    print(("Dry run: " if report.dry_run else "") + f"{len(report.results)} rows")
    print(report.summary_text())
    if report_path is not None:
        personal = not args.no_personal_data
        try:
            if report_path.suffix.lower() == ".xlsx":
                escaped = report.to_excel(report_path, include_personal_data=personal)
            else:
                escaped = report.to_csv(report_path, include_personal_data=personal)
        except OSError as exc:
            return _error(
                f"the batch ran (summary above) but the report could not be written to "
                f"{report_path}: {exc.strerror or exc}. Re-running is safe: nothing is created twice."
            )
        print(f"Report written to {report_path}")
        if escaped:
            print(
                f"note: {escaped} cell(s) held characters a spreadsheet cannot store; "
                "they are written as visible escapes such as ⟨U+000B⟩.",
                file=sys.stderr,
            )
    if evidence_path is not None:
        try:
            summary_path = report.to_evidence(evidence_path, sheet=args.sheet)
        except OSError as exc:
            return _error(f"the evidence record could not be written to {evidence_path}: "
                          f"{exc.strerror or exc}")
        head = _head(evidence_path)
        print(f"Evidence written to {evidence_path} (summary: {summary_path.name}); chain head {head}")
    summary = report.summary()
    if report.stopped_reason in ("authentication", "permission") and not any(
        summary[status] for status in DONE_STATUSES
    ):
        return _error(
            "the API refused the token (HTTP 401 or 403) before any case was created or found, "
            "so nothing was created. Check KYC_API_TOKEN and the base URL."
        )
    if not report.ok:
        print(
            f"{report.attention_count} row(s) need attention"
            + ("; see the report." if report_path else "; use --report OUT.csv to list them."),
        )
        return EXIT_ATTENTION
    return EXIT_OK


def _head(path: Path) -> str:
    """The chain head of a written evidence record (to keep with the change ticket)."""
    import json

    return str(json.loads(path.read_text(encoding="utf-8"))["chain"]["head"])
