"""Batch creation against the sandbox: speed-up over a hand-written loop, and rate-limit tracking.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--rows 2000] [--latency-ms 50] [--rate-limit 200]``

1. ``Sandbox(latency_ms=50)`` (a remote API): the loop a user would write by
   hand (one ``httpx.Client``, one POST per row, in sequence) versus
   ``batch_create`` at default settings, measured in the same run. Target: >= 10x.
2. ``Sandbox(rate_limit=200)``: rows per second the batch sustains and its
   percentage of the limit (target >= 90%), and zero rows lost or duplicated
   (checked with ``case_count()`` and the report). The sandbox's bucket starts
   full (one second of burst), so the sustained rate is also printed without
   that free first second.

Figures are printed, not asserted: timings on a shared machine are not tests.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time

import httpx
import numpy as np
import pandas as pd
from typing_extensions import Self

from kyc_widgets.batch import DONE_STATUSES, batch_create
from kyc_widgets.sandbox import Sandbox


def campaign_rows(n: int, prefix: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "legal_first_name": [f"Zoë{i}" for i in range(n)],
            "legal_last_name": "Ólafsdóttir",
            "user_internal_id": [f"{prefix}{i:07d}" for i in range(n)],
            "user_type": "individual",
            "relationship_type": "kyc refresh",
            "current_status": "draft",
            "case_priority": "normal",
            "agency_name": "Agency",
            "regulated_provider_name": "Provider Ltd",
            "programme_name": "Cards",
            "country_of_onboarding": "GB",
            "assigned_team": "Refresh team",
        }
    )


def sequential_loop(sandbox: Sandbox, df: pd.DataFrame) -> float:
    """What a user writes by hand: one client, one POST per row, in order."""
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=30) as http:
        for i, row in enumerate(df.to_dict("records")):
            body = dict(
                row,
                user_type="INDIVIDUAL",
                relationship_type="KYC_REFRESH",
                current_status="DRAFT",
                case_priority="NORMAL",
                kyc_case_id=f"SEQ-{i:07d}",
            )
            http.post("/api/v1/kyc-cases", json=body).raise_for_status()
    return time.perf_counter() - started


def speedup(rows: int, latency_ms: int) -> None:
    print(f"== speed-up: {rows} rows, sandbox latency {latency_ms} ms ==")
    with Sandbox(latency_ms=latency_ms) as sandbox:
        baseline = sequential_loop(sandbox, campaign_rows(rows, "S"))
        client = sandbox.client()
        started = time.perf_counter()
        report = batch_create(client, campaign_rows(rows, "B"), campaign="bench", progress=False)
        batch = time.perf_counter() - started
        client.close()
        summary = {k: v for k, v in report.summary().items() if v}
        print(f"sequential loop:   {baseline:7.2f} s  ({rows / baseline:7.1f} rows/s)")
        print(
            f"batch_create:      {batch:7.2f} s  ({rows / batch:7.1f} rows/s, "
            f"adaptive concurrency)  {summary}"
        )
        print(f"speed-up:          {baseline / batch:7.1f}x  (target >= 10x)")
        print(f"cases on sandbox:  {sandbox.case_count()} (expected {2 * rows})")


class CaseSampler(logging.Handler):
    """Cases stored on the sandbox, sampled every 20 ms, and the times 429s came back.

    "Sustained" is the slope of stored cases between the first and the last
    429 seen (by the client or the batch): both ends sit at the same point of a pause/resume
    cycle (the bucket just ran dry), so whole cycles are measured, without the
    free first second of burst and without start-up and tail.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(level=logging.WARNING)
        self.sandbox = sandbox
        self.samples: list[tuple[float, int]] = []
        self.rejections: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        # 429s are logged by the client when it retries them, and by the batch when the
        # client's retries ran out and the row goes round again.
        self._loggers = [logging.getLogger("kyc_widgets.api.client"), logging.getLogger("kyc_widgets.batch")]
        self._levels: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "RATE" in str(record.args[0] if record.args else ""):
            self.rejections.append(time.perf_counter())

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), self.sandbox.case_count()))
            self._stop.wait(0.02)

    def __enter__(self) -> Self:
        for logger in self._loggers:
            logger.addHandler(self)
            self._levels.append(logger.level)
            logger.setLevel(logging.WARNING)
            logger.propagate = False
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for logger, level in zip(self._loggers, self._levels):
            logger.removeHandler(self)
            logger.setLevel(level)
            logger.propagate = True

    def _cases_at(self, moment: float) -> float:
        times = [t for t, _ in self.samples]
        return float(np.interp(moment, times, [c for _, c in self.samples]))

    def steady_rate(self) -> float | None:
        if len(self.rejections) < 2 or not self.samples:
            return None
        first, last = self.rejections[0], self.rejections[-1]
        if last - first < 1.0:
            return None
        return (self._cases_at(last) - self._cases_at(first)) / (last - first)


def rate_limited(rows: int, limit: float) -> None:
    print(f"\n== rate limit: {rows} rows, sandbox limit {limit:g}/s (1 s burst) ==")
    with Sandbox(rate_limit=limit) as sandbox:
        client = sandbox.client()
        with CaseSampler(sandbox) as sampler:
            started = time.perf_counter()
            report = batch_create(
                client, campaign_rows(rows, "R"), campaign="bench-rate", progress=False
            )
            elapsed = time.perf_counter() - started
        client.close()
        summary = report.summary()
        posts = sandbox.request_count(method="POST")
        cases = sandbox.case_count()
        rate = rows / elapsed
        ideal = max(rows - limit, 0) / limit  # fastest possible: the bucket starts full
        steady = sampler.steady_rate()
        print(f"elapsed:           {elapsed:7.2f} s (fastest the limiter allows: {ideal:.2f} s)")
        print(f"overall:           {rate:7.1f} rows/s = {100 * rate / limit:5.1f}% of the limit")
        if steady is not None:
            print(
                f"sustained:         {steady:7.1f} rows/s = {100 * steady / limit:5.1f}% of the limit "
                "(server-side, between the first and last 429; target >= 90%)"
            )
        print(
            f"vs fastest:        {100 * ideal / elapsed:5.1f}% (start-up and the last whole-second "
            "Retry-After pause are fixed costs)"
        )
        print(f"POST requests:     {posts} ({posts - rows} answered 429 and were retried)")
        print(
            f"created={summary['created']} exists={summary['exists']} "
            f"failed={summary['failed']} not_attempted={summary['not_attempted']}"
        )
        lost = rows - sum(summary[status] for status in DONE_STATUSES)
        duplicated = cases - rows
        print(f"cases on sandbox:  {cases}  lost={lost} duplicated={duplicated} (target 0 and 0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--rate-limit", type=float, default=200.0)
    parser.add_argument("--skip-speedup", action="store_true")
    parser.add_argument("--skip-rate-limit", action="store_true")
    args = parser.parse_args()
    logging.getLogger("kyc_widgets").setLevel(logging.ERROR)  # 429 retries log warnings
    if not args.skip_speedup:
        speedup(args.rows, args.latency_ms)
    if not args.skip_rate_limit:
        rate_limited(args.rows, args.rate_limit)


if __name__ == "__main__":
    main()
