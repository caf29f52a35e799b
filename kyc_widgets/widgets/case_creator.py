"""``CaseCreator``: the create-case flow of ``docs/api-contract.md``, as explicit states.

Why explicit states: an analyst must always be able to tell what happened to
their case (created? refused? maybe created?) and what to do next, and a
compliance-changing POST must never be sent twice by accident. Each outcome
of ``client.create_case`` maps to one state with its own message (text with
a word prefix such as "Error:", never colour alone), its own recovery actions
and, for every failure, copyable support details carrying the API
``request_id``.

The states are documented on :class:`CaseCreator`.
"""

from __future__ import annotations

import asyncio
import html
import inspect
import logging
import threading
import time
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

import ipywidgets as widgets
from pydantic import BaseModel

from kyc_widgets.api.auth import token_fingerprint
from kyc_widgets.api.errors import (
    ApiConnectError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    KycApiError,
    PermissionDeniedError,
    RateLimitedError,
    UnexpectedResponseError,
)
from kyc_widgets.form.schema_form import SchemaForm
from kyc_widgets.models import DEFAULT_CREATE_STATUS, CaseEnvelope, CreateStatus, KycCaseCreateInput
from kyc_widgets.widgets.case_workspace import CaseWorkspace

__all__ = ["EXTERNAL_ID_TITLE", "RESEND_GUARD_SECONDS", "CaseCreator", "CreatorState"]

logger = logging.getLogger("kyc_widgets")

EXTERNAL_ID_TITLE = "External case ID (optional)"
EXTERNAL_ID_HELP = (
    "Leave this empty and the KYC API generates a case ID. Fill it in only when your "
    "product owns a stable external case ID: the API then refuses a second case with "
    "the same ID, which makes re-sending safe."
)


class CreatorState(str, Enum):
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

    def __str__(self) -> str:
        return self.value


S = CreatorState

# A click in these states sends nothing: a request is in flight or the case exists.
_BUSY_OR_DONE = frozenset({S.SAVING, S.CREATED, S.OPENED})
# The API refused the last request. "Create case" sends the same input again only
# when something that decided the answer changed (see CaseCreator, "Never twice").
_REFUSED = frozenset({S.CONFLICT, S.SERVER_INVALID, S.UNAUTHORIZED, S.FORBIDDEN, S.RETRY})
# ...and for these the token decided it: a refreshed token is such a change.
_TOKEN_DECIDES = frozenset({S.UNAUTHORIZED, S.FORBIDDEN})

RESEND_GUARD_SECONDS = 0.5
"""A Retry click this soon after a failure was shown is taken as a queued/double click.

A person needs longer than this to read a failure message and decide to
retry; a click queued while the kernel was busy, or the second half of a
double click, arrives within milliseconds of the answer.
"""

_NO_LOOP_MESSAGE = (
    "an async client (AsyncKycApiClient) needs a running event loop (a notebook kernel or "
    "async code); use KycApiClient here."
)

_NOT_RESENT = {
    S.CONFLICT: "this external case ID is taken: open the existing case or use a new "
    "external ID.",
    S.SERVER_INVALID: "the input is unchanged, so the API would refuse it the same way. "
    "Correct the fields marked first.",
    S.UNAUTHORIZED: "the input and the token are the ones the API refused. Refresh the "
    "token first.",
    S.FORBIDDEN: "the input and the token are the ones the API refused. Once access is "
    "granted, press Retry.",
    S.RETRY: "to send the same case again, press Retry.",
}
_DONE = frozenset({S.CREATED, S.OPENED})
_WITH_SUPPORT = frozenset(
    {S.CONFLICT, S.SERVER_INVALID, S.UNAUTHORIZED, S.FORBIDDEN, S.RETRY, S.OUTCOME_UNKNOWN}
)

_PREFIX = {
    S.DRAFT: "",
    S.INVALID: "Error:",
    S.SAVING: "Saving:",
    S.CREATED: "Created:",
    S.OPENED: "Opened:",
    S.CONFLICT: "Conflict:",
    S.SERVER_INVALID: "Error:",
    S.UNAUTHORIZED: "Sign-in needed:",
    S.FORBIDDEN: "Access restricted:",
    S.RETRY: "Temporary problem:",
    S.OUTCOME_UNKNOWN: "Outcome unknown:",
}

_ACCENT = {  # colour only reinforces the prefix word, never replaces it
    "ok": "var(--jp-success-color1, #2e7d32)",
    "info": "var(--jp-info-color1, #0277bd)",
    "warn": "var(--jp-warn-color1, #b26a00)",
    "error": "var(--jp-error-color1, #b00020)",
}
_TONE = {
    S.DRAFT: "info",
    S.INVALID: "error",
    S.SAVING: "info",
    S.CREATED: "ok",
    S.OPENED: "ok",
    S.CONFLICT: "warn",
    S.SERVER_INVALID: "error",
    S.UNAUTHORIZED: "error",
    S.FORBIDDEN: "error",
    S.RETRY: "warn",
    S.OUTCOME_UNKNOWN: "warn",
}

_Done = Callable[[Any, BaseException | None], None]


def _hidden(widget: widgets.DOMWidget, hidden: bool) -> None:
    widget.layout.display = "none" if hidden else None


class CaseCreator(widgets.VBox):
    """The case intake flow: ``display(CaseCreator(client))`` in a notebook.

    ``client`` is a :class:`~kyc_widgets.api.client.KycApiClient` (the call runs
    inside the click handler) or an :class:`~kyc_widgets.api.client.AsyncKycApiClient`
    (the call is scheduled on the kernel's running event loop; outside a running
    loop, e.g. a plain script, an async client is refused with ``TypeError``). ``values``
    pre-fills the form; ``on_created(envelope)`` is called once a case is created.

    States (``creator.state``, a :class:`CreatorState`, which is a ``str``):

    ``draft``
        The form. ``current_status`` offers only the create statuses (default
        ``DRAFT``); ``kyc_case_id`` sits in the "External case ID (optional)"
        disclosure because the API generates one when it is left empty.
    ``invalid``
        Client-side validation failed: nothing was sent, every message is under
        its field.
    ``saving``
        The request is in flight: submit disabled, progress shown. Any further
        click (including clicks the frontend queued while the kernel was busy)
        is ignored, so two rapid clicks create exactly one case.
    ``created``
        The form is replaced by the new case's :class:`CaseWorkspace`, with a
        "Create another case" action.
    ``opened``
        After a conflict, the analyst opened the existing case: its workspace
        is shown like ``created``.
    ``conflict``
        409: a case with this external id exists. Actions: open it, or use a new
        external id (every other value is kept).
    ``server_invalid``
        400: the API's messages are shown under the fields it named (unknown
        fields go to the form-level message). Input is kept.
    ``unauthorized`` / ``forbidden``
        401 / 403: a sign-in / permission message (never a field error). The
        message works in a notebook and in the Voila app: refresh the token
        (``client.set_token(...)`` / ``kyc_widgets.prompt_token(client)``, or
        restart the app with a fresh ``KYC_API_TOKEN``), then press "Create
        case" again. After a 403, "Retry" re-sends once access was granted.
    ``retry``
        429, 503, an unreachable API: nothing was stored (or the API said so);
        a "Retry" action re-sends.
    ``outcome_unknown``
        The answer was lost after the request may have been applied. Nothing is
        re-sent automatically. With an external id, "Check whether it was
        created" loads it; without one, "Send again anyway" is offered with a
        plain warning that it may create a duplicate.

    Never twice by accident. The frontend queues clicks made while the kernel
    is busy and delivers them as soon as the click handler returns, and a fast
    failure can come back between the two halves of a double click. A click
    event carries nothing that says when it was made, so each kind of click is
    judged by what would make a second request legitimate:

    - While saving, and once the case exists, every click is ignored.
    - After a refusal (``conflict``, ``server_invalid``, ``unauthorized``,
      ``forbidden``, ``retry``), "Create case" sends again only when the
      validated input differs from what was last sent (the analyst changed
      something) or, after a 401/403, when the token changed. The token is
      compared by a keyed fingerprint (:func:`kyc_widgets.api.auth.token_fingerprint`),
      never kept in clear. A queued click cannot have changed either, so it
      sends nothing; the message then says why nothing was sent. This check
      is deterministic: no timing involved.
    - An identical re-send needs the explicit action ("Retry", or "Send again
      anyway" when the outcome is unknown). That click is accepted only once
      :data:`RESEND_GUARD_SECONDS` have passed since the failure was shown:
      for the same input and token nothing else tells a deliberate retry from
      a queued or double click. Its known limit: a queued click held back by
      other kernel work for longer than that would count as a retry; after
      the failures where Retry is offered, nothing was stored (or the analyst
      was warned), so a re-send is not a duplicate case.

    ``clock`` (``time.monotonic``) may be replaced, e.g. by tests.
    """

    def __init__(
        self,
        client: Any,
        *,
        values: Mapping[str, Any] | BaseModel | None = None,
        on_created: Callable[[CaseEnvelope], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if inspect.iscoroutinefunction(getattr(client, "create_case", None)):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                raise TypeError(f"CaseCreator: {_NO_LOOP_MESSAGE}") from None
        self.client = client
        self.on_created = on_created
        self._state: CreatorState = S.DRAFT
        self._lock = threading.Lock()
        self._pending: asyncio.Task[Any] | None = None
        self._sent: KycCaseCreateInput | None = None  # the input of the last request
        self._sent_token: str | None = None  # keyed fingerprint of its token, never the token
        self.clock: Callable[[], float] = time.monotonic
        self._shown_at = self.clock()  # when the current state was shown
        self._text: str | None = None  # the current state's message, without a note
        self._shown_error: KycApiError | None = None
        self.last_error: KycApiError | None = None
        self.envelope: CaseEnvelope | None = None
        self.workspace: CaseWorkspace | None = None

        # -- the form: create statuses only; the external id moved into a disclosure ----------
        # The contract requires a status; a new case starts as DRAFT unless told otherwise.
        initial = dict(values.model_dump() if isinstance(values, BaseModel) else (values or {}))
        initial.setdefault("current_status", DEFAULT_CREATE_STATUS)
        self.form: SchemaForm[KycCaseCreateInput] = SchemaForm(
            KycCaseCreateInput,
            choices={"current_status": list(CreateStatus)},
            values=initial,
        )
        id_row = self.form.rows["kyc_case_id"]
        self.form.children = tuple(c for c in self.form.children if c is not id_row)
        self.external_id = widgets.Accordion(
            children=[widgets.VBox([widgets.HTML(self._help_html(EXTERNAL_ID_HELP)), id_row])],
            titles=(EXTERNAL_ID_TITLE,),
            selected_index=None,
        )
        if self.form.values().get("kyc_case_id"):
            self.external_id.selected_index = 0

        # -- submit + progress ------------------------------------------------------------------
        self.submit_button = widgets.Button(
            description="Create case",
            button_style="primary",
            icon="check",
            tooltip="Send the case to the KYC API",
        )
        self.submit_button.on_click(lambda _b: self.submit())
        self.progress = widgets.IntProgress(
            value=1, min=0, max=1, bar_style="info", description="Saving…",
            layout=widgets.Layout(display="none", width="16em"),
        )
        self.form_area = widgets.VBox(
            [self.form, self.external_id, widgets.HBox([self.submit_button, self.progress])]
        )

        # -- feedback ---------------------------------------------------------------------------
        self.message = widgets.HTML(layout=widgets.Layout(display="none"))
        self.support_details = widgets.HTML(layout=widgets.Layout(display="none"))

        # -- recovery actions -------------------------------------------------------------------
        self.open_existing_button = widgets.Button(
            description="Open the existing case", icon="folder-open",
            layout=widgets.Layout(width="auto"),
        )
        self.new_id_button = widgets.Button(
            description="Use a new external ID", icon="edit", layout=widgets.Layout(width="auto")
        )
        self.retry_button = widgets.Button(
            description="Retry", icon="repeat", layout=widgets.Layout(width="auto")
        )
        self.check_button = widgets.Button(
            description="Check whether it was created", icon="search",
            layout=widgets.Layout(width="auto"),
        )
        self.create_another_button = widgets.Button(
            description="Create another case", icon="plus", layout=widgets.Layout(width="auto")
        )
        self.open_existing_button.on_click(lambda _b: self.open_existing())
        self.new_id_button.on_click(lambda _b: self.use_new_external_id())
        self.retry_button.on_click(lambda _b: self.retry())
        self.check_button.on_click(lambda _b: self.check_created())
        self.create_another_button.on_click(lambda _b: self.create_another())
        self._action_buttons = (
            self.open_existing_button,
            self.new_id_button,
            self.retry_button,
            self.check_button,
            self.create_another_button,
        )
        self.actions = widgets.HBox(list(self._action_buttons))
        self.workspace_area = widgets.VBox([])

        super().__init__(**kwargs)
        self.add_class("kyc-case-creator")
        self._set_state(S.DRAFT)

    # ------------------------------------------------------------------ public state

    @property
    def state(self) -> CreatorState:
        """The current state (see the module docstring)."""
        return self._state

    @property
    def message_text(self) -> str:
        """The visible status message as plain text ("" when none is shown)."""
        return self._message_plain

    @property
    def support_text(self) -> str:
        """The visible support details as plain text ("" when hidden)."""
        return self._support_plain

    # ------------------------------------------------------------------ actions

    def submit(self, *, resend: bool = False) -> None:
        """Validate and send the form (the "Create case" click).

        Ignored while saving, once created, and when the last outcome is
        unknown. After a refusal, the same input is sent again only if the token
        changed after a 401/403; otherwise nothing is sent and the message says
        why (see "Never twice by accident" on the class). ``resend=True`` is
        :meth:`retry`.
        """
        if resend:
            self.retry()
            return
        with self._lock:
            if self._state in _BUSY_OR_DONE or self._state is S.OUTCOME_UNKNOWN:
                return
            candidate = self.form.parse()  # quietly: a repeat must not wipe the API's messages
            fingerprint = token_fingerprint(self.client) if candidate is not None else None
            if candidate is not None and self._is_repeat(candidate, fingerprint):
                note = _NOT_RESENT[self._state]
                if self._state is S.CONFLICT and not self._sent_id():
                    note = "press Retry to send it once more with a new generated ID."
                self._set_state(
                    self._state, self._text, self._shown_error, note=f"Nothing was sent again: {note}"
                )
                return
            model = self._prepare_send(fingerprint)
        if model is not None:
            self._start_create(model)

    def retry(self) -> None:
        """The explicit re-send ("Retry", "Send again anyway"): the same input may go again.

        Only where the action is offered, and only once :data:`RESEND_GUARD_SECONDS`
        have passed since the failure was shown (a faster click is a queued or
        double click, not a decision).
        """
        with self._lock:
            if not self._retry_offered(self._state):
                return
            if self.clock() - self._shown_at < RESEND_GUARD_SECONDS:
                return
            model = self._prepare_send(token_fingerprint(self.client))
        if model is not None:
            self._start_create(model)

    def _prepare_send(self, fingerprint: str | None) -> KycCaseCreateInput | None:
        """Validate with messages shown; valid -> "saving" and the model to send.

        The caller holds ``_lock``: once the state is "saving", every other click
        is ignored, so the request itself can run outside the lock (a callback may
        click again without deadlocking).
        """
        model = self.form.validate()
        if model is None:
            if "kyc_case_id" in self.form.field_errors:
                self.external_id.selected_index = 0
            self._set_state(
                S.INVALID,
                "Nothing was sent. Fix the fields marked with an error, then press "
                "Create case again.",
            )
            return None
        self._sent, self._sent_token = model, fingerprint
        self._set_state(S.SAVING, "sending the case to the KYC API…")
        return model

    def _start_create(self, model: KycCaseCreateInput) -> None:
        self._run(lambda: self.client.create_case(model), self._create_finished)

    def _is_repeat(self, candidate: KycCaseCreateInput, fingerprint: str | None) -> bool:
        """After a refusal: would this press send exactly what was refused, the same way?"""
        if self._state not in _REFUSED or self._sent is None or candidate != self._sent:
            return False
        return not (self._state in _TOKEN_DECIDES and fingerprint != self._sent_token)

    def _sent_id(self) -> str | None:
        return self._sent.kyc_case_id if self._sent is not None else None

    def _retry_offered(self, state: CreatorState) -> bool:
        """Where the explicit re-send action is shown."""
        if state in (S.RETRY, S.FORBIDDEN):
            return True
        return state in (S.OUTCOME_UNKNOWN, S.CONFLICT) and not self._sent_id()

    def open_existing(self) -> None:
        """Conflict recovery: load the case that holds the duplicate external id."""
        case_id = self._sent_id()
        if self._state is not S.CONFLICT or not case_id:
            return
        self.open_existing_button.disabled = True
        self._run(lambda: self.client.get_case(case_id), self._existing_loaded)

    def use_new_external_id(self) -> None:
        """Conflict recovery: clear the external id (every other value kept) and go back to draft."""
        if self._state is not S.CONFLICT:
            return
        self.form.set_values({"kyc_case_id": None})
        self.form.clear_errors()
        self.external_id.selected_index = 0
        self.workspace = None
        self.workspace_area.children = ()
        self._set_state(
            S.DRAFT,
            "Enter a new external case ID, or leave it empty and the API generates one. "
            "Your other values are kept.",
        )
        self.form.fields["kyc_case_id"].focus()

    def check_created(self) -> None:
        """Outcome unknown with an external id: load that id to learn whether the case exists."""
        case_id = self._sent_id()
        if self._state is not S.OUTCOME_UNKNOWN or not case_id:
            return
        self.check_button.disabled = True
        self._run(lambda: self.client.get_case(case_id), self._check_finished)

    def create_another(self) -> None:
        """From a created/opened case back to a fresh draft (initial values, no external id)."""
        if self._state not in _DONE:
            return
        self.form.reset()
        self.form.set_values({"kyc_case_id": None})
        self.external_id.selected_index = None
        self.workspace = None
        self.envelope = None
        self._sent, self._sent_token = None, None
        self.workspace_area.children = ()
        self._set_state(S.DRAFT)

    # ------------------------------------------------------------------ outcomes

    def _create_finished(self, envelope: Any, error: BaseException | None) -> None:
        if error is None:
            self._show_case(envelope, S.CREATED)
            return
        exc = self._as_api_error(error, create=True)
        self.last_error = exc
        sent_id = self._sent_id()
        if isinstance(exc, ConflictError):
            self.form.clear_errors()
            if sent_id:
                self.form.set_errors(
                    [("kyc_case_id", "A case with this external case ID already exists.")]
                )
                self.external_id.selected_index = 0
                text = (
                    f"a case with external case ID “{sent_id}” already exists. Open the existing "
                    "case, or use a new external ID (your other values are kept)."
                )
            else:
                text = f"{exc.message} Press Retry to send it again with a new generated ID."
            self._set_state(S.CONFLICT, text, exc)
        elif isinstance(exc, InvalidRequestError):
            self.form.set_errors(exc.field_errors or [(None, exc.message)])
            if "kyc_case_id" in self.form.field_errors:
                self.external_id.selected_index = 0
            self._set_state(
                S.SERVER_INVALID,
                "the KYC API rejected the input. Its messages are shown under the fields "
                "(your input is kept); correct them and press Create case again.",
                exc,
            )
        elif isinstance(exc, AuthenticationError):
            self.form.clear_errors()
            self._set_state(
                S.UNAUTHORIZED,
                "your session is missing or has expired, so nothing was created. Sign in "
                "again: refresh your token (in a notebook: client.set_token(...) or "
                "kyc_widgets.prompt_token(client); in the app: restart it with a fresh "
                "KYC_API_TOKEN), then press Create case again. Your input is kept.",
                exc,
            )
        elif isinstance(exc, PermissionDeniedError):
            self.form.clear_errors()
            self._set_state(
                S.FORBIDDEN,
                "your account is not allowed to create cases, so nothing was created. Ask "
                "your administrator for access, then press Retry (or sign in with an account "
                "that has access and press Create case). Your input is kept.",
                exc,
            )
        elif exc.outcome_unknown:
            if sent_id:
                text = (
                    "We could not confirm whether the case was created: the answer was lost. "
                    f"Nothing will be re-sent automatically. Check whether case “{sent_id}” "
                    "exists before doing anything else."
                )
            else:
                text = (
                    "We could not confirm whether the case was created: the answer was lost. "
                    "Nothing will be re-sent automatically. Look for the case before sending "
                    "again: sending again may create a duplicate case."
                )
            self._set_state(S.OUTCOME_UNKNOWN, text, exc)
        else:
            self._set_state(S.RETRY, self._retry_text(exc), exc)

    def _existing_loaded(self, envelope: Any, error: BaseException | None) -> None:
        self.open_existing_button.disabled = False
        if error is None:
            self._show_case(envelope, S.OPENED)
            return
        exc = self._as_api_error(error)
        self.workspace = CaseWorkspace(error=exc, kyc_case_id=self._sent_id())
        self.workspace_area.children = (self.workspace,)
        self._set_state(
            S.CONFLICT, f"the existing case could not be opened. {exc.message}", exc
        )

    def _check_finished(self, envelope: Any, error: BaseException | None) -> None:
        self.check_button.disabled = False
        if error is None:
            self._show_case(envelope, S.CREATED, checked=True)
            return
        exc = self._as_api_error(error)
        if exc.status == 404:
            self._set_state(
                S.RETRY,
                "the case was not created (no case with this external ID exists). Sending "
                "it again is safe: press Retry.",
                exc,
            )
        else:
            self._set_state(
                S.OUTCOME_UNKNOWN,
                f"We could not confirm whether the case was created. The check failed too: "
                f"{exc.message} Try the check again later.",
                exc,
            )

    def _show_case(self, envelope: CaseEnvelope, state: CreatorState, *, checked: bool = False) -> None:
        self.envelope = envelope
        self.workspace = CaseWorkspace(envelope)
        self.workspace_area.children = (self.workspace,)
        self.form.clear_errors()
        case_id = envelope.case.kyc_case_id
        if state is S.OPENED:
            text = f"the existing case {case_id} is shown below. Nothing new was created."
        elif checked:
            text = f"case {case_id} exists: the earlier request did create it."
        elif envelope.recovered:
            text = (
                f"case {case_id} was created. The first answer was lost; the case was "
                "confirmed by loading it."
            )
        else:
            text = f"case {case_id} was created."
        self._set_state(state, text)
        if state is S.CREATED and self.on_created is not None:
            try:
                self.on_created(envelope)
            except Exception as exc:  # noqa: BLE001 - the case exists; say so, do not crash
                logger.warning("on_created callback failed: %s", type(exc).__name__)
                self._set_state(
                    state, f"{text} (Note: the on_created callback failed: {type(exc).__name__}.)"
                )

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _as_api_error(error: BaseException, *, create: bool = False) -> KycApiError:
        """Every failure as a KycApiError; an unknown failure during a create may hide a case."""
        if isinstance(error, UnexpectedResponseError) and create and (error.status or 0) // 100 == 2:
            error.outcome_unknown = True  # 2xx with a body we cannot read: probably created
        if isinstance(error, KycApiError):
            return error
        return KycApiError(
            f"An unexpected problem occurred ({type(error).__name__}).",
            code="CLIENT_ERROR",
            outcome_unknown=create,
        )

    @staticmethod
    def _retry_text(exc: KycApiError) -> str:
        safe = (
            isinstance(exc, (RateLimitedError, ApiConnectError))
            or (exc.status == 503 and exc.retryable)
        )
        note = " Nothing was stored; retrying is safe." if safe else ""
        return f"{exc.message}{note} Press Retry when ready; your input is kept."

    def _run(self, call: Callable[[], Any], done: _Done) -> None:
        """Run a client call, sync or async, and hand ``(result, error)`` to ``done``.

        A sync client is called right here (inside the click handler). An async
        client's coroutine is scheduled on the running event loop (the kernel's),
        so the notebook stays responsive; the state stays "saving" meanwhile.
        """
        try:
            result = call()
        except Exception as exc:  # noqa: BLE001 - turned into a state by ``done``
            done(None, exc)
            return
        if not inspect.isawaitable(result):
            done(result, None)
            return

        async def wait() -> None:
            try:
                value = await result
            except Exception as exc:  # noqa: BLE001
                done(None, exc)
            else:
                done(value, None)

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # Refused at construction; kept as a guard. Not asyncio.run(): the client's
            # pooled connections would stay bound to a throw-away loop.
            if inspect.iscoroutine(result):
                result.close()
            done(None, KycApiError(_NO_LOOP_MESSAGE, code="NO_EVENT_LOOP"))
            return
        self._pending = loop.create_task(wait())

    @staticmethod
    def _help_html(text: str) -> str:
        return (
            '<div style="color:var(--jp-ui-font-color2, #555);white-space:normal;'
            f'margin:0 0 4px 0">{html.escape(text)}</div>'
        )

    def _set_state(
        self,
        state: CreatorState,
        text: str | None = None,
        error: KycApiError | None = None,
        *,
        note: str | None = None,
    ) -> None:
        """Show ``state``; ``note`` adds a line to the same state without restarting it."""
        if note is None:  # a new state (or a new answer): the Retry guard restarts
            self._shown_at = self.clock()
        self._state = state
        self._text, self._shown_error = text, error
        done = state in _DONE

        # message
        prefix = _PREFIX[state]
        shown = f"{text} {note}" if (text and note) else (text or note)
        if shown:
            text = shown
            plain = f"{prefix} {text}" if prefix else text
            tone = _ACCENT[_TONE[state]]
            role = "alert" if state in _WITH_SUPPORT or state is S.INVALID else "status"
            strong = f"<strong>{html.escape(prefix)}</strong> " if prefix else ""
            self.message.value = (
                f'<div role="{role}" data-state="{state.value}" style="border-left:4px solid {tone};'
                f'padding:4px 8px;margin:4px 0;white-space:normal">{strong}{html.escape(text)}</div>'
            )
        else:
            plain = ""
            self.message.value = ""
        self._message_plain = plain
        _hidden(self.message, not plain)

        # support details (ids and codes only; never names or tokens)
        support = error.support_details() if (error is not None and state in _WITH_SUPPORT) else ""
        self._support_plain = support
        self.support_details.value = (
            '<div>Support details (select and copy into a support ticket):</div>'
            '<pre class="kyc-support" style="user-select:text;white-space:pre-wrap;'
            'background:var(--jp-layout-color2, #f6f6f6);padding:4px 8px;margin:2px 0">'
            f"{html.escape(support)}</pre>"
            if support
            else ""
        )
        _hidden(self.support_details, not support)

        # form, submit, progress
        saving = state is S.SAVING
        self.form.disabled = saving or state is S.OUTCOME_UNKNOWN
        self.submit_button.disabled = saving or state is S.OUTCOME_UNKNOWN
        _hidden(self.progress, not saving)

        # actions
        sent_id = self._sent_id()
        visible = {
            self.open_existing_button: state is S.CONFLICT and bool(sent_id),
            self.new_id_button: state is S.CONFLICT and bool(sent_id),
            self.retry_button: self._retry_offered(state),
            self.check_button: state is S.OUTCOME_UNKNOWN and bool(sent_id),
            self.create_another_button: done,
        }
        for button, show in visible.items():
            _hidden(button, not show)
        self.retry_button.description = (
            "Send again anyway" if state is S.OUTCOME_UNKNOWN else "Retry"
        )
        _hidden(self.actions, not any(visible.values()))

        # layout: the workspace replaces the form once there is a case
        children: tuple[widgets.Widget, ...]
        if done:
            children = (self.message, self.workspace_area, self.actions)
        else:
            children = (
                self.form_area,
                self.message,
                self.support_details,
                self.actions,
                self.workspace_area,
            )
        self.children = children

    def __repr__(self) -> str:
        return f"CaseCreator(state={self._state.value!r})"
