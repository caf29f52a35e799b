"""ApiStatus against the real sandbox: each failure shows up in its own row, and the
token never appears in the widget, its rows or the saved widget state."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ipywidgets.embed import embed_data

from kyc_widgets.api.client import KycApiClient
from kyc_widgets.widgets.api_status import STATUS_ROWS, ApiStatus


def assert_token_hidden(status: ApiStatus, token: str) -> None:
    assert token not in repr(status)
    assert all(token not in text for text in status.rows.values())
    assert token not in status.support.value
    saved = json.dumps(embed_data(views=[status])["manager_state"])
    assert token not in saved


def test_good_sandbox_all_rows_ok(sandbox: Any) -> None:
    status = ApiStatus(sandbox.client())
    rows = status.rows
    assert list(rows) == list(STATUS_ROWS)
    assert rows["Configuration"] == f"base URL: {sandbox.base_url}; token: set"
    assert rows["Reachable"].startswith("OK")
    assert rows["Ready"].startswith("OK: ready")
    assert sandbox.release in rows["Ready"]
    assert rows["Authenticated"].startswith("OK")
    assert "request_ids: req_" in status.support.value
    assert status.check_button.disabled is False
    assert_token_hidden(status, sandbox.token)


def test_wrong_token_is_reachable_and_ready_but_not_authenticated(sandbox: Any) -> None:
    status = ApiStatus(sandbox.client(token="expired-token-123"))
    rows = status.rows
    assert rows["Configuration"].endswith("token: set")
    assert rows["Reachable"].startswith("OK")
    assert rows["Ready"].startswith("OK")
    assert rows["Authenticated"].startswith("Problem: the token was not accepted")
    assert_token_hidden(status, "expired-token-123")


def test_no_token_says_not_set(sandbox: Any) -> None:
    status = ApiStatus(KycApiClient(sandbox.base_url))
    assert status.rows["Configuration"].endswith("token: not set")
    assert status.rows["Reachable"].startswith("OK")
    assert status.rows["Authenticated"].startswith("Problem: no token is configured")


def test_wrong_url_is_not_reachable(closed_port_url: str) -> None:
    url = closed_port_url
    status = ApiStatus(KycApiClient(url, token="secret-token-xyz"))
    rows = status.rows
    assert rows["Configuration"] == f"base URL: {url}; token: set"
    assert rows["Reachable"].startswith("Problem: not reachable")
    assert rows["Ready"].startswith("unknown")
    assert not rows["Authenticated"].startswith("OK")
    assert_token_hidden(status, "secret-token-xyz")


def test_check_again_picks_up_recovery(sandbox: Any) -> None:
    sandbox.faults.add("unavailable", method="GET", path="/readyz")
    status = ApiStatus(sandbox.client())
    assert status.rows["Ready"].startswith("Problem: not ready")
    status.check_button.click()
    assert status.rows["Ready"].startswith("OK: ready")
    assert sandbox.request_count("GET", "/readyz") == 2


def test_a_failing_diagnose_never_raises() -> None:
    class Broken:
        base_url = "https://kyc.example.com"
        has_token = True

        def diagnose(self) -> Any:
            raise RuntimeError("boom with secret-ish text")

    status = ApiStatus(Broken())
    assert status.rows["Configuration"] == "base URL: https://kyc.example.com; token: set"
    for name in STATUS_ROWS[1:]:
        assert status.rows[name].startswith("unknown. Error: the check failed (RuntimeError)")
        assert "secret-ish" not in status.rows[name]
    assert status.check_button.disabled is False


@pytest.mark.anyio
async def test_async_client_is_checked_on_the_running_loop(sandbox: Any) -> None:
    client = sandbox.async_client()
    try:
        status = ApiStatus(client)
        assert status.pending is not None  # scheduled, not run inside the constructor
        assert status.rows["Reachable"] == "checking…"
        assert status.check_button.disabled
        status.check_button.click()  # a click while the check runs starts no second one
        await status.pending
        rows = status.rows
        assert rows["Configuration"] == f"base URL: {sandbox.base_url}; token: set"
        assert rows["Reachable"].startswith("OK")
        assert rows["Ready"].startswith("OK: ready")
        assert rows["Authenticated"].startswith("OK")
        assert not status.check_button.disabled
        assert sandbox.request_count("GET", "/readyz") == 1

        sandbox.faults.add("unavailable", method="GET", path="/readyz")
        status.check_button.click()
        assert status.pending is not None
        await status.pending
        assert status.rows["Ready"].startswith("Problem: not ready")
        assert_token_hidden(status, sandbox.token)
    finally:
        await client.aclose()


def test_async_client_without_a_running_loop_says_so(sandbox: Any) -> None:
    client = sandbox.async_client()
    status = ApiStatus(client)
    assert status.pending is None
    for name in STATUS_ROWS[1:]:
        assert "async client" in status.rows[name] and "KycApiClient" in status.rows[name]
    assert sandbox.request_count() == 0  # nothing was run in a throw-away loop
    assert not status.check_button.disabled
