"""CaseCreator driven as an analyst would: set input values, click the real buttons, read
what is visible. One test (at least) per state of the flow, against the real sandbox;
httpx.MockTransport only for a 403 (the sandbox has no forbidden path) and for a 400 the
real server would not produce for form-valid input (see test_server_400_...)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import ipywidgets as widgets
import pytest

from kyc_widgets.api.auth import TokenSource
from kyc_widgets.api.client import KycApiClient
from kyc_widgets.models import (
    SERVER_OWNED_FIELDS,
    CasePriority,
    CreateStatus,
    RelationshipType,
    UserType,
)
from kyc_widgets.sandbox.envelope import error_body
from kyc_widgets.widgets.case_creator import (
    EXTERNAL_ID_TITLE,
    RESEND_GUARD_SECONDS,
    CaseCreator,
    CreatorState,
)
from kyc_widgets.widgets.case_workspace import CaseWorkspace

CASES = "/api/v1/kyc-cases"

FORM_VALUES: dict[str, Any] = {
    "legal_first_name": "Ada",
    "legal_last_name": "Lovelace",
    "user_internal_id": "000123",
    "user_type": UserType.INDIVIDUAL,
    "relationship_type": RelationshipType.NEW_ONBOARDING,
    "case_priority": CasePriority.HIGH,
    "agency_name": "North Agency",
    "regulated_provider_name": "Example Bank plc",
    "programme_name": "Current account",
    "country_of_onboarding": "GB",
    "assigned_team": "Onboarding A",
    "assigned_analyst_email": "grace@example.com",
}

INPUT_TYPES = (
    widgets.Text,
    widgets.Textarea,
    widgets.Dropdown,
    widgets.Checkbox,
    widgets.IntText,
    widgets.FloatText,
    widgets.DatePicker,
    widgets.Password,
)


# --------------------------------------------------------------------------- helpers


def fill(creator: CaseCreator, **overrides: Any) -> None:
    """Type every required value into the visible inputs, like an analyst would."""
    for name, value in {**FORM_VALUES, **overrides}.items():
        creator.form.fields[name].value = "" if value is None else value


def visible(widget: widgets.Widget) -> bool:
    return widget.layout.display != "none"


def walk(widget: widgets.Widget) -> Iterator[widgets.Widget]:
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from walk(child)


def shown_tree(creator: CaseCreator) -> list[widgets.Widget]:
    return list(walk(creator))


def posts(sandbox: Any) -> int:
    return int(sandbox.request_count("POST", CASES))


def support_request_id(creator: CaseCreator) -> str | None:
    match = re.search(r"request_id: (req_\w+)", creator.support_text)
    return match.group(1) if match else None


def assert_error_state_shows_support(creator: CaseCreator, status: str) -> None:
    assert visible(creator.support_details)
    assert f"status: {status}" in creator.support_text
    assert "request_id: " in creator.support_text and "code: " in creator.support_text
    assert "<pre" in creator.support_details.value  # selectable text, not an image or a tooltip


class Clock:
    """A clock moved by hand: "the analyst read the message first", without sleeping."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = 2 * RESEND_GUARD_SECONDS) -> None:
        self.now += seconds


def with_clock(creator: CaseCreator) -> Clock:
    """Give a fresh creator a hand-moved clock (before its first click)."""
    clock = Clock()
    creator.clock = clock
    return clock


# --------------------------------------------------------------------------- draft


def test_draft_offers_create_statuses_and_hides_the_external_id(sandbox: Any) -> None:
    creator = CaseCreator(sandbox.client())
    assert creator.state == "draft" and creator.state is CreatorState.DRAFT

    status = creator.form.fields["current_status"]
    assert [value for _label, value in status.options] == list(CreateStatus)
    assert status.value is CreateStatus.DRAFT

    # the external id lives in a collapsed disclosure that explains it is optional
    disclosure = creator.external_id
    assert disclosure.button.description == EXTERNAL_ID_TITLE == "External case ID (optional)"
    assert not disclosure.expanded and not visible(disclosure.body)
    inside = list(walk(disclosure))
    assert creator.form.fields["kyc_case_id"] in inside
    assert creator.form.fields["kyc_case_id"] not in list(walk(creator.form))
    assert any("generates" in w.value for w in inside if isinstance(w, widgets.HTML))
    assert "kyc_case_id" in creator.form.values()

    # server-owned fields are not inputs
    for name in SERVER_OWNED_FIELDS:
        if name != "kyc_case_id":
            assert name not in creator.form.fields

    assert creator.form_area in creator.children
    assert visible(creator.submit_button) and not creator.submit_button.disabled
    assert creator.submit_button.description == "Create case"
    assert not visible(creator.progress)
    assert not visible(creator.message) and not visible(creator.support_details)
    assert not visible(creator.actions)


def test_values_prefill_the_form_and_open_the_disclosure(sandbox: Any) -> None:
    creator = CaseCreator(sandbox.client(), values={"assigned_team": "Team Z", "kyc_case_id": "EXT-9"})
    assert creator.form.fields["assigned_team"].value == "Team Z"
    assert creator.form.fields["kyc_case_id"].value == "EXT-9"
    assert creator.external_id.expanded


# --------------------------------------------------------------------------- invalid (client)


def test_client_invalid_sends_nothing_and_guides_each_field(sandbox: Any) -> None:
    creator = CaseCreator(sandbox.client())
    fill(creator, legal_last_name="", assigned_analyst_email="not-an-email")
    creator.submit_button.click()

    assert creator.state == "invalid"
    assert posts(sandbox) == 0
    assert creator.message_text.startswith("Error: Nothing was sent")
    errors = creator.form.field_errors
    assert set(errors) == {"legal_last_name", "assigned_analyst_email"}
    assert "required" in errors["legal_last_name"]
    assert "e-mail" in errors["assigned_analyst_email"]
    assert not creator.submit_button.disabled  # fix and submit again


def test_client_invalid_external_id_opens_the_disclosure(sandbox: Any) -> None:
    creator = CaseCreator(sandbox.client())
    fill(creator, kyc_case_id="has a space")
    creator.submit_button.click()
    assert creator.state == "invalid"
    assert "kyc_case_id" in creator.form.field_errors
    assert creator.external_id.expanded
    assert posts(sandbox) == 0


# --------------------------------------------------------------------------- saving


def test_two_rapid_clicks_create_exactly_one_case(sandbox: Any) -> None:
    creator = CaseCreator(sandbox.client())
    fill(creator)
    creator.submit_button.click()
    creator.submit_button.click()  # a click the frontend queued while the kernel was busy
    assert creator.state == "created"
    assert posts(sandbox) == 1
    assert sandbox.case_count() == 1


def test_click_while_saving_is_ignored_and_progress_is_visible(sandbox: Any) -> None:
    sandbox.faults.add("delay", method="POST", path=CASES, seconds=1.5)
    creator = CaseCreator(sandbox.client())
    fill(creator)
    first = threading.Thread(target=creator.submit_button.click)
    first.start()
    deadline = time.monotonic() + 30
    while creator.state != "saving" and time.monotonic() < deadline:
        time.sleep(0.01)

    assert creator.state == "saving"
    assert creator.submit_button.disabled
    assert creator.form.disabled
    assert visible(creator.progress) and creator.progress.bar_style == "info"
    assert creator.message_text.startswith("Saving:")
    creator.submit_button.click()  # arrives while the first handler is still running

    first.join(timeout=60)
    assert creator.state == "created"
    assert not visible(creator.progress)
    assert posts(sandbox) == 1
    assert sandbox.case_count() == 1


def test_click_arriving_after_the_handler_returned_is_ignored(sandbox: Any) -> None:
    """The queued-click case: the second click runs right after the first handler ends."""
    creator: CaseCreator

    def click_again(_envelope: Any) -> None:
        creator.submit_button.click()
        creator.retry_button.click()

    creator = CaseCreator(sandbox.client(), on_created=click_again)
    fill(creator)
    creator.submit_button.click()
    assert creator.state == "created"
    assert posts(sandbox) == 1
    assert sandbox.case_count() == 1


# --------------------------------------------------------------------------- never twice after a failure


def _fail_first_post(sandbox: Any, kind: str) -> tuple[CaseCreator, Clock]:
    """A creator whose first POST fails with ``kind``: 503, 409 or 401."""
    overrides: dict[str, Any] = {}
    client = sandbox.client(max_retries=0)
    if kind == "503":
        sandbox.faults.add("unavailable", method="POST", path=CASES)
    elif kind == "409":
        sandbox.client().create_case(
            {**{k: getattr(v, "value", v) for k, v in FORM_VALUES.items()},
             "current_status": "DRAFT", "kyc_case_id": "EXT-TWICE-1"}
        )
        sandbox.reset_counts()
        overrides["kyc_case_id"] = "EXT-TWICE-1"
    else:
        client = sandbox.client(token="expired-token", max_retries=0)
    creator = CaseCreator(client)
    clock = with_clock(creator)
    fill(creator, **overrides)
    return creator, clock


@pytest.mark.parametrize(
    ("kind", "state"), [("503", "retry"), ("409", "conflict"), ("401", "unauthorized")]
)
def test_a_click_queued_behind_a_failed_request_sends_nothing(
    sandbox: Any, kind: str, state: str
) -> None:
    creator, _clock = _fail_first_post(sandbox, kind)
    button = creator.submit_button
    button.click()
    assert creator.state == state
    shown_support = creator.support_text
    button.click()  # queued while the kernel was busy: runs right after the first handler

    assert posts(sandbox) == 1
    assert creator.state == state  # the failure stays on screen, with its support details
    assert creator.support_text == shown_support
    assert "Nothing was sent again" in creator.message_text
    if kind == "409":  # the API's field message was not wiped by the repeat
        assert "kyc_case_id" in creator.form.field_errors


def test_after_a_failure_a_changed_input_is_sent(sandbox: Any) -> None:
    creator, _clock = _fail_first_post(sandbox, "409")
    creator.submit_button.click()
    assert creator.state == "conflict"
    creator.form.fields["kyc_case_id"].value = "EXT-TWICE-2"  # the analyst changed something
    creator.submit_button.click()
    assert creator.state == "created"
    assert posts(sandbox) == 2


def test_double_click_on_retry_sends_one_request(sandbox: Any) -> None:
    sandbox.faults.add("unavailable", times=2, method="POST", path=CASES)
    creator, clock = _fail_first_post(sandbox, "503")  # three 503s queued in all
    creator.submit_button.click()
    assert creator.state == "retry" and posts(sandbox) == 1

    retry = creator.retry_button
    retry.click()  # too soon after the failure appeared: the second half of a double click
    assert posts(sandbox) == 1

    clock.advance()
    retry.click()  # deliberate: sends, fails again (503), is shown again
    retry.click()  # queued behind it
    assert creator.state == "retry"
    assert posts(sandbox) == 2

    clock.advance()
    retry.click()
    assert creator.state == "retry" and posts(sandbox) == 3  # the last queued 503
    clock.advance()
    creator.retry_button.click()
    assert creator.state == "created"
    assert posts(sandbox) == 4 and sandbox.case_count() == 1


def test_deliberate_press_after_a_token_refresh_creates_the_case(sandbox: Any) -> None:
    """The 401 case: the queued click and the press after a refresh carry the same input;
    only the token tells them apart (compared by fingerprint, never kept in clear)."""
    source = TokenSource("expired-token")
    creator = CaseCreator(sandbox.client(token=source, max_retries=0))
    fill(creator)
    creator.submit_button.click()
    creator.submit_button.click()  # queued
    assert creator.state == "unauthorized" and posts(sandbox) == 1

    creator.submit_button.click()  # pressed again without refreshing: says so, sends nothing
    assert posts(sandbox) == 1
    assert "Refresh the token first" in creator.message_text

    source.set(sandbox.token)  # refreshed in place (prompt_token / an SSO helper)
    creator.submit_button.click()
    assert creator.state == "created"
    assert posts(sandbox) == 2 and sandbox.case_count() == 1
    assert sandbox.token not in repr(vars(creator))


def test_forbidden_queued_click_sends_nothing_and_retry_resends(sandbox: Any) -> None:
    body = error_body(403, "KYC_FORBIDDEN", "Your account may not create cases.", "req_forb2")
    sent: list[httpx.Request] = []

    def forbid(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(403, json=body, headers={"X-Request-ID": "req_forb2"})

    creator = CaseCreator(KycApiClient(sandbox.base_url, token="t", transport=httpx.MockTransport(forbid)))
    clock = with_clock(creator)
    fill(creator)
    creator.submit_button.click()
    creator.submit_button.click()  # queued
    assert creator.state == "forbidden" and len(sent) == 1
    assert visible(creator.retry_button)
    creator.retry_button.click()  # double click
    assert len(sent) == 1

    clock.advance()  # access was granted meanwhile: an explicit Retry re-sends
    creator.retry_button.click()
    assert len(sent) == 2 and creator.state == "forbidden"


# --------------------------------------------------------------------------- created


def test_created_replaces_the_form_with_a_read_only_workspace(sandbox: Any) -> None:
    created: list[Any] = []
    creator = CaseCreator(sandbox.client(), on_created=created.append)
    fill(creator, legal_first_name="<script>alert(1)</script>")
    creator.submit_button.click()

    assert creator.state == "created"
    assert len(created) == 1
    envelope = created[0]
    case_id = envelope.case.kyc_case_id
    assert creator.envelope is envelope
    assert creator.message_text == f"Created: case {case_id} was created."

    ws = creator.workspace
    assert isinstance(ws, CaseWorkspace) and ws.state == "loaded"
    tree = shown_tree(creator)
    assert ws in tree
    assert creator.form not in tree and creator.submit_button not in tree
    # nothing editable in the workspace
    assert not [w for w in walk(ws) if isinstance(w, INPUT_TYPES)]
    page = ws.panel.value
    assert f'data-kyc-case-id="{case_id}"' in page
    assert f'<td data-field="created_by">{sandbox.principal}</td>' in page
    assert '<td data-field="row_version">1</td>' in page
    assert '<td data-field="legal_last_name">Lovelace</td>' in page
    assert "<script>alert" not in page
    # the server really has it
    assert sandbox.client().get_case(case_id).case.id == envelope.case.id
    assert visible(creator.create_another_button)
    assert not visible(creator.support_details)


def test_create_another_starts_a_fresh_draft(sandbox: Any) -> None:
    creator = CaseCreator(sandbox.client(), values={"assigned_team": "Team Z"})
    fill(creator, assigned_team="Team Y", kyc_case_id="EXT-FIRST")
    creator.submit_button.click()
    assert creator.state == "created"

    creator.create_another_button.click()
    assert creator.state == "draft"
    assert creator.workspace is None
    assert creator.form_area in creator.children
    assert creator.form.fields["legal_first_name"].value == ""
    # the campaign-like fields are kept from the last case, and the message says so
    assert creator.form.fields["assigned_team"].value == "Team Y"
    assert creator.form.fields["agency_name"].value == FORM_VALUES["agency_name"]
    assert "were kept from the last case" in creator.message_text
    assert visible(creator.clear_button)
    assert creator.form.fields["kyc_case_id"].value == ""  # never reuse an external id
    assert creator.form.fields["current_status"].value is CreateStatus.DRAFT
    assert not creator.submit_button.disabled and not creator.form.disabled
    assert not visible(creator.create_another_button)

    creator.clear_button.click()  # "Clear the form": back to the initial values
    assert creator.form.fields["assigned_team"].value == "Team Z"
    assert creator.form.fields["agency_name"].value == ""
    assert not visible(creator.message) and not visible(creator.clear_button)
    fill(creator, assigned_team="Team Y")

    fill(creator, legal_first_name="Grace")
    creator.submit_button.click()
    assert creator.state == "created"
    assert sandbox.case_count() == 2


# --------------------------------------------------------------------------- conflict


def _conflicting_creator(sandbox: Any) -> tuple[CaseCreator, Any]:
    existing = sandbox.client().create_case(
        {**{k: getattr(v, "value", v) for k, v in FORM_VALUES.items()},
         "current_status": "DRAFT", "legal_first_name": "Existing", "kyc_case_id": "EXT-DUP-1"}
    )
    creator = CaseCreator(sandbox.client())
    fill(creator, kyc_case_id="EXT-DUP-1", assigned_team="Team Q")
    creator.submit_button.click()
    return creator, existing


def test_conflict_names_the_id_and_open_existing_shows_that_case(sandbox: Any) -> None:
    creator, existing = _conflicting_creator(sandbox)

    assert creator.state == "conflict"
    assert creator.message_text.startswith("Conflict:")
    assert "EXT-DUP-1" in creator.message_text
    assert_error_state_shows_support(creator, "409")
    assert support_request_id(creator) is not None
    assert "code: KYC_CASE_ALREADY_EXISTS" in creator.support_text
    assert visible(creator.open_existing_button) and visible(creator.new_id_button)
    assert not visible(creator.retry_button)
    assert creator.form.fields["assigned_team"].value == "Team Q"  # no lost input
    assert sandbox.case_count() == 1

    creator.open_existing_button.click()
    assert creator.state == "opened"
    assert creator.message_text.startswith("Opened:")
    ws = creator.workspace
    assert ws is not None and ws.kyc_case_id == "EXT-DUP-1"
    assert ws in shown_tree(creator)
    assert '<td data-field="legal_first_name">Existing</td>' in ws.panel.value
    assert f'<td data-field="id">{existing.case.id}</td>' in ws.panel.value
    assert sandbox.case_count() == 1
    assert posts(sandbox) == 2  # the setup create and the refused one; opening is a GET
    # the draft is kept, beside the existing case, differences marked
    assert "Your draft beside the existing case" in creator.comparison.value
    assert "<strong>Differs</strong>" in creator.comparison.value  # the first name, the team
    assert creator.comparison in shown_tree(creator)
    creator.back_button.click()
    assert creator.state == "conflict" and creator.form.fields["assigned_team"].value == "Team Q"
    assert creator.form_area in shown_tree(creator) and not creator.comparison.value


def test_conflict_use_a_new_external_id_keeps_every_other_value(sandbox: Any) -> None:
    creator, _ = _conflicting_creator(sandbox)
    before = {k: v for k, v in creator.form.values().items() if k != "kyc_case_id"}

    creator.new_id_button.click()
    assert creator.state == "draft"
    assert creator.form.fields["kyc_case_id"].value == ""
    assert creator.external_id.expanded
    assert {k: v for k, v in creator.form.values().items() if k != "kyc_case_id"} == before
    assert not creator.form.field_errors
    assert not visible(creator.support_details)

    creator.form.fields["kyc_case_id"].value = "EXT-DUP-2"
    creator.submit_button.click()
    assert creator.state == "created"
    assert creator.workspace is not None and creator.workspace.kyc_case_id == "EXT-DUP-2"
    assert '<td data-field="assigned_team">Team Q</td>' in creator.workspace.panel.value
    assert sandbox.case_count() == 2


# --------------------------------------------------------------------------- invalid (server)


def test_server_400_is_mapped_to_fields_and_keeps_input(sandbox: Any) -> None:
    """The honest way to get a server-only 400 for input our own models accept.

    Our form and the sandbox validate with the same models, so the sandbox never rejects
    what the form accepts. The realistic cause of a server-only 400 is version skew (the
    API got stricter than this toolkit). We reproduce that by (1) asking the *real*
    sandbox for a genuine 400 (a status outside the create enum plus a field it does not
    know) and (2) replaying that exact answer, headers and body, to the creator's client.
    """
    body = {k: getattr(v, "value", v) for k, v in FORM_VALUES.items()}
    body.update(current_status="APPROVED", risk_score=7)
    real = httpx.post(
        sandbox.base_url + CASES, json=body, headers={"Authorization": f"Bearer {sandbox.token}"}
    )
    assert real.status_code == 400
    details = real.json()["error"]["details"]
    by_field = {e["field"]: e["message"] for e in details["errors"]}
    assert set(by_field) == {"current_status", "risk_score"}

    sent: list[httpx.Request] = []

    def replay(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(400, headers=dict(real.headers), content=real.content)

    client = KycApiClient(sandbox.base_url, token="t", transport=httpx.MockTransport(replay))
    creator = CaseCreator(client)
    fill(creator)
    before = creator.form.values()
    creator.submit_button.click()

    assert len(sent) == 1
    creator.submit_button.click()  # a queued click: the same input would get the same 400
    assert len(sent) == 1
    assert creator.state == "server_invalid"
    assert creator.message_text.startswith("Error: the KYC API rejected the input")
    assert creator.form.field_errors == {"current_status": by_field["current_status"]}
    # "risk_score" is not a form field: it goes to the form-level message
    assert by_field["risk_score"] in creator.form.summary_text()
    assert visible(creator.form.form_message)
    assert creator.form.values() == before
    assert_error_state_shows_support(creator, "400")
    assert support_request_id(creator) == real.headers["x-request-id"]
    assert not creator.submit_button.disabled


# --------------------------------------------------------------------------- 401 / 403


def test_unauthorized_then_success_after_token_refresh(sandbox: Any) -> None:
    client = sandbox.client(token="expired-token")
    creator = CaseCreator(client)
    fill(creator)
    creator.submit_button.click()

    assert creator.state == "unauthorized"
    assert creator.message_text.startswith("Sign-in needed:")
    # Works in a notebook and in the Voila app (where there is no cell to type into).
    assert "set_token" in creator.message_text and "prompt_token(client)" in creator.message_text
    assert "restart it with a fresh KYC_API_TOKEN" in creator.message_text
    assert creator.form.field_errors == {}  # never a data-entry error
    assert creator.form.summary_text() == ""
    assert_error_state_shows_support(creator, "401")
    assert "expired-token" not in creator.support_text + creator.message.value
    assert visible(creator.submit_button) and not creator.submit_button.disabled
    assert sandbox.case_count() == 0

    client.set_token(sandbox.token)
    creator.submit_button.click()
    assert creator.state == "created"
    assert sandbox.case_count() == 1


def test_forbidden_shows_a_permission_message(sandbox: Any) -> None:
    """The sandbox has no 403 path (every valid token may create), so a contract
    envelope built by the sandbox's own envelope module is served by MockTransport."""
    body = error_body(
        403, "KYC_FORBIDDEN", "Your account may not create cases.", "req_forbidden123456"
    )

    def forbid(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json=body, headers={"X-Request-ID": "req_forbidden123456"})

    creator = CaseCreator(KycApiClient(sandbox.base_url, token="t", transport=httpx.MockTransport(forbid)))
    fill(creator)
    creator.submit_button.click()
    assert creator.state == "forbidden"
    assert creator.message_text.startswith("Access restricted:")
    assert creator.form.field_errors == {}
    assert_error_state_shows_support(creator, "403")
    assert support_request_id(creator) == "req_forbidden123456"
    assert not creator.submit_button.disabled


# --------------------------------------------------------------------------- retry


def test_503_offers_retry_and_retry_succeeds(sandbox: Any) -> None:
    sandbox.faults.add("unavailable", method="POST", path=CASES)
    creator = CaseCreator(sandbox.client(max_retries=0))
    clock = with_clock(creator)
    fill(creator)
    creator.submit_button.click()

    assert creator.state == "retry"
    assert creator.message_text.startswith("Temporary problem:")
    assert "Nothing was stored" in creator.message_text
    assert_error_state_shows_support(creator, "503")
    assert support_request_id(creator) is not None
    assert visible(creator.retry_button) and creator.retry_button.description == "Retry"
    assert sandbox.case_count() == 0

    clock.advance()  # the analyst reads the message, then presses Retry
    creator.retry_button.click()
    assert creator.state == "created"
    assert sandbox.case_count() == 1
    assert posts(sandbox) == 2


def test_rate_limited_is_a_retry_state(sandbox: Any) -> None:
    sandbox.faults.add("rate_limited", method="POST", path=CASES, retry_after=0)
    creator = CaseCreator(sandbox.client(max_retries=0))
    clock = with_clock(creator)
    fill(creator)
    creator.submit_button.click()
    assert creator.state == "retry"
    assert_error_state_shows_support(creator, "429")
    clock.advance()
    creator.retry_button.click()
    assert creator.state == "created"


def test_unreachable_api_is_a_retry_state_with_no_request_id(closed_port_url: str) -> None:
    creator = CaseCreator(KycApiClient(closed_port_url, token="t", max_retries=0))
    fill(creator)
    creator.submit_button.click()
    assert creator.state == "retry"
    assert "request_id: none received" in creator.support_text
    assert "status: no response" in creator.support_text


# --------------------------------------------------------------------------- outcome unknown


def test_outcome_unknown_with_external_id_check_loads_it(sandbox: Any) -> None:
    sandbox.faults.add("drop_after_commit", method="POST", path=CASES)
    creator = CaseCreator(sandbox.client(max_retries=0))  # no automatic recovery
    fill(creator, kyc_case_id="EXT-LOST-1")
    creator.submit_button.click()

    assert creator.state == "outcome_unknown"
    assert "We could not confirm whether the case was created" in creator.message_text
    assert creator.message_text.startswith("Outcome unknown:")
    assert_error_state_shows_support(creator, "no response")
    assert visible(creator.check_button) and not visible(creator.retry_button)
    assert creator.submit_button.disabled
    assert sandbox.case_count() == 1  # it *was* stored

    creator.submit_button.click()  # a stray click never re-sends
    assert posts(sandbox) == 1

    creator.check_button.click()
    assert creator.state == "created"
    assert creator.workspace is not None and creator.workspace.kyc_case_id == "EXT-LOST-1"
    assert "did create it" in creator.message_text
    assert posts(sandbox) == 1 and sandbox.case_count() == 1


def test_outcome_unknown_check_finds_nothing_then_resend_is_safe(sandbox: Any) -> None:
    sandbox.faults.add("drop", method="POST", path=CASES)  # dropped before anything applied
    creator = CaseCreator(sandbox.client(max_retries=0))
    clock = with_clock(creator)
    fill(creator, kyc_case_id="EXT-LOST-2")
    creator.submit_button.click()
    assert creator.state == "outcome_unknown"

    creator.check_button.click()
    assert creator.state == "retry"
    assert "was not created" in creator.message_text
    clock.advance()
    creator.retry_button.click()
    assert creator.state == "created"
    assert sandbox.case_count() == 1


def test_outcome_unknown_without_external_id_never_resends_by_itself(sandbox: Any) -> None:
    sandbox.faults.add("drop_after_commit", method="POST", path=CASES)
    creator = CaseCreator(sandbox.client())  # default retries: a generated-id create is not retried
    fill(creator)
    creator.submit_button.click()

    assert creator.state == "outcome_unknown"
    assert "We could not confirm whether the case was created" in creator.message_text
    assert "duplicate" in creator.message_text
    assert not visible(creator.check_button)
    assert visible(creator.retry_button)
    assert creator.retry_button.description == "Send again anyway"
    creator.submit_button.click()
    assert posts(sandbox) == 1 and sandbox.case_count() == 1


# --------------------------------------------------------------------------- async client


@pytest.mark.anyio
async def test_async_client_is_scheduled_on_the_running_loop(sandbox: Any) -> None:
    client = sandbox.async_client()
    try:
        creator = CaseCreator(client)
        fill(creator)
        creator.submit_button.click()
        assert creator.state == "saving"  # the request runs on the loop, not in the handler
        creator.submit_button.click()
        assert creator._pending is not None
        await creator._pending
        assert creator.state == "created"
        assert posts(sandbox) == 1 and sandbox.case_count() == 1
    finally:
        await client.aclose()


def test_support_details_are_plain_key_value_lines(sandbox: Any) -> None:
    """Support details are plain lines a support ticket can take as is: ids, no case data."""
    creator, _ = _conflicting_creator(sandbox)
    lines = creator.support_text.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["request_id", "status", "code"]
    for personal in ("Ada", "Lovelace", "000123", "grace@example.com"):
        assert personal not in creator.support_text


# --------------------------------------------------------------------------- keyboard, focus, layout


def test_the_external_id_header_is_a_button_that_says_whether_it_is_open(sandbox: Any) -> None:
    creator = CaseCreator(sandbox.client())
    header = creator.external_id.button
    assert isinstance(header, widgets.Button)  # reached by Tab, operated by Space and Enter
    selector = next(s for s in creator.external_id.bridge.rules if s.endswith("-button"))
    assert creator.external_id.bridge.attributes(selector)["aria-expanded"] == "false"
    header.click()
    assert creator.external_id.expanded and visible(creator.external_id.body)
    assert creator.external_id.bridge.attributes(selector)["aria-expanded"] == "true"
    assert creator.form.fields["kyc_case_id"] in list(walk(creator.external_id.body))


def test_focus_moves_to_the_error_summary_then_to_the_new_case_heading(sandbox: Any) -> None:
    creator = CaseCreator(sandbox.client())
    assert creator.bridge.focused is None and creator.form.bridge.focused is None
    creator.submit_button.click()  # empty: refused
    assert creator.form.bridge.focused == f".{creator.form.scope}-summary"
    assert creator.form.aria("legal_last_name")["aria-invalid"] == "true"

    fill(creator)
    creator.submit_button.click()
    assert creator.state == "created"
    assert creator.bridge.focused == ".kyc-case-workspace-widget h3"
    assert creator.bridge in creator.children  # drawn in every state, the form is not

    creator.create_another_button.click()
    assert creator.form.bridge.focused == creator.form.input_selector("legal_first_name")


def test_the_conflict_sits_with_its_actions_between_the_id_field_and_create(sandbox: Any) -> None:
    creator, _ = _conflicting_creator(sandbox)
    assert creator.form.summary_text() == ""  # no "Please fix 1 field"
    assert creator.message_text.startswith("Conflict: this external case ID already exists")
    # order on screen: the form and the id field (with its error), the message with the two
    # actions right below it, and only then the Create button
    children = list(creator.children)
    assert children.index(creator.form_area) < children.index(creator.feedback)
    assert children.index(creator.feedback) < children.index(creator.submit_row)
    assert list(creator.feedback.children[:2]) == [creator.message, creator.actions]
    assert visible(creator.open_existing_button) and visible(creator.new_id_button)
    assert "kyc_case_id" in creator.form.field_errors and creator.external_id.expanded
    # focus on the message, the block with its actions scrolled into view
    assert creator.bridge.focus_request["selector"].endswith("-message")
    assert creator.bridge.focus_request["reveal"].endswith("-feedback")

    creator.new_id_button.click()
    assert creator.form.bridge.focused == creator.form.input_selector("kyc_case_id")
