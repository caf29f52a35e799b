"""The ``kyc-widgets`` command line: run the sandbox, create a case, run a demo, campaigns.

Exit codes (:class:`~kyc_widgets.cli.common.ExitCode`): 0 success; 1 the
API (or the server) failed; 2 the command was used wrongly (bad option,
missing base URL or token, invalid field values).
Tokens are read from the environment (``KYC_API_TOKEN``), never from an
option, so they stay out of shell history and process listings; the only
token ever printed is the sandbox's own random demo token, at start-up, so a
developer can use it.

Building the parser imports only the standard library and
:mod:`kyc_widgets.defaults`: ``kyc-widgets --help`` answers without loading
pandas, ipywidgets, pydantic, httpx, FastAPI or uvicorn. Each command handler
imports what it needs when it runs (``tests/test_imports.py`` checks this).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kyc_widgets.cli.batch import add_batch_parser
from kyc_widgets.cli.campaign import add_mapping_parser, add_template_parser
from kyc_widgets.cli.common import ExitCode, parse_pairs
from kyc_widgets.cli.evidence import add_verify_parser
from kyc_widgets.cli.plan import add_plan_parsers

__all__ = ["build_parser", "main"]


# --------------------------------------------------------------------------- sandbox


def _run_sandbox(args: argparse.Namespace) -> int:
    from kyc_widgets.api.paths import is_loopback_host
    from kyc_widgets.sandbox import Sandbox, default_db_path

    if not is_loopback_host(args.host) and not args.allow_remote:
        print(
            f"Refusing to listen on {args.host}: the sandbox is for this machine only. "
            "Pass --allow-remote if you really mean it.",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    try:
        tokens = parse_pairs(args.token, "--token", empty_value=False) or None
    except ValueError as exc:
        print(f"error: {exc} (TOKEN=PRINCIPAL)", file=sys.stderr)
        return ExitCode.USAGE
    if not 0.0 <= args.fail_rate <= 1.0:
        print("error: --fail-rate must be between 0 and 1", file=sys.stderr)
        return ExitCode.USAGE
    if args.latency_ms < 0 or (args.rate_limit is not None and args.rate_limit <= 0):
        print("error: --latency-ms must be >= 0 and --rate-limit > 0", file=sys.stderr)
        return ExitCode.USAGE
    logging.basicConfig(
        level=logging.INFO if args.access_log else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    db = Path(args.db).expanduser() if args.db else default_db_path()
    sandbox = Sandbox(
        db=db,
        tokens=tokens,
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        fail_rate=args.fail_rate,
        host=args.host,
        port=args.port,
        allow_remote=args.allow_remote,
        access_log=args.access_log,
        log_level="info" if args.access_log else "warning",
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            sandbox.start()
        except OSError as exc:
            print(
                f"error: cannot listen on {args.host}:{args.port} ({exc.strerror})", file=sys.stderr
            )
            return ExitCode.NEEDS_ATTENTION
        print(f"KYC sandbox API running at {sandbox.base_url}")
        print(f"  database: {sandbox.db_path}")
        if tokens is None:
            print(f"  demo token (principal {sandbox.principal}): {sandbox.token}")
            print("  use it from a shell or notebook with:")
            print(f"    export KYC_API_BASE_URL={sandbox.base_url}")
            print(f"    export KYC_API_TOKEN={sandbox.token}")
        else:
            print(f"  accepting {len(tokens)} configured token(s)")
        knobs = [
            f"latency {args.latency_ms:g} ms" if args.latency_ms else "",
            f"rate limit {args.rate_limit:g}/s" if args.rate_limit else "",
            f"fail rate {args.fail_rate:g}" if args.fail_rate else "",
        ]
        if any(knobs):
            print("  imitating a remote API: " + ", ".join(k for k in knobs if k))
        print("Press Ctrl-C to stop.", flush=True)
        while not stop.wait(0.5):
            if not sandbox.running:
                print("error: the sandbox server stopped unexpectedly", file=sys.stderr)
                return ExitCode.NEEDS_ATTENTION
        print("Stopping the sandbox...", flush=True)
        return ExitCode.OK
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# --------------------------------------------------------------------------- create


def _print_created(envelope: Any, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "request_id": envelope.request_id,
                    **envelope.model_dump(mode="json"),
                },
                indent=2,
            )
        )
        return
    case = envelope.case
    print(f"Created KYC case {case.kyc_case_id}")
    print(f"  request_id: {envelope.request_id}")
    print(f"  principal: {envelope.principal}")
    for name, value in case.model_dump(mode="json").items():
        if name != "kyc_case_id" and value is not None:
            print(f"  {name}: {value}")


def create_case(
    base_url: str, token: str | None, fields: dict[str, Any], *, as_json: bool = False
) -> int:
    """Create one case and print it; the exit code says how it went."""
    from pydantic import ValidationError

    from kyc_widgets.api.client import KycApiClient
    from kyc_widgets.api.errors import KycApiError, KycConfigurationError
    from kyc_widgets.models import KycCaseCreateInput

    try:
        case_input = KycCaseCreateInput.model_validate(fields)
    except ValidationError as exc:
        print("error: the case is not valid:", file=sys.stderr)
        for err in exc.errors(include_input=False, include_url=False):
            field = ".".join(str(p) for p in err["loc"]) or "(body)"
            print(f"  {field}: {err['msg']}", file=sys.stderr)
        return ExitCode.USAGE
    try:
        with KycApiClient(base_url, token) as client:
            envelope = client.create_case(case_input)
    except KycConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KycApiError as exc:
        print(f"error: the case was not created: {exc.message}", file=sys.stderr)
        for bad_field, message in exc.field_errors:
            if bad_field:
                print(f"  {bad_field}: {message}", file=sys.stderr)
        if exc.outcome_unknown:
            print(
                "  The request may have been applied: check before creating it again.",
                file=sys.stderr,
            )
        print(exc.support_details(), file=sys.stderr)
        return ExitCode.NEEDS_ATTENTION
    _print_created(envelope, as_json)
    return ExitCode.OK


def _case_fields(args: argparse.Namespace) -> dict[str, Any]:
    from kyc_widgets.sandbox.examples import synthetic_case_input

    return synthetic_case_input(**parse_pairs(args.field, "--field"))


def _run_create(args: argparse.Namespace) -> int:
    base_url = args.base_url or os.environ.get("KYC_API_BASE_URL", "").strip()
    if not base_url:
        print("error: give --base-url or set KYC_API_BASE_URL", file=sys.stderr)
        return ExitCode.USAGE
    from kyc_widgets.api.auth import token_from_env

    token = token_from_env()
    if token is None:
        print("error: set KYC_API_TOKEN to your access token", file=sys.stderr)
        return ExitCode.USAGE
    try:
        fields = _case_fields(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    return create_case(base_url, token, fields, as_json=args.json)


def _run_demo_cli(args: argparse.Namespace) -> int:
    from kyc_widgets.sandbox import Sandbox

    try:
        fields = _case_fields(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    with Sandbox() as sandbox:
        print(f"Started an embedded KYC sandbox API at {sandbox.base_url} (temporary data).")
        print("Creating a synthetic case...")
        code = create_case(sandbox.base_url, sandbox.token, fields, as_json=args.json)
    print("Sandbox stopped.")
    return code


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kyc-widgets",
        description="Create durable KYC cases; run the local sandbox KYC API.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    sandbox = subparsers.add_parser("sandbox", help="run the sandbox KYC API in the foreground")
    sandbox.add_argument("--host", default="127.0.0.1", help="interface (loopback only by default)")
    sandbox.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    sandbox.add_argument("--db", help="SQLite file (default: under your user data directory)")
    sandbox.add_argument(
        "--token",
        action="append",
        metavar="TOKEN=PRINCIPAL",
        help="accept this bearer token as this principal (repeatable); "
        "default: one random demo token, printed at start-up",
    )
    sandbox.add_argument(
        "--latency-ms", type=float, default=0.0,
        help="delay every request the gateway lets through (the API's own work; 401, 429 and "
        "the fail rate's 503 come at once)",
    )
    sandbox.add_argument(
        "--rate-limit", type=float, default=None, help="requests per second before 429"
    )
    sandbox.add_argument(
        "--fail-rate", type=float, default=0.0, help="fraction of API requests answering 503"
    )
    sandbox.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    sandbox.add_argument("--access-log", action="store_true", help="log every request")
    sandbox.set_defaults(handler=_run_sandbox)

    field_help = "set a case field (repeatable); unset fields come from a synthetic example"
    create = subparsers.add_parser(
        "create",
        help="create one case (KYC_API_BASE_URL, KYC_API_TOKEN)",
        description="Create one KYC case. The token comes from KYC_API_TOKEN.",
    )
    create.add_argument("--base-url", help="API base URL (default: $KYC_API_BASE_URL)")
    create.add_argument("--field", action="append", metavar="NAME=VALUE", help=field_help)
    create.add_argument("--json", action="store_true", help="print the answer as JSON")
    create.set_defaults(handler=_run_create)

    demo = subparsers.add_parser(
        "demo-cli", help="start an embedded sandbox, create a synthetic case, stop"
    )
    demo.add_argument("--field", action="append", metavar="NAME=VALUE", help=field_help)
    demo.add_argument("--json", action="store_true", help="print the answer as JSON")
    demo.set_defaults(handler=_run_demo_cli)

    add_batch_parser(subparsers)
    add_mapping_parser(subparsers)
    add_template_parser(subparsers)
    add_verify_parser(subparsers)
    add_plan_parsers(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kyc-widgets`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    return int(handler(args))


if __name__ == "__main__":
    sys.exit(main())
