"""The sync and async clients run the same flows: one scenario, both clients, the same story.

Every call (a create with its 409 recovery, a read, ``/healthz``, ``/readyz``,
``diagnose``) is written once as a flow in ``kyc_widgets/api/client.py`` that
both clients drive. These tests hold them to it: each scenario runs once
through :class:`KycApiClient` and once through :class:`AsyncKycApiClient`,
each against a fresh sandbox armed the same way, and both runs must agree on
what the server received (requests by method and path, cases stored) and on
what the caller got back (the result's facts, or the error's kind and flags).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from factories import valid_case_input

from kyc_widgets import (
    AsyncKycApiClient,
    CaseEnvelope,
    Diagnosis,
    KycApiClient,
    KycApiError,
)
from kyc_widgets.sandbox import Sandbox

CASES = "/api/v1/kyc-cases"
FAST = {"backoff_base": 0.01, "backoff_max": 0.05, "max_retries": 3}
DEMO = "demo token"
"""Stands for the sandbox's own token (each run has a fresh sandbox, so a fresh token)."""


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One call on a freshly armed sandbox; ``existing`` cases are stored before it."""

    call: str
    args: tuple[Any, ...] = ()
    faults: tuple[dict[str, Any], ...] = ()
    existing: tuple[dict[str, Any], ...] = ()
    token: str | None = DEMO
    stopped: bool = False


def own(case_id: str, **overrides: Any) -> dict[str, Any]:
    return valid_case_input(kyc_case_id=case_id, **overrides)


TAKEN_FIRST = own("TAKEN-1", legal_last_name="First")
TAKEN_SECOND = own("TAKEN-1", legal_last_name="Second")
DUPLICATE = own("DUP-1")
LOST_POST = {"kind": "drop_after_commit", "method": "POST"}
READ = own("READ-1")

SCENARIOS = {
    "create": Scenario("create_case", (valid_case_input(),)),
    "create, 503 then retried": Scenario(
        "create_case", (valid_case_input(),), faults=({"kind": "unavailable", "method": "POST"},)
    ),
    "create, lost answer, own id recovered by loading it": Scenario(
        "create_case", (own("OWN-1"),), faults=(LOST_POST,)
    ),
    "create, lost answer, own id taken by someone else": Scenario(
        "create_case",
        (TAKEN_SECOND,),
        faults=({"kind": "drop", "method": "POST"},),
        existing=(TAKEN_FIRST,),
    ),
    "create, lost answer, the recovery load fails too": Scenario(
        "create_case",
        (own("OWN-2"),),
        faults=(LOST_POST, {"kind": "unavailable", "times": 10, "method": "GET"}),
    ),
    "create, lost answer without own id": Scenario(
        "create_case", (valid_case_input(),), faults=(LOST_POST,)
    ),
    "create, plain 409": Scenario("create_case", (DUPLICATE,), existing=(DUPLICATE,)),
    "create, 403": Scenario(
        "create_case", (valid_case_input(),), faults=({"kind": "forbidden", "method": "POST"},)
    ),
    "create, gate stopped": Scenario("create_case", (valid_case_input(),), stopped=True),
    "get, 502 then retried": Scenario(
        "get_case", ("READ-1",), faults=({"kind": "html_502", "method": "GET"},), existing=(READ,)
    ),
    "get, missing": Scenario("get_case", ("NO-SUCH-CASE",)),
    "health": Scenario("health"),
    "readiness": Scenario("readiness"),
    "readiness, 503 envelope": Scenario(
        "readiness", faults=({"kind": "unavailable", "path": "/readyz"},)
    ),
    "readiness, gate stopped": Scenario("readiness", stopped=True),
    "diagnose": Scenario("diagnose"),
    "diagnose, expired token": Scenario("diagnose", token="expired"),
    "diagnose, no token": Scenario("diagnose", token=None),
    "diagnose, /readyz dropped": Scenario(
        "diagnose", faults=({"kind": "drop", "path": "/readyz"},)
    ),
    "diagnose, /readyz is a proxy page": Scenario(
        "diagnose", faults=({"kind": "html_502", "path": "/readyz"},)
    ),
    "diagnose, probe forbidden": Scenario(
        "diagnose", faults=({"kind": "forbidden", "method": "GET", "path": CASES},)
    ),
    "diagnose, probe unavailable (not retried)": Scenario(
        "diagnose", faults=({"kind": "unavailable", "method": "GET", "path": CASES},)
    ),
    "diagnose, gate stopped": Scenario("diagnose", stopped=True),
}


def facts(result: object, own_ids: set[str | None]) -> dict[str, Any]:
    """What a caller can rely on, without what differs between two sandboxes (ids, times)."""
    if isinstance(result, KycApiError):
        return {"error": type(result).__name__, "status": result.status, "code": result.code,
                "outcome_unknown": result.outcome_unknown, "attempts": result.attempts,
                "request_id": bool(result.request_id)}
    if isinstance(result, CaseEnvelope):
        case = result.case
        return {"kyc_case_id": case.kyc_case_id if case.kyc_case_id in own_ids else "generated",
                "legal_last_name": case.legal_last_name, "row_version": case.row_version,
                "attempts": result.attempts, "recovered": result.recovered,
                "request_id": bool(result.request_id)}
    if isinstance(result, Diagnosis):
        found = dataclasses.asdict(result)
        found["base_url"] = found["base_url"].startswith("http://127.0.0.1:")
        found["request_ids"] = len(result.request_ids)
        return found
    assert hasattr(result, "model_dump"), result
    return dict(result.model_dump())


def run(
    scenario: Scenario, make: Callable[[Sandbox, str | None], Any]
) -> tuple[dict[str, Any], dict[str, int]]:
    """The scenario on a fresh sandbox: what the call returned or raised, what the server saw."""
    with Sandbox() as sandbox:
        with sandbox.client() as setup:
            for body in scenario.existing:
                setup.create_case(body)
        sandbox.reset_counts()
        for fault in scenario.faults:
            sandbox.faults.add(**fault)
        client = make(sandbox, sandbox.token if scenario.token == DEMO else scenario.token)
        if scenario.stopped:
            client.pacing.stop("cancelled")
        try:
            result: object = call(client, scenario)
        except KycApiError as exc:
            result = exc
        seen = {
            "POST cases": sandbox.request_count("POST", CASES),
            "GET cases": sandbox.request_count("GET", CASES + "/"),
            "GET /readyz": sandbox.request_count("GET", "/readyz"),
            "GET /healthz": sandbox.request_count("GET", "/healthz"),
            "stored": sandbox.case_count(),
        }
        own_ids = {a if isinstance(a, str) else a.get("kyc_case_id") for a in scenario.args}
        return facts(result, own_ids), seen


def call(client: KycApiClient | AsyncKycApiClient, scenario: Scenario) -> object:
    if isinstance(client, KycApiClient):
        with client:
            return getattr(client, scenario.call)(*scenario.args)

    async def main() -> object:
        async with client:
            return await getattr(client, scenario.call)(*scenario.args)

    return asyncio.run(main())


def sync_client(sandbox: Sandbox, token: str | None) -> KycApiClient:
    return KycApiClient(sandbox.base_url, token, **FAST)


def async_client(sandbox: Sandbox, token: str | None) -> AsyncKycApiClient:
    return AsyncKycApiClient(sandbox.base_url, token, **FAST)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_both_clients_tell_the_same_story(name: str) -> None:
    scenario = SCENARIOS[name]
    by_sync = run(scenario, sync_client)
    by_async = run(scenario, async_client)
    assert by_sync == by_async


def test_the_scenarios_reach_the_paths_they_are_about() -> None:
    """Guard the comparison above from agreeing on nothing: spot-check what a sync run saw."""
    scenario = SCENARIOS["create, lost answer, own id recovered by loading it"]
    recovered, seen = run(scenario, sync_client)
    assert recovered["kyc_case_id"] == "OWN-1" and recovered["recovered"]
    assert (seen["POST cases"], seen["GET cases"], seen["stored"]) == (2, 1, 1)

    failed, seen = run(SCENARIOS["create, lost answer, the recovery load fails too"], sync_client)
    assert (failed["error"], failed["outcome_unknown"]) == ("ConflictError", True)
    assert (seen["POST cases"], seen["GET cases"], seen["stored"]) == (2, 4, 1)

    taken, _ = run(SCENARIOS["create, lost answer, own id taken by someone else"], sync_client)
    assert (taken["error"], taken["outcome_unknown"]) == ("ConflictError", False)

    stopped, seen = run(SCENARIOS["diagnose, gate stopped"], sync_client)
    assert stopped["reachable"] is False and stopped["reach_error"]
    assert sum(seen.values()) == 0

    probed, seen = run(SCENARIOS["diagnose, probe unavailable (not retried)"], sync_client)
    assert probed["authenticated"] is None and seen["GET cases"] == 1
