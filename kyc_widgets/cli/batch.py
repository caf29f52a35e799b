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
verify-evidence``); its folder is checked before the first request, and the
chain head is printed to be kept elsewhere. ``--signing-key FILE`` (made with
``kyc-widgets evidence-key``) signs the head; a key that cannot be used (missing,
readable by other users, not an Ed25519 key) is exit 2 before anything is sent.
``--plan PLAN.json`` (a plan approved by a second analyst: :mod:`kyc_widgets.cli.plan`)
sends exactly its rows with exactly its values; a plan that is not approved,
expired, edited, or does not match the sheet, the mapping or any row's values is
exit 2 before anything is sent, and so is a run without a plan when approval
is required (``--require-approval`` or ``KYC_REQUIRE_APPROVAL=1``).
A ``--journal`` written against another API than this run's is exit 2 before
anything is sent; the rows a journal calls done are looked up on the API and
skipped only when it confirms them (:mod:`kyc_widgets.batch.resume`).

Progress goes to stderr, the summary to stdout; nothing printed contains
names, e-mails or user ids. The exit codes are
:class:`~kyc_widgets.cli.common.ExitCode`; the settings go to
:func:`~kyc_widgets.batch.batch_create` as one
:class:`~kyc_widgets.batch.options.BatchOptions`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kyc_widgets.cli.common import ExitCode, Subparsers, add_subcommand, parse_pairs, usage_error
from kyc_widgets.defaults import DEFAULT_CONCURRENCY, DEFAULT_MAX_CONCURRENCY

if TYPE_CHECKING:
    import pandas as pd
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kyc_widgets.api.client import KycApiClient
    from kyc_widgets.batch import BatchReport, CampaignMapping
    from kyc_widgets.batch.limits import ReadLimits
    from kyc_widgets.batch.options import BatchMode, BatchOptions

__all__ = ["add_batch_parser", "run_batch"]


def add_batch_parser(subparsers: Subparsers) -> None:
    """Register the ``batch`` subcommand; pandas loads only when :func:`run_batch` runs."""
    parser = add_subcommand(
        subparsers,
        "batch",
        run_batch,
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
    parser.add_argument("--signing-key", metavar="FILE", help="with --evidence: sign the record's "
                        "chain head with this key (made with 'kyc-widgets evidence-key')")
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
    for flag, settings in _PLAN_OPTIONS:
        parser.add_argument(flag, **settings)
    from kyc_widgets.cli.campaign import add_reading_options

    add_reading_options(parser)


_PLAN_OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--plan", {"metavar": "PLAN.json", "help": "send exactly this approved plan's rows (see "
                "'kyc-widgets plan' and 'approve'); anything else is refused before a request"}),
    ("--require-approval", {"action": "store_true", "help": "refuse to send without an "
                            "approved --plan (also: KYC_REQUIRE_APPROVAL=1)"}),
    ("--approver-key", {"metavar": "FILE.pub", "help": "with --plan: the approval must be "
                        "signed with the checker's key (approve --signing-key)"}),
    ("--max-cells", {"type": int, "metavar": "N", "help": "read a sheet of up to N cells "
                     "(rows times columns; default 5,000,000); the limits on its text, file "
                     "and workbook size grow in proportion"}),
)
"""Maker-checker (:mod:`kyc_widgets.cli.plan`): ``batch_create``'s ``plan``,
``require_approval`` and ``approver_key`` (:func:`_plan_options`)."""


def _concurrency(text: str) -> int | None:
    """``--concurrency``: a whole number, or ``auto`` (None: the pacing gate adapts)."""
    if text.strip().lower() == "auto":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("give a whole number or 'auto'") from None


class _UsageError(Exception):
    """A usage or configuration error found by one step of :func:`run_batch` (exit 2)."""


_OUTPUTS = {
    "--report": ("the report", ".csv or .xlsx"),
    "--evidence": ("the evidence record", ".json"),
}
"""What each output option writes and the endings it takes (for :func:`_unwritable`)."""


def _unwritable(path: Path, option: str) -> str | None:
    """Why ``path`` cannot be written (checked by really creating a file next to it), or None."""
    what, endings = _OUTPUTS[option]
    folder = path.parent
    if path.is_dir():
        return f"{option} {path} is a folder; give a file name ending in {endings}"
    if not folder.is_dir():
        return f"the folder for {option} does not exist: {folder}"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{option} {path} exists and cannot be overwritten"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"cannot write {what} into {folder}: {exc.strerror or exc}"
    return None


def run_batch(args: argparse.Namespace) -> int:
    """Run the batch subcommand; returns the process exit code (:class:`ExitCode`).

    Every check that can fail without sending comes first (arguments, the
    sheet and mapping, the output folders, the base URL and token), so a
    usage error never leaves half a campaign behind.
    """
    from kyc_widgets.batch.memory import use_system_allocator

    use_system_allocator()  # (this process's: see kyc_widgets.batch.memory)
    try:
        report_path, evidence_path = _validate_arguments(args)
        _check_distinct_files(args, report_path, evidence_path)
        signing_key = _signing_key(args, evidence_path)
        options = _batch_options(args)
        frame, mapping = _read_sheet_and_mapping(args)
        _check_report_holds(frame, report_path)
        for path, option in ((report_path, "--report"), (evidence_path, "--evidence")):
            if path is not None and (problem := _unwritable(path, option)) is not None:
                raise _UsageError(problem + ". Nothing was sent.")
        report = _run(args, frame, options, mapping)
        _print_summary(report)
        try:
            if report_path is not None:
                _write_report(report, report_path, personal=not args.no_personal_data)
        finally:  # the evidence records what was sent, whatever happened to the report
            if evidence_path is not None:
                _write_evidence(report, evidence_path, sheet=args.sheet, signing_key=signing_key)
    except _UsageError as exc:
        return usage_error("batch", str(exc))
    return _exit_code(report, report_path)


def _validate_arguments(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """Check the options that go together or name files; returns the report and evidence paths."""
    report_path = Path(args.report) if getattr(args, "report", None) else None
    if report_path is not None and report_path.suffix.lower() not in (".csv", ".xlsx"):
        raise _UsageError("--report must end in .csv or .xlsx")
    if getattr(args, "check_existing", False) and not args.dry_run:
        raise _UsageError("--check-existing is a kind of dry run: use it with --dry-run")
    evidence_path = Path(args.evidence) if getattr(args, "evidence", None) else None
    if evidence_path is not None and evidence_path.suffix.lower() != ".json":
        raise _UsageError("--evidence must end in .json")
    return report_path, evidence_path


_INPUT_OPTIONS = {
    "sheet": "the campaign sheet",
    "mapping": "--mapping",
    "plan": "--plan",
    "signing_key": "--signing-key",
    "approver_key": "--approver-key",
}
"""Files a run reads: no output may be one of them."""


def _check_distinct_files(
    args: argparse.Namespace, report_path: Path | None, evidence_path: Path | None
) -> None:
    """Refuse, before anything is read or sent, an output that is an input or another output.

    ``--report`` equal to the sheet overwrote the campaign sheet, ``--journal``
    equal to it appended to it; the evidence's HTML summary (``OUT.html``)
    counts as an output too. Paths are compared resolved (``..``, symbolic
    links) and, for files that exist, as the same file (hard links).
    """
    outputs = [
        ("--report", report_path),
        ("--journal", Path(args.journal) if getattr(args, "journal", None) else None),
        ("--evidence", evidence_path),
        ("--evidence's HTML summary", evidence_path.with_suffix(".html") if evidence_path else None),
    ]
    inputs = [
        (what, Path(value))
        for name, what in _INPUT_OPTIONS.items()
        if isinstance(value := getattr(args, name, None), (str, os.PathLike)) and value
    ]
    named = [(what, path) for what, path in outputs if path is not None]
    for position, (what, path) in enumerate(named):
        for other, other_path in [*inputs, *named[:position]]:
            if _same_file(path, other_path):
                verb = "read" if (other, other_path) in inputs else "written"
                raise _UsageError(
                    f"{what} {path} is the same file as {other} ({other_path}), which this run "
                    f"has {verb}: it would be overwritten. Give another file name. Nothing was sent."
                )


def _same_file(one: Path, other: Path) -> bool:
    if os.path.realpath(one) == os.path.realpath(other):
        return True
    try:
        return os.path.samefile(one, other)
    except OSError:  # one of them does not exist yet
        return False


def _check_report_holds(frame: pd.DataFrame, report_path: Path | None) -> None:
    """Refuse, before anything is sent, an ``.xlsx`` report the campaign would not fit in.

    A worksheet holds 1,048,576 rows (the header is one) and 16,384 columns;
    the report has a row per sheet row and the result columns beside the
    sheet's. Found after the run, the batch ran and no report (and, before,
    no evidence) was written.
    """
    if report_path is None or report_path.suffix.lower() != ".xlsx":
        return
    from kyc_widgets.batch.limits import EXCEL_MAX_COLUMNS, EXCEL_MAX_ROWS
    from kyc_widgets.batch.results import RESULT_COLUMNS

    rows, columns = len(frame) + 1, len(frame.columns) + len(RESULT_COLUMNS)
    if rows > EXCEL_MAX_ROWS or columns > EXCEL_MAX_COLUMNS:
        raise _UsageError(
            f"--report {report_path.name}: an .xlsx worksheet holds {EXCEL_MAX_ROWS:,} rows and "
            f"{EXCEL_MAX_COLUMNS:,} columns, and this campaign's report needs {rows:,} rows and "
            f"up to {columns:,} columns; write the report as .csv. Nothing was sent."
        )


def _signing_key(args: argparse.Namespace, evidence_path: Path | None) -> Ed25519PrivateKey | None:
    """``--signing-key``: the private key, loaded before anything is sent (or None)."""
    path = getattr(args, "signing_key", None)
    if not path:
        return None
    if evidence_path is None:
        raise _UsageError("--signing-key signs the evidence record: use it with --evidence OUT.json")
    from kyc_widgets.batch.signing import SigningKeyError, load_signing_key

    try:
        return load_signing_key(path)
    except SigningKeyError as exc:
        raise _UsageError(f"{exc}. Nothing was sent.") from None


def _batch_options(args: argparse.Namespace) -> BatchOptions:
    """The run's one :class:`BatchOptions`; its ``ValueError`` becomes a usage error.

    ``BatchOptions`` names its fields (``max_concurrency must be at least
    1``); the message names the option instead (``--max-concurrency ...``).
    """
    from dataclasses import fields

    from kyc_widgets.batch.options import BatchMode, BatchOptions

    if getattr(args, "check_existing", False):
        mode = BatchMode.CHECK_API
    else:
        mode = BatchMode.CHECK_ROWS if args.dry_run else BatchMode.SEND
    try:
        return BatchOptions(
            mode=mode,
            campaign=args.campaign,
            concurrency=args.concurrency,
            max_rate=args.max_rate,
            max_concurrency=args.max_concurrency,
            on_conflict=args.on_conflict,
            journal=args.journal,
            allow_same_subject=bool(getattr(args, "allow_same_subject", False)),
            progress=not args.quiet,
        )
    except ValueError as exc:
        name, _, rest = str(exc).partition(" ")
        if name in {f.name for f in fields(BatchOptions)}:
            raise _UsageError(f"--{name.replace('_', '-')} {rest}") from None
        raise _UsageError(str(exc)) from None


def _read_sheet_and_mapping(
    args: argparse.Namespace,
) -> tuple[pd.DataFrame, CampaignMapping | None]:
    """The sheet as read, and ``--mapping FILE`` with ``--set FIELD=VALUE`` as one mapping (or None)."""
    from kyc_widgets.batch import CampaignMapping, read_campaign

    try:
        frame = read_campaign(
            args.sheet,
            sheet=args.sheet_name,
            header_row=getattr(args, "header_row", None),
            encoding=getattr(args, "encoding", None),
            limits=_read_limits(getattr(args, "max_cells", None)),
        )
        path = getattr(args, "mapping", None)
        constants = getattr(args, "constants", None)
        if not path and not constants:
            return frame, None
        mapping = CampaignMapping.load(path) if path else CampaignMapping()
        if constants:
            mapping = mapping.with_constants(parse_pairs(constants, "--set", empty_value=False))
    except (OSError, ValueError) as exc:
        raise _UsageError(str(exc)) from None
    return frame, mapping


def _read_limits(max_cells: int | None) -> ReadLimits | None:
    """``--max-cells N``: the default :class:`~kyc_widgets.batch.limits.ReadLimits` with
    ``max_cells`` raised to N and the text, file and workbook sizes scaled alike.

    Why scaled: a whole book (1,000,000 rows of 12 columns) is over the default of
    5,000,000 cells, and its text, CSV file and unpacked workbook are over their
    limits by the same factor. Never lowered below the defaults.
    """
    if max_cells is None:
        return None
    from dataclasses import replace

    from kyc_widgets.batch.limits import DEFAULT_LIMITS

    if max_cells < 1:
        raise _UsageError("--max-cells must be at least 1")
    scale = max(1.0, max_cells / DEFAULT_LIMITS.max_cells)
    return replace(
        DEFAULT_LIMITS,
        max_cells=max_cells,
        max_text_chars=int(DEFAULT_LIMITS.max_text_chars * scale),
        max_file_bytes=int(DEFAULT_LIMITS.max_file_bytes * scale),
        max_uncompressed_bytes=int(DEFAULT_LIMITS.max_uncompressed_bytes * scale),
    )


def _build_client(args: argparse.Namespace, mode: BatchMode) -> KycApiClient | None:
    """The API client, or None for a dry run with no base URL; a run that asks the API needs both."""
    from kyc_widgets.api.auth import token_from_env
    from kyc_widgets.api.client import KycApiClient
    from kyc_widgets.api.errors import KycConfigurationError
    from kyc_widgets.batch.options import BatchMode

    base_url = args.base_url or os.environ.get("KYC_API_BASE_URL")
    if mode is not BatchMode.CHECK_ROWS:
        if not base_url:
            raise _UsageError("no API base URL: pass --base-url or set KYC_API_BASE_URL")
        if not token_from_env():
            raise _UsageError(
                "no token: set KYC_API_TOKEN (the token is never read from the command line)"
            )
    if not base_url:
        return None
    try:
        return KycApiClient(base_url, token=token_from_env)  # re-read on each request
    except KycConfigurationError as exc:
        raise _UsageError(str(exc)) from None


def _run(
    args: argparse.Namespace,
    frame: pd.DataFrame,
    options: BatchOptions,
    mapping: CampaignMapping | None,
) -> BatchReport:
    """Send (or check) the campaign; errors found before the first request are usage errors."""
    from kyc_widgets.api.errors import KycConfigurationError
    from kyc_widgets.batch import (
        CampaignColumnsError,
        CampaignRequiredError,
        MappingError,
        batch_create,
    )
    from kyc_widgets.batch.journal import JournalMismatchError
    from kyc_widgets.batch.plan_file import PlanRefusedError

    client = _build_client(args, options.mode)
    try:
        return batch_create(client, frame, options, mapping=mapping, **_plan_options(args))
    except (CampaignColumnsError, KycConfigurationError, MappingError) as exc:
        raise _UsageError(str(exc)) from None
    except CampaignRequiredError as exc:
        raise _UsageError(str(exc).replace("campaign='<name>'", "--campaign NAME")) from None
    except PlanRefusedError as exc:  # before any request: not approved, expired, mismatched...
        prefix = "the plan cannot be used: " if getattr(args, "plan", None) else ""
        raise _UsageError(prefix + "; ".join(exc.problems) + ". Nothing was sent.") from None
    except JournalMismatchError as exc:  # a journal of another API: its lines are not ours
        raise _UsageError(str(exc)) from None
    except OSError as exc:  # the journal: opened before the first request
        raise _UsageError(
            f"cannot use the journal {args.journal}: {exc.strerror or exc}. Nothing was sent."
        ) from None
    finally:
        if client is not None:
            client.close()


def _plan_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--plan``, ``--require-approval`` and ``--approver-key`` as ``batch_create`` keywords
    (:mod:`kyc_widgets.batch.plan_file` checks them before the first request)."""
    found: dict[str, Any] = {}
    if getattr(args, "plan", None):
        found["plan"] = args.plan
    if getattr(args, "require_approval", False):
        found["require_approval"] = True
    key = getattr(args, "approver_key", None)
    if key:
        if not found.get("plan"):
            raise _UsageError("--approver-key checks a plan's approval: use it with --plan")
        from kyc_widgets.batch.signing import SigningKeyError, load_public_key

        try:
            found["approver_key"] = load_public_key(key)
        except SigningKeyError as exc:
            raise _UsageError(f"{exc}. Nothing was sent.") from None
    return found


def _print_summary(report: BatchReport) -> None:
    """The warnings (stderr), the row count and the counts per status (stdout)."""
    for warning in report.warnings:
        print(f"note: {warning}", file=sys.stderr)
    print(("Dry run: " if report.dry_run else "") + f"{len(report.results)} rows")
    print(report.summary_text())
    # The same count, in the same words, as the app and the report: every row that was
    # neither created nor already there (a repeat of an earlier row is that row's case).
    print(f"Needs attention: {report.attention_count} (neither created nor already there)")
    _print_problems(report)


PROBLEMS_LISTED = 20
"""Problems printed after the summary; the report (``--report``) lists them all."""


def _print_problems(report: BatchReport) -> None:
    """The first problems, one line each, rendered from the report's problems table.

    A message names the field and what is wrong, never the cell's value (the
    table's ``value`` column is not printed).
    """
    from kyc_widgets.batch.problems import messages

    problems = report.problems
    if not problems.empty:
        print(f"Problems ({len(problems)}):")
        shown = problems.head(PROBLEMS_LISTED)
        for row, text in zip(shown["sheet_row"].tolist(), messages(shown)):
            print(f"  sheet row {row}: {text}")
        if len(problems) > PROBLEMS_LISTED:
            print(f"  ... and {len(problems) - PROBLEMS_LISTED} more (--report OUT.csv lists every row)")
    _print_other_attention(report)


def _print_other_attention(report: BatchReport) -> None:
    """Rows that need attention without a problem of their own (failed, not sent, outcome
    unknown, exists with other values): their status in words, and the fields that differ."""
    from kyc_widgets.batch.fields import field_title
    from kyc_widgets.batch.status import ATTENTION_STATUSES, RowStatus

    results = report.results
    others = results[
        results["status"].isin(ATTENTION_STATUSES) & ~results.index.isin(report.problems.index)
    ]
    if others.empty:
        return
    print(f"Other rows that need attention ({len(others)}):")
    for row, status, fields in zip(others["sheet_row"].head(PROBLEMS_LISTED).tolist(),
                                   others["status"].tolist(), others["error_field"].tolist()):
        named = ""
        if isinstance(fields, str) and fields:
            named = ": " + ", ".join(str(field_title(f.strip())) for f in fields.split(","))
        print(f"  sheet row {row}: {RowStatus(status).label}{named}")
    if len(others) > PROBLEMS_LISTED:
        print(f"  ... and {len(others) - PROBLEMS_LISTED} more (--report OUT.csv lists every row)")


def _write_report(report: BatchReport, path: Path, *, personal: bool) -> None:
    """``--report``: the report joined with the sheet, as CSV or XLSX by the file's ending."""
    try:
        if path.suffix.lower() == ".xlsx":
            escaped = report.to_excel(path, include_personal_data=personal)
        else:
            escaped = report.to_csv(path, include_personal_data=personal)
    except (OSError, ValueError) as exc:  # ValueError: a sheet an .xlsx cannot hold
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise _UsageError(
            f"the batch ran (summary above) but the report could not be written to "
            f"{path}: {reason}. Re-running is safe: nothing is created twice."
        ) from None
    print(f"Report written to {path}")
    if escaped:
        print(
            f"note: {escaped} cell(s) held characters a spreadsheet cannot store; "
            "they are written as visible escapes such as ⟨U+000B⟩.",
            file=sys.stderr,
        )


def _write_evidence(
    report: BatchReport, path: Path, *, sheet: str, signing_key: Ed25519PrivateKey | None
) -> None:
    """``--evidence``: the hash-chained record (signed with ``--signing-key``), its HTML
    summary, and the chain head printed, to be kept elsewhere (the change ticket)."""
    from kyc_widgets.batch.evidence import write_report_evidence

    try:  # written as its entries are made: a million-row record is never whole in memory
        summary_path, head = write_report_evidence(report, path, sheet=sheet, signing_key=signing_key)
    except OSError as exc:
        raise _UsageError(
            f"the evidence record could not be written to {path}: {exc.strerror or exc}"
        ) from None
    signed = ""
    if signing_key is not None:
        from kyc_widgets.batch.signing import key_id

        signed = f", signed with key {key_id(signing_key.public_key())}"
    print(f"Evidence written to {path} (summary: {summary_path.name}); "
          f"chain head {head}{signed}")


def _exit_code(report: BatchReport, report_path: Path | None) -> int:
    """2 for a token refused before anything landed, 1 when rows need attention, else 0."""
    from kyc_widgets.batch.status import DONE_STATUSES

    summary = report.summary()
    if report.stopped_reason in ("authentication", "permission") and not any(
        summary[status] for status in DONE_STATUSES
    ):
        return usage_error(
            "batch",
            "the API refused the token (HTTP 401 or 403) before any case was created or found, "
            "so nothing was created. Check KYC_API_TOKEN and the base URL.",
        )
    if not report.ok:
        print(
            f"{report.attention_count} row(s) need attention"
            + ("; see the report." if report_path else "; use --report OUT.csv to list them."),
        )
        return ExitCode.NEEDS_ATTENTION
    return ExitCode.OK
