"""The read-only case workspace: where an analyst lands after creating or opening a case.

Why a separate widget: ``docs/api-contract.md`` says "created: route the user
to the case workspace" and "server-owned fields are displayed, never edited". In a
notebook the "route" is this panel. It is built from HTML only (no input
widgets), so nothing in it can be edited by accident, and the same HTML is
served by :meth:`CaseWorkspace._repr_html_` so exported notebooks and plain
viewers (nbconvert, GitHub) still show the case without a widget frontend.

Every value goes through :func:`kyc_widgets.text.reveal_html`: escaped, because
names are user input and may contain markup such as ``<script>``, and with
invisible or direction-changing characters drawn as ``⟨U+202E⟩``, because a
case created elsewhere may hold a bidi override that would make a name read
differently from what is stored.

Failures never surface as tracebacks: :meth:`CaseWorkspace.load` turns a 404
(or no id at all) into a *missing* state and any other
:class:`~kyc_widgets.api.errors.KycApiError` into an *error* state; when the API
answered, both carry copyable support details (``request_id``, status, code)
for a support handoff.

Coded values (user type, relationship type, status, priority) are shown as
words ("KYC refresh", not ``KYC_REFRESH``). The record holds them as plain
strings, because the record side may know values the create side does not
(a final status such as ``APPROVED``): those read as words too ("Approved").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, Literal

import ipywidgets as widgets

from kyc_widgets.api.errors import KycApiError, NotFoundError
from kyc_widgets.api.protocols import AnyCaseApi, AsyncCaseApi
from kyc_widgets.labels import words
from kyc_widgets.models import CaseEnvelope, KycCaseRecord
from kyc_widgets.text import reveal_html
from kyc_widgets.widgets.calls import as_api_error, check_event_loop, run_call
from kyc_widgets.widgets.html import support_details_html

__all__ = ["CODED_FIELDS", "WORKSPACE_GROUPS", "CaseWorkspace", "WorkspaceState"]

WorkspaceState = Literal["loaded", "missing", "error", "loading"]

WORKSPACE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Subject", ("legal_first_name", "legal_last_name", "user_internal_id", "user_type")),
    ("Case", ("kyc_case_id", "relationship_type", "current_status", "case_priority")),
    (
        "Provider and programme",
        ("agency_name", "regulated_provider_name", "programme_name", "country_of_onboarding"),
    ),
    ("Assignment", ("assigned_team", "assigned_analyst_name", "assigned_analyst_email")),
    (
        "Server record",
        ("id", "kyc_case_id", "row_version", "created_by", "created_at", "updated_at", "principal"),
    ),
)
"""Display groups, in reading order. ``principal`` comes from the envelope, not the record."""

CODED_FIELDS: frozenset[str] = frozenset(
    {"user_type", "relationship_type", "current_status", "case_priority"}
)
"""Fields holding enum codes: shown as words, whatever the code (known or not)."""

MISSING_MESSAGE = "No case with this ID was found"
NO_ID_MESSAGE = "No case ID was given"
LOADING_MESSAGE = "Loading the case…"

_NOT_SET = "not set"

_STYLE = """
<style>
.kyc-case-workspace { font-family: inherit; max-width: 56em; }
.kyc-case-workspace h3 { margin: 0.2em 0 0.5em 0; }
.kyc-case-workspace .kyc-ws-groups { display: flex; flex-wrap: wrap; gap: 0.5em 2em; }
.kyc-case-workspace fieldset { border: 1px solid #ccc; border-radius: 4px; padding: 0.3em 0.8em;
  margin: 0; min-width: 20em; }
.kyc-case-workspace legend { font-weight: bold; padding: 0 0.3em; }
.kyc-case-workspace table { border-collapse: collapse; }
.kyc-case-workspace th { text-align: left; font-weight: normal; color: #555; padding: 0.1em 1em 0.1em 0;
  vertical-align: top; }
.kyc-case-workspace td { padding: 0.1em 0; word-break: break-word; }
.kyc-case-workspace .kyc-ws-unset { color: #595959; font-style: italic; }
</style>
"""


def field_label(name: str) -> str:
    """The label shown for a record field: the model's own title, so form and panel agree."""
    if name == "principal":
        title = CaseEnvelope.model_fields["principal"].title
        return title or "Principal"
    info = KycCaseRecord.model_fields[name]
    return info.title or words(name)


def _display_value(value: Any, *, coded: bool = False) -> str | None:
    """A record value as display text; None means "not set".

    ``coded``: the value is an enum code (``KYC_REFRESH``), shown as words.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if hasattr(value, "value") and isinstance(value.value, str):  # an Enum
        return words(value.value)
    text = str(value)
    if not text.strip():
        return None
    return words(text.strip()) if coded else text


def _blank(kyc_case_id: Any) -> bool:
    return kyc_case_id is None or (isinstance(kyc_case_id, str) and not kyc_case_id.strip())


class CaseWorkspace(widgets.VBox):
    """A read-only panel for one KYC case, grouped the way an analyst reads a case.

    ``state`` is ``"loaded"`` (``envelope`` holds the case), ``"missing"`` (the
    API answered 404, or no id was given), ``"error"`` (any other failure) or
    ``"loading"`` (an async load still running, see :meth:`load`); missing and
    error carry support details instead of a traceback when the API answered.
    Build it from an envelope you already have, or with :meth:`load` from a
    client and an id. ``state=`` is only for the states without an envelope
    or an error (``"missing"``, ``"loading"``).
    """

    def __init__(
        self,
        envelope: CaseEnvelope | None = None,
        *,
        error: KycApiError | None = None,
        kyc_case_id: str | None = None,
        state: Literal["missing", "loading"] | None = None,
        **kwargs: Any,
    ) -> None:
        if envelope is None and error is None and state is None:
            raise ValueError("CaseWorkspace needs an envelope (or, from load(), an error)")
        self.envelope: CaseEnvelope | None = None
        self.error: KycApiError | None = None
        self.kyc_case_id: str | None = kyc_case_id
        self.state: WorkspaceState = state or "missing"
        self.pending: asyncio.Task[None] | None = None
        """The running load of an async client (``"loading"`` state), else None."""
        self.panel = widgets.HTML()
        self._show(envelope, error, state)
        kwargs.setdefault("layout", widgets.Layout(width="100%"))
        super().__init__(children=[self.panel], **kwargs)
        self.add_class("kyc-case-workspace-widget")

    def _show(
        self,
        envelope: CaseEnvelope | None,
        error: KycApiError | None,
        state: WorkspaceState | None = None,
    ) -> None:
        """Set the case (or the failure) and render it."""
        self.envelope = envelope
        self.error = error if envelope is None else None
        if envelope is not None:
            self.kyc_case_id = envelope.case.kyc_case_id
            self.state = "loaded"
        elif error is not None:
            self.state = "missing" if isinstance(error, NotFoundError) else "error"
        elif state is not None:
            self.state = state
        self.panel.value = self.to_html()

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def load(cls, client: AnyCaseApi, kyc_case_id: str | None) -> CaseWorkspace:
        """Load a case by its ``kyc_case_id``; failures become a missing/error state, never raise.

        A blank or missing id shows the missing state without asking the API.
        With an :class:`~kyc_widgets.api.client.AsyncKycApiClient` inside a running
        event loop (a notebook kernel), the workspace is returned at once in the
        ``"loading"`` state and fills itself in when the answer arrives
        (``pending`` is that task). In async code, ``await CaseWorkspace.aload(...)``
        is the direct way. An async client with no running loop (a plain
        script) raises ``TypeError`` saying so (see :mod:`.calls`).
        """
        if kyc_case_id is None or _blank(kyc_case_id):
            return cls(kyc_case_id=None, state="missing")
        check_event_loop(
            client, "CaseWorkspace.load",
            "In async code: `await CaseWorkspace.aload(client, kyc_case_id)`.",
        )
        workspace = cls(kyc_case_id=kyc_case_id, state="loading")
        workspace.pending = run_call(
            client, lambda: client.get_case(kyc_case_id), workspace._show
        )
        return workspace

    @classmethod
    async def aload(cls, client: AsyncCaseApi, kyc_case_id: str | None) -> CaseWorkspace:
        """:meth:`load` for an :class:`~kyc_widgets.api.client.AsyncKycApiClient`, awaited."""
        if kyc_case_id is None or _blank(kyc_case_id):
            return cls(kyc_case_id=None, state="missing")
        workspace = cls(kyc_case_id=kyc_case_id, state="loading")
        await workspace._complete(client.get_case(kyc_case_id))
        return workspace

    async def _complete(self, answer: Awaitable[CaseEnvelope]) -> None:
        try:
            envelope = await answer
        except Exception as exc:  # noqa: BLE001 - a failure is a state, never a traceback
            self._show(None, as_api_error(exc))
        else:
            self._show(envelope, None)

    # -- read-only views ----------------------------------------------------------------------
    @property
    def values(self) -> dict[str, str | None]:
        """Field name -> the text displayed for it (None when not set); empty unless loaded."""
        if self.envelope is None:
            return {}
        record = self.envelope.case
        shown: dict[str, str | None] = {}
        for _group, names in WORKSPACE_GROUPS:
            for name in names:
                raw = self.envelope.principal if name == "principal" else getattr(record, name)
                shown[name] = _display_value(raw, coded=name in CODED_FIELDS)
        return shown

    @property
    def message(self) -> str | None:
        """The plain-text message of a missing/error state (None when loaded)."""
        if self.state == "missing":
            return MISSING_MESSAGE if self.kyc_case_id else NO_ID_MESSAGE
        if self.state == "loading":
            return LOADING_MESSAGE
        if self.state == "error" and self.error is not None:
            return f"Error: the case could not be loaded. {self.error.message}"
        return None

    @property
    def support_details(self) -> str | None:
        """request_id/status/code text for support (None when loaded)."""
        return self.error.support_details() if self.error is not None else None

    # -- rendering ----------------------------------------------------------------------------
    def to_html(self) -> str:
        """The panel as standalone HTML (every value escaped); also what the widget displays."""
        if self.envelope is None:
            return _STYLE + self._problem_html()
        return _STYLE + self._case_html(self.envelope)

    def _repr_html_(self) -> str:
        return self.to_html()

    def _case_html(self, envelope: CaseEnvelope) -> str:
        esc = reveal_html
        case_id = esc(envelope.case.kyc_case_id)
        values = self.values
        parts = [
            (f'<section class="kyc-case-workspace" data-state="loaded" '
            f'data-kyc-case-id="{case_id}" aria-label="Case {case_id}">'),
            f'<h3>Case <span class="kyc-case-id" data-testid="kyc-case-id">{case_id}</span></h3>',
            '<div class="kyc-ws-groups">',
        ]
        for group, names in WORKSPACE_GROUPS:
            slug = group.split()[0].lower()
            parts.append(f'<fieldset class="kyc-ws-group" data-group="{esc(slug)}">')
            parts.append(f"<legend>{esc(group)}</legend><table>")
            for name in names:
                shown = values.get(name)
                cell = (
                    esc(shown)
                    if shown is not None
                    else f'<span class="kyc-ws-unset">{_NOT_SET}</span>'
                )
                parts.append(
                    f'<tr><th scope="row">{esc(field_label(name))}</th>'
                    f'<td data-field="{esc(name)}">{cell}</td></tr>'
                )
            parts.append("</table></fieldset>")
        parts.append("</div></section>")
        return "".join(parts)

    def _problem_html(self) -> str:
        esc = reveal_html
        requested = esc(self.kyc_case_id or "")
        if self.state == "loading":
            return (
                f'<section class="kyc-case-workspace" data-state="loading" '
                f'data-kyc-case-id="{requested}" role="status">'
                f"<h3>{esc(LOADING_MESSAGE)}</h3>"
                + (f"<p>Requested case ID: <code>{requested}</code></p>" if requested else "")
                + "</section>"
            )
        if self.state == "missing" and not requested:
            heading = NO_ID_MESSAGE
            explain = "Enter the external case ID of the case to load."
        elif self.state == "missing":
            heading = MISSING_MESSAGE
            explain = (
                "Check the external case ID for typos: IDs are case-sensitive, so "
                "KYC-2024-000123 and kyc-2024-000123 are two IDs. The case may also live in "
                "another environment than the API named at the top of the page."
            )
        else:
            heading = "Error: the case could not be loaded"
            explain = self.error.message if self.error is not None else ""
        parts = [
            (f'<section class="kyc-case-workspace" data-state="{self.state}" '
            f'data-kyc-case-id="{requested}" role="alert">'),
            f"<h3>{esc(heading)}</h3>",
        ]
        if requested:
            parts.append(f"<p>Requested case ID: <code>{requested}</code></p>")
        parts.append(f"<p>{esc(explain)}</p>")
        parts.append(support_details_html(self.support_details or ""))
        parts.append("</section>")
        return "".join(parts)

    def __repr__(self) -> str:
        # No case data in a repr: reprs end up in logs and tracebacks.
        return f"CaseWorkspace(state={self.state!r})"
