"""``LeafEditor``: one labelled input, its help text and its error message.

Why: this is the row every level of a form is made of, with the rules that
were the whole of the flat form: the label is the input's own ``description``
(a ``<label for=...>`` in ipywidgets 8); the help and error texts carry ids
that the input's ``aria-describedby`` names, and ``aria-invalid`` marks it in
error; a secret's text is moved out of the widget as soon as it arrives, so
saved widget state never holds it.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W
from pydantic import SecretStr

from kyc_widgets.form.custom_inputs import custom_input_for
from kyc_widgets.form.editor import MISSING, Editor, FormContext, Override
from kyc_widgets.form.fields import FieldSpec
from kyc_widgets.form.inputs import build_input, normalise_choices, read_input, write_input
from kyc_widgets.form.messages import help_html
from kyc_widgets.form.shapes import is_supported, unsupported_reason

__all__ = ["LeafEditor"]

_TEXT_KINDS = ("text", "email", "secret", "uuid", "url")
SECRET_ENTERED = "•••••••• entered (type to replace)"


class LeafEditor(Editor):
    """One input for a scalar value (or a caller's own widget for any value)."""

    def __init__(
        self,
        spec: FieldSpec,
        ctx: FormContext,
        path: str,
        token: str,
        parent: Editor | None,
        *,
        override: Override | None = None,
    ) -> None:
        super().__init__(spec, ctx, path, token, parent)
        self._secret: Any = None
        self.custom = override is not None
        self.input = self._make_input(override)
        if hasattr(self.input, "disabled"):
            self.input.disabled = self.read_only or ctx.locked or spec.kind == "const"
        ctx.mark(self.input, "input", token, with_id=False)
        self.error = self.make_error()
        parts: list[W.Widget] = [self.input]
        if spec.description:
            parts.append(self._make_help(spec.description))
        parts.append(self.error)
        self.widget = W.VBox(parts, layout=ctx.row_layout)
        self.input.observe(self._changed, names="value")
        self.aria()

    def _make_input(self, override: Override | None) -> W.ValueWidget:
        spec, ctx = self.spec, self.ctx
        if override is None:
            override = custom_input_for(spec)
            self.custom = override is not None
        if override is not None:
            widget = override if isinstance(override, W.Widget) else override()
            if hasattr(widget, "description") and not widget.description:
                widget.description = spec.label
            if hasattr(widget, "tooltip") and not widget.tooltip:
                widget.tooltip = spec.description or spec.title
            return widget
        if not is_supported(spec):
            raise TypeError(unsupported_reason(spec))
        narrowed = ctx.option(ctx.choices, self.path)
        return build_input(
            spec,
            label_width=ctx.label_width,
            input_width=ctx.input_width,
            narrowed=normalise_choices(spec, narrowed) if narrowed is not None else None,
            styles=ctx.styles,
            preset=ctx.preset(self.path),
        )

    def _make_help(self, description: str) -> W.HTML:
        help_text = W.HTML(
            help_html(description),
            layout=self.ctx.help_layout,
            style=self.ctx.html_style,
        )
        self.ctx.mark(help_text, "help", self.token)
        return help_text

    @property
    def is_secret(self) -> bool:
        return self.spec.kind == "secret" and not self.custom

    def retitle(self, title: str) -> None:
        self.title = title
        if hasattr(self.input, "description"):
            self.input.description = title + (" *" if self.spec.required else "")

    # -- values ---------------------------------------------------------------------------

    def read(self) -> Any:
        if self.is_secret:
            value = self._secret
            return SecretStr(value) if self.spec.secret_type and value is not None else value
        return read_input(self.spec, self.input)

    def payload(self) -> Any:
        """The raw value, or ``MISSING`` for a required field left blank.

        A blank required text is missing even for a plain ``str`` that would
        accept ``""``: the ``*`` promises that an empty box is not sent.
        """
        value = self.read()
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        blank = value is None or (isinstance(value, str) and not value.strip())
        if (
            blank
            and self.spec.required
            and not self.spec.nullable
            and is_supported(self.spec)  # an unsupported type's own widget: the model decides
            and (self.spec.kind in _TEXT_KINDS or value is None)
        ):
            return MISSING
        return value

    def write(self, value: Any) -> None:
        with self.ctx.quiet():
            if self.is_secret:
                self._keep_secret(value)
            else:
                write_input(self.spec, self.input, value)

    def _keep_secret(self, value: Any) -> None:
        """Hold a secret in the kernel only and empty the box.

        ipywidgets syncs ``Password.value`` to the front end like any value, and
        "Save widget state" writes front-end state into the notebook file. So
        the typed text is moved out of the widget as soon as it arrives (on
        blur/Enter) and only a placeholder says that something was entered.
        """
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        self._secret = None if value in (None, "") else value
        with self.ctx.quiet():
            self.input.value = ""
        if hasattr(self.input, "placeholder"):
            self.input.placeholder = SECRET_ENTERED if self._secret is not None else ""

    def _changed(self, change: dict[str, Any]) -> None:
        """The user changed the input (on blur/Enter for text): the form re-checks this field."""
        if self.ctx.is_quiet:
            return
        if self.is_secret:
            if not change["new"]:
                return  # our own clearing of the box
            self._keep_secret(change["new"])
        self.ctx.on_input(self)

    # -- errors, focus, state -------------------------------------------------------------

    def aria(self) -> None:
        described = [self.ctx.part("help", self.token)] if self.spec.description else []
        if self.message:
            described.append(self.ctx.part("error", self.token))
        self.ctx.bridge.set(
            self.focus_selector(),
            {
                "aria-invalid": "true" if self.message else None,
                "aria-describedby": " ".join(described) or None,
            },
        )

    def focus_selector(self) -> str:
        part = f".{self.ctx.part('input', self.token)}"
        return ", ".join(f"{part} {tag}" for tag in ("input", "select", "textarea"))

    def set_locked(self, locked: bool) -> None:
        if hasattr(self.input, "disabled"):
            self.input.disabled = locked or self.read_only or self.spec.kind == "const"
