"""XLSX campaign sheets: read and write times, against openpyxl in the same run.

Run: ``.venv/bin/python benchmarks/bench_xlsx.py [--rows 10000 100000] [--no-write]``

For each size, a synthetic 12-column campaign sheet (text, ids with leading
zeros, an id typed as a number) is written once to a temporary folder, then:

1. read: :func:`~kyc_widgets.batch.read_campaign` (python-calamine) against a
   plain ``pd.read_excel(path, engine="openpyxl", dtype=str)``, and the
   ratio. Target: >= 5x on 100,000 rows. Both results are compared cell by
   cell, so a fast but different read shows up here too.
2. write: :meth:`~kyc_widgets.batch.BatchReport.to_excel` (xlsxwriter, row by
   row) against what it did before: ``DataFrame.to_excel`` with openpyxl,
   then every formula cell turned back into text. Target: no slower.

Figures are printed, not asserted: timings on a shared machine are not tests.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from kyc_widgets.batch import RESULT_COLUMNS, BatchReport, read_campaign
from kyc_widgets.batch.report import write_xlsx


def campaign_sheet(rows: int) -> pd.DataFrame:
    """Twelve columns as an operations team's export has them."""
    return pd.DataFrame(
        {
            "legal_first_name": [f"Zoë{i}" for i in range(rows)],
            "legal_last_name": [f"Ólafsdóttir{i % 97}" for i in range(rows)],
            "user_internal_id": [f"{i:09d}" for i in range(rows)],
            "customer_number": [100_000_000_000 + i for i in range(rows)],  # typed as a number
            "user_type": "individual",
            "relationship_type": "kyc refresh",
            "current_status": "draft",
            "case_priority": ["normal", "high"] * (rows // 2) + ["normal"] * (rows % 2),
            "agency_name": "Agency",
            "regulated_provider_name": "Provider Ltd",
            "programme_name": "Cards",
            "assigned_team": [f"Team {i % 7}" for i in range(rows)],
        }
    )


def dry_run_report(sheet: pd.DataFrame) -> BatchReport:
    """A report of ``sheet`` as a dry run leaves it (no API needed)."""
    source = sheet.astype(str).set_axis(pd.RangeIndex(2, len(sheet) + 2, name="sheet_row"))
    results = pd.DataFrame({name: pd.NA for name in RESULT_COLUMNS}, index=source.index)
    results = results.astype(object)
    results["source_index"] = results["sheet_row"] = source.index
    results["kyc_case_id"] = [f"CMP-bench-{i:012x}" for i in range(len(source))]
    results["status"] = "would_create"
    results["attempts"] = 0
    column_map = {name: name for name in source.columns}
    return BatchReport(results=results, source=source, column_map=column_map, dry_run=True)


def openpyxl_to_excel(report: BatchReport, path: Path) -> None:
    """``BatchReport.to_excel`` as it was: pandas + openpyxl, then a pass over every cell."""
    frame = report.export_frame()
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="report")
        for row in writer.sheets["report"].iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def same_text(ours: pd.DataFrame, plain: pd.DataFrame) -> bool:
    left = ours.astype(object).where(ours.notna(), "").to_numpy()
    right = plain.astype(object).where(plain.notna(), "").to_numpy()
    return list(ours.columns) == list(plain.columns) and bool((left == right).all())


def bench(rows: int, folder: Path, write: bool) -> None:
    sheet = campaign_sheet(rows)
    path = folder / f"campaign_{rows}.xlsx"
    seconds, _ = timed(lambda: write_xlsx(sheet, path, sheet_name="campaign"))
    print(f"\n{rows:,} rows x {sheet.shape[1]} columns ({path.stat().st_size / 1e6:.1f} MB, "
          f"written in {seconds:.1f} s)")

    ours_s, ours = timed(lambda: read_campaign(path))
    plain_s, plain = timed(lambda: pd.read_excel(path, engine="openpyxl", dtype=str))
    print(f"  read  read_campaign (calamine)          {ours_s:7.2f} s")
    print(f"  read  pd.read_excel(openpyxl, dtype=str) {plain_s:7.2f} s")
    print(f"  read  speed-up                           {plain_s / ours_s:7.1f}x  (target >= 5x)")
    print(f"  read  same text in every cell: {'yes' if same_text(ours, plain) else 'NO'}")

    if write:
        report = dry_run_report(sheet)
        new_s, _ = timed(lambda: report.to_excel(folder / f"report_new_{rows}.xlsx"))
        old_s, _ = timed(lambda: openpyxl_to_excel(report, folder / f"report_old_{rows}.xlsx"))
        columns = report.export_frame().shape[1]
        print(f"  write BatchReport.to_excel ({columns} columns, xlsxwriter) {new_s:7.2f} s")
        print(f"  write before (DataFrame.to_excel, openpyxl)   {old_s:7.2f} s")
        print(f"  write speed-up                                {old_s / new_s:7.1f}x  (target >= 1x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--no-write", action="store_true", help="skip the write timings")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_xlsx_") as folder:
        for rows in args.rows:
            bench(rows, Path(folder), write=not args.no_write)


if __name__ == "__main__":
    main()
