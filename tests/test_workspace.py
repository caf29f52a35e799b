"""CaseWorkspace against the real sandbox: grouped read-only panel, HTML without a frontend,
missing and error states instead of tracebacks, escaping of hostile values."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets
import pytest
from factories import lovelace_case_input

from kyc_widgets.api.client import KycApiClient
from kyc_widgets.models import CaseEnvelope
from kyc_widgets.widgets.case_workspace import WORKSPACE_GROUPS, CaseWorkspace

HOSTILE_NAME = '<script>alert("x")</script>'


def case_input(**overrides: Any) -> dict[str, Any]:
    """The known case, with its analyst (the workspace shows the analyst's group)."""
    analyst = {"assigned_analyst_name": "Grace Hopper", "assigned_analyst_email": "grace@example.com"}
    return lovelace_case_input(**{**analyst, **overrides})


def walk(widget: widgets.Widget) -> Iterator[widgets.Widget]:
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from walk(child)


def cell(page: str, field: str) -> str:
    """The text of the first ``<td data-field=...>`` for ``field``."""
    match = re.search(rf'<td data-field="{field}">(.*?)</td>', page)
    assert match, f"no cell for {field}"
    return match.group(1)


def test_loaded_case_shows_every_group_with_model_titles(sandbox: Any) -> None:
    client = sandbox.client()
    created = client.create_case(case_input(kyc_case_id="EXT-WS-1"))

    ws = CaseWorkspace.load(client, "EXT-WS-1")

    assert ws.state == "loaded"
    assert ws.kyc_case_id == "EXT-WS-1"
    assert ws.envelope is not None and ws.envelope.case.id == created.case.id
    page = ws.panel.value
    for group, _names in WORKSPACE_GROUPS:
        assert f"<legend>{html.escape(group)}</legend>" in page
    # labels are the models' titles, not hand-written ones
    for label in ("Legal first name", "User internal ID", "KYC case ID", "Internal ID",
                  "Row version", "Created by", "Created at", "Updated at", "Principal",
                  "Assigned analyst e-mail", "Country of onboarding"):
        assert f">{label}</th>" in page
    assert cell(page, "legal_last_name") == "Lovelace"
    assert cell(page, "user_internal_id") == "000123"
    assert cell(page, "row_version") == "1"
    assert cell(page, "created_by") == sandbox.principal
    assert cell(page, "principal") == sandbox.principal
    assert cell(page, "id") == created.case.id
    assert cell(page, "assigned_analyst_email") == "grace@example.com"


def test_workspace_has_no_input_widgets(sandbox: Any) -> None:
    client = sandbox.client()
    envelope = client.create_case(case_input())
    ws = CaseWorkspace(envelope)
    kinds = {type(w) for w in walk(ws)}
    assert kinds <= {CaseWorkspace, widgets.HTML}, kinds
    assert "<input" not in ws.to_html() and "<textarea" not in ws.to_html()


def test_optional_fields_left_empty_read_not_set(sandbox: Any) -> None:
    envelope = sandbox.client().create_case(
        case_input(assigned_analyst_name=None, assigned_analyst_email=None)
    )
    page = CaseWorkspace(envelope).to_html()
    assert "not set" in cell(page, "assigned_analyst_name")
    assert "not set" in cell(page, "assigned_analyst_email")


def test_repr_html_renders_without_frontend_and_exposes_the_case_id(sandbox: Any) -> None:
    envelope = sandbox.client().create_case(case_input())
    case_id = envelope.case.kyc_case_id
    ws = CaseWorkspace(envelope)
    page = ws._repr_html_()
    assert page == ws.to_html()
    assert f'data-kyc-case-id="{case_id}"' in page
    assert f'<span class="kyc-case-id" data-testid="kyc-case-id">{case_id}</span>' in page
    assert "<h3>Case <span" in page


def test_hostile_values_are_escaped(sandbox: Any) -> None:
    envelope = sandbox.client().create_case(
        case_input(legal_first_name=HOSTILE_NAME, assigned_team="A & B <team>")
    )
    page = CaseWorkspace(envelope)._repr_html_()
    assert "<script>alert" not in page
    assert cell(page, "legal_first_name") == html.escape(HOSTILE_NAME)
    assert cell(page, "assigned_team") == "A &amp; B &lt;team&gt;"
    # names are case data: never in the repr
    assert "Ada" not in repr(CaseWorkspace(envelope))


def test_missing_case_shows_missing_state_with_request_id(sandbox: Any) -> None:
    ws = CaseWorkspace.load(sandbox.client(), "NO-SUCH-CASE")
    assert ws.state == "missing"
    assert ws.envelope is None
    page = ws.panel.value
    assert "No case with this ID was found" in page
    assert "NO-SUCH-CASE" in page
    assert ws.support_details is not None
    assert re.search(r"request_id: req_\w+", ws.support_details)
    assert "status: 404" in ws.support_details
    assert html.escape(ws.support_details) in page
    assert 'data-state="missing"' in ws._repr_html_()


def test_unreachable_api_gives_error_state_not_traceback(closed_port_url: str) -> None:
    client = KycApiClient(closed_port_url, token="t", max_retries=0)
    ws = CaseWorkspace.load(client, "EXT-1")
    assert ws.state == "error"
    assert ws.message is not None and ws.message.startswith("Error:")
    assert "request_id: none received" in (ws.support_details or "")
    assert "status: no response" in (ws.support_details or "")


def test_wrong_token_gives_error_state_with_sign_in_message(sandbox: Any) -> None:
    ws = CaseWorkspace.load(sandbox.client(token="wrong-token"), "EXT-1")
    assert ws.state == "error"
    assert "status: 401" in (ws.support_details or "")
    assert "wrong-token" not in ws.to_html()


def test_workspace_needs_a_case_or_an_error() -> None:
    with pytest.raises(ValueError):
        CaseWorkspace()


def test_coded_values_read_as_words_known_or_not(sandbox: Any) -> None:
    envelope = sandbox.client().create_case(
        case_input(relationship_type="KYC_REFRESH", user_type="BENEFICIAL_OWNER",
                   current_status="PENDING_REVIEW", case_priority="URGENT")
    )
    page = CaseWorkspace(envelope).to_html()
    assert cell(page, "relationship_type") == "KYC refresh"
    assert cell(page, "user_type") == "Beneficial owner"
    assert cell(page, "current_status") == "Pending review"
    assert cell(page, "case_priority") == "Urgent"
    for raw in ("KYC_REFRESH", "BENEFICIAL_OWNER", "PENDING_REVIEW", "URGENT"):
        assert raw not in page
    # Free text is shown as typed, never re-worded.
    assert cell(page, "user_internal_id") == "000123"
    assert cell(page, "country_of_onboarding") == "GB"

    # The record side may hold values the create side does not know (a final status,
    # a newer API's user type): still words, never a raw constant or a failure.
    data = envelope.model_dump(mode="json")
    data["case"].update(current_status="APPROVED", user_type="JOINT_ACCOUNT_HOLDER")
    later = CaseWorkspace(CaseEnvelope.model_validate(data))
    assert later.values["current_status"] == "Approved"
    assert later.values["user_type"] == "Joint account holder"


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_load_with_no_id_shows_the_missing_state_without_asking(sandbox: Any, blank: Any) -> None:
    ws = CaseWorkspace.load(sandbox.client(), blank)
    assert ws.state == "missing" and ws.envelope is None
    assert ws.message == "No case ID was given"
    assert 'data-state="missing"' in ws.to_html()
    assert sandbox.request_count() == 0


@pytest.mark.anyio
async def test_load_with_an_async_client_fills_itself_in(sandbox: Any) -> None:
    client = sandbox.async_client()
    try:
        await client.create_case(case_input(kyc_case_id="EXT-ASYNC-1"))
        ws = CaseWorkspace.load(client, "EXT-ASYNC-1")
        assert ws.state == "loading" and ws.pending is not None
        assert "Loading the case" in ws.panel.value
        await ws.pending
        assert ws.state == "loaded"
        assert cell(ws.panel.value, "legal_last_name") == "Lovelace"

        missing = CaseWorkspace.load(client, "NO-SUCH-ASYNC")
        assert missing.pending is not None
        await missing.pending
        assert missing.state == "missing"
        assert "status: 404" in (missing.support_details or "")

        direct = await CaseWorkspace.aload(client, "EXT-ASYNC-1")
        assert direct.state == "loaded" and direct.pending is None
    finally:
        await client.aclose()


def test_load_with_an_async_client_outside_a_loop_says_so(sandbox: Any) -> None:
    with pytest.raises(TypeError, match=r"async client.*aload"):
        CaseWorkspace.load(sandbox.async_client(), "EXT-1")
    assert sandbox.request_count() == 0
