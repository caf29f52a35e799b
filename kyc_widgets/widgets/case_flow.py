"""The create-case flow as a pure state machine: states, transitions, messages, actions.

Why apart from the widget: what an analyst is told after each answer of the
API, which recovery actions they get, and when a second POST is allowed are
decisions, not drawing. Here they are plain Python (no ipywidgets), driven
by events (:meth:`CaseFlow.submit`, :meth:`CaseFlow.create_finished`, ...)
and tested without a widget; :class:`~kyc_widgets.widgets.case_creator.CaseCreator`
only draws :class:`CaseFlow` and wires its buttons to these events. Everything
about one state is in one row of :data:`FACTS`.

Never twice by accident. The frontend queues clicks made while the kernel is
busy and delivers them as soon as the click handler returns, and a fast
failure can come back between the two halves of a double click. A click
carries nothing that says when it was made, so each kind of click is judged
by what would make a second request legitimate:

- While saving, and once the case exists, "Create case" is ignored.
- After a refusal (``refused`` states), "Create case" sends again only when
  the validated input differs from what was last sent or, where the token
  decided the answer (401/403), when the token changed. The token is compared
  by the client's keyed ``token_fingerprint()``, never kept. A queued click
  cannot have changed either, so it sends nothing and the message says why.
  This check involves no timing.
- An identical re-send needs the explicit action ("Retry", "Send again
  anyway"), accepted only once :data:`RESEND_GUARD_SECONDS` have passed since
  the failure was shown: for the same input and token nothing else tells a
  deliberate retry from a queued or double click. Its known limit: a queued
  click held back by other kernel work for longer than that counts as a
  retry; where Retry is offered nothing was stored (or the analyst was
  warned), so the re-send is not a duplicate case.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

from kyc_widgets.api.errors import (
    ApiConnectError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    KycApiError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    UnexpectedResponseError,
)
from kyc_widgets.enums import TextEnum
from kyc_widgets.models import CaseEnvelope, KycCaseCreateInput
from kyc_widgets.widgets.calls import UnexpectedFailure

__all__ = [
    "ACTION_LABELS",
    "FACTS",
    "Focus",
    "IGNORED",
    "KEPT_FIELDS",
    "RESEND_GUARD_SECONDS",
    "Action",
    "CaseFlow",
    "CreatorState",
    "StateFacts",
    "Step",
    "differences",
]

RESEND_GUARD_SECONDS = 0.5
"""An explicit re-send this soon after a failure was shown is taken as a queued/double click.

A person needs longer than this to read a failure message and decide to
retry; a click queued while the kernel was busy, or the second half of a
double click, arrives within milliseconds of the answer.
"""


class CreatorState(TextEnum):
    """Where the create flow is; compares equal to its string value (``"draft"`` ...)."""

    DRAFT = "draft"
    INVALID = "invalid"
    SAVING = "saving"
    CREATED = "created"
    OPENED = "opened"
    CONFLICT = "conflict"
    SERVER_INVALID = "server_invalid"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    RETRY = "retry"
    OUTCOME_UNKNOWN = "outcome_unknown"


class Action(str, Enum):
    """A recovery action offered next to the message."""

    OPEN_EXISTING = "open_existing"
    NEW_EXTERNAL_ID = "new_external_id"
    RETRY = "retry"
    SEND_AGAIN = "send_again"
    CHECK = "check"
    CREATE_ANOTHER = "create_another"
    BACK_TO_DRAFT = "back_to_draft"
    CLEAR = "clear"


ACTION_LABELS: dict[Action, str] = {
    Action.OPEN_EXISTING: "Open the existing case",
    Action.NEW_EXTERNAL_ID: "Use a new external ID",
    Action.RETRY: "Retry",
    Action.SEND_AGAIN: "Send again anyway",
    Action.CHECK: "Check whether it was created",
    Action.CREATE_ANOTHER: "Create another case",
    Action.BACK_TO_DRAFT: "Back to my draft",
    Action.CLEAR: "Clear the form",
}

KEPT_FIELDS: tuple[str, ...] = (
    "agency_name",
    "regulated_provider_name",
    "programme_name",
    "assigned_team",
    "country_of_onboarding",
)
"""What "Create another case" keeps: the same for a run of cases of one campaign, typed once
(until "Clear the form")."""

_RESEND = frozenset({Action.RETRY, Action.SEND_AGAIN})

Tone = Literal["ok", "info", "warn", "error"]
Focus = Literal["none", "message", "errors", "case", "first_field", "external_id"]
"""Where keyboard focus goes after an event, so a keyboard or screen-reader user lands on
what changed: the state's message, the form's error summary (or first field in error),
the case's heading, the first field of a fresh draft, the external case ID field."""
FieldErrors = tuple[tuple[str | None, str], ...]


@dataclass(frozen=True)
class StateFacts:
    """Everything about one state. ``*_without_id`` apply when the last input had no external id.

    Messages may hold ``{case_id}`` (the external id sent) and ``{api_message}``.
    """

    title: str
    """The word(s) before the message ("Error:"): the status in words, never colour alone."""
    tone: Tone
    message: str | None = None
    message_without_id: str | None = None
    actions: frozenset[Action] = frozenset()
    actions_without_id: frozenset[Action] | None = None
    form_editable: bool = True
    """The form can be edited and "Create case" is accepted."""
    busy: bool = False
    """A request is in flight: progress is shown."""
    shows_case: bool = False
    """The case's workspace replaces the form."""
    support: bool = False
    """A failure the API may have seen: copyable support details are shown."""
    alert: bool = False
    """Announced at once to screen readers (failures), not as a polite status."""
    refused: bool = False
    """The API refused the input: "Create case" re-sends it only if something changed."""
    token_decides: bool = False
    """...and a changed token is such a change (401/403)."""
    not_resent: str | None = None
    not_resent_without_id: str | None = None
    focus: Focus = "message"
    """Where keyboard focus goes when an event enters this state."""


S = CreatorState
_DONE_ACTIONS = frozenset({Action.CREATE_ANOTHER})

FACTS: dict[CreatorState, StateFacts] = {
    S.DRAFT: StateFacts("", "info", focus="first_field"),
    S.INVALID: StateFacts(
        "Error:", "error", alert=True, focus="errors",
        message="Nothing was sent. Fix the fields marked with an error, then press Create "
        "case again.",
    ),
    S.SAVING: StateFacts(
        "Saving:", "info", form_editable=False, busy=True, focus="none",
        message="sending the case to the KYC API…",
    ),
    S.CREATED: StateFacts(
        "Created:", "ok", form_editable=False, shows_case=True, actions=_DONE_ACTIONS,
        focus="case",
        message="case {case_id} was created.",
    ),
    S.OPENED: StateFacts(
        "Opened:", "ok", form_editable=False, shows_case=True, focus="case",
        actions=frozenset({Action.BACK_TO_DRAFT, Action.NEW_EXTERNAL_ID, Action.CREATE_ANOTHER}),
        message="the existing case {case_id} is shown below, beside your draft (differences "
        "are marked). Nothing new was created, and your draft is kept: go back to it, or use "
        "a new external ID for it.",
    ),
    S.CONFLICT: StateFacts(
        "Conflict:", "warn", support=True, alert=True, refused=True,
        message="this external case ID already exists: “{case_id}” already exists in the "
        "KYC API. Open the existing case, or use a new external ID (your other values are "
        "kept).",
        message_without_id="{api_message} Press Retry to send it again with a new generated ID.",
        actions=frozenset({Action.OPEN_EXISTING, Action.NEW_EXTERNAL_ID}),
        actions_without_id=frozenset({Action.RETRY}),
        not_resent="this external case ID is taken: open the existing case or use a new "
        "external ID.",
        not_resent_without_id="press Retry to send it once more with a new generated ID.",
    ),
    S.SERVER_INVALID: StateFacts(
        "Error:", "error", support=True, alert=True, refused=True, focus="errors",
        message="the KYC API rejected the input. Its messages are shown under the fields "
        "(your input is kept); correct them and press Create case again.",
        not_resent="the input is unchanged, so the API would refuse it the same way. "
        "Correct the fields marked first.",
    ),
    S.UNAUTHORIZED: StateFacts(
        "Sign-in needed:", "error", support=True, alert=True, refused=True, token_decides=True,
        message="your session is missing or has expired, so nothing was created. Sign in "
        "again: refresh your token (in a notebook: client.set_token(...) or "
        "kyc_widgets.prompt_token(client); in the app: restart it with a fresh "
        "KYC_API_TOKEN), then press Create case again. Your input is kept.",
        not_resent="the input and the token are the ones the API refused. Refresh the "
        "token first.",
    ),
    S.FORBIDDEN: StateFacts(
        "Access restricted:", "error", support=True, alert=True, refused=True,
        token_decides=True, actions=frozenset({Action.RETRY}),
        message="your account is not allowed to create cases, so nothing was created. Ask "
        "your administrator for access, then press Retry (or sign in with an account "
        "that has access and press Create case). Your input is kept.",
        not_resent="the input and the token are the ones the API refused. Once access is "
        "granted, press Retry.",
    ),
    S.RETRY: StateFacts(
        "Temporary problem:", "warn", support=True, alert=True, refused=True,
        actions=frozenset({Action.RETRY}),
        message="{api_message} Press Retry when ready; your input is kept.",
        not_resent="to send the same case again, press Retry.",
    ),
    S.OUTCOME_UNKNOWN: StateFacts(
        "Outcome unknown:", "warn", form_editable=False, support=True, alert=True,
        message="We could not confirm whether the case was created: the answer was lost. "
        "Nothing will be re-sent automatically. Check whether case “{case_id}” exists "
        "before doing anything else.",
        message_without_id="We could not confirm whether the case was created: the answer "
        "was lost. Nothing will be re-sent automatically. Look for the case before sending "
        "again: sending again may create a duplicate case.",
        actions=frozenset({Action.CHECK}),
        actions_without_id=frozenset({Action.SEND_AGAIN}),
    ),
}

# Messages of transitions that say more than their state's default.
NEW_ID_MESSAGE = (
    "Enter a new external case ID, or leave it empty and the API generates one. "
    "Your other values are kept."
)
RECOVERED_MESSAGE = (
    "case {case_id} was created. The first answer was lost; the case was confirmed by "
    "loading it."
)
CHECKED_MESSAGE = "case {case_id} exists: the earlier request did create it."
NOT_CREATED_MESSAGE = (
    "the case was not created (no case with this external ID exists). Sending it again is "
    "safe: press Retry."
)
CHECK_FAILED_MESSAGE = (
    "We could not confirm whether the case was created. The check failed too: "
    "{api_message} Try the check again later."
)
OPEN_FAILED_MESSAGE = "the existing case could not be opened. {api_message}"
SAFE_TO_RETRY = " Nothing was stored; retrying is safe."
TAKEN_ID_MESSAGE = "A case with this external case ID already exists."
KEPT_MESSAGE = (
    "{fields} were kept from the last case: change them if this case needs others, or clear "
    "the form."
)


@dataclass(frozen=True)
class Step:
    """What the view does after an event, besides drawing the flow's new state."""

    changed: bool = True
    """False: the event was ignored (nothing to draw, nothing to send)."""
    send: KycCaseCreateInput | None = None
    """POST this input."""
    load: str | None = None
    """GET the case with this external id."""
    check_form: bool = False
    """Let the form validate itself, showing (or clearing) its own messages."""
    field_errors: FieldErrors | None = field(default=None)
    """Show these messages under the fields (empty: clear them); None: leave them."""
    summary: str | None = None
    """With ``field_errors``: the form's error summary line instead of "Please fix N fields"
    ("": none, the state's message is the summary)."""


IGNORED = Step(changed=False)


def _names(fields: tuple[str, ...]) -> str:
    """"Agency name, Programme name and Assigned team" (their titles)."""
    titles = [KycCaseCreateInput.model_fields[n].title or n for n in fields]
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]


def differences(draft: KycCaseCreateInput, case: object) -> list[tuple[str, str, str, bool]]:
    """``(title, the draft's value, the existing case's value, differs)`` per create field.

    What the analyst compares after a conflict: did someone else create this very
    case, or is the external ID reused for another one? The status is left out:
    it moves with the case's review after creation.
    """
    out: list[tuple[str, str, str, bool]] = []
    for name, info in KycCaseCreateInput.model_fields.items():
        if name in ("current_status", "kyc_case_id"):
            continue
        mine, theirs = _text(getattr(draft, name, None)), _text(getattr(case, name, None))
        out.append((info.title or name, mine, theirs, mine != theirs))
    return out


def _text(value: object) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def _failure(error: KycApiError | None) -> KycApiError:
    """The failure of a call that returned neither a case nor an error (a broken client)."""
    return error if error is not None else UnexpectedFailure(ValueError("no case in the answer"))


def _is_safe_to_retry(exc: KycApiError) -> bool:
    """The API said (or the failure shows) that nothing was stored."""
    return isinstance(exc, (RateLimitedError, ApiConnectError)) or (
        exc.status == 503 and exc.retryable
    )


class CaseFlow:
    """The create-case state machine; see the module docstring.

    Events from the analyst (:meth:`submit`, :meth:`retry`, :meth:`open_existing`,
    :meth:`use_new_external_id`, :meth:`check_created`, :meth:`create_another`)
    and answers from the API (:meth:`create_finished`, :meth:`existing_finished`,
    :meth:`check_finished`) each return a :class:`Step`. ``clock`` (seconds,
    monotonic) times the re-send guard; tests pass their own.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.state: CreatorState = S.DRAFT
        self.text: str | None = None
        """The state's message (without its title or a note)."""
        self.note: str | None = None
        """A line added to the same state (why a press sent nothing)."""
        self.error: KycApiError | None = None
        """The failure the current state shows."""
        self.last_error: KycApiError | None = None
        """The last failure of a create request."""
        self.sent: KycCaseCreateInput | None = None
        """The input of the last create request."""
        self._sent_token: str | None = None  # its token's keyed fingerprint, never the token
        self.envelope: CaseEnvelope | None = None
        self.loading = False
        """A GET (open the existing case, check) is running."""
        self.kept: tuple[str, ...] = ()
        """Fields "Create another case" kept from the last case (offered: "Clear the form")."""
        self.focus: Focus = "none"
        """Where keyboard focus goes after the last event (never on the first draw)."""
        self._shown_at = clock()

    # ------------------------------------------------------------------ what is shown

    @property
    def facts(self) -> StateFacts:
        return FACTS[self.state]

    @property
    def sent_id(self) -> str | None:
        """The external id of the last create request (None when the API generated one)."""
        return self.sent.kyc_case_id if self.sent is not None else None

    @property
    def actions(self) -> frozenset[Action]:
        """The recovery actions offered now."""
        facts = self.facts
        if self.state is S.DRAFT and self.kept:
            return frozenset({Action.CLEAR})
        if not self.sent_id and facts.actions_without_id is not None:
            return facts.actions_without_id
        return facts.actions

    @property
    def body(self) -> str:
        """The message after its title, note included ("" when none)."""
        return " ".join(part for part in (self.text, self.note) if part)

    @property
    def message_text(self) -> str:
        """The message as plain text, title first ("" when none is shown)."""
        body = self.body
        if not body:
            return ""
        return f"{self.facts.title} {body}" if self.facts.title else body

    @property
    def support_text(self) -> str:
        """Support details of the failure shown ("" when the state has none)."""
        if self.error is None or not self.facts.support:
            return ""
        return self.error.support_details()

    # ------------------------------------------------------------------ analyst events

    def submit(self, candidate: KycCaseCreateInput | None, token: str | None) -> Step:
        """"Create case": ``candidate`` is the form's valid input (None: invalid), ``token``
        the client's ``token_fingerprint()``.

        Ignored where the form is not editable; after a refusal an unchanged
        repeat sends nothing and adds a note saying why.
        """
        facts = self.facts
        if not facts.form_editable:
            return IGNORED
        if candidate is not None and self._is_repeat(candidate, token):
            why = facts.not_resent
            if not self.sent_id and facts.not_resent_without_id:
                why = facts.not_resent_without_id
            self.note = f"Nothing was sent again: {why}"
            self.focus = "message"
            return Step()
        return self._send(candidate, token)

    def retry(self, candidate: KycCaseCreateInput | None, token: str | None) -> Step:
        """The explicit re-send ("Retry", "Send again anyway"): the same input may go again.

        Only where offered, and only :data:`RESEND_GUARD_SECONDS` after the
        failure was shown (a faster click is a queued or double click).
        """
        if not self.actions & _RESEND:
            return IGNORED
        if self.clock() - self._shown_at < RESEND_GUARD_SECONDS:
            return IGNORED
        return self._send(candidate, token)

    def open_existing(self) -> Step:
        """Conflict: load the case holding the external id."""
        if Action.OPEN_EXISTING not in self.actions or self.loading or not self.sent_id:
            return IGNORED
        self.loading = True
        return Step(load=self.sent_id)

    def check_created(self) -> Step:
        """Outcome unknown with an external id: load it to learn whether the case exists."""
        if Action.CHECK not in self.actions or self.loading or not self.sent_id:
            return IGNORED
        self.loading = True
        return Step(load=self.sent_id)

    def use_new_external_id(self) -> Step:
        """Conflict (or the existing case shown beside the draft): back to the draft; the view
        clears the external id, keeps the rest."""
        if Action.NEW_EXTERNAL_ID not in self.actions:
            return IGNORED
        self.envelope = None
        self._show(S.DRAFT, NEW_ID_MESSAGE, focus="external_id")
        return Step(field_errors=())

    def back_to_draft(self) -> Step:
        """The existing case was shown beside the draft: back to the draft and its conflict."""
        if Action.BACK_TO_DRAFT not in self.actions:
            return IGNORED
        self.envelope = None
        self._show(S.CONFLICT, error=self.last_error, focus="message")
        return Step(field_errors=((("kyc_case_id", TAKEN_ID_MESSAGE),) if self.sent_id else ()),
                    summary="")

    def create_another(self, kept: tuple[str, ...] = ()) -> Step:
        """From a case shown to a fresh draft: nothing of the last request is kept but the
        ``kept`` fields' values (:data:`KEPT_FIELDS` that had one), which the message names."""
        if Action.CREATE_ANOTHER not in self.actions:
            return IGNORED
        self.envelope = None
        self.sent, self._sent_token = None, None
        self.kept = tuple(kept)
        self._show(S.DRAFT, KEPT_MESSAGE.format(fields=_names(kept)) if kept else None)
        return Step(field_errors=())

    def clear(self) -> Step:
        """"Clear the form": a draft without the fields kept from the last case."""
        if Action.CLEAR not in self.actions:
            return IGNORED
        self.kept = ()
        self._show(S.DRAFT)
        return Step(field_errors=())

    def errors_cleared(self) -> Step:
        """Every field the refusal marked was corrected: its message has no cause any more."""
        if self.state is not S.INVALID:
            return IGNORED
        self._show(S.DRAFT, focus="none")
        return Step()

    # ------------------------------------------------------------------ API answers

    def create_finished(self, envelope: CaseEnvelope | None, error: KycApiError | None) -> Step:
        """The answer to the POST: created, or the state that explains the refusal."""
        if error is None and envelope is not None:
            message = RECOVERED_MESSAGE if envelope.recovered else None
            return self._show_case(envelope, S.CREATED, message)
        exc = _failure(error)
        if self._may_hide_a_case(exc):
            exc.outcome_unknown = True
        self.last_error = exc
        if isinstance(exc, ConflictError):
            errors: FieldErrors = ((("kyc_case_id", TAKEN_ID_MESSAGE),) if self.sent_id else ())
            self._show(S.CONFLICT, error=exc, api_message=exc.message)
            # The conflict message (with its actions) is the summary: it names the conflict.
            return Step(field_errors=errors, summary="")
        if isinstance(exc, InvalidRequestError):
            self._show(S.SERVER_INVALID, error=exc)
            return Step(field_errors=tuple(exc.field_errors) or ((None, exc.message),))
        if isinstance(exc, (AuthenticationError, PermissionDeniedError)):
            state = S.UNAUTHORIZED if isinstance(exc, AuthenticationError) else S.FORBIDDEN
            self._show(state, error=exc)
            return Step(field_errors=())
        if exc.outcome_unknown:
            self._show(S.OUTCOME_UNKNOWN, error=exc)
            return Step()
        extra = SAFE_TO_RETRY if _is_safe_to_retry(exc) else ""
        self._show(S.RETRY, error=exc, api_message=exc.message + extra)
        return Step()

    def existing_finished(self, envelope: CaseEnvelope | None, error: KycApiError | None) -> Step:
        """The answer to "Open the existing case"."""
        self.loading = False
        if error is None and envelope is not None:
            return self._show_case(envelope, S.OPENED)
        exc = _failure(error)
        self._show(S.CONFLICT, OPEN_FAILED_MESSAGE.format(api_message=exc.message), exc)
        return Step()

    def check_finished(self, envelope: CaseEnvelope | None, error: KycApiError | None) -> Step:
        """The answer to "Check whether it was created": found, not found, or still unknown."""
        self.loading = False
        if error is None and envelope is not None:
            return self._show_case(envelope, S.CREATED, CHECKED_MESSAGE)
        exc = _failure(error)
        if isinstance(exc, NotFoundError) or exc.status == 404:
            self._show(S.RETRY, NOT_CREATED_MESSAGE, exc)
        else:
            self._show(
                S.OUTCOME_UNKNOWN, CHECK_FAILED_MESSAGE.format(api_message=exc.message), exc
            )
        return Step()

    def callback_failed(self, name: str) -> None:
        """The case exists but the ``on_created`` callback raised: say so in the message."""
        self.text = f"{self.text} (Note: the on_created callback failed: {name}.)"

    # ------------------------------------------------------------------ internals

    def _send(self, candidate: KycCaseCreateInput | None, token: str | None) -> Step:
        if candidate is None:
            self._show(S.INVALID)
            return Step(check_form=True)
        self.sent, self._sent_token = candidate, token
        self._show(S.SAVING)
        return Step(send=candidate, check_form=True)

    def _is_repeat(self, candidate: KycCaseCreateInput, token: str | None) -> bool:
        """After a refusal: would this press send exactly what was refused, the same way?"""
        facts = self.facts
        if not facts.refused or self.sent is None or candidate != self.sent:
            return False
        return not (facts.token_decides and token != self._sent_token)

    def _may_hide_a_case(self, exc: KycApiError) -> bool:
        """A failure of the POST that does not prove nothing was created."""
        if isinstance(exc, UnexpectedResponseError):
            return (exc.status or 0) // 100 == 2  # 2xx with a body we cannot read
        return isinstance(exc, UnexpectedFailure)  # not an API answer: anything may have happened

    def _show_case(
        self, envelope: CaseEnvelope, state: CreatorState, message: str | None = None
    ) -> Step:
        self.envelope = envelope
        case_id = envelope.case.kyc_case_id
        self._show(state, message.format(case_id=case_id) if message else None, case_id=case_id)
        return Step(field_errors=())

    def _show(
        self,
        state: CreatorState,
        text: str | None = None,
        error: KycApiError | None = None,
        *,
        api_message: str = "",
        case_id: str | None = None,
        focus: Focus | None = None,
    ) -> None:
        """Enter ``state`` with ``text`` (default: the state's own message); restarts the guard.

        Focus goes where the state says, unless the event says otherwise (``focus``).
        """
        self.state = state
        self.focus = focus or FACTS[state].focus
        if text is None:
            facts = FACTS[state]
            case_id = case_id or self.sent_id
            template = facts.message
            if not case_id and facts.message_without_id is not None:
                template = facts.message_without_id
            text = template.format(case_id=case_id, api_message=api_message) if template else None
        self.text, self.note, self.error = text, None, error
        if state is not S.DRAFT:
            self.kept = ()  # "Clear the form" is offered on the draft that kept them only
        self._shown_at = self.clock()

    def __repr__(self) -> str:
        return f"CaseFlow(state={self.state.value!r})"
