"""``A11yBridge``: ARIA attributes and focus for widgets drawn by ipywidgets.

Why: WCAG 2.1 AA needs fields in error marked ``aria-invalid`` and tied to
their message (``aria-describedby``), a disclosure button that says whether it
is open (``aria-expanded``), and focus moved to what changed (the new case's
heading, the error summary). ipywidgets 8 renders its inputs without a way to
set attributes on them, and its ``focus()`` reaches only input views. This
invisible `anywidget <https://anywidget.dev>`_ view does both inside the
widget that holds it: its ES module ships in this package (``bridge.js``), so
nothing is fetched at run time, and it works wherever ipywidgets 8 widgets do
(Voila, JupyterLab 4, Notebook 7).

Python side: :meth:`A11yBridge.set` ``(selector, {attribute: value})`` (a
``None`` value removes the attribute) and :meth:`A11yBridge.move_focus`. Selectors
are read inside the outermost element carrying the ``scope`` class (so a
widget that draws one of its parts inside a larger widget marks that one with
the class too); mark elements with ``widget.add_class(...)`` and select them
by that class. Without
a browser (tests, a plain kernel) the rules are just kept in the model, which
is what the widget tests read.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anywidget
import traitlets

__all__ = ["A11yBridge", "Attributes", "new_scope"]

Attributes = Mapping[str, str | None]

_ESM = (Path(__file__).with_name("bridge.js")).read_text(encoding="utf-8")


def new_scope(prefix: str = "kyc") -> str:
    """A class name unique to one widget instance (the bridge's scope, element ids)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class A11yBridge(anywidget.AnyWidget):
    """Sets ARIA attributes and moves focus within the element that has class ``scope``."""

    _esm = _ESM
    scope = traitlets.Unicode("").tag(sync=True)
    rules = traitlets.Dict().tag(sync=True)
    """CSS selector -> {attribute: value or None}; re-applied whenever the scope re-renders."""
    focus_request = traitlets.Dict().tag(sync=True)
    """{"selector", "reveal", "serial"}: the latest focus request (a new serial = a new move)."""

    def __init__(self, scope: str, **kwargs: Any) -> None:
        super().__init__(scope=scope, **kwargs)
        self.layout.width = "0px"
        self.layout.height = "0px"
        self.layout.margin = "0px"

    def set(self, selector: str, attributes: Attributes) -> None:
        """Give every element matching ``selector`` these attributes (``None`` removes one)."""
        current = dict(self.rules.get(selector, {}))
        current.update(attributes)
        if current != self.rules.get(selector):
            self.rules = {**self.rules, selector: current}

    def attributes(self, selector: str) -> dict[str, str]:
        """The attributes set for ``selector`` (the removed ones left out)."""
        return {k: v for k, v in self.rules.get(selector, {}).items() if v is not None}

    def move_focus(self, selector: str, *, reveal: str | None = None) -> None:
        """Move keyboard focus to the first element matching ``selector``, once it is shown.

        A target that is not focusable by nature (a heading, a message) gets
        ``tabindex="-1"`` first. ``reveal`` scrolls that element (e.g. a message
        with its actions) into view instead of only the target.
        """
        serial = int(self.focus_request.get("serial", 0)) + 1
        self.focus_request = {"selector": selector, "reveal": reveal, "serial": serial}

    @property
    def focused(self) -> str | None:
        """The selector of the latest focus request (None before any)."""
        return self.focus_request.get("selector")
