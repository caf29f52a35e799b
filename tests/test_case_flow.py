"""CaseFlow without any widget: every state, every transition, the never-twice rule and the
re-send guard, with a hand-moved clock (no sleeps). The API's answers are the client's real
error classes, built the way the client builds them; tokens are real clients' fingerprints."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from factories import valid_case_input

from kyc_widgets.api.auth import TokenSource
from kyc_widgets.api.client import KycApiClient
from kyc_widgets.api.errors import (
    ApiConnectError,
    ApiTimeoutError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    KycApiError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    ServiceUnavailableError,
    UnexpectedResponseError,
)
from kyc_widgets.models import CaseEnvelope, KycCaseCreateInput
from kyc_widgets.widgets.calls import UnexpectedFailure
from kyc_widgets.widgets.case_flow import (
    ACTION_LABELS,
    FACTS,
    RESEND_GUARD_SECONDS,
    Action,
    CaseFlow,
    CreatorState,
    Step,
    differences,
)

S = CreatorState
A = Action


class Clock:
    """Seconds moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = 2 * RESEND_GUARD_SECONDS) -> None:
        self.now += seconds


def case(**overrides: Any) -> KycCaseCreateInput:
    return KycCaseCreateInput.model_validate(valid_case_input(current_status="DRAFT", **overrides))


def envelope(sent: KycCaseCreateInput, case_id: str | None = None) -> CaseEnvelope:
    now = datetime.now(UTC)
    record = {
        **sent.model_dump(mode="json"),
        "kyc_case_id": case_id or sent.kyc_case_id or "KYC-GEN-1",
        "id": "c_1", "row_version": 1, "created_by": "demo", "created_at": now, "updated_at": now,
    }
    return CaseEnvelope.model_validate({"principal": "demo", "case": record})


def flow_at(clock: Clock | None = None) -> CaseFlow:
    return CaseFlow(clock=clock or Clock())


def sending(flow: CaseFlow, model: KycCaseCreateInput, token: str | None = "fp-1") -> Step:
    step = flow.submit(model, token)
    assert step.send == model and flow.state is S.SAVING
    return step


def failed(error: KycApiError, *, external_id: str | None = "EXT-1") -> tuple[CaseFlow, Clock, Step]:
    clock = Clock()
    flow = flow_at(clock)
    model = case(kyc_case_id=external_id)
    sending(flow, model)
    return flow, clock, flow.create_finished(None, error)


# --------------------------------------------------------------------------- the table


def test_every_state_has_one_row_of_facts_with_a_word_title() -> None:
    assert set(FACTS) == set(CreatorState)
    for state, facts in FACTS.items():
        assert facts.title or state is S.DRAFT  # the status in words, not colour alone
        if facts.support:
            assert facts.alert  # a failure is announced at once
        if facts.refused:
            assert facts.not_resent  # a repeat press always says why nothing was sent
        if facts.token_decides:
            assert facts.refused
    assert set(ACTION_LABELS) == set(Action)


def test_the_flow_imports_no_widget_library() -> None:
    code = (
        "import sys, kyc_widgets.widgets.case_flow, kyc_widgets.widgets.calls;"
        "assert 'ipywidgets' not in sys.modules, 'ipywidgets was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_draft_shows_nothing_and_offers_no_action() -> None:
    flow = flow_at()
    assert flow.state is S.DRAFT and flow.state == "draft"
    assert flow.message_text == "" and flow.support_text == ""
    assert flow.actions == frozenset()
    assert flow.facts.form_editable and not flow.facts.busy
    assert "draft" in repr(flow)


# --------------------------------------------------------------------------- submit, invalid, saving


def test_invalid_input_sends_nothing_and_asks_the_form_to_show_its_messages() -> None:
    flow = flow_at()
    step = flow.submit(None, None)
    assert step.send is None and step.check_form
    assert flow.state is S.INVALID
    assert flow.message_text.startswith("Error: Nothing was sent")
    assert flow.facts.alert and flow.facts.form_editable
    sending(flow, case())  # fixed: sent


def test_saving_ignores_every_further_click() -> None:
    clock = Clock()
    flow = flow_at(clock)
    model = case()
    step = sending(flow, model)
    assert step.check_form  # the form clears the messages of the last try
    assert flow.message_text.startswith("Saving:")
    assert flow.facts.busy and not flow.facts.form_editable
    clock.advance(60)
    assert flow.submit(model, "fp-1") == Step(changed=False)
    assert flow.submit(case(), "fp-2").send is None
    assert not flow.retry(model, "fp-1").changed
    assert not flow.open_existing().changed and not flow.check_created().changed
    assert flow.state is S.SAVING and flow.sent == model


# --------------------------------------------------------------------------- created, create another


def test_created_then_create_another_forgets_the_last_request() -> None:
    flow = flow_at()
    model = case(kyc_case_id="EXT-OK")
    sending(flow, model)
    step = flow.create_finished(envelope(model), None)
    assert step.field_errors == ()  # messages under the fields are cleared
    assert flow.state is S.CREATED and flow.envelope is not None
    assert flow.message_text == "Created: case EXT-OK was created."
    assert flow.actions == {A.CREATE_ANOTHER}
    assert flow.facts.shows_case
    assert not flow.submit(model, "fp-1").changed  # a queued click never creates a second case
    assert not flow.retry(model, "fp-1").changed

    assert flow.create_another().changed
    assert flow.state is S.DRAFT and flow.envelope is None and flow.sent is None
    assert flow.message_text == ""
    assert not flow.create_another().changed  # only from a created/opened case


def test_a_recovered_create_says_how_it_was_confirmed() -> None:
    flow = flow_at()
    model = case(kyc_case_id="EXT-REC")
    sending(flow, model)
    answer = envelope(model)
    answer._recovered = True
    flow.create_finished(answer, None)
    assert flow.message_text.startswith("Created: case EXT-REC was created. The first answer")


def test_a_failing_on_created_callback_is_noted_in_the_message() -> None:
    flow = flow_at()
    model = case()
    sending(flow, model)
    flow.create_finished(envelope(model), None)
    flow.callback_failed("ValueError")
    assert flow.state is S.CREATED
    assert flow.message_text.endswith("(Note: the on_created callback failed: ValueError.)")


# --------------------------------------------------------------------------- each refusal


@pytest.mark.parametrize(
    ("error", "state", "title", "actions"),
    [
        (ConflictError(status=409, code="KYC_CASE_ALREADY_EXISTS", request_id="req_c"),
         S.CONFLICT, "Conflict:", {A.OPEN_EXISTING, A.NEW_EXTERNAL_ID}),
        (InvalidRequestError("Bad input.", status=400, request_id="req_i",
                             details={"errors": [{"field": "legal_last_name", "message": "Too long."}]}),
         S.SERVER_INVALID, "Error:", set()),
        (AuthenticationError(status=401, request_id="req_a"), S.UNAUTHORIZED, "Sign-in needed:", set()),
        (PermissionDeniedError(status=403, request_id="req_f"), S.FORBIDDEN, "Access restricted:",
         {A.RETRY}),
        (ServiceUnavailableError(status=503, retryable=True, request_id="req_u"), S.RETRY,
         "Temporary problem:", {A.RETRY}),
        (RateLimitedError(status=429, request_id="req_r"), S.RETRY, "Temporary problem:", {A.RETRY}),
        (ApiConnectError(), S.RETRY, "Temporary problem:", {A.RETRY}),
        (ServerError(status=500, request_id="req_s"), S.RETRY, "Temporary problem:", {A.RETRY}),
        (ApiTimeoutError(outcome_unknown=True), S.OUTCOME_UNKNOWN, "Outcome unknown:", {A.CHECK}),
        (UnexpectedResponseError(status=201), S.OUTCOME_UNKNOWN, "Outcome unknown:", {A.CHECK}),
        (UnexpectedFailure(RuntimeError("secret-ish")), S.OUTCOME_UNKNOWN, "Outcome unknown:",
         {A.CHECK}),
    ],
    ids=lambda v: v.value if isinstance(v, CreatorState) else None,
)
def test_each_failure_has_its_state_title_actions_and_support(
    error: KycApiError, state: CreatorState, title: str, actions: set[Action]
) -> None:
    flow, _clock, _step = failed(error)
    assert flow.state is state
    assert flow.message_text.startswith(title + " ")
    assert flow.actions == actions
    assert flow.support_text == error.support_details() and flow.support_text
    assert flow.last_error is error
    assert flow.facts.alert
    assert "secret-ish" not in flow.message_text + flow.support_text


def test_conflict_with_an_external_id_names_it_and_marks_the_field() -> None:
    flow, _clock, step = failed(ConflictError(status=409), external_id="EXT-DUP")
    assert "“EXT-DUP” already exists" in flow.message_text
    assert step.field_errors == (("kyc_case_id", "A case with this external case ID already exists."),)


def test_conflict_without_an_external_id_offers_retry_with_a_new_generated_id() -> None:
    flow, clock, step = failed(ConflictError("Generated ID taken.", status=409), external_id=None)
    assert step.field_errors == ()
    assert flow.message_text == (
        "Conflict: Generated ID taken. Press Retry to send it again with a new generated ID."
    )
    assert flow.actions == {A.RETRY}
    assert not flow.open_existing().changed and not flow.use_new_external_id().changed
    note = flow.submit(flow.sent, "fp-1")
    assert note.send is None and "once more with a new generated ID" in flow.message_text
    clock.advance()
    assert flow.retry(flow.sent, "fp-1").send is not None


def test_server_400_puts_the_api_messages_under_the_fields() -> None:
    details = {"errors": [{"field": "legal_last_name", "message": "Too long."},
                          {"field": "risk_score", "message": "Unknown field."}]}
    _flow, _clock, step = failed(InvalidRequestError("Bad input.", status=400, details=details))
    assert step.field_errors == (("legal_last_name", "Too long."), ("risk_score", "Unknown field."))
    _flow, _clock, step = failed(InvalidRequestError("Bad input.", status=400))
    assert step.field_errors == ((None, "Bad input."),)


def test_sign_in_and_permission_problems_are_never_field_errors() -> None:
    for error in (AuthenticationError(status=401), PermissionDeniedError(status=403)):
        flow, _clock, step = failed(error)
        assert step.field_errors == ()
        assert flow.facts.form_editable


def test_retry_message_says_when_nothing_was_stored() -> None:
    flow, _, _ = failed(ServiceUnavailableError("Down.", status=503, retryable=True))
    assert "Nothing was stored; retrying is safe." in flow.message_text
    flow, _, _ = failed(ServerError("Broken.", status=500))
    assert "Nothing was stored" not in flow.message_text
    assert flow.message_text.endswith("Press Retry when ready; your input is kept.")


def test_an_unreadable_2xx_or_a_non_api_failure_may_hide_a_case() -> None:
    for error in (UnexpectedResponseError(status=200), UnexpectedFailure(KeyError("x"))):
        flow, _, _ = failed(error)
        assert flow.state is S.OUTCOME_UNKNOWN and error.outcome_unknown
        assert "outcome: unknown" in flow.support_text
    flow, _, _ = failed(UnexpectedResponseError(status=None))
    assert flow.state is S.RETRY  # no answer body at all, and not a 2xx: nothing applied


# --------------------------------------------------------------------------- never twice


@pytest.mark.parametrize(
    "error",
    [ConflictError(status=409), InvalidRequestError(status=400), AuthenticationError(status=401),
     PermissionDeniedError(status=403), ServiceUnavailableError(status=503)],
    ids=["409", "400", "401", "403", "503"],
)
def test_an_unchanged_press_after_a_refusal_sends_nothing_and_says_why(error: KycApiError) -> None:
    flow, clock, _ = failed(error)
    state, text, support = flow.state, flow.text, flow.support_text
    clock.advance(60)  # however late: "Create case" never re-sends the same input and token
    step = flow.submit(flow.sent, "fp-1")
    assert step.changed and step.send is None and step.field_errors is None  # keep API messages
    assert (flow.state, flow.text, flow.support_text) == (state, text, support)
    assert "Nothing was sent again: " in flow.message_text
    assert flow.note is not None and flow.note.endswith(flow.facts.not_resent or "")

    changed = case(kyc_case_id="EXT-OTHER")  # the analyst changed something: sent
    assert flow.submit(changed, "fp-1").send == changed
    assert flow.state is S.SAVING and flow.note is None


@pytest.mark.parametrize(
    ("error", "token_decides"),
    [(AuthenticationError(status=401), True), (PermissionDeniedError(status=403), True),
     (ConflictError(status=409), False), (ServiceUnavailableError(status=503), False)],
    ids=["401", "403", "409", "503"],
)
def test_a_changed_token_counts_only_where_the_token_decided(
    error: KycApiError, token_decides: bool
) -> None:
    flow, _clock, _ = failed(error)
    step = flow.submit(flow.sent, "fp-refreshed")
    assert (step.send is not None) is token_decides


def test_the_token_is_compared_by_the_clients_fingerprint_never_kept() -> None:
    source = TokenSource("tok-expired-0001")
    client = KycApiClient("http://127.0.0.1:9", token=source)  # nothing is sent in this test
    flow = flow_at()
    model = case()
    flow.submit(model, client.token_fingerprint())
    flow.create_finished(None, AuthenticationError(status=401))

    assert flow.submit(model, client.token_fingerprint()).send is None
    source.set("tok-fresh-0002")
    assert flow.submit(model, client.token_fingerprint()).send == model
    kept = repr(vars(flow))
    assert "tok-expired-0001" not in kept and "tok-fresh-0002" not in kept


def test_retry_is_refused_until_the_guard_has_passed_and_a_note_does_not_restart_it() -> None:
    flow, clock, _ = failed(ServiceUnavailableError(status=503, retryable=True))
    assert not flow.retry(flow.sent, "fp-1").changed  # the second half of a double click
    clock.advance(RESEND_GUARD_SECONDS * 0.8)
    assert flow.submit(flow.sent, "fp-1").send is None  # a queued click: note only
    clock.advance(RESEND_GUARD_SECONDS * 0.2)
    step = flow.retry(flow.sent, "fp-1")
    assert step.send == flow.sent and flow.state is S.SAVING

    flow.create_finished(None, ServiceUnavailableError(status=503, retryable=True))
    assert not flow.retry(flow.sent, "fp-1").changed  # a new failure restarts the guard


@pytest.mark.parametrize(
    "error",
    [ConflictError(status=409), InvalidRequestError(status=400), AuthenticationError(status=401)],
    ids=["409-with-id", "400", "401"],
)
def test_retry_is_ignored_where_it_is_not_offered(error: KycApiError) -> None:
    flow, clock, _ = failed(error)
    clock.advance(60)
    assert not flow.retry(flow.sent, "fp-1").changed


def test_retry_of_an_input_made_invalid_meanwhile_shows_the_form_messages() -> None:
    flow, clock, _ = failed(RateLimitedError(status=429))
    clock.advance()
    step = flow.retry(None, None)
    assert flow.state is S.INVALID and step.check_form and step.send is None


# --------------------------------------------------------------------------- conflict recovery


def test_open_existing_loads_once_and_opens_the_case() -> None:
    flow, _clock, _ = failed(ConflictError(status=409), external_id="EXT-DUP")
    step = flow.open_existing()
    assert step.load == "EXT-DUP" and flow.loading
    assert not flow.open_existing().changed  # a second click while it loads
    flow.existing_finished(envelope(flow.sent or case()), None)
    assert flow.state is S.OPENED and not flow.loading
    assert flow.message_text.startswith(
        "Opened: the existing case EXT-DUP is shown below, beside your draft (differences are "
        "marked). Nothing new was created, and your draft is kept"
    )
    assert flow.actions == {A.BACK_TO_DRAFT, A.NEW_EXTERNAL_ID, A.CREATE_ANOTHER}
    # back to the draft: the conflict again, with its actions, nothing sent
    step = flow.back_to_draft()
    assert flow.state is S.CONFLICT and flow.envelope is None
    assert step.field_errors and step.field_errors[0][0] == "kyc_case_id"
    assert flow.actions == {A.OPEN_EXISTING, A.NEW_EXTERNAL_ID}


def test_the_draft_beside_the_existing_case_marks_what_differs() -> None:
    flow, _clock, _ = failed(ConflictError(status=409), external_id="EXT-DUP")
    assert flow.sent is not None
    other = flow.sent.model_copy(update={"legal_first_name": "Somebody else"})
    rows = {title: (mine, theirs, differs) for title, mine, theirs, differs
            in differences(flow.sent, other)}
    assert rows["Legal first name"] == (flow.sent.legal_first_name, "Somebody else", True)
    assert rows["Agency name"][2] is False
    assert "External case ID" not in rows and "Current status" not in rows  # same id; status moves


def test_create_another_keeps_the_campaign_fields_until_cleared() -> None:
    flow, _clock, _ = failed(ConflictError(status=409), external_id="EXT-DUP")
    flow.open_existing()
    flow.existing_finished(envelope(flow.sent or case()), None)
    flow.create_another(("agency_name", "assigned_team"))
    assert flow.state is S.DRAFT and flow.actions == {A.CLEAR}
    assert flow.message_text == (
        "Agency name and Assigned team were kept from the last case: change them if this case "
        "needs others, or clear the form."
    )
    assert flow.clear().changed
    assert flow.state is S.DRAFT and not flow.actions and not flow.message_text


def test_a_refusal_message_goes_once_every_marked_field_is_corrected() -> None:
    flow = CaseFlow()
    flow.submit(None, None)
    assert flow.state is S.INVALID and flow.message_text.startswith("Error: Nothing was sent")
    assert flow.errors_cleared().changed
    assert flow.state is S.DRAFT and not flow.message_text and flow.focus == "none"
    assert not flow.errors_cleared().changed  # only from a refusal


def test_open_existing_failing_stays_in_conflict_and_says_why() -> None:
    flow, _clock, _ = failed(ConflictError(status=409), external_id="EXT-DUP")
    flow.open_existing()
    gone = NotFoundError("No such case.", status=404, request_id="req_nf")
    flow.existing_finished(None, gone)
    assert flow.state is S.CONFLICT and not flow.loading
    assert flow.message_text == "Conflict: the existing case could not be opened. No such case."
    assert "request_id: req_nf" in flow.support_text
    assert flow.open_existing().load == "EXT-DUP"  # may be tried again


def test_use_a_new_external_id_goes_back_to_the_draft() -> None:
    flow, _clock, _ = failed(ConflictError(status=409), external_id="EXT-DUP")
    step = flow.use_new_external_id()
    assert step.field_errors == ()
    assert flow.state is S.DRAFT and flow.support_text == ""
    assert flow.message_text.startswith("Enter a new external case ID")
    assert not flow.use_new_external_id().changed  # only from a conflict
    fresh = case(kyc_case_id="EXT-NEW")
    assert flow.submit(fresh, "fp-1").send == fresh


# --------------------------------------------------------------------------- outcome unknown


def test_outcome_unknown_with_an_external_id_offers_only_the_check() -> None:
    flow, clock, _ = failed(ApiTimeoutError(outcome_unknown=True), external_id="EXT-LOST")
    assert "Check whether case “EXT-LOST” exists" in flow.message_text
    assert not flow.facts.form_editable
    clock.advance(60)
    assert not flow.submit(flow.sent, "fp-2").changed and not flow.retry(flow.sent, "fp-1").changed

    assert flow.check_created().load == "EXT-LOST"
    assert not flow.check_created().changed  # while the check runs
    flow.check_finished(envelope(flow.sent or case()), None)
    assert flow.state is S.CREATED
    assert flow.message_text == "Created: case EXT-LOST exists: the earlier request did create it."


def test_outcome_unknown_check_finding_nothing_makes_a_resend_safe() -> None:
    flow, clock, _ = failed(ApiTimeoutError(outcome_unknown=True), external_id="EXT-LOST")
    flow.check_created()
    flow.check_finished(None, NotFoundError(status=404, request_id="req_404"))
    assert flow.state is S.RETRY and "was not created" in flow.message_text
    assert flow.actions == {A.RETRY}
    assert not flow.retry(flow.sent, "fp-1").changed
    clock.advance()
    assert flow.retry(flow.sent, "fp-1").send is not None


def test_outcome_unknown_check_failing_stays_unknown() -> None:
    flow, _clock, _ = failed(ApiTimeoutError(outcome_unknown=True), external_id="EXT-LOST")
    flow.check_created()
    flow.check_finished(None, ServiceUnavailableError("Down.", status=503))
    assert flow.state is S.OUTCOME_UNKNOWN
    assert "The check failed too: Down. Try the check again later." in flow.message_text
    assert flow.check_created().load == "EXT-LOST"


def test_outcome_unknown_without_an_external_id_warns_and_offers_send_again() -> None:
    flow, clock, _ = failed(ApiTimeoutError(outcome_unknown=True), external_id=None)
    assert "duplicate" in flow.message_text
    assert flow.actions == {A.SEND_AGAIN}
    assert not flow.check_created().changed
    assert not flow.submit(flow.sent, "fp-1").changed
    assert not flow.retry(flow.sent, "fp-1").changed  # too soon: a double click
    clock.advance()
    assert flow.retry(flow.sent, "fp-1").send is not None


def test_no_answer_and_no_error_is_treated_as_an_unknown_outcome() -> None:
    flow = flow_at()
    sending(flow, case())
    flow.create_finished(None, None)
    assert flow.state is S.OUTCOME_UNKNOWN


# --------------------------------------------------------------------------- where focus goes


def test_focus_follows_each_event_to_what_changed() -> None:
    flow = flow_at()
    assert flow.focus == "none"  # the first draw moves nothing
    flow.submit(None, None)
    assert flow.state is S.INVALID and flow.focus == "errors"
    model = case(kyc_case_id="EXT-F")
    flow.submit(model, "fp-1")
    assert flow.state is S.SAVING and flow.focus == "none"
    flow.create_finished(envelope(model), None)
    assert flow.state is S.CREATED and flow.focus == "case"
    flow.create_another()
    assert flow.state is S.DRAFT and flow.focus == "first_field"


def test_conflict_focuses_its_message_and_its_message_is_the_summary() -> None:
    flow, _clock, step = failed(ConflictError(status=409), external_id="EXT-DUP")
    assert flow.focus == "message"
    assert step.summary == ""  # no "Please fix 1 field": the message names the conflict
    assert flow.message_text.startswith("Conflict: this external case ID already exists")
    flow.submit(flow.sent, "fp-1")  # unchanged: nothing sent, the note is read out
    assert flow.focus == "message"
    flow.use_new_external_id()
    assert flow.focus == "external_id"


def test_a_server_refusal_focuses_the_errors() -> None:
    details = {"errors": [{"field": "legal_last_name", "message": "Too long."}]}
    flow, _clock, step = failed(InvalidRequestError("Bad input.", status=400, details=details))
    assert flow.focus == "errors" and step.summary is None
