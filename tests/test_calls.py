"""run_call (one way for a widget to call a sync or async client) and the shared support-details
HTML, against the real sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from factories import valid_case_input

from kyc_widgets.api.errors import KycApiError, NotFoundError
from kyc_widgets.models import CaseEnvelope
from kyc_widgets.widgets.api_status import STATUS_ROWS, ApiStatus
from kyc_widgets.widgets.calls import (
    NO_LOOP_MESSAGE,
    NoEventLoopError,
    UnexpectedFailure,
    run_call,
)
from kyc_widgets.widgets.case_creator import CaseCreator
from kyc_widgets.widgets.case_workspace import CaseWorkspace
from kyc_widgets.widgets.html import support_details_html

Answers = list[tuple[Any, KycApiError | None]]


def test_a_sync_client_answers_before_run_call_returns(sandbox: Any) -> None:
    client = sandbox.client()
    answers: Answers = []
    task = run_call(client, lambda: client.get_case("NO-SUCH-1"), lambda r, e: answers.append((r, e)))
    assert task is None
    [(result, error)] = answers
    assert result is None and isinstance(error, NotFoundError) and error.status == 404


def test_a_non_api_failure_arrives_as_a_kyc_api_error_naming_only_its_type(sandbox: Any) -> None:
    def broken() -> CaseEnvelope:
        raise RuntimeError("text that may hold data")

    answers: Answers = []
    run_call(sandbox.client(), broken, lambda r, e: answers.append((r, e)))
    [(_result, error)] = answers
    assert isinstance(error, UnexpectedFailure) and error.cause_type == "RuntimeError"
    assert "may hold data" not in error.message + error.support_details()


@pytest.mark.anyio
async def test_an_async_client_is_awaited_in_a_task_on_the_running_loop(sandbox: Any) -> None:
    client = sandbox.async_client()
    try:
        created = await client.create_case(
            valid_case_input(current_status="DRAFT", kyc_case_id="EXT-CALLS-1")
        )
        answers: Answers = []
        task = run_call(client, lambda: client.get_case("EXT-CALLS-1"),
                        lambda r, e: answers.append((r, e)))
        assert task is not None and answers == []  # nothing ran inside the "handler"
        await task
        [(result, error)] = answers
        assert error is None and result.case.id == created.case.id
    finally:
        await client.aclose()


def test_an_async_client_without_a_loop_sends_nothing_and_says_so_the_same_way(sandbox: Any) -> None:
    client = sandbox.async_client()
    answers: Answers = []
    assert run_call(client, lambda: client.get_case("X"), lambda r, e: answers.append((r, e))) is None
    [(_result, error)] = answers
    assert isinstance(error, NoEventLoopError) and error.message == NO_LOOP_MESSAGE

    with pytest.raises(TypeError) as creator_error:
        CaseCreator(client)
    with pytest.raises(TypeError) as load_error:
        CaseWorkspace.load(client, "EXT-1")
    status = ApiStatus(client)
    assert NO_LOOP_MESSAGE in str(creator_error.value)
    assert NO_LOOP_MESSAGE in str(load_error.value)
    assert all(NO_LOOP_MESSAGE in status.rows[name] for name in STATUS_ROWS[1:])
    assert sandbox.request_count() == 0


def test_support_details_are_one_escaped_selectable_block() -> None:
    page = support_details_html("request_id: req_<b>1</b>\nstatus: 404")
    assert '<pre class="kyc-support"' in page and "user-select:text" in page
    assert "req_&lt;b&gt;1&lt;/b&gt;" in page and "<b>" not in page
    assert support_details_html("") == ""
    assert support_details_html("request_ids: req_1", collapsed=True).startswith("<details>")


def test_every_widget_draws_support_details_with_the_shared_block(sandbox: Any) -> None:
    client = sandbox.client(token="wrong-token")
    workspace = CaseWorkspace.load(client, "EXT-1")
    assert workspace.support_details
    assert support_details_html(workspace.support_details) in workspace.panel.value

    status = ApiStatus(sandbox.client())
    assert '<pre class="kyc-support"' in status.support.value

