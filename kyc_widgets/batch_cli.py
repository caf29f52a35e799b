"""`kyc-widgets batch`: create cases from a spreadsheet on the command line (stub, being built)."""

from __future__ import annotations

import argparse


def add_batch_parser(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register the ``batch`` subcommand on the main parser."""
    parser = subparsers.add_parser("batch", help="create cases from a CSV/XLSX sheet")
    parser.add_argument("sheet")
    parser.set_defaults(handler=run_batch)


def run_batch(args: argparse.Namespace) -> int:
    """Run the batch subcommand; returns the process exit code."""
    raise NotImplementedError
