"""``ModelEditor``: a nested model as a titled, collapsible group of its fields' editors.

Why a group of its own: an address or an identity document is one thing to an
analyst; its fields read as a unit under its title, and a long form folds
away what is done. The header is a real button (reached by Tab, operated by
Space or Enter, ``aria-expanded``), the body is a ``role="group"`` named by
that header, so a screen reader says "Address, group" before "City". The
same editor, without a header, is the body of a list item, of a union's
option, and the form's top level.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as W
from pydantic import BaseModel

from kyc_widgets.form.editor import MISSING, Editor, FormContext, Loc
from kyc_widgets.form.fields import FieldSpec, ModelShape
from kyc_widgets.form.messages import help_html
from kyc_widgets.form.paths import css_token, join
from kyc_widgets.form.shapes import field_specs

__all__ = ["ModelEditor"]


class ModelEditor(Editor):
    """The fields of one model, each by its own editor; ``header`` makes it collapsible.

    ``specs`` overrides which fields are shown and in which order (the form's
    ``exclude``/``order``); ``fixed`` holds fields the editor fills itself (a
    discriminated union's tag), drawn nowhere. ``bare``: the form's top level,
    whose rows the form draws itself; its message text is the form's summary
    (given here), which the form writes.
    """

    def __init__(
        self,
        spec: FieldSpec,
        ctx: FormContext,
        path: str,
        token: str,
        parent: Editor | None,
        *,
        specs: list[FieldSpec] | None = None,
        header: bool = True,
        bare: W.HTML | None = None,
        fixed: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(spec, ctx, path, token, parent)
        assert isinstance(spec.shape, ModelShape)
        self.fixed = dict(fixed or {})
        shown = specs if specs is not None else list(field_specs(spec.shape.model))
        self.editors: dict[str, Editor] = {}
        for child in shown:
            if child.name in self.fixed:
                continue
            part = self._part_of(child)
            child_token = css_token(part) if not token else f"{token}--{css_token(part)}"
            self.editors[child.name] = ctx.make(child, join(path, part), child_token, self)
        self._keys = {e.spec.key: name for name, e in self.editors.items()}
        self._all_keys = {s.name: s.key for s in shown}
        self.header: W.Button | None = None
        self._expanded = True
        if bare is not None:  # the form's top level: the form draws the rows itself
            self.error = bare
            self.body = self.widget = bare
            return
        self.error = self.make_error(indent=False)
        if header:
            self.widget = self._framed()
        else:
            self.body = W.VBox([*self._help(), self.error, *self.rows()])
            self.widget = self.body

    def _part_of(self, spec: FieldSpec) -> str:
        """The field's part of a path: its name, or its key in a form ``by_alias``."""
        return spec.key if self.ctx.by_alias else spec.name

    def rows(self) -> list[W.Widget]:
        """The drawn rows of the fields, in order."""
        return [e.widget for e in self.editors.values()]

    def _help(self) -> list[W.Widget]:
        if not self.spec.description:
            return []
        text = W.HTML(help_html(self.spec.description), style=self.ctx.html_style)
        self.ctx.mark(text, "help", self.token)
        return [text]

    def _framed(self) -> W.Widget:
        """Header button, then the error, then the body (a named group) that folds away."""
        ctx = self.ctx
        self.header = W.Button(
            description=self.spec.label,
            icon="caret-down",
            tooltip="",
            layout=W.Layout(width="auto", align_self="flex-start"),
        )
        self.header.add_class("kyc-form-group-header")
        header_id = ctx.mark(self.header, "group", self.token)
        self.header.on_click(lambda _b: self.toggle())
        self.body = W.VBox(
            [*self._help(), *self.rows()],
            layout=W.Layout(margin="2px 0 8px 0.6em", padding="0 0 0 0.8em",
                            border_left="2px solid var(--jp-border-color1, #bdbdbd)"),
        )
        body_id = ctx.mark(self.body, "body", self.token)
        ctx.bridge.set(f".{header_id}", {"aria-expanded": "true", "aria-controls": body_id})
        ctx.bridge.set(f".{body_id}", {"role": "group", "aria-labelledby": header_id})
        self.aria()
        return W.VBox([self.header, self.error, self.body])

    # -- folding ------------------------------------------------------------------------

    @property
    def expanded(self) -> bool:
        """True while the group's fields are shown."""
        return self._expanded

    @expanded.setter
    def expanded(self, value: bool) -> None:
        self._expanded = bool(value)
        if self.header is None:
            return
        self.header.icon = "caret-down" if value else "caret-right"
        self.body.layout.display = None if value else "none"
        self.ctx.bridge.set(
            f".{self.ctx.part('group', self.token)}", {"aria-expanded": "true" if value else "false"}
        )

    def toggle(self) -> None:
        """The header's click: fold an open group, open a folded one."""
        self.expanded = not self.expanded

    def reveal(self) -> None:
        self.expanded = True
        super().reveal()

    # -- the tree -----------------------------------------------------------------------

    def children(self) -> list[Editor]:
        return list(self.editors.values())

    def rebase(self, path: str) -> None:
        self.path = path
        for editor in self.editors.values():
            editor.rebase(join(path, self._part_of(editor.spec)))

    def child(self, part: str | int) -> Editor | None:
        """The field's editor by name or by key (alias)."""
        if not isinstance(part, str):
            return None
        return self.editors.get(part) or self.editors.get(self._keys.get(part, ""))

    # -- values -------------------------------------------------------------------------

    def read(self) -> dict[str, Any]:
        by_alias = self.ctx.by_alias
        data = {(self._all_keys[n] if by_alias else n): v for n, v in self.fixed.items()}
        for name, editor in self.editors.items():
            data[editor.spec.key if by_alias else name] = editor.read()
        return data

    def payload(self) -> dict[str, Any]:
        data = {self._all_keys[n]: v for n, v in self.fixed.items()}
        for editor in self.editors.values():
            value = editor.payload()
            if value is not MISSING:
                data[editor.spec.key] = value
        return data

    def write(self, value: Any) -> None:
        """Fill the fields ``value`` names (a model instance fills them all).

        ``None`` puts every field back to its default: a required group has no
        "none" state (an ``Optional`` one is wrapped, see :mod:`~kyc_widgets.form.optional`).
        """
        if value is None or value is MISSING:
            for editor in self.editors.values():
                editor.clear()
            return
        if isinstance(value, BaseModel):
            value = {name: getattr(value, name) for name in type(value).model_fields}
        if not isinstance(value, Mapping):
            return  # not a mapping: nothing to fill; validation says what is wrong
        for key, item in value.items():
            target = self.child(key)
            if target is not None:
                target.write(item)

    def clear(self) -> None:
        for editor in self.editors.values():
            editor.clear()
        initial = self.spec.initial()
        if initial is not None:
            self.write(initial)

    # -- errors -------------------------------------------------------------------------

    def locate(self, loc: Loc) -> Editor | None:
        if not loc:
            return self
        editor = self.child(loc[0])
        return editor.locate(loc[1:]) if editor is not None else self

    def aria(self) -> None:
        if self.header is None:
            return
        described = [self.ctx.part("help", self.token)] if self.spec.description else []
        if self.message:
            described.append(self.ctx.part("error", self.token))
        self.ctx.bridge.set(
            f".{self.ctx.part('body', self.token)}",
            {"aria-describedby": " ".join(described) or None},
        )
        self.ctx.bridge.set(
            f".{self.ctx.part('group', self.token)}",
            {"aria-describedby": self.ctx.part("error", self.token) if self.message else None},
        )

    def focus_selector(self) -> str:
        if self.header is not None:
            return f".{self.ctx.part('group', self.token)}"
        first = next(iter(self.editors.values()), None)
        return first.focus_selector() if first is not None else f".{self.ctx.part('error', self.token)}"
