"""The pacing gate: a 429 closes it for every request of a client and its twins; a stop ends waits.

No timed asserts: a wait that is not cut short would hit the 30 s Retry-After,
which the test timeouts turn into a failure.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from factories import valid_case_input

from kyc_widgets import PacingGate, RateLimitedError, RequestStoppedError
from kyc_widgets.api.pacing import PacingStopped
from kyc_widgets.batch.stop import StopSignal
from kyc_widgets.sandbox import Sandbox

POSTS = {"method": "POST", "path": "/api/v1/kyc-cases"}


def test_retry_after_closes_the_gate_up_to_the_cap() -> None:
    gate = PacingGate(retry_after_cap=5.0)
    assert gate.remaining() == 0
    assert gate.rate_limited(2.0) == 2.0
    assert 0 < gate.remaining() <= 2.0
    assert gate.rate_limited(3600.0) == 5.0  # capped
    assert 2.0 < gate.remaining() <= 5.0


def test_a_429_without_retry_after_backs_off_more_each_round_but_once_per_round() -> None:
    gate = PacingGate(backoff_base=0.01, backoff_max=1.0)
    first = gate.rate_limited(None)
    assert first > 0
    # Refused while the gate is closed: sent before this pause, so the same round.
    assert gate.rate_limited(None) <= first
    gate.wait()
    second = gate.rate_limited(None)
    assert second >= first  # 0.02 s + jitter after 0.01 s + jitter (jitter is at most 0.01 s)
    gate.wait()
    gate.passed()  # a request got through: the next 429 starts afresh
    assert gate.rate_limited(None) <= 0.02


@pytest.mark.timeout(20)
def test_stop_from_another_thread_wakes_a_sync_waiter() -> None:
    gate = PacingGate()
    gate.rate_limited(30.0)
    outcome: list[BaseException | None] = []

    def wait() -> None:
        try:
            gate.wait()
            outcome.append(None)
        except PacingStopped as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    gate.stop("cancelled")
    waiter.join(timeout=15)
    assert not waiter.is_alive()
    assert isinstance(outcome[0], PacingStopped) and outcome[0].reason == "cancelled"


@pytest.mark.timeout(20)
@pytest.mark.anyio
async def test_stop_from_another_thread_wakes_an_async_waiter() -> None:
    gate = PacingGate()
    gate.rate_limited(30.0)
    stopper = threading.Timer(0.1, gate.stop, args=("authentication",))
    stopper.start()
    with pytest.raises(PacingStopped, match="authentication"):
        async with gate.slot():
            pytest.fail("nothing may be sent through a stopped gate")
    stopper.join()


@pytest.mark.anyio
async def test_a_stopped_gate_refuses_until_resumed() -> None:
    gate = PacingGate()
    assert gate.stop("cancelled") is True
    assert gate.stop("other") is False and gate.stop_reason == "cancelled"  # the first reason wins
    with pytest.raises(PacingStopped):
        gate.wait()
    with pytest.raises(PacingStopped):
        await gate.await_open()
    gate.resume()
    with gate.slot():
        pass
    async with gate.slot():
        pass
    assert not gate.stopped


def test_a_wait_that_must_go_out_ignores_the_stop() -> None:
    """The re-send that confirms a create whose answer was lost is not stoppable."""
    gate = PacingGate()
    gate.rate_limited(0.05)
    gate.stop("cancelled")
    gate.wait(stoppable=False)  # returns once open, no PacingStopped


def test_a_stop_signal_stops_the_gate_and_releases_only_its_own_stop() -> None:
    gate = PacingGate()
    cancel = threading.Event()
    signal = StopSignal(cancel, gate=gate)
    assert not signal.is_set() and not gate.stopped
    cancel.set()
    assert signal.is_set() and signal.reason == "cancelled" and gate.stopped
    signal.release()
    assert not gate.stopped

    gate.stop("by its owner")
    other = StopSignal(gate=gate)
    other.set("authentication")
    other.release()
    assert gate.stopped  # not this signal's stop to undo


@pytest.mark.timeout(20)  # without a prompt stop the twin would wait the full 30 s Retry-After
def test_a_429_pauses_the_twins_and_a_stop_ends_their_wait_sending_nothing(sandbox: Sandbox) -> None:
    sandbox.faults.add("rate_limited", times=10, method="POST", retry_after=30)
    client = sandbox.client(max_retries=0)
    twin = client.async_twin()
    assert twin.pacing is client.pacing

    with pytest.raises(RateLimitedError):
        client.create_case(valid_case_input(kyc_case_id="PACE-1"))
    assert client.pacing.remaining() > 10  # the 429 closed the shared gate

    async def twin_creates() -> RequestStoppedError:
        stopper = threading.Timer(0.2, client.pacing.stop, args=("cancelled",))
        stopper.start()
        try:
            with pytest.raises(RequestStoppedError) as info:
                await twin.create_case(valid_case_input(kyc_case_id="PACE-2"))
        finally:
            stopper.join()
            await twin.aclose()
        return info.value

    stopped = asyncio.run(twin_creates())
    assert stopped.reason == "cancelled" and stopped.last_error is None and stopped.attempts == 0
    assert not stopped.outcome_unknown
    assert sandbox.request_count(**POSTS) == 1  # the twin sent nothing while the gate was closed
    client.close()


@pytest.mark.timeout(20)
def test_a_stop_ends_the_clients_own_429_retry_and_keeps_the_429(sandbox: Sandbox) -> None:
    sandbox.faults.add("rate_limited", times=10, method="POST", retry_after=30)
    client = sandbox.client()
    stopper = threading.Timer(0.2, client.pacing.stop, args=("cancelled",))
    stopper.start()
    with pytest.raises(RequestStoppedError) as info:
        client.create_case(valid_case_input(kyc_case_id="PACE-3"))
    stopper.join()
    err = info.value
    assert isinstance(err.last_error, RateLimitedError) and err.last_error.status == 429
    assert err.request_id == err.last_error.request_id and err.attempts == 1
    assert sandbox.request_count(**POSTS) == 1 and sandbox.case_count() == 0

    client.pacing.resume()
    client.pacing.close_for(0)  # nothing to shorten: the 30 s pause still holds
    assert client.pacing.remaining() > 10
    client.close()
