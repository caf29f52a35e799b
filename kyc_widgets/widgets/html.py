"""HTML pieces the widgets share: support details and a worded status notice.

Why one definition: support details (``request_id``, status, code, from
:meth:`~kyc_widgets.api.errors.KycApiError.support_details`) are what an
analyst copies into a ticket, so they look and select the same in every
widget. Every text is escaped, and hidden or direction-changing characters
are drawn visibly (:func:`kyc_widgets.text.reveal_html`): messages may quote
user input, or a value an API stored before it refused such characters.
"""

from __future__ import annotations

import html
from typing import Literal

from kyc_widgets.text import reveal_html

__all__ = ["TONE_COLOURS", "Tone", "notice_html", "support_details_html"]

Tone = Literal["ok", "info", "warn", "error"]

TONE_COLOURS: dict[Tone, str] = {  # colour only reinforces the title word, never replaces it
    "ok": "var(--jp-success-color1, #2e7d32)",
    "info": "var(--jp-info-color1, #0277bd)",
    "warn": "var(--jp-warn-color1, #b26a00)",
    "error": "var(--jp-error-color1, #b00020)",
}

SUPPORT_INTRO = "Support details (select and copy into a support ticket):"


def support_details_html(details: str, *, collapsed: bool = False) -> str:
    """Selectable plain-text support details ("" when there are none).

    ``collapsed`` puts them behind a "Support details" disclosure, for widgets
    where they are informative rather than the next step (a successful check).
    """
    if not details:
        return ""
    block = (
        '<pre class="kyc-support" style="user-select:text;white-space:pre-wrap;'
        'background:var(--jp-layout-color2, #f6f6f6);padding:4px 8px;margin:2px 0">'
        f"{reveal_html(details, keep_line_breaks=True)}</pre>"
    )
    if collapsed:
        return f"<details><summary>Support details</summary>{block}</details>"
    return f"<div>{html.escape(SUPPORT_INTRO)}</div>{block}"


def notice_html(title: str, text: str, *, tone: Tone, alert: bool, state: str = "") -> str:
    """A status line: ``title`` in bold words ("Error:"), then ``text``; a coloured edge.

    ``alert`` makes screen readers announce it at once (failures); otherwise it
    is a polite status.
    """
    strong = f"<strong>{html.escape(title)}</strong> " if title else ""
    data = f' data-state="{html.escape(state)}"' if state else ""
    return (
        f'<div role="{"alert" if alert else "status"}"{data} style="border-left:4px solid '
        f'{TONE_COLOURS[tone]};padding:4px 8px;margin:4px 0;white-space:normal">'
        f"{strong}{reveal_html(text)}</div>"
    )
