"""How long a 100,000-row campaign report takes to appear, against drawing every row.

Run: ``.venv/bin/python benchmarks/bench_report_render.py [ROWS]``

What is timed is the kernel's work when a run ends, the report handed to the flow
(``BatchFlow.run_ended``) and drawn by ``BatchCreator``:
until the first page of the report table is sent to the browser (summary, status
filter and table: the report has appeared; ipywidgets sends each change as it is
made), and until it returns (the fix list too: the kernel is free again, and after a
Cancel ``wait()`` returns). The report's CSV is not built then: the "Download the
report" click builds the CSV of every row and sends it to the browser (nothing is
written beside the notebook), timed on its own. Then one page turn of
:class:`~kyc_widgets.widgets.report_table.ReportTable` and a status filter. The
baseline, measured in the same run, is what pagination avoids: one HTML table of
every row (``html_table(readable(results))``), with its size in MB (the browser must
then lay all of it out, and the notebook saves it). Target: the report appears, and
``run_ended`` returns, in under a second at 100,000 rows.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from kyc_widgets.batch.report import STATUSES, BatchReport
from kyc_widgets.widgets.batch_creator import BatchCreator
from kyc_widgets.widgets.batch_flow import BatchState
from kyc_widgets.widgets.report_html import html_table, readable
from kyc_widgets.widgets.report_table import ReportTable


def synthetic_report(rows: int) -> BatchReport:
    """A report shaped like a real run: mostly created, some of every other status."""
    rng = np.random.default_rng(7)
    kinds = ["created", "exists", "conflict", "invalid", "duplicate_in_sheet", "failed",
             "outcome_unknown", "not_attempted"]
    assert set(kinds) <= set(STATUSES)
    status = rng.choice(kinds, size=rows, p=[0.82, 0.05, 0.01, 0.05, 0.02, 0.02, 0.01, 0.02])
    index = pd.RangeIndex(rows)
    failed = status != "created"
    results = pd.DataFrame(
        {
            "source_index": index,
            "sheet_row": index + 2,
            "kyc_case_id": [f"CMP-bench-{i:016x}" for i in range(rows)],
            "status": status,
            "case_id": np.where(failed, None, [f"c_{i}" for i in range(rows)]),
            "http_status": np.where(failed, 400, 201),
            "error_code": np.where(failed, "INVALID", None),
            "error_field": np.where(failed, "assigned_analyst_email", None),
            "error_message": np.where(failed, "Enter a valid e-mail address.", None),
            "request_id": [f"req_{i:08d}" for i in range(rows)],
            "attempts": 1,
            "note": None,
        },
        index=index,
    )
    source = pd.DataFrame(
        {
            "legal_first_name": "Ada",
            "legal_last_name": "Example",
            "assigned_team": "Periodic Review",
        },
        index=index,
    )
    return BatchReport(results=results, source=source, campaign="bench")


def timed(action: Callable[[], object], runs: int) -> float:
    """Median milliseconds of ``action`` over ``runs``."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        action()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    report = synthetic_report(rows)
    os.chdir(tempfile.mkdtemp(prefix="kyc-bench-"))  # a large report's CSV is written here
    creator = BatchCreator(None, report.source.head(0))
    drawn: list[float] = []
    creator.table.table.observe(lambda _c: drawn.append(time.perf_counter()), "value")
    appeared: list[float] = []

    def show_report() -> None:
        t0 = time.perf_counter()
        creator.table.table.value = ""
        drawn.clear()
        creator.flow.state = BatchState.RUNNING  # as if a run were in flight: its end arrives
        creator.flow.run_ended(report)
        appeared.append((drawn[-1] - t0) * 1000)

    table = ReportTable()
    table.show(report.results)
    ready = timed(show_report, 3)
    appear = statistics.median(appeared)

    download = timed(creator.prepare_download, 3)  # built on each click, sent to the browser
    assert creator.report_download.sent
    turn = timed(lambda: (table.turn(1), table.turn(-1)), 5) / 2
    filtered = timed(lambda: table.show(report.results, "invalid"), 5)
    t0 = time.perf_counter()
    everything = html_table(readable(report.results.drop(columns=["source_index"])))
    baseline = (time.perf_counter() - t0) * 1000

    print(f"rows: {rows:,}")
    print(f"report appears (summary, filter, first page of the table):     {appear:8.1f} ms")
    print(f"  ...and the whole report is shown (fix list too; no CSV):     {ready:8.1f} ms")
    print(f"  'Download the report' click (CSV of every row, to the browser): {download:5.1f} ms")
    print(f"  page turn (Next):                                            {turn:8.1f} ms")
    print(f"  status filter (Invalid):                                     {filtered:8.1f} ms")
    print(f"  first page: {len(creator.table.value) / 1e3:.0f} kB of HTML, {creator.table.position_text}")
    print(f"baseline, every row in one table:                              {baseline:8.1f} ms"
          f"  ({len(everything) / 1e6:.1f} MB of HTML)")
    print(f"ratio paginated / every row: x{appear / baseline:.2f}")
    print(f"budget: {ready:.0f} ms of 1000 ms")


if __name__ == "__main__":
    main()
