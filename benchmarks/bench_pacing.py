"""Adaptive pacing against the sandbox run as its own process, and 100,000-row campaigns.

Run: ``.venv/bin/python benchmarks/bench_pacing.py`` (the grid, a few minutes), or
``benchmarks/bench_pacing.py --rows 100000`` (the large campaign only).

1. **Rate-limited grid**: ``kyc-widgets sandbox --rate-limit R --latency-ms D``
   for D in 20, 50, 250, 500 ms: rows/s of ``batch_create`` at default
   settings (adaptive) and its share of R (target >= 90 %), next to the old
   default, a fixed pool of :data:`FIXED_BASELINE`, measured in the same run. Each point sends about ``--seconds`` seconds' worth of rows.
   Rows/s is counted from the first request to the last answer, so the
   sandbox bucket's free first second of burst is included: that is what a
   user sees on a fresh API.
2. **No limit** (``--unlimited-latency``, default 50 ms: a remote API; the
   sandbox's own capacity on this machine is then the limit): a sweep of
   fixed concurrencies finds the best fixed one, then that one and the
   adaptive batch run in turn, twice each, on the same rows; for each, rows/s
   and the API's median latency seen by the client, against its unloaded
   median (one request at a time). Every run has a fresh sandbox. Targets:
   adaptive >= 90 % of the best fixed rows/s, median latency <= 2x unloaded.
3. ``--rows N``: the command line (journal + report) on N rows, and
   ``BatchCreator`` on the same N rows, each as its own process under
   ``/usr/bin/time``: wall time, rows/s, peak resident memory, and for the
   widget how often its progress label changed and, on a second run of the
   same rows, how long after Cancel the report is shown.

Figures are printed, not asserted: the machine is shared (its load average is printed).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from kyc_widgets.api.client import KycApiClient
from kyc_widgets.batch import batch_create

sys.path.insert(0, str(Path(__file__).parent))  # run as a script or imported by a test
from bench_batch import campaign_rows  # noqa: E402 - the same synthetic rows as the batch benchmark

TOKEN = "bench-" + secrets.token_hex(8)
GRID_LATENCIES_MS = (20, 50, 250, 500)
FIXED_BASELINE = 32
"""The old default: a fixed pool of 32 requests in flight."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def sandbox_process(latency_ms: float = 0, rate_limit: float | None = None) -> Iterator[str]:
    """``python -m kyc_widgets sandbox`` as its own process; yields its base URL."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        command = [
            sys.executable, "-m", "kyc_widgets", "sandbox", "--port", str(port),
            "--db", str(Path(folder) / "bench.sqlite"), "--token", f"{TOKEN}=bench",
            "--latency-ms", str(latency_ms),
        ]
        if rate_limit:
            command += ["--rate-limit", str(rate_limit)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the sandbox did not start")
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            process.wait(10)


class _Latencies(logging.Handler):
    """Collects the client's own per-request timings (its debug log line: no personal data)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.ms: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 4 and args[0] == "POST" and args[2] == 201:
            self.ms.append(float(args[3]))


@contextlib.contextmanager
def latencies() -> Iterator[_Latencies]:
    handler = _Latencies()
    log = logging.getLogger("kyc_widgets.api.client")
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def run_batch(url: str, rows: int, prefix: str, **kwargs: object) -> tuple[float, dict[str, int], float]:
    """rows/s, report summary and median latency (ms) of one ``batch_create``."""
    frame = campaign_rows(rows, prefix)
    with KycApiClient(url, token=TOKEN) as client, latencies() as seen:
        started = time.perf_counter()
        report = batch_create(client, frame, campaign=prefix, progress=False, **kwargs)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
    summary = {k: v for k, v in report.summary().items() if v}
    median = statistics.median(seen.ms) if seen.ms else float("nan")
    return rows / elapsed, summary, median


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) {five:.1f} (5 min) on {os.cpu_count()} cores"


def rate_limited_grid(rate: float, seconds: float) -> None:
    print(f"== rate limit {rate:.0f}/s: default settings (adaptive) vs fixed {FIXED_BASELINE} ==")
    print(f"   {load()}")
    print("latency | adaptive rows/s  share | fixed-32 rows/s  share | rows  outcome (adaptive)")
    for latency in GRID_LATENCIES_MS:
        rows = int(rate * seconds)
        with sandbox_process(latency, rate) as url:
            adaptive, summary, _ = run_batch(url, rows, f"A{latency}-")
        fixed_rows = int(min(rate, FIXED_BASELINE * 1000 / latency) * seconds * 0.6)
        with sandbox_process(latency, rate) as url:
            fixed, _, _ = run_batch(url, fixed_rows, f"F{latency}-", concurrency=FIXED_BASELINE)
        print(
            f"{latency:4d} ms | {adaptive:9.1f} {adaptive / rate:7.1%} | {fixed:9.1f} {fixed / rate:7.1%}"
            f"  | {rows}  {summary}",
            flush=True,
        )
    print(f"   {load()}")


def unlimited(seconds: float, latency: int) -> None:
    """Each run on a fresh sandbox (its SQLite file grows with every case, which slows the
    later runs): the sweep, then the best fixed and the adaptive batch in turn, twice, on
    the same number of rows; the ratio is of the medians of those head-to-head runs."""
    print(f"== no rate limit, sandbox latency {latency} ms ==")
    print(f"   {load()}")
    best = (0.0, 0, 0)
    unloaded = float("nan")
    for concurrency in (1, 2, 4, 8, 16, 32, 64, 128):
        guess = min(300.0, concurrency * 1000 / max(latency, 5))
        rows = max(60, int(guess * seconds / 3))
        with sandbox_process(latency, None) as url:
            rate, _, median = run_batch(url, rows, f"C{concurrency}-", concurrency=concurrency)
        if concurrency == 1:
            unloaded = median
            print(f"unloaded median latency (one request at a time): {unloaded:.1f} ms")
        best = max(best, (rate, concurrency, rows))
        print(
            f"fixed {concurrency:3d}: {rate:7.1f} rows/s  median {median:6.1f} ms "
            f"({median / unloaded:4.1f}x unloaded)  [{rows} rows]",
            flush=True,
        )
    _, concurrency, _ = best
    rows = int(best[0] * seconds)
    runs: dict[str, list[tuple[float, float]]] = {"fixed": [], "adaptive": []}
    for attempt in range(2):
        for name, setting in (("fixed", concurrency), ("adaptive", None)):
            with sandbox_process(latency, None) as url:
                rate, summary, median = run_batch(url, rows, f"H{attempt}{name[0]}-", concurrency=setting)
            runs[name].append((rate, median))
            print(f"  head-to-head {name:8s} ({setting or 'auto'}): {rate:7.1f} rows/s  median {median:6.1f} ms"
                  f"  [{rows} rows] {summary}", flush=True)
    fixed = statistics.median(r for r, _ in runs["fixed"])
    adaptive = statistics.median(r for r, _ in runs["adaptive"])
    median = statistics.median(m for _, m in runs["adaptive"])
    print(
        f"adaptive : {adaptive:7.1f} rows/s = {adaptive / fixed:.0%} of the best fixed ({concurrency}, "
        f"{fixed:.1f} rows/s on the same rows); median {median:.1f} ms = {median / unloaded:.1f}x unloaded"
    )
    print(f"   {load()}")


WIDGET_CHILD = """
import sys, time
import pandas as pd
from kyc_widgets.api.client import KycApiClient
from kyc_widgets.widgets.batch_creator import BatchCreator
url, token, sheet = sys.argv[1:4]
client = KycApiClient(url, token=token)
ui = BatchCreator(client, sheet, campaign="bench-widget")
labels = []
ui.progress_label.observe(lambda change: labels.append(time.monotonic()), "value")
started = time.monotonic()
ui.create_button.click()
ui.wait()
elapsed = time.monotonic() - started
cancel_ui = BatchCreator(client, sheet, campaign="bench-widget-cancel")
cancel_ui.create_button.click()
cancel_ui.wait(3.0)
clicked = time.monotonic()
cancel_ui.cancel_button.click()
cancel_ui.wait()
cancel_s = time.monotonic() - clicked
print(f"{elapsed:.3f} {len(labels)} {ui.state} {ui.report.summary().get('created', 0)} {len(ui.table.value)}"
      f" {cancel_s:.3f} {cancel_ui.report.stopped_reason}")
"""


def large(rows: int) -> None:
    print(f"== {rows} rows, sandbox latency 0 ms, no rate limit ==")
    print(f"   {load()}")
    with tempfile.TemporaryDirectory() as folder:
        sheet = Path(folder) / "campaign.csv"
        campaign_rows(rows, "L").to_csv(sheet, index=False)
        size = sheet.stat().st_size
        print(f"sheet: {size / 1e6:.1f} MB CSV")
        env = {**os.environ, "KYC_API_TOKEN": TOKEN}
        env.pop("KYC_API_BASE_URL", None)
        with sandbox_process(0, None) as url:
            timing = Path(folder) / "time.txt"
            started = time.perf_counter()
            result = subprocess.run(
                ["/usr/bin/time", "-o", str(timing), "-f", "%M %e", sys.executable, "-m", "kyc_widgets",
                 "batch", str(sheet), "--base-url", url, "--campaign", "bench-large", "--quiet",
                 "--journal", str(Path(folder) / "journal.jsonl"), "--report", str(Path(folder) / "report.csv")],
                env=env, capture_output=True, text=True, check=False,
            )
            wall = time.perf_counter() - started
            peak_kb, _ = timing.read_text().split()[-2:]
            print(f"CLI exit {result.returncode}: {result.stdout.strip().splitlines()[1:2]}")
            print(f"CLI: {wall:.1f} s, {rows / wall:.0f} rows/s, peak RSS {int(peak_kb) / 1024:.0f} MB")
            print(f"   {load()}")
            with sandbox_process(0, None) as url2:
                started = time.perf_counter()
                result = subprocess.run(
                    ["/usr/bin/time", "-o", str(timing), "-f", "%M %e", sys.executable, "-c", WIDGET_CHILD,
                     url2, TOKEN, str(sheet)],
                    env=env, capture_output=True, text=True, check=False,
                )
                wall = time.perf_counter() - started
                peak_kb, _ = timing.read_text().split()[-2:]
                fields = result.stdout.split()
                if len(fields) != 7:
                    print("BatchCreator run failed:", result.stderr[-2000:])
                    return
                run_s, labels, state, created, table_chars, cancel_s, stopped = fields
                print(
                    f"BatchCreator: {wall:.1f} s process ({float(run_s):.1f} s sending), "
                    f"{rows / float(run_s):.0f} rows/s, peak RSS {int(peak_kb) / 1024:.0f} MB, "
                    f"state {state}, created {created}, progress label changed {labels} times "
                    f"({int(labels) / float(run_s):.1f}/s), report table {int(table_chars) / 1000:.0f} kB of HTML"
                )
                print(
                    f"BatchCreator Cancel after 3 s of a second {rows}-row run: report shown "
                    f"{float(cancel_s):.2f} s after the click (stopped: {stopped})"
                )
    print(f"   {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate-limit", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=15.0, help="sending time per grid point")
    parser.add_argument("--unlimited-latency", type=int, default=50, help="sandbox latency without a limit")
    parser.add_argument("--rows", type=int, default=0, help="run only the large campaign of this many rows")
    parser.add_argument("--only", choices=("grid", "unlimited"), help="run one part of the grid")
    args = parser.parse_args()
    if args.rows:
        large(args.rows)
        return
    if args.only in (None, "grid"):
        rate_limited_grid(args.rate_limit, args.seconds)
    if args.only in (None, "unlimited"):
        unlimited(args.seconds, args.unlimited_latency)


if __name__ == "__main__":
    main()
