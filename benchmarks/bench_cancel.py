"""How soon ``BatchCreator`` shows the report after Cancel on a large campaign.

Run: ``.venv/bin/python benchmarks/bench_cancel.py [ROWS]`` (default 100,000; about a minute).

The Cancel part of ``bench_pacing.py --rows N`` on its own: the sandbox as its own
process (no latency, no limit), the synthetic rows of ``bench_batch.py`` as a CSV
sheet, "Create N cases" clicked, Cancel clicked 3 s later, and the time from that
click until ``wait()`` returns (the report shown, state "done"). Then, on the
cancelled run's report: its end drawn again (``BatchFlow.run_ended``, median of 3), and the
"Download the report" click (the CSV of every row, sent to the browser; nothing written). The
baseline, measured in the same run, is what the report used to wait for: the
report's CSV (``BatchReport.to_csv_string``, no personal data). Target: the report
shows under 1 s after Cancel.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # run as a script
from bench_batch import campaign_rows  # noqa: E402 - the same synthetic rows as the batch benchmark
from bench_pacing import TOKEN, load, sandbox_process  # noqa: E402

from kyc_widgets.api.client import KycApiClient  # noqa: E402
from kyc_widgets.widgets.batch_creator import BatchCreator  # noqa: E402
from kyc_widgets.widgets.batch_flow import BatchState  # noqa: E402

SENDING_S = 3.0


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"== Cancel after {SENDING_S:.0f} s of a {rows:,}-row campaign ==")
    print(f"   {load()}")
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # as beside a notebook: nothing may be written here
        sheet = Path(folder) / "campaign.csv"
        campaign_rows(rows, "X").to_csv(sheet, index=False)
        with sandbox_process(0, None) as url, KycApiClient(url, token=TOKEN) as client:
            ui = BatchCreator(client, sheet, campaign="bench-cancel")
            ui.create_button.click()
            ui.wait(SENDING_S)
            clicked = time.perf_counter()
            ui.cancel_button.click()
            ui.wait()
            cancel_s = time.perf_counter() - clicked
        report = ui.report
        assert report is not None and ui.state == "done"
        shown = []
        for _ in range(3):
            t0 = time.perf_counter()
            ui.flow.state = BatchState.RUNNING  # as if the run were in flight again
            ui.flow.run_ended(report)
            shown.append(time.perf_counter() - t0)
        written_before = [p for p in Path(folder).iterdir() if p.name != "campaign.csv"]
        t0 = time.perf_counter()
        ui.prepare_download()
        prepare_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report.to_csv_string(include_personal_data=False)
        baseline_s = time.perf_counter() - t0
        created = report.summary()["created"]
        print(f"sent before Cancel: {created:,} created; stopped: {report.stopped_reason}")
        print(f"Cancel click -> report shown (wait() returns):     {cancel_s * 1000:8.1f} ms")
        print(f"run_ended on that report (median of 3):           {statistics.median(shown) * 1000:8.1f} ms")
        print(f"files written beside the notebook:                {len(written_before)}")
        print(f"'Download the report' click (CSV, to the browser): {prepare_s * 1000:8.1f} ms")
        print(f"baseline, the report's CSV (what Cancel waited for): {baseline_s * 1000:6.1f} ms")
        print(f"ratio Cancel-to-report / baseline: x{cancel_s / baseline_s:.2f}")
        print(f"budget: {cancel_s * 1000:.0f} ms of 1000 ms")
    print(f"   {load()}")


if __name__ == "__main__":
    main()
