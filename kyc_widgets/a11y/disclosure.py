"""``Disclosure``: a show/hide section whose header is a real button.

Why not ``ipywidgets.Accordion``: its header is drawn as a non-focusable
element, so a keyboard user cannot open it, and its grey title text falls
under 4.5:1 contrast. Here the header is a ``Button`` (reached by Tab,
operated by Space or Enter) that says in its text and its ``aria-expanded``
whether the section is open, and ``aria-controls`` names the section.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as W

from kyc_widgets.a11y.bridge import A11yBridge, new_scope

__all__ = ["Disclosure"]


class Disclosure(W.VBox):
    """A button titled ``title`` that shows or hides ``children`` below it."""

    def __init__(
        self, title: str, children: Sequence[W.Widget], *, expanded: bool = False, **kwargs: Any
    ) -> None:
        scope = new_scope("kyc-disclosure")
        self.title = title
        self.button = W.Button(
            description=title, tooltip="", layout=W.Layout(width="auto", align_self="flex-start")
        )
        self.button.add_class(f"{scope}-button")
        self.button.on_click(lambda _b: self.toggle())
        self.body = W.VBox(list(children), layout=W.Layout(margin="2px 0 0 1.2em"))
        self.body.add_class(f"{scope}-body")
        self.bridge = A11yBridge(scope)
        super().__init__([self.button, self.body, self.bridge], **kwargs)
        self.add_class(scope)
        self.add_class("kyc-disclosure")
        self._scope = scope
        self._expanded = not expanded
        self.expanded = expanded

    @property
    def expanded(self) -> bool:
        """True while the section is shown."""
        return self._expanded

    @expanded.setter
    def expanded(self, value: bool) -> None:
        value = bool(value)
        if value == self._expanded:
            return
        self._expanded = value
        self.button.icon = "caret-down" if value else "caret-right"
        self.body.layout.display = None if value else "none"
        body_id = f"{self._scope}-section"
        self.bridge.set(f".{self._scope}-body", {"id": body_id})
        self.bridge.set(
            f".{self._scope}-button",
            {"aria-expanded": "true" if value else "false", "aria-controls": body_id},
        )

    def toggle(self) -> None:
        """Open a closed section, close an open one (the header's click)."""
        self.expanded = not self.expanded

    def focus_button(self) -> None:
        """Put keyboard focus on the header."""
        self.bridge.move_focus(f".{self._scope}-button")
