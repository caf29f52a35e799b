"""``OptionalEditor``: the explicit "none" state of an ``Optional`` nested model, list or dict.

Why: for a group, "nothing" and "empty" differ. ``address: Address | None``
may be left out altogether, which is not the same as an address whose fields
are blank (that one is invalid). So the group starts absent behind an "Add
address" button and is built only when asked for: a model that may hold
itself (``parent: Node | None``) is expanded on demand, never at build.
"Remove address" puts it back to none; what was typed is kept out of sight, so
adding it again shows it, but the form's value is ``None`` meanwhile.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import ipywidgets as W

from kyc_widgets.form.editor import MISSING, Editor, FormContext, Loc, close_tree
from kyc_widgets.form.fields import FieldSpec, in_sentence
from kyc_widgets.form.messages import help_html

__all__ = ["OptionalEditor"]


class OptionalEditor(Editor):
    """An ``Add …`` button while the value is ``None``; the group and ``Remove …`` once added."""

    def __init__(
        self, spec: FieldSpec, ctx: FormContext, path: str, token: str, parent: Editor | None
    ) -> None:
        super().__init__(spec, ctx, path, token, parent)
        self.inner: Editor | None = None
        self.present = False
        self.add_button = W.Button(
            description=f"Add {in_sentence(spec.title)}",
            icon="plus",
            tooltip="",
            layout=W.Layout(width="auto", align_self="flex-start"),
        )
        self.add_button.add_class("kyc-form-add")
        ctx.mark(self.add_button, "add", token)
        self.add_button.on_click(lambda _b: self.add(user=True))
        self.remove_button = W.Button(
            description=f"Remove {in_sentence(spec.title)}",
            icon="times",
            tooltip="",
            layout=W.Layout(width="auto", align_self="flex-start"),
        )
        ctx.mark(self.remove_button, "remove", token)
        self.remove_button.on_click(lambda _b: self.remove(user=True))
        self.error = self.make_error(indent=False)
        self.note = W.HTML(
            help_html(f"{spec.title} (optional): not given." + (
                f" {spec.description}" if spec.description else ""
            )),
            style=ctx.html_style,
        )
        self.area = W.VBox([])
        self.widget = W.VBox([self.note, self.add_button, self.error, self.area])
        self.set_locked(ctx.locked)
        self._draw()

    @property
    def names_itself(self) -> bool:
        return False

    def _draw(self) -> None:
        shown = self.present and self.inner is not None
        self.note.layout.display = "none" if shown else None
        self.add_button.layout.display = "none" if shown else None
        if shown and self.inner is not None:
            self.area.children = (self.inner.widget, self.remove_button)
        else:
            self.area.children = ()

    def _build_inner(self) -> Editor:
        if self.inner is None:
            spec = dataclasses.replace(self.spec, nullable=False, required=False)
            self.inner = self.ctx.make(spec, self.path, f"{self.token}--v", self)
            self.inner.clear()
        return self.inner

    # -- the user's buttons -------------------------------------------------------------

    def add(self, *, user: bool = False) -> None:
        """Give the field a value: its group appears (built the first time)."""
        self._build_inner()
        self.present = True
        self._draw()
        self.ctx.on_structure(self)
        if user:
            self.ctx.on_input(self)
            if self.inner is not None:
                self.ctx.bridge.move_focus(self.inner.focus_selector())

    def remove(self, *, user: bool = False) -> None:
        """Back to none; what was typed is kept, out of sight, for an "Add" again."""
        self.present = False
        self._draw()
        self.ctx.on_structure(self)
        if user:
            self.ctx.on_input(self)
            self.ctx.bridge.move_focus(f".{self.ctx.part('add', self.token)}")

    # -- the tree -----------------------------------------------------------------------

    def children(self) -> list[Editor]:
        return [self.inner] if self.present and self.inner is not None else []

    def rebase(self, path: str) -> None:
        self.path = path
        if self.inner is not None:
            self.inner.rebase(path)

    def read(self) -> Any:
        return self.inner.read() if self.present and self.inner is not None else None

    def payload(self) -> Any:
        if not (self.present and self.inner is not None):
            return None
        value = self.inner.payload()
        return {} if value is MISSING else value

    def write(self, value: Any) -> None:
        if value is None or value is MISSING:
            self.remove()
            return
        self._build_inner().write(value)
        self.add()

    def clear(self) -> None:
        if self.inner is not None:  # a fresh form builds it again on demand
            close_tree(self.inner.widget)
        self.inner = None
        self.present = False
        initial = self.spec.initial()
        if initial is not None:
            self.write(initial)
        self._draw()

    def locate(self, loc: Loc) -> Editor | None:
        if self.present and self.inner is not None:
            return self.inner.locate(loc)
        return self

    def focus_selector(self) -> str:
        if self.present and self.inner is not None:
            return self.inner.focus_selector()
        return f".{self.ctx.part('add', self.token)}"

    def set_locked(self, locked: bool) -> None:
        self.add_button.disabled = locked or self.read_only
        self.remove_button.disabled = locked or self.read_only
        super().set_locked(locked)
