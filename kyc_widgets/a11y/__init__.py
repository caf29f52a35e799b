"""Accessibility helpers the widgets share: the ARIA/focus bridge and a keyboard disclosure."""

from __future__ import annotations

from kyc_widgets.a11y.bridge import A11yBridge, Attributes, new_scope
from kyc_widgets.a11y.disclosure import Disclosure

__all__ = ["A11yBridge", "Attributes", "Disclosure", "new_scope"]
