"""``CountryPicker``: a searchable ISO 3166-1 country input ("DE — Germany") that holds the code.

Why: the contract takes alpha-2 codes (``docs/api-contract.md``, "Countries"),
and people type names, often in their own language. A dropdown of 249
countries is slow to use by keyboard and cannot be searched by name; a free
text box lets "Deutschland" through to the API, which refuses it. This is one
ipywidgets ``Combobox`` (a native ``<input>`` with a ``<datalist>``):

- its suggestions read "DE — Germany", so typing a code or part of an English
  name ("germ") narrows the browser's list, and arrow keys and Enter pick one;
- what is typed and committed (Enter, or leaving the box) is looked up with
  :func:`~kyc_widgets.countries.match_country`: a code in any case, an
  alpha-3 code, an English, common or local name ("Deutschland", "España")
  becomes its code and the box shows "DE — Germany";
- a name of several countries ("Korea") or of none stays as typed, and the
  note under the box names the candidates. :attr:`CountryPicker.value` is then
  that text, so a form validating with the contract model shows the model's
  own refusal next to the field.

:attr:`CountryPicker.value` is the alpha-2 code (``None`` when the box is
empty); setting it (a code or a name) shows its label. It has ``description``
and ``disabled`` like an ipywidgets input, so
:class:`~kyc_widgets.form.schema_form.SchemaForm` uses it as a field's input:
the form finds the ``<input>`` inside it for its ARIA attributes, and observes
``value``. Importing this module registers it
(:func:`~kyc_widgets.form.custom_inputs.register_input`) for every field
marked ``json_schema_extra={"x-input": "country"}``, as the contract's
``country_of_onboarding`` is; ``widgets={name: country_input}`` puts it on
any other field of one form.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import traitlets

from kyc_widgets.countries import COUNTRY_CODES, country_label, country_labels, match_country
from kyc_widgets.form.custom_inputs import register_input

__all__ = ["COUNTRY_INPUT", "LABEL_SEPARATOR", "CountryPicker", "country_input"]

LABEL_SEPARATOR = " \u2014 "
"""Between the code and the name in a suggestion: "DE — Germany"."""

_PLACEHOLDER = "Type a code or a name, e.g. DE or Germany"

COUNTRY_INPUT = ("x-input", "country")
"""The ``json_schema_extra`` pair that asks every form for this picker."""


def _label_code(text: str) -> str | None:
    """``"DE — Germany"`` -> ``"DE"``: a suggestion picked from the list."""
    code, separator, _name = text.partition(LABEL_SEPARATOR)
    return code if separator and code in COUNTRY_CODES else None


class CountryPicker(W.VBox):
    """A country input that holds an ISO 3166-1 alpha-2 code (see the module docstring).

    ``show_note=False`` leaves out the note under the box, for a form that
    shows its own message for the field; ``label_width`` lines the label up
    with other inputs (the box is 20em wider).
    """

    value = traitlets.Unicode(
        None, allow_none=True, help="The alpha-2 code; the text typed when it is not one country"
    )

    def __init__(
        self,
        value: str | None = None,
        *,
        description: str = "Country",
        show_note: bool = True,
        placeholder: str = _PLACEHOLDER,
        label_width: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.combobox = W.Combobox(
            description=description,
            options=country_labels(),
            ensure_option=False,
            continuous_update=False,  # look up on Enter or leaving the box, never mid-word ("Ge")
            placeholder=placeholder,
            style={"description_width": label_width or "initial"},
            layout=W.Layout(width=f"calc({label_width} + 20em)" if label_width else "auto"),
        )
        self.note = W.HTML(layout=W.Layout(display="none"))
        self._busy = False
        super().__init__([self.combobox, self.note] if show_note else [self.combobox], **kwargs)
        self.add_class("kyc-country-picker")
        self.combobox.observe(self._typed, names="value")
        self.observe(self._given, names="value")
        if value:
            self._show(value)

    # -- ipywidgets input look-alike ------------------------------------------------

    @property
    def description(self) -> str:
        """The visible label (the input's accessible name)."""
        return str(self.combobox.description)

    @description.setter
    def description(self, text: str) -> None:
        self.combobox.description = text

    @property
    def disabled(self) -> bool:
        return bool(self.combobox.disabled)

    @disabled.setter
    def disabled(self, flag: bool) -> None:
        self.combobox.disabled = flag

    @traitlets.validate("tooltip")
    def _tooltip_on_the_input(self, proposal: dict[str, Any]) -> None:
        """A form gives its inputs a tooltip; it belongs on the box people type in.

        Kept off this ``VBox`` too: a box with a tooltip fails to render in
        ipywidgets 8.1 ("Could not create a view for model id ...").
        """
        self.combobox.tooltip = proposal["value"]

    @property
    def code(self) -> str | None:
        """The chosen alpha-2 code, or None while the box holds no single country."""
        return self.value if self.value in COUNTRY_CODES else None

    # -- behaviour --------------------------------------------------------------------

    def _typed(self, change: dict[str, Any]) -> None:
        if not self._busy:
            self._show(str(change["new"]))

    def _given(self, change: dict[str, Any]) -> None:
        if not self._busy:
            self._show(str(change["new"] or ""))

    def _show(self, text: str) -> None:
        """Look ``text`` up; show the code's label, or keep the text and say why."""
        typed = text.strip()
        code = _label_code(typed)
        note = ""
        if code is None and typed:
            match = match_country(typed)
            code = match.code
            if code is None:
                note = str(match.error()) + (" Choose one from the list." if match.ambiguous else "")
        value = code if code is not None else (typed or None)
        shown = country_label(code) if code is not None else typed
        self._busy = True
        try:
            self.value = value
            self.combobox.value = shown
            self.note.value = f"<p>{html.escape(note)}</p>" if note else ""
            self.note.layout.display = "" if note else "none"
        finally:
            self._busy = False


def country_input() -> CountryPicker:
    """The picker as a form's input: no label (the form gives the field's) and no note of
    its own (the form shows the field's message)."""
    return CountryPicker(description="", show_note=False)


register_input(lambda _spec: country_input(), extra=COUNTRY_INPUT)
