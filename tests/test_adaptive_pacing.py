"""The adaptive limit of the pacing gate: how it learns, and that its caps hold on a real API.

The rules are tested on :class:`AdaptiveLimit` with a made-up clock and made-up
latencies (no sleeping, no timing); the caps and a 429 storm are tested
against the sandbox, counting requests in flight in a transport wrapper and
cases on the sandbox.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pandas as pd
import pytest
from factories import campaign_frame

from kyc_widgets.api.client import AsyncKycApiClient
from kyc_widgets.api.limiter import (
    DEFAULT_INITIAL_LIMIT,
    DROP_BACKOFF,
    FIRST_PROBE_ROUNDS,
    FIRST_RATE_PROBE,
    MIN_ROUND_SAMPLES,
    PROBE_LIMIT,
    RATE_HEADROOM,
    RATE_PROBE,
    AdaptiveLimit,
    RateSpacer,
)
from kyc_widgets.api.pacing import PacingGate, PacingLimits, PacingStopped
from kyc_widgets.batch import BatchProgress, abatch_create, batch_create
from kyc_widgets.sandbox import Sandbox


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def run_round(limit: AdaptiveLimit, clock: FakeClock, latency: float, in_flight: int | None = None) -> None:
    """One round trip: ``limit.limit`` requests sent now, all answered ``latency`` seconds later."""
    sent_at = clock.now
    count = max(limit.limit, 8)
    clock.now += latency
    for _ in range(count):
        limit.on_sample(latency, sent_at, limit.limit if in_flight is None else in_flight)
    clock.now += 0.001


def test_the_limit_grows_under_a_slow_api() -> None:
    clock = FakeClock()
    limit = AdaptiveLimit(initial=4, max_limit=1000, clock=clock)
    seen = [limit.limit]
    for _ in range(6):
        run_round(limit, clock, latency=0.5)  # a slow API, latency flat: not loaded
        seen.append(limit.limit)
    assert seen == sorted(seen) and seen[-1] >= 100


def test_an_idle_client_does_not_grow_the_limit() -> None:
    clock = FakeClock()
    limit = AdaptiveLimit(initial=16, clock=clock)
    for _ in range(5):
        run_round(limit, clock, latency=0.5, in_flight=1)  # one request at a time says nothing
    assert limit.limit == 16


def test_the_limit_shrinks_on_429_once_per_congestion_event() -> None:
    clock = FakeClock()
    limit = AdaptiveLimit(initial=4, clock=clock)
    for _ in range(4):
        run_round(limit, clock, latency=0.2)
    before = limit.limit
    sent_before = clock.now - 0.2
    limit.on_drop(sent_before)
    after = limit.limit
    assert after < before
    # Answers to requests sent before that decrease are the same event: no further cut.
    for _ in range(20):
        limit.on_drop(sent_before)
    assert limit.limit == after
    # A 429 for a request sent after it is a new event.
    clock.now += 1
    limit.on_drop(clock.now)
    assert limit.limit < after
    assert limit.found_limit


def send(limit: AdaptiveLimit, clock: FakeClock, count: int, seconds: float) -> None:
    """``count`` requests leave evenly over ``seconds``."""
    for _ in range(count):
        limit.on_send()
        clock.now += seconds / count


def test_a_drop_teaches_the_rate_sent_since_the_previous_one() -> None:
    clock = FakeClock()
    limit = AdaptiveLimit(clock=clock)
    assert limit.rate() is None  # nothing refused yet: no rate
    send(limit, clock, 220, 2.0)  # slow start, 110/s
    limit.on_drop(clock.now)
    assert limit.rate() == pytest.approx(110)
    clock.now += 1.0  # the Retry-After pause: nothing leaves
    assert limit.rate() == pytest.approx(110 * (1 + FIRST_RATE_PROBE))  # no drop: it probes upward
    # A whole cycle, pause included, at the API's 100/s: the second drop measures it.
    send(limit, clock, 200, 1.0)
    limit.on_drop(clock.now)
    assert limit.rate() == pytest.approx(100)
    clock.now += 1.0
    assert limit.rate() == pytest.approx(100 * (1 + RATE_PROBE))  # now it probes slowly
    # A drop soon after, with little sent: one event never cuts below DROP_BACKOFF of the rate.
    send(limit, clock, 10, 0.5)
    before = limit.rate()
    limit.on_drop(clock.now)
    assert before is not None and limit.rate() == pytest.approx(DROP_BACKOFF * before)
    # Refusals of requests sent before that drop are the same event: nothing changes.
    rate, cut = limit.rate(), limit.limit
    limit.on_drop(clock.now - 0.1)
    assert (limit.rate(), limit.limit) == (rate, cut)


def test_after_a_drop_the_limit_keeps_only_what_the_learned_rate_needs() -> None:
    clock = FakeClock()
    limit = AdaptiveLimit(initial=64, clock=clock)
    for _ in range(3):
        send(limit, clock, 64, 0.0)
        run_round(limit, clock, latency=0.1)  # 64 in flight at 100 ms: 640/s offered
    before = limit.limit  # slow start doubled it meanwhile
    limit.on_drop(clock.now)
    rate, latency = limit.rate(), limit.last_median
    assert rate is not None and latency is not None
    assert limit.limit == int(RATE_HEADROOM * rate * latency + 1) < before


def test_a_fixed_limit_learns_no_rate() -> None:
    clock = FakeClock()
    fixed = AdaptiveLimit(fixed=8, clock=clock)
    send(fixed, clock, 100, 1.0)
    fixed.on_drop(clock.now)
    assert fixed.rate() is None and fixed.limit == 8


def test_the_gate_paces_at_max_rate_or_the_learned_rate_whichever_is_lower() -> None:
    gate = PacingGate(max_rate=50)
    assert gate.rate == 50
    for _ in range(20):
        gate.limiter.on_send()
    time.sleep(0.05)
    gate.limiter.on_drop(time.monotonic())  # learned: 20 requests in ~0.05 s, far above 50/s
    assert gate.rate == 50
    gate.configure(PacingLimits())  # no cap: the learned rate starts afresh with the new limit
    assert gate.rate is None


def test_the_unloaded_latency_is_re_measured_with_few_in_flight() -> None:
    clock = FakeClock()
    limit = AdaptiveLimit(initial=8, max_limit=32, clock=clock)
    for _ in range(1 + FIRST_PROBE_ROUNDS):  # the warm-up round, then start-up's slow answers
        run_round(limit, clock, latency=0.09, in_flight=32)
    assert limit.unloaded == pytest.approx(0.09)
    assert limit.limit == PROBE_LIMIT  # re-measuring: only a few in flight
    for _ in range(MIN_ROUND_SAMPLES):  # answers to requests sent before the probe say nothing
        limit.on_sample(0.2, clock.now, 32)
    assert limit.limit == PROBE_LIMIT
    for _ in range(MIN_ROUND_SAMPLES):
        limit.on_sample(0.05, clock.now, PROBE_LIMIT)
    assert limit.unloaded == pytest.approx(0.05)
    assert limit.limit == 32  # the limit it had is back


def test_a_drop_ends_a_re_measurement() -> None:
    clock = FakeClock()
    limit = AdaptiveLimit(initial=8, max_limit=32, clock=clock)
    for _ in range(1 + FIRST_PROBE_ROUNDS):
        send(limit, clock, 8, 0.0)
        run_round(limit, clock, latency=0.09, in_flight=32)
    assert limit.limit == PROBE_LIMIT
    limit.on_drop(clock.now)  # the API's refusals pace the batch now, not its latency
    assert limit.limit > PROBE_LIMIT


def test_the_limit_shrinks_when_latency_rises() -> None:
    clock = FakeClock()
    limit = AdaptiveLimit(initial=8, max_limit=1000, clock=clock)
    for _ in range(3):
        run_round(limit, clock, latency=0.05)
    grown = limit.limit
    seen = []
    for _ in range(6):
        run_round(limit, clock, latency=0.4)  # the API queues our requests
        seen.append(limit.limit)
    peak = seen.index(max(seen))
    assert seen[peak:] == sorted(seen[peak:], reverse=True)  # once high, it only comes down
    assert seen[-1] < grown
    assert not limit.slow_start


def test_max_concurrency_caps_and_fixed_concurrency_never_moves() -> None:
    clock = FakeClock()
    capped = AdaptiveLimit(initial=4, max_limit=10, clock=clock)
    fixed = AdaptiveLimit(fixed=3, clock=clock)
    for _ in range(8):
        run_round(capped, clock, latency=0.3)
        run_round(fixed, clock, latency=0.3)
    fixed.on_drop(clock.now)
    assert capped.limit == 10
    assert fixed.limit == 3


def test_the_rate_spacer_hands_out_one_token_per_interval() -> None:
    clock = FakeClock()
    spacer = RateSpacer(10.0, clock=clock)
    times = [spacer.reserve() for _ in range(30)]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert times[0] == clock.now
    assert all(gap == pytest.approx(0.1) for gap in gaps)


def test_waiting_requests_are_released_by_a_stop() -> None:
    gate = PacingGate(concurrency=1)
    outcome: list[str] = []
    with gate.slot():  # the only place is taken
        def second() -> None:
            try:
                with gate.slot():
                    outcome.append("sent")
            except PacingStopped:
                outcome.append("stopped")

        thread = threading.Thread(target=second)
        thread.start()
        while not gate._queue:  # the second request is queued for a place
            time.sleep(0.01)
        gate.stop("cancelled")
        thread.join(5)
    assert outcome == ["stopped"]
    assert gate.in_flight == 0


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts requests on the wire at once, and when each POST left."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.in_flight = 0
        self.peak = 0
        self.post_times: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        if request.method == "POST":
            self.post_times.append(time.monotonic())
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()


def counted_client(sandbox: Sandbox, transport: CountingTransport) -> AsyncKycApiClient:
    return AsyncKycApiClient(sandbox.base_url, token=sandbox.token, transport=transport)


def test_max_concurrency_holds_at_the_wire() -> None:
    transport = CountingTransport()
    with Sandbox(latency_ms=100) as sandbox:

        async def run() -> Any:
            async with counted_client(sandbox, transport) as api:
                return await abatch_create(api, campaign_frame(60, prefix="MC"), campaign="max-conc",
                                           max_concurrency=5, progress=False)

        report = asyncio.run(run())
        assert sandbox.case_count() == 60
    assert report.summary()["created"] == 60
    assert 1 < transport.peak <= 5


def test_max_rate_holds_at_the_wire() -> None:
    transport = CountingTransport()
    rate = 20.0
    with Sandbox() as sandbox:

        async def run() -> Any:
            async with counted_client(sandbox, transport) as api:
                return await abatch_create(api, campaign_frame(30, prefix="MR"), campaign="max-rate",
                                           max_rate=rate, progress=False)

        report = asyncio.run(run())
    assert report.summary()["created"] == 30
    times = transport.post_times
    assert len(times) == 30
    burst = max(1.0, rate * RateSpacer.BURST_SECONDS)
    # Any k+1 consecutive requests span at least (k - burst + 1) / rate; the slack is for a
    # request that reaches the wire late on a busy machine (uncapped, 30 leave in ~0.1 s).
    for k in (15, 29):
        spans = [b - a for a, b in zip(times, times[k:])]
        assert min(spans) >= (k - burst + 1) / rate - 0.25


def test_the_limit_grows_under_a_slow_api_end_to_end() -> None:
    seen: list[BatchProgress] = []
    with Sandbox(latency_ms=200) as sandbox, sandbox.client() as api:
        report = batch_create(api, campaign_frame(300, prefix="SL"), campaign="slow",
                              concurrency=None, progress=False, on_progress=seen.append)
        assert sandbox.case_count() == 300
    assert report.summary()["created"] == 300
    assert max(p.in_flight for p in seen) > DEFAULT_INITIAL_LIMIT
    assert api.pacing.limits == PacingLimits()  # the batch's settings were given back


@pytest.mark.parametrize("concurrency", [32, None], ids=["fixed", "adaptive"])
def test_a_429_storm_loses_and_doubles_nothing(concurrency: int | None) -> None:
    rows = 80
    frame: pd.DataFrame = campaign_frame(rows, prefix="ST")
    with Sandbox(rate_limit=25) as sandbox, sandbox.client(retry_after_cap=0.5) as api:
        sandbox.faults.add("rate_limited", times=40, method="POST")
        report = batch_create(api, frame, campaign="storm", concurrency=concurrency, progress=False)
        posts = sandbox.request_count("POST", "/api/v1/kyc-cases")
        assert sandbox.case_count() == rows  # nothing lost, nothing created twice
    summary = report.summary()
    assert summary["created"] == rows
    assert posts > rows  # the storm really refused requests, and they were sent again
    assert report.results["kyc_case_id"].nunique() == rows


def test_batch_creator_shows_rate_and_requests_in_flight_and_passes_the_caps() -> None:
    from kyc_widgets.widgets.batch_creator import BatchCreator

    labels: list[str] = []
    with Sandbox(latency_ms=100) as sandbox, sandbox.client() as api:
        ui = BatchCreator(api, campaign_frame(60, prefix="BC"), campaign="widget-pace", max_concurrency=3)
        ui.progress_label.observe(lambda change: labels.append(change["new"]), "value")
        ui.create_button.click()
        assert ui.wait(60)
        assert sandbox.case_count() == 60
    assert ui.report is not None and ui.report.summary()["created"] == 60
    running = [label for label in labels if "in flight" in label]
    assert running, labels
    assert all(int(label.split(" in flight")[0].rsplit(" ", 1)[-1]) <= 3 for label in running)
    assert any("rows/s" in label for label in running)


def test_cli_takes_max_rate_and_max_concurrency(
    sandbox: Sandbox, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kyc_widgets.cli.main import main

    monkeypatch.setenv("KYC_API_TOKEN", sandbox.token)
    sheet = tmp_path / "sheet.csv"
    campaign_frame(6, prefix="CL").to_csv(sheet, index=False)
    base = ["batch", str(sheet), "--base-url", sandbox.base_url, "--campaign", "cli-pace", "--quiet"]
    assert main([*base, "--max-concurrency", "0"]) == 2
    assert "--max-concurrency must be at least 1" in capsys.readouterr().err
    assert main([*base, "--max-rate", "-5"]) == 2
    assert sandbox.case_count() == 0  # usage errors send nothing
    assert main([*base, "--max-rate", "50", "--max-concurrency", "2"]) == 0
    assert main([*base, "--concurrency", "3"]) == 0  # a fixed setting still works (re-run: exists)
    assert main([*base, "--concurrency", "auto"]) == 0  # adaptive on request
    assert sandbox.case_count() == 6
