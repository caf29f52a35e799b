"""`kyc-widgets mapping` and `kyc-widgets template`: preparing a campaign sheet.

``mapping SHEET [-o FILE]`` suggests how a source system's sheet maps to the
API (see :mod:`kyc_widgets.batch.mapping`), writes it (JSON, or YAML by
extension; to stdout without ``-o``) and prints what it is unsure of, the
columns it will ignore and the required fields that still need a constant,
so a person checks the file before ``kyc-widgets batch SHEET --mapping
FILE``. ``template OUT.xlsx`` writes an empty campaign sheet that needs no
mapping. Exit codes: 0 done, 2 usage errors (unreadable sheet, unwritable
output). What is printed holds headers and enum vocabularies, never cell
values of other columns.

The parsers import nothing heavy; pandas and the batch modules are imported
by the handlers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kyc_widgets.cli.common import ExitCode, Subparsers, add_subcommand, usage_error

__all__ = ["add_mapping_parser", "add_template_parser", "run_mapping", "run_template"]


def add_mapping_parser(subparsers: Subparsers) -> None:
    """Register the ``mapping`` subcommand."""
    parser = add_subcommand(
        subparsers,
        "mapping",
        run_mapping,
        help="suggest how a sheet's columns and values map to the API",
        description=(
            "Suggest a column mapping for a campaign sheet from another system, write it "
            "(JSON or .yaml) and print what to check before using it with "
            "'kyc-widgets batch SHEET --mapping FILE'."
        ),
    )
    parser.add_argument("sheet", help="the campaign file (.csv or .xlsx)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the mapping here (default: stdout)")
    parser.add_argument("--sheet", dest="sheet_name", metavar="NAME", help="worksheet of an .xlsx file")
    add_reading_options(parser)


def add_template_parser(subparsers: Subparsers) -> None:
    """Register the ``template`` subcommand."""
    parser = add_subcommand(
        subparsers,
        "template",
        run_template,
        help="write an empty campaign sheet (.xlsx) that needs no mapping",
        description=(
            "Write an XLSX campaign template: one column per field headed by its title "
            "(required ones end in *), dropdowns for every choice, and a Help sheet."
        ),
    )
    parser.add_argument("output", metavar="OUT.xlsx", help="the file to write")


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    """``--header-row`` and ``--encoding``, shared with ``batch``."""
    parser.add_argument(
        "--header-row", type=int, metavar="N",
        help="the header's row number as Excel shows it (default: detected)",
    )
    parser.add_argument(
        "--encoding", metavar="NAME",
        help="a CSV file's text encoding, e.g. cp1251 (default: detected)",
    )


def run_mapping(args: argparse.Namespace) -> int:
    """Suggest, write and explain a mapping; returns the exit code."""
    from kyc_widgets.batch.mapping import suggest_mapping
    from kyc_widgets.batch.preflight import FIELD_TITLES, REQUIRED_COLUMNS
    from kyc_widgets.batch.reading import read_campaign

    try:
        frame = read_campaign(
            args.sheet, sheet=args.sheet_name, header_row=args.header_row, encoding=args.encoding
        )
    except (OSError, ValueError) as exc:
        return usage_error("mapping", str(exc))
    mapping = suggest_mapping(frame)
    output = Path(args.output) if args.output else None
    if output is not None:
        if output.suffix.lower() not in (".json", ".yaml", ".yml"):
            return usage_error("mapping", "-o must end in .json, .yaml or .yml")
        try:
            mapping.save(output)
        except OSError as exc:
            return usage_error("mapping", f"cannot write {output}: {exc.strerror or exc}")
    else:
        import json

        print(json.dumps(mapping.to_dict(), indent=2, ensure_ascii=False))
    out = sys.stdout if output is not None else sys.stderr
    print(f"Suggested mapping for {Path(args.sheet).name} ({len(frame.columns)} columns):", file=out)
    guesses = _unsure_headers(mapping)
    for header, name in mapping.columns.items():
        if name is None:
            print(f"  {header!r}: ignored (no field matches)", file=out)
            continue
        score = mapping.confidence.get(header, 1.0)
        check = " - CHECK: a guess" if header in guesses else ""
        print(f"  {header!r} -> {name} ({FIELD_TITLES[name]}), {score:.0%} sure{check}", file=out)
    for name, table in mapping.values.items():
        for value, target in table.items():
            print(f"  value {value!r} of {name} -> {target}", file=out)
    unsure = mapping.unconfirmed()
    if unsure:
        print("Unsure, check before use:", file=out)
        for line in unsure:
            print(f"  {line}", file=out)
    missing = [n for n in REQUIRED_COLUMNS if n not in mapping.covered()]
    if missing:
        print(
            "Required fields no column gives: " + ", ".join(missing)
            + ". Add them under \"constants\" in the file, or pass --set FIELD=VALUE to batch.",
            file=out,
        )
    if output is not None:
        print(f"Mapping written to {output}", file=out)
    return ExitCode.OK


def _unsure_headers(mapping: object) -> set[str]:
    from kyc_widgets.batch.mapping import CONFIDENT

    confidence = getattr(mapping, "confidence", {})
    return {header for header, score in confidence.items() if score < CONFIDENT}


def run_template(args: argparse.Namespace) -> int:
    """Write the XLSX template; returns the exit code."""
    from kyc_widgets.batch.template import write_template

    output = Path(args.output)
    if output.suffix.lower() != ".xlsx":
        return usage_error("template", "the template must end in .xlsx")
    try:
        write_template(output)
    except OSError as exc:
        return usage_error("template", f"cannot write {output}: {exc.strerror or exc}")
    print(f"Template written to {output}")
    return ExitCode.OK
