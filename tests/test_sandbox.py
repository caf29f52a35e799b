"""The sandbox KYC API over real loopback HTTP, with raw httpx (no kyc_widgets client).

Every row of the error table in docs/api-contract.md, the request-id rule, the race-safe
duplicate, persistence across a restart, and each fault switch.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from factories import valid_case_input

from kyc_widgets.models import CREATE_STATUSES, KycCaseRecord
from kyc_widgets.sandbox import Sandbox

CASES = "/api/v1/kyc-cases"
REQUEST_ID = re.compile(r"^req_[0-9a-f]{24}$")


def http(sb: Sandbox, token: str | None = "demo", **kwargs: Any) -> httpx.Client:
    """A raw httpx client for the sandbox; ``token="demo"`` sends the demo token."""
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {sb.token if token == 'demo' else token}"
    return httpx.Client(base_url=sb.base_url, headers=headers, **kwargs)


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with http(sandbox) as client:
        yield client


def assert_envelope(
    response: httpx.Response, status: int, code: str, *, retryable: bool = False
) -> dict[str, Any]:
    """The contract envelope, with its request_id equal to X-Request-ID."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["http_status"] == status
    assert error["retryable"] is retryable
    assert isinstance(error["message"], str) and error["message"]
    assert REQUEST_ID.match(error["request_id"])
    assert response.headers["x-request-id"] == error["request_id"]
    assert isinstance(error["details"], dict)
    return error


# --------------------------------------------------------------------------- success


def test_create_returns_201_with_server_owned_fields(sandbox: Sandbox, api: httpx.Client) -> None:
    body = valid_case_input()
    response = api.post(CASES, json=body)
    assert response.status_code == 201, response.text
    assert REQUEST_ID.match(response.headers["x-request-id"])
    data = response.json()
    assert data["principal"] == "analyst@sandbox" == sandbox.principal
    case = data["case"]
    assert re.fullmatch(r"KYC-[0-9A-F]{12}", case["kyc_case_id"])
    assert uuid.UUID(case["id"])
    assert case["row_version"] == 1
    assert case["created_by"] == "analyst@sandbox"
    created = datetime.fromisoformat(case["created_at"].replace("Z", "+00:00"))
    assert created.utcoffset() == timezone.utc.utcoffset(None)
    assert case["updated_at"] == case["created_at"]
    for name, value in body.items():
        assert case[name] == value
    KycCaseRecord.model_validate(case)
    assert response.headers["location"] == f"{CASES}/{case['kyc_case_id']}"
    assert sandbox.case_count() == 1


def test_generated_ids_and_request_ids_are_unique(api: httpx.Client) -> None:
    answers = [api.post(CASES, json=valid_case_input()) for _ in range(5)]
    assert len({a.json()["case"]["kyc_case_id"] for a in answers}) == 5
    assert len({a.headers["x-request-id"] for a in answers}) == 5


def test_created_by_is_the_principal_of_the_token() -> None:
    with Sandbox(tokens={"tok-a": "alice@bank", "tok-b": "bob@bank"}) as sb:
        assert sb.token == "tok-a"
        with http(sb, token="tok-b") as api:
            response = api.post(CASES, json=valid_case_input())
        assert response.status_code == 201
        assert response.json()["principal"] == "bob@bank"
        assert response.json()["case"]["created_by"] == "bob@bank"


@pytest.mark.parametrize("odd_id", ["EXT/2024/0001", "A?b#c%d&e+f=g", "Ünïcödé-ID", "x" * 100])
def test_own_id_with_odd_characters_round_trips(api: httpx.Client, odd_id: str) -> None:
    created = api.post(CASES, json=valid_case_input(kyc_case_id=odd_id))
    assert created.status_code == 201, created.text
    assert created.json()["case"]["kyc_case_id"] == odd_id
    loaded = api.get(f"{CASES}/{quote(odd_id, safe='')}")
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["case"] == created.json()["case"]
    assert loaded.json()["principal"] == "analyst@sandbox"


def test_inputs_are_stripped_and_optional_blanks_become_null(api: httpx.Client) -> None:
    body = valid_case_input(
        legal_first_name="  Testa  ", assigned_analyst_email="  ", kyc_case_id=" E-1 "
    )
    case = api.post(CASES, json=body).json()["case"]
    assert case["legal_first_name"] == "Testa"
    assert case["assigned_analyst_email"] is None
    assert case["kyc_case_id"] == "E-1"


def test_content_type_with_charset_is_accepted(api: httpx.Client) -> None:
    response = api.post(
        CASES,
        content=json.dumps(valid_case_input()).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


# --------------------------------------------------------------------------- 400


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"legal_last_name": None}, "legal_last_name"),  # None = leave the key out
        ({"current_status": None}, "current_status"),  # required by the contract
        ({"user_type": "ROBOT"}, "user_type"),
        ({"current_status": "APPROVED"}, "current_status"),
        ({"current_status": "CLOSED"}, "current_status"),
        ({"assigned_analyst_email": "sam.analyst@@example"}, "assigned_analyst_email"),
        ({"agency_name": "   "}, "agency_name"),
        ({"programme_name": 42}, "programme_name"),
        ({"kyc_case_id": "has space"}, "kyc_case_id"),
        ({"kyc_case_id": "x" * 101}, "kyc_case_id"),
        ({"kyc_case_id": ".."}, "kyc_case_id"),  # a path segment: never addressable
        ({"kyc_case_id": "CASE\u200b1"}, "kyc_case_id"),  # an invisible character
        ({"kyc_case_id": "CASE\u202e1"}, "kyc_case_id"),  # a right-to-left override
        ({"favourite_colour": "teal"}, "favourite_colour"),
    ],
)
def test_each_invalid_field_is_a_400_naming_the_field(
    sandbox: Sandbox, api: httpx.Client, change: dict[str, Any], field: str
) -> None:
    body = valid_case_input()
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    error = assert_envelope(api.post(CASES, json=body), 400, "VALIDATION_FAILED")
    assert error["category"] == "validation"
    assert error["details"]["field"] == field
    assert [e["field"] for e in error["details"]["errors"]] == [field]
    assert all(e["message"] for e in error["details"]["errors"])
    assert sandbox.case_count() == 0


def test_every_bad_field_is_listed_and_field_is_the_first(api: httpx.Client) -> None:
    body = valid_case_input(user_type="ROBOT", current_status="APPROVED")
    del body["legal_first_name"]
    error = assert_envelope(api.post(CASES, json=body), 400, "VALIDATION_FAILED")
    fields = [e["field"] for e in error["details"]["errors"]]
    assert set(fields) == {"legal_first_name", "user_type", "current_status"}
    assert error["details"]["field"] == fields[0]


def test_final_status_message_lists_the_create_statuses(api: httpx.Client) -> None:
    error = assert_envelope(
        api.post(CASES, json=valid_case_input(current_status="REJECTED")), 400, "VALIDATION_FAILED"
    )
    message = error["details"]["errors"][0]["message"]
    assert all(status in message for status in CREATE_STATUSES)
    assert "REJECTED" not in message


def test_messages_never_echo_submitted_personal_data(api: httpx.Client) -> None:
    body = valid_case_input(
        assigned_analyst_email="Secret.Person@@leaky.example",
        legal_first_name="",
        kyc_case_id="PRIVATE\tID",
    )
    response = api.post(CASES, json=body)
    assert_envelope(response, 400, "VALIDATION_FAILED")
    for secret in (
        "Secret.Person",
        "leaky",
        "PRIVATE",
        body["legal_last_name"],
        body["user_internal_id"],
    ):
        assert secret not in response.text


@pytest.mark.parametrize(
    ("content", "content_type", "code"),
    [
        (b'{"legal_first_name": "Testa",', "application/json", "INVALID_JSON"),
        (b"\xff\xfe not utf-8", "application/json", "INVALID_JSON"),
        (b"", "application/json", "INVALID_JSON"),
        (b"[1, 2, 3]", "application/json", "VALIDATION_FAILED"),
        (b'"just a string"', "application/json", "VALIDATION_FAILED"),
        (b"legal_first_name=Testa", "application/x-www-form-urlencoded", "UNSUPPORTED_MEDIA_TYPE"),
        (b"{}", "text/plain", "UNSUPPORTED_MEDIA_TYPE"),
        (b"{}", None, "UNSUPPORTED_MEDIA_TYPE"),
        (b"[" * 50_000 + b"]" * 10_000, "application/json", "INVALID_JSON"),
    ],
)
def test_malformed_bodies_are_400_with_details(
    sandbox: Sandbox, api: httpx.Client, content: bytes, content_type: str | None, code: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    request = api.build_request("POST", CASES, content=content, headers=headers)
    if content_type is None:
        request.headers.pop("Content-Type", None)
    error = assert_envelope(api.send(request), 400, code)
    assert "field" in error["details"]
    assert error["details"]["errors"] and error["details"]["errors"][0]["message"]
    assert sandbox.case_count() == 0


def test_oversized_body_is_400(sandbox: Sandbox, api: httpx.Client) -> None:
    body = valid_case_input(assigned_team="T" * 100, padding="x" * 70_000)
    error = assert_envelope(api.post(CASES, json=body), 400, "PAYLOAD_TOO_LARGE")
    assert error["details"]["errors"]
    assert sandbox.case_count() == 0
    assert api.get("/healthz").status_code == 200  # the connection (or a new one) still works


# --------------------------------------------------------------------------- 401 / 404 / 405


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_missing_or_invalid_token_is_401(sandbox: Sandbox, token: str | None) -> None:
    with http(sandbox, token=token) as api:
        for response in (api.post(CASES, json=valid_case_input()), api.get(f"{CASES}/X")):
            error = assert_envelope(response, 401, "UNAUTHORIZED")
            assert error["category"] == "authentication"
            assert response.headers["www-authenticate"].startswith("Bearer")
            if token:
                assert token not in response.text
    assert sandbox.case_count() == 0


def test_non_bearer_scheme_is_401(sandbox: Sandbox) -> None:
    with http(sandbox, token=None) as api:
        response = api.get(f"{CASES}/X", headers={"Authorization": f"Basic {sandbox.token}"})
    assert_envelope(response, 401, "UNAUTHORIZED")


def test_unknown_case_is_404(api: httpx.Client) -> None:
    error = assert_envelope(api.get(f"{CASES}/NO-SUCH-CASE"), 404, "NOT_FOUND")
    assert "NO-SUCH-CASE" not in error["message"]


@pytest.mark.parametrize("path", ["/nowhere", "/api/v2/kyc-cases", "/api/v1/other"])
def test_unknown_route_is_404_envelope(api: httpx.Client, path: str) -> None:
    assert_envelope(api.get(path), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", CASES), ("PUT", CASES), ("POST", f"{CASES}/X"), ("POST", "/healthz")],
)
def test_wrong_method_is_405_envelope(api: httpx.Client, method: str, path: str) -> None:
    response = api.request(method, path, json={})
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"]


# --------------------------------------------------------------------------- 409


def test_duplicate_kyc_case_id_is_409_without_the_id_in_the_message(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    assert api.post(CASES, json=valid_case_input(kyc_case_id="EXT-DUP-1")).status_code == 201
    response = api.post(CASES, json=valid_case_input(kyc_case_id="EXT-DUP-1"))
    error = assert_envelope(response, 409, "KYC_CASE_ALREADY_EXISTS")
    assert error["details"]["field"] == "kyc_case_id"
    assert "EXT-DUP-1" not in error["message"]
    assert sandbox.case_count() == 1


def test_concurrent_duplicate_create_gives_exactly_one_201(sandbox: Sandbox) -> None:
    body = valid_case_input(kyc_case_id="EXT-RACE-1")
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def create() -> None:
        with http(sandbox) as api:
            api.get("/healthz")  # connect first so the POSTs leave together
            barrier.wait()
            status = api.post(CASES, json=body).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=create) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 19
    assert sandbox.case_count() == 1


# --------------------------------------------------------------------------- 429 / 503


def test_rate_limit_answers_429_with_retry_after() -> None:
    with Sandbox(rate_limit=2) as sb, http(sb) as api:
        answers = [api.post(CASES, json=valid_case_input()) for _ in range(4)]
        created = [a for a in answers if a.status_code == 201]
        limited = [a for a in answers if a.status_code == 429]
        assert len(created) >= 2 and limited
        error = assert_envelope(limited[0], 429, "RATE_LIMITED", retryable=True)
        assert error["category"] == "rate_limit"
        retry_after = limited[0].headers["retry-after"]
        assert retry_after.isdigit() and int(retry_after) >= 1
        assert sb.case_count() == len(created)
        assert api.get("/healthz").status_code == 200  # health is not rate-limited


def test_rate_limit_does_not_count_unauthenticated_requests() -> None:
    with Sandbox(rate_limit=1) as sb:
        with http(sb, token="wrong") as intruder:
            for _ in range(5):
                assert intruder.get(f"{CASES}/X").status_code == 401
        with http(sb) as api:
            assert api.get(f"{CASES}/X").status_code == 404


def test_fail_rate_one_answers_503_retryable_and_applies_nothing() -> None:
    with Sandbox(fail_rate=1.0) as sb, http(sb) as api:
        response = api.post(CASES, json=valid_case_input(kyc_case_id="EXT-503"))
        error = assert_envelope(response, 503, "SERVICE_UNAVAILABLE", retryable=True)
        assert error["category"] == "availability"
        assert sb.case_count() == 0
        assert_envelope(api.get(f"{CASES}/EXT-503"), 503, "SERVICE_UNAVAILABLE", retryable=True)
        assert api.get("/healthz").status_code == 200


def test_latency_delays_answers() -> None:
    """No timing assert: a read timeout shorter than the latency must fire."""
    with Sandbox(latency_ms=400) as sb:
        with (
            http(sb, timeout=httpx.Timeout(5.0, read=0.05)) as impatient,
            pytest.raises(httpx.ReadTimeout),
        ):
            impatient.get("/healthz")
        with http(sb, timeout=5.0) as patient:
            assert patient.get("/healthz").status_code == 200


# --------------------------------------------------------------------------- health, openapi


def test_refusals_come_before_the_latency() -> None:
    """The latency is the API's own work: a 401 or 429 from the gateway in front comes at once.

    No timing assert: a read timeout shorter than the latency fires for a request
    the API accepts, and does not for one the gateway refuses.
    """
    with Sandbox(latency_ms=2000, rate_limit=1) as sb:
        with http(sb, timeout=httpx.Timeout(5.0, read=0.5)) as impatient:
            with pytest.raises(httpx.ReadTimeout):
                impatient.get(f"{CASES}/EXT-ACCEPTED")  # takes the bucket's only token
            assert_envelope(impatient.get(f"{CASES}/EXT-REFUSED"), 429, "RATE_LIMITED", retryable=True)
        with http(sb, token="wrong", timeout=httpx.Timeout(5.0, read=0.5)) as stranger:
            assert stranger.get(f"{CASES}/EXT-STRANGER").status_code == 401


def test_health_and_readiness_are_public(sandbox: Sandbox) -> None:
    with http(sandbox, token=None) as api:
        health = api.get("/healthz")
        ready = api.get("/readyz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "release": sandbox.release}
    assert REQUEST_ID.match(health.headers["x-request-id"])
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["checks"] == [{"name": "database", "ok": True}]
    assert ready.headers["x-request-id"] != health.headers["x-request-id"]


def test_openapi_documents_the_contract(sandbox: Sandbox) -> None:
    with http(sandbox, token=None) as api:
        response = api.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    post = doc["paths"][CASES]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/KycCaseCreateInput"
    schema = doc["components"]["schemas"]["KycCaseCreateInput"]
    assert {"legal_first_name", "current_status", "kyc_case_id"} <= set(schema["properties"])
    assert "APPROVED" not in json.dumps(doc["components"]["schemas"]["CreateStatus"])
    assert {"201", "400", "401", "409", "429", "503"} <= set(post["responses"])
    assert f"{CASES}/{{kyc_case_id}}" in doc["paths"]


# --------------------------------------------------------------------------- persistence, lifecycle


def test_cases_survive_a_restart_with_the_same_db_file(tmp_path: Path) -> None:
    db = tmp_path / "cases.sqlite3"
    with Sandbox(db=db) as first, http(first) as api:
        created = api.post(CASES, json=valid_case_input(kyc_case_id="EXT-KEEP")).json()["case"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with Sandbox(db=db) as second, http(second) as api:
        assert second.case_count() == 1
        assert api.get(f"{CASES}/EXT-KEEP").json()["case"] == created
        assert_envelope(
            api.post(CASES, json=valid_case_input(kyc_case_id="EXT-KEEP")),
            409,
            "KYC_CASE_ALREADY_EXISTS",
        )


def test_temporary_db_is_removed_and_port_released_on_stop() -> None:
    threads_before = set(threading.enumerate())
    sb = Sandbox().start()
    db_path, port = sb.db_path, sb.port
    assert db_path is not None and db_path.exists()
    sb.stop()
    assert not db_path.exists()
    assert not sb.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert set(threading.enumerate()) <= threads_before


def test_sandbox_refuses_a_non_loopback_host() -> None:
    with pytest.raises(ValueError):
        Sandbox(host="0.0.0.0")


def test_repr_never_shows_the_token(sandbox: Sandbox) -> None:
    assert sandbox.token not in repr(sandbox)
    assert sandbox.token.startswith("sbx_")
    assert Sandbox().token != sandbox.token  # random per sandbox


# --------------------------------------------------------------------------- fault switches


def test_unavailable_fault_is_one_shot_and_applies_nothing(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    sandbox.faults.add("unavailable", method="POST", path=CASES)
    assert_envelope(
        api.post(CASES, json=valid_case_input()), 503, "SERVICE_UNAVAILABLE", retryable=True
    )
    assert sandbox.case_count() == 0
    assert api.post(CASES, json=valid_case_input()).status_code == 201


def test_rate_limited_fault_sends_the_given_retry_after(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    sandbox.faults.add("rate_limited", times=2, retry_after=7)
    for _ in range(2):
        response = api.get("/healthz")
        assert_envelope(response, 429, "RATE_LIMITED", retryable=True)
        assert response.headers["retry-after"] == "7"
    assert api.get("/healthz").status_code == 200


def test_html_502_fault_is_a_proxy_page(sandbox: Sandbox, api: httpx.Client) -> None:
    sandbox.faults.add("html_502", method="POST")
    response = api.post(CASES, json=valid_case_input())
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "<html>" in response.text
    assert REQUEST_ID.match(response.headers["x-request-id"])
    assert sandbox.case_count() == 0


def test_drop_fault_is_a_transport_error_and_applies_nothing(
    sandbox: Sandbox, api: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.faults.add("drop", method="POST", path=CASES)
    with caplog.at_level(logging.ERROR), pytest.raises(httpx.TransportError):
        api.post(CASES, json=valid_case_input(kyc_case_id="EXT-DROP"))
    assert sandbox.case_count() == 0
    assert sandbox.request_count("POST", CASES) == 1
    assert api.get(f"{CASES}/EXT-DROP").status_code == 404
    assert not [r for r in caplog.records if r.name.startswith("uvicorn")]


def test_drop_after_commit_applies_then_loses_the_answer(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    sandbox.faults.add("drop_after_commit", method="POST", path=CASES)
    with pytest.raises(httpx.TransportError):
        api.post(CASES, json=valid_case_input(kyc_case_id="EXT-LOST"))
    assert sandbox.case_count() == 1
    assert api.get(f"{CASES}/EXT-LOST").status_code == 200
    assert_envelope(
        api.post(CASES, json=valid_case_input(kyc_case_id="EXT-LOST")),
        409,
        "KYC_CASE_ALREADY_EXISTS",
    )


def test_delay_fault_delays_then_answers(sandbox: Sandbox, api: httpx.Client) -> None:
    sandbox.faults.add("delay", seconds=0.5, path="/healthz")
    with pytest.raises(httpx.ReadTimeout):
        api.get("/healthz", timeout=httpx.Timeout(5.0, read=0.05))
    assert api.get("/healthz").status_code == 200


def test_faults_match_method_and_path_and_can_be_cleared(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    sandbox.faults.add("unavailable", method="POST", path=CASES)
    assert api.get(f"{CASES}/X").status_code == 404  # GET does not match
    assert api.get("/healthz").status_code == 200
    sandbox.faults.clear()
    assert api.post(CASES, json=valid_case_input()).status_code == 201
    with pytest.raises(ValueError):
        sandbox.faults.add("explode")  # type: ignore[arg-type]


def test_request_count_counts_everything_received(sandbox: Sandbox, api: httpx.Client) -> None:
    api.post(CASES, json=valid_case_input(kyc_case_id="EXT-C"))
    api.get(f"{CASES}/EXT-C")
    api.get("/healthz")
    with http(sandbox, token=None) as anonymous:
        anonymous.post(CASES, json={})
    assert sandbox.request_count("POST", CASES) == 2
    assert sandbox.request_count(path=CASES) == 3  # prefix: the GET of one case too
    assert sandbox.request_count("GET") == 2
    assert sandbox.request_count() == 4
    sandbox.reset_counts()
    assert sandbox.request_count() == 0


# --------------------------------------------------------------------------- helpers for clients


def test_client_fixture_talks_to_the_sandbox(sandbox: Sandbox, client: Any) -> None:
    envelope = client.create_case(valid_case_input(kyc_case_id="EXT-CLIENT"))
    assert envelope.principal == sandbox.principal
    assert REQUEST_ID.match(envelope.request_id)
    assert client.get_case("EXT-CLIENT").case.id == envelope.case.id
    assert sandbox.token not in repr(client)


@pytest.mark.anyio
async def test_async_client_talks_to_the_sandbox(sandbox: Sandbox) -> None:
    async with sandbox.async_client() as api:
        envelope = await api.create_case(valid_case_input())
        loaded = await api.get_case(envelope.case.kyc_case_id)
    assert loaded.case == envelope.case
    assert sandbox.request_count("POST", CASES) == 1


def test_forbidden_fault_is_a_403_envelope(sandbox: Sandbox, api: httpx.Client) -> None:
    sandbox.faults.add("forbidden", method="POST")
    assert_envelope(api.post(CASES, json=valid_case_input()), 403, "FORBIDDEN")
    assert sandbox.case_count() == 0


def test_an_unexpected_server_error_is_an_envelope_and_logs_no_personal_data(
    sandbox: Sandbox, api: httpx.Client, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug in the server must not put request values into its logs (uvicorn's traceback)."""

    def broken_insert(payload: dict[str, Any], created_by: str) -> dict[str, Any]:
        raise ValueError(f"boom for {payload['legal_first_name']} {payload['legal_last_name']}")

    store = sandbox._store
    assert store is not None
    monkeypatch.setattr(store, "insert", broken_insert)
    caplog.set_level(logging.DEBUG)
    body = valid_case_input(legal_first_name="Wilhelmina", legal_last_name="Quarterfield")
    assert_envelope(api.post(CASES, json=body), 500, "INTERNAL_ERROR")
    logged = "\n".join(
        r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
        for r in caplog.records
    )
    assert "ValueError" in logged  # the failure is visible to whoever runs the sandbox ...
    assert "Wilhelmina" not in logged and "Quarterfield" not in logged  # ... its data is not


def test_an_unexpected_server_error_is_logged_once_with_its_request_id(
    sandbox: Sandbox, api: httpx.Client, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One bug, one log record: the app's 500 handler logs it, the gate does not again."""

    def broken_insert(payload: dict[str, Any], created_by: str) -> dict[str, Any]:
        raise ValueError(f"boom for {payload['assigned_analyst_email']}")

    store = sandbox._store
    assert store is not None
    monkeypatch.setattr(store, "insert", broken_insert)
    caplog.set_level(logging.DEBUG)
    body = valid_case_input(assigned_analyst_email="wilhelmina@example.org")
    response = api.post(CASES, json=body)
    error = assert_envelope(response, 500, "INTERNAL_ERROR")
    # Stopping waits for the request's task to end, so a log written after the answer
    # went out (the gate's, once Starlette re-raised) is in caplog too.
    sandbox.stop()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.levelname) for r in warnings] == [("kyc_widgets.sandbox", "ERROR")]
    message = warnings[0].getMessage()
    assert "ValueError" in message and error["request_id"] in message
    assert "wilhelmina" not in message and warnings[0].exc_info is None


@pytest.mark.anyio
async def test_the_gate_logs_and_answers_an_error_no_handler_caught(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An application without a 500 handler: the gate logs once and sends the envelope."""
    from kyc_widgets.sandbox.gate import GateSettings, SandboxGate

    async def broken_app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom for wilhelmina@example.org")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(dict(message))

    gate = SandboxGate(broken_app, GateSettings(tokens={"token": "principal"}))
    caplog.set_level(logging.DEBUG)
    scope = {"type": "http", "method": "GET", "path": "/healthz", "headers": []}
    await gate(scope, receive, send)
    assert sent[0]["status"] == 500
    error = json.loads(sent[1]["body"])["error"]
    assert error["code"] == "INTERNAL_ERROR"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "RuntimeError" in message and error["request_id"] in message
    assert "wilhelmina" not in message
