"""``CaseCreator``: the create-case widget of ``docs/api-contract.md``, a thin view
over :class:`~.case_flow.CaseFlow`.

Why a thin view: the states, their messages, their recovery actions and the
rule that a compliance-changing POST is never sent twice by accident live in
:mod:`kyc_widgets.widgets.case_flow` (plain Python, tested without widgets).
This module draws the flow's current state (message with a word title such
as "Error:", never colour alone; copyable support details carrying the API
``request_id``; the offered actions) and turns clicks into flow events.

Where the eye is (and the keyboard): the state's message, its recovery actions
and its support details sit together right above "Create case", below the
external case ID, so a conflict's message and its two actions are next to the
field in error and to where the analyst clicked, never with the Create button
between them. After each event keyboard focus moves where the flow says
(:attr:`~.case_flow.CaseFlow.focus`): the new case's heading, the error summary,
the message (scrolled into view with its actions), the first field of a fresh
draft. The external case ID sits behind a :class:`~kyc_widgets.a11y.Disclosure`
whose header is a real button.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
from pydantic import BaseModel

from kyc_widgets.a11y.bridge import A11yBridge
from kyc_widgets.a11y.disclosure import Disclosure
from kyc_widgets.api.errors import KycApiError
from kyc_widgets.api.protocols import AnyCaseApi
from kyc_widgets.form.messages import help_html
from kyc_widgets.form.schema_form import SchemaForm
from kyc_widgets.models import DEFAULT_CREATE_STATUS, CaseEnvelope, CreateStatus, KycCaseCreateInput
from kyc_widgets.text import reveal_html
from kyc_widgets.widgets.calls import check_event_loop, run_call
from kyc_widgets.widgets.case_flow import (
    ACTION_LABELS,
    KEPT_FIELDS,
    RESEND_GUARD_SECONDS,
    Action,
    CaseFlow,
    CreatorState,
    Step,
    differences,
)
from kyc_widgets.widgets.case_workspace import CaseWorkspace
from kyc_widgets.widgets.html import notice_html, support_details_html

__all__ = ["EXTERNAL_ID_TITLE", "RESEND_GUARD_SECONDS", "CaseCreator", "CreatorState"]

logger = logging.getLogger("kyc_widgets")

EXTERNAL_ID_TITLE = "External case ID (optional)"
EXTERNAL_ID_HELP = (
    "Leave this empty and the KYC API generates a case ID. Fill it in only when your "
    "product owns a stable external case ID: the API then refuses a second case with "
    "the same ID, which makes re-sending safe."
)

_ICONS = {
    Action.OPEN_EXISTING: "folder-open",
    Action.NEW_EXTERNAL_ID: "edit",
    Action.RETRY: "repeat",
    Action.CHECK: "search",
    Action.CREATE_ANOTHER: "plus",
    Action.BACK_TO_DRAFT: "undo",
    Action.CLEAR: "eraser",
}


def _hidden(widget: widgets.DOMWidget, hidden: bool) -> None:
    widget.layout.display = "none" if hidden else None


class CaseCreator(widgets.VBox):
    """The case intake flow: ``display(CaseCreator(client))`` in a notebook.

    ``client`` is a :class:`~kyc_widgets.api.client.KycApiClient` (the call runs
    inside the click handler) or an :class:`~kyc_widgets.api.client.AsyncKycApiClient`
    (the call is scheduled on the kernel's running event loop; outside a running
    loop, e.g. a plain script, an async client is refused with ``TypeError``). ``values``
    pre-fills the form; ``on_created(envelope)`` is called once a case is created.

    ``state`` is a :class:`CreatorState` (a ``str``): ``draft`` (the form;
    ``kyc_case_id`` sits in the "External case ID (optional)" disclosure because
    the API generates one when it is left empty), ``invalid`` (nothing sent,
    each message under its field), ``saving`` (every further click ignored),
    ``created`` / ``opened`` (the case's :class:`CaseWorkspace` replaces the form),
    ``conflict`` (409: open the existing case or use a new external id),
    ``server_invalid`` (400: the API's messages under its fields), ``unauthorized``
    / ``forbidden`` (401 / 403: refresh the token, e.g. ``client.set_token(...)``,
    ``kyc_widgets.prompt_token(client)`` or a fresh ``KYC_API_TOKEN`` for the app;
    after a 403, Retry), ``retry`` (429, 503, unreachable: Retry) and
    ``outcome_unknown`` (the answer was lost after the request may have been
    applied: check the external id, or "Send again anyway" with a duplicate
    warning). When a click sends a request, and when it does not, is decided by
    :class:`~kyc_widgets.widgets.case_flow.CaseFlow` (see "Never twice by accident"
    there). ``clock`` (``time.monotonic``) times its re-send guard and may be
    replaced, e.g. by tests.
    """

    def __init__(
        self,
        client: AnyCaseApi,
        *,
        values: Mapping[str, Any] | BaseModel | None = None,
        on_created: Callable[[CaseEnvelope], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        check_event_loop(client, "CaseCreator")
        self.client = client
        self.on_created = on_created
        self.flow = CaseFlow()
        self._lock = threading.Lock()
        self._pending: asyncio.Task[None] | None = None  # an async client's running request
        self.workspace: CaseWorkspace | None = None
        self._drawn = self.flow.state

        # -- the form: create statuses only; the external id moved into a disclosure ----------
        # The contract requires a status; a new case starts as DRAFT unless told otherwise.
        initial = dict(values.model_dump() if isinstance(values, BaseModel) else (values or {}))
        initial.setdefault("current_status", DEFAULT_CREATE_STATUS)
        self.form: SchemaForm[KycCaseCreateInput] = SchemaForm(
            KycCaseCreateInput, choices={"current_status": list(CreateStatus)}, values=initial
        )
        id_row = self.form.rows["kyc_case_id"]
        self.form.children = tuple(c for c in self.form.children if c is not id_row)
        self.external_id = Disclosure(
            EXTERNAL_ID_TITLE,
            [widgets.HTML(help_html(EXTERNAL_ID_HELP)), id_row],
            expanded=bool(self.form.values().get("kyc_case_id")),
        )
        # The form's bridge (its ARIA, its focus) reaches the moved row too; this widget's own
        # bridge stays drawn in every state (the form is not, once a case is shown).
        self.form.extend_scope(self)
        self._scope = self.form.scope
        self.bridge = A11yBridge(self._scope)

        # -- submit + progress, feedback ----------------------------------------------------------
        self.submit_button = widgets.Button(
            description="Create case", button_style="primary", icon="check",
            tooltip="Send the case to the KYC API",
        )
        self.submit_button.on_click(lambda _b: self.submit())
        self.progress = widgets.IntProgress(
            value=1, min=0, max=1, bar_style="info", description="Saving…",
            layout=widgets.Layout(display="none", width="16em"),
        )
        self.form_area = widgets.VBox([self.form, self.external_id])
        self.submit_row = widgets.HBox([self.submit_button, self.progress])
        self.message = widgets.HTML(layout=widgets.Layout(display="none"))
        self.message.add_class(f"{self._scope}-message")
        self.support_details = widgets.HTML(layout=widgets.Layout(display="none"))

        self._build_actions()
        self.actions = widgets.HBox(list(self._buttons), layout=widgets.Layout(flex_flow="row wrap"))
        # message, its actions and its support details: one block, shown together
        self.feedback = widgets.VBox([self.message, self.actions, self.support_details])
        self.feedback.add_class(f"{self._scope}-feedback")
        self.workspace_area = widgets.VBox([])
        self.comparison = widgets.HTML()
        """After a conflict, the existing case's values beside the draft's (differences marked)."""
        self.form.on_change(lambda _name, _value: self._edited())

        super().__init__(**kwargs)
        self.add_class("kyc-case-creator")
        self._render()

    def _build_actions(self) -> None:
        """The recovery action buttons (the flow says which are offered)."""
        def button(action: Action, handler: Callable[[], None]) -> widgets.Button:
            made = widgets.Button(
                description=ACTION_LABELS[action], icon=_ICONS[action],
                layout=widgets.Layout(width="auto"),
            )
            made.on_click(lambda _b: handler())
            return made

        self.open_existing_button = button(Action.OPEN_EXISTING, self.open_existing)
        self.new_id_button = button(Action.NEW_EXTERNAL_ID, self.use_new_external_id)
        self.retry_button = button(Action.RETRY, self.retry)  # also "Send again anyway"
        self.check_button = button(Action.CHECK, self.check_created)
        self.create_another_button = button(Action.CREATE_ANOTHER, self.create_another)
        self.back_button = button(Action.BACK_TO_DRAFT, self.back_to_draft)
        self.clear_button = button(Action.CLEAR, self.clear)
        self._buttons: dict[widgets.Button, frozenset[Action]] = {
            self.open_existing_button: frozenset({Action.OPEN_EXISTING}),
            self.back_button: frozenset({Action.BACK_TO_DRAFT}),
            self.new_id_button: frozenset({Action.NEW_EXTERNAL_ID}),
            self.retry_button: frozenset({Action.RETRY, Action.SEND_AGAIN}),
            self.check_button: frozenset({Action.CHECK}),
            self.create_another_button: frozenset({Action.CREATE_ANOTHER}),
            self.clear_button: frozenset({Action.CLEAR}),
        }

    # ------------------------------------------------------------------ public state

    @property
    def state(self) -> CreatorState:
        """The state on screen (see the class docstring): set once it is fully drawn."""
        return self._drawn

    @property
    def clock(self) -> Callable[[], float]:
        """The flow's clock (for the re-send guard)."""
        return self.flow.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.flow.clock = clock

    @property
    def envelope(self) -> CaseEnvelope | None:
        """The created or opened case (None before)."""
        return self.flow.envelope

    @property
    def last_error(self) -> KycApiError | None:
        """The failure of the last create request."""
        return self.flow.last_error

    @property
    def message_text(self) -> str:
        """The visible status message as plain text ("" when none is shown)."""
        return self.flow.message_text

    @property
    def support_text(self) -> str:
        """The visible support details as plain text ("" when hidden)."""
        return self.flow.support_text

    # ------------------------------------------------------------------ clicks -> flow events

    def submit(self, *, resend: bool = False) -> None:
        """The "Create case" click (``resend=True``: :meth:`retry`)."""
        self._send_case(self.flow.retry if resend else self.flow.submit)

    def retry(self) -> None:
        """The explicit re-send ("Retry", "Send again anyway")."""
        self._send_case(self.flow.retry)

    def _send_case(self, event: Callable[[KycCaseCreateInput | None, str | None], Step]) -> None:
        # The lock makes "check, then enter saving" one step for clicks on other threads;
        # the request itself runs outside it (a callback may click again without deadlock).
        with self._lock:
            candidate = self.form.parse()  # quietly: a repeat must not wipe the API's messages
            token = self.client.token_fingerprint() if candidate is not None else None
            step = self._apply(event(candidate, token))
        model = step.send
        if model is not None:
            self._pending = run_call(
                self.client, lambda: self.client.create_case(model), self._create_finished
            )

    def open_existing(self) -> None:
        """Conflict recovery: load the case that holds the duplicate external id."""
        self._load(self.flow.open_existing(), self.open_existing_button, self._existing_loaded)

    def check_created(self) -> None:
        """Outcome unknown with an external id: load it to learn whether the case exists."""
        self._load(self.flow.check_created(), self.check_button, self._check_finished)

    def _load(
        self,
        step: Step,
        button: widgets.Button,
        done: Callable[[CaseEnvelope | None, KycApiError | None], None],
    ) -> None:
        case_id = step.load
        if case_id is None:
            return
        button.disabled = True
        self._pending = run_call(self.client, lambda: self.client.get_case(case_id), done)

    def use_new_external_id(self) -> None:
        """Conflict recovery: clear the external id (every other value kept), back to draft."""
        if self._apply(self.flow.use_new_external_id()).changed:
            self.form.set_values({"kyc_case_id": None})
            self.external_id.expanded = True
            self._show_workspace(None)

    def back_to_draft(self) -> None:
        """The existing case was shown beside the draft: back to the draft, as it was."""
        if self._apply(self.flow.back_to_draft()).changed:
            self._show_workspace(None)

    def create_another(self) -> None:
        """From a case shown to a fresh draft: no external id, the campaign-like fields kept.

        Agency, provider, programme, team and country (:data:`~.case_flow.KEPT_FIELDS`)
        are the same for a run of cases; the message says they were kept, and "Clear the
        form" empties them too.
        """
        if Action.CREATE_ANOTHER not in self.flow.actions:
            return
        current = self.form.values()
        kept = {name: current[name] for name in KEPT_FIELDS if current.get(name) not in (None, "")}
        # The form is made ready before the draft is drawn: once "Create case" shows, the
        # fields and the folded external ID are already what they will be.
        self.external_id.expanded = False
        self._show_workspace(None)
        self.form.reset()
        self.form.set_values({"kyc_case_id": None, **kept})
        self._apply(self.flow.create_another(tuple(kept)))

    def clear(self) -> None:
        """"Clear the form": the fields kept from the last case too."""
        if self._apply(self.flow.clear()).changed:
            self.form.reset()
            self.form.set_values({"kyc_case_id": None})

    def _edited(self) -> None:
        """A field changed: once none is marked any more, the refusal's message goes too."""
        if self.flow.state is CreatorState.INVALID and not self.form.field_errors:
            step = self.flow.errors_cleared()
            if step.changed:
                self._render()

    # ------------------------------------------------------------------ answers -> flow events

    def _create_finished(self, envelope: CaseEnvelope | None, error: KycApiError | None) -> None:
        step = self.flow.create_finished(envelope, error)
        self._show_case_if_found()
        self._apply(step)
        if self.flow.state is CreatorState.CREATED and self.flow.envelope is not None:
            self._notify_created(self.flow.envelope)

    def _existing_loaded(self, envelope: CaseEnvelope | None, error: KycApiError | None) -> None:
        self.open_existing_button.disabled = False
        step = self.flow.existing_finished(envelope, error)
        if error is not None:  # the existing case could not be read: say why, in its place
            self._show_workspace(CaseWorkspace(error=error, kyc_case_id=self.flow.sent_id))
        self._show_case_if_found()
        self._apply(step)

    def _check_finished(self, envelope: CaseEnvelope | None, error: KycApiError | None) -> None:
        self.check_button.disabled = False
        step = self.flow.check_finished(envelope, error)
        self._show_case_if_found()
        self._apply(step)

    def _show_case_if_found(self) -> None:
        """Once the flow holds a case (created, opened, found), its workspace is what is shown."""
        if self.flow.facts.shows_case and self.flow.envelope is not None:
            self._show_workspace(CaseWorkspace(self.flow.envelope))

    def _notify_created(self, envelope: CaseEnvelope) -> None:
        if self.on_created is None:
            return
        try:
            self.on_created(envelope)
        except Exception as exc:  # noqa: BLE001 - the case exists; say so, do not crash
            logger.warning("on_created callback failed: %s", type(exc).__name__)
            self.flow.callback_failed(type(exc).__name__)
            self._render()

    # ------------------------------------------------------------------ drawing

    def _apply(self, step: Step) -> Step:
        """Do what ``step`` asks of the form, then draw the flow's state."""
        if not step.changed:
            return step
        if step.check_form:
            self.form.validate()
        elif step.field_errors:
            self.form.set_errors(step.field_errors, summary=step.summary)
        elif step.field_errors is not None:
            self.form.clear_errors()
        if "kyc_case_id" in self.form.field_errors:
            self.external_id.expanded = True
        self._render()
        if not step.send and step.load is None:  # a request in flight: focus waits for its answer
            self._move_focus()
        return step

    def _move_focus(self) -> None:
        """Put keyboard focus where the flow says, once the new state is drawn."""
        target = self.flow.focus
        if target == "message" and self.flow.body:
            self.bridge.move_focus(
                f".{self._scope}-message", reveal=f".{self._scope}-feedback"
            )
        elif target == "errors":
            self.form.focus_errors()
        elif target == "case":
            self.bridge.move_focus(".kyc-case-workspace-widget h3")
        elif target == "first_field":
            self.form.focus_field(next(iter(self.form.fields)))
        elif target == "external_id":
            self.form.focus_field("kyc_case_id")

    def _show_workspace(self, workspace: CaseWorkspace | None) -> None:
        self.workspace = workspace
        self.workspace_area.children = (workspace,) if workspace is not None else ()

    def _render(self) -> None:
        flow, facts = self.flow, self.flow.facts
        self.message.value = (
            notice_html(facts.title, flow.body, tone=facts.tone, alert=facts.alert,
                        state=flow.state.value)
            if flow.body else ""
        )
        _hidden(self.message, not flow.body)
        self.support_details.value = support_details_html(flow.support_text)
        _hidden(self.support_details, not flow.support_text)

        self.form.disabled = not facts.form_editable
        self.submit_button.disabled = not facts.form_editable
        _hidden(self.progress, not facts.busy)

        offered = flow.actions
        for shown_button, actions in self._buttons.items():
            _hidden(shown_button, not offered & actions)
        label = Action.SEND_AGAIN if Action.SEND_AGAIN in offered else Action.RETRY
        self.retry_button.description = ACTION_LABELS[label]
        _hidden(self.actions, not offered)

        # the workspace replaces the form once there is a case
        shown: tuple[widgets.Widget, ...]
        self.comparison.value = self._comparison_html()
        if facts.shows_case:
            self.feedback.children = (self.message,)
            shown = (
                self.feedback, self.comparison, self.workspace_area, self.actions, self.bridge
            )
        else:
            self.feedback.children = (self.message, self.actions, self.support_details)
            shown = (self.form_area, self.feedback, self.submit_row, self.workspace_area, self.bridge)
        self.children = shown
        self._drawn = flow.state

    def _comparison_html(self) -> str:
        """The draft beside the existing case, once "Open the existing case" showed it."""
        flow = self.flow
        if flow.state is not CreatorState.OPENED or flow.sent is None or flow.envelope is None:
            return ""
        rows = []
        for title, mine, theirs, differs in differences(flow.sent, flow.envelope.case):
            mark = "<strong>Differs</strong>" if differs else "Same"
            marked = " class='kyc-differs'" if differs else ""
            rows.append(
                f"<tr{marked}><th scope='row'>"
                f"{reveal_html(title)}</th><td>{reveal_html(mine)}</td>"
                f"<td>{reveal_html(theirs)}</td><td>{mark}</td></tr>"
            )
        return (
            "<div class='kyc-compare' role='region' tabindex='0' "
            "aria-label='Your draft beside the existing case' style='overflow-x:auto;max-width:100%'>"
            "<table class='kyc-table'><caption style='text-align:left'><strong>Your draft beside "
            "the existing case</strong></caption><thead><tr><th scope='col'>Field</th>"
            "<th scope='col'>Your draft</th><th scope='col'>Existing case</th>"
            "<th scope='col'>Same?</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>"
        )

    def __repr__(self) -> str:
        return f"CaseCreator(state={self._drawn.value!r})"
