"""``ApiStatus``: can this notebook talk to the KYC API, and as whom?

Why: "it does not work" has four different causes that need four different
fixes: a wrong base URL (configuration), a network or server down
(reachable), a degraded service (ready), an expired or wrong token
(authenticated). Showing them as separate rows lets an analyst tell them apart
without reading a traceback. The rows come from ``client.diagnose()``, which
reports them as separate facts.

The token itself is never displayed, only whether one is configured: widget
values are saved into the notebook file.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from kyc_widgets.api.errors import KycApiError
from kyc_widgets.api.protocols import AnyCaseApi
from kyc_widgets.widgets.calls import NoEventLoopError, UnexpectedFailure, run_call
from kyc_widgets.widgets.html import support_details_html

if TYPE_CHECKING:
    from kyc_widgets.api.client import Diagnosis

__all__ = ["STATUS_ROWS", "ApiStatus"]

STATUS_ROWS: tuple[str, ...] = ("Configuration", "Reachable", "Ready", "Authenticated")


class ApiStatus(widgets.VBox):
    """Four rows (configuration, reachable, ready, authenticated) and a "Check again" button.

    The check runs on construction and on every click of ``check_button``
    (or :meth:`refresh`); every error is caught and shown in the rows.
    ``rows`` maps each row name to its visible text (tests read it).

    ``client`` may be a :class:`~kyc_widgets.api.client.KycApiClient` (the check
    runs right away) or an :class:`~kyc_widgets.api.client.AsyncKycApiClient`: its
    ``diagnose()`` coroutine is scheduled on the running event loop (the
    kernel's, in a notebook), so the notebook stays responsive and the rows
    read "checking…" until it ends; ``pending`` is that task (await it to wait
    for the rows). An async client outside a running loop (a plain script) is
    reported in the rows rather than run in a throw-away loop: its pooled
    connections would stay bound to that loop and break the client's next use.
    """

    def __init__(self, client: AnyCaseApi, *, check_now: bool = True, **kwargs: Any) -> None:
        self._client = client
        self.diagnosis: Diagnosis | None = None
        self.pending: asyncio.Task[None] | None = None
        self.row_widgets: dict[str, widgets.Label] = {}
        lines: list[widgets.Widget] = []
        for name in STATUS_ROWS:
            value = widgets.Label(value="not checked yet")
            self.row_widgets[name] = value
            title = widgets.Label(
                value=f"{name}:", layout=widgets.Layout(width="9em"), style={"font_weight": "bold"}
            )
            lines.append(widgets.HBox([title, value]))
        self.support = widgets.HTML(value="")
        self.check_button = widgets.Button(
            description="Check again", icon="refresh", tooltip="Run the API checks again"
        )
        self.check_button.on_click(lambda _b: self.refresh())
        heading = widgets.HTML(value="<b>KYC API status</b>")
        super().__init__(children=[heading, *lines, self.support, self.check_button], **kwargs)
        if check_now:
            self.refresh()

    @property
    def rows(self) -> dict[str, str]:
        """Row name -> the text shown in that row right now."""
        return {name: label.value for name, label in self.row_widgets.items()}

    def refresh(self) -> None:
        """Run ``client.diagnose()`` and update every row; never raises.

        With an async client and a running loop this only starts the check
        (see ``pending``); a click while a check runs is ignored.
        """
        if self.pending is not None and not self.pending.done():
            return
        self.check_button.disabled = True
        for label in self.row_widgets.values():
            label.value = "checking…"
        self.support.value = ""
        try:
            self._show_configuration()
        except Exception as exc:  # noqa: BLE001 - a status widget must never raise
            self._finish(None, UnexpectedFailure(exc))
            return
        self.pending = run_call(self._client, self._client.diagnose, self._finish)

    def _finish(self, diagnosis: Diagnosis | None, error: KycApiError | None) -> None:
        """Show a finished check (its diagnosis, or why it failed) and re-enable the button."""
        try:
            if isinstance(error, NoEventLoopError):
                self._show_failure(f"Error: {error.message}", None)
            elif isinstance(error, UnexpectedFailure):
                # Only the exception type: arbitrary exception text may carry URLs or data.
                self._show_failure(f"Error: the check failed ({error.cause_type}).", None)
            elif error is not None:
                self._show_failure(
                    f"Error: the check failed: {error.message}", error.support_details()
                )
            elif diagnosis is not None:
                self.diagnosis = diagnosis
                self._show_diagnosis(diagnosis)
        finally:
            self.check_button.disabled = False

    # -- rendering ----------------------------------------------------------------------------
    def _show_configuration(self) -> None:
        base_url = self._client.base_url or "not set"
        token = "set" if self._client.has_token else "not set"
        self.row_widgets["Configuration"].value = f"base URL: {base_url}; token: {token}"

    def _show_failure(self, message: str, support: str | None) -> None:
        for name in STATUS_ROWS[1:]:
            self.row_widgets[name].value = f"unknown. {message}"
        self._show_support(support)

    def _show_diagnosis(self, d: Diagnosis) -> None:
        rows = self.row_widgets
        if d.reachable:
            rows["Reachable"].value = "OK: the API answered"
        else:
            why = d.reach_error or "Check the base URL and your network."
            rows["Reachable"].value = f"Problem: not reachable. {why}"

        release = f" (release {d.release})" if d.release else ""
        if d.ready is True:
            rows["Ready"].value = f"OK: ready{release}"
        elif d.ready is False:
            failed = ", ".join(d.failed_checks) if d.failed_checks else "none reported"
            why = f" ({d.ready_error})" if d.ready_error else ""
            rows["Ready"].value = f"Problem: not ready{release}; failed checks: {failed}{why}"
        elif d.ready_error:
            rows["Ready"].value = f"unknown ({d.ready_error})"
        else:
            rows["Ready"].value = "unknown (the API could not be reached)"

        if d.authenticated is True:
            who = f" as {d.principal}" if d.principal else ""
            rows["Authenticated"].value = f"OK: signed in{who}"
        elif not d.token_configured:
            rows["Authenticated"].value = (
                "Problem: no token is configured. Set one (in a notebook: "
                "kyc_widgets.prompt_token(client) or client.set_token(...); in the app: "
                "restart it with KYC_API_TOKEN set; see docs/tokens.md)."
            )
        elif d.authenticated is False:
            why = d.auth_error or "Sign in again or set a fresh token."
            rows["Authenticated"].value = f"Problem: the token was not accepted. {why}"
        elif d.reachable and d.auth_error:
            rows["Authenticated"].value = f"unknown: the check failed. {d.auth_error}"
        else:
            rows["Authenticated"].value = "unknown (the API could not be reached)"

        ids = [rid for rid in d.request_ids if rid]
        self._show_support("request_ids: " + ", ".join(ids) if ids else None)

    def _show_support(self, text: str | None) -> None:
        self.support.value = support_details_html(text or "", collapsed=True)

    def __repr__(self) -> str:
        return f"ApiStatus(base_url={self._client.base_url!r})"
