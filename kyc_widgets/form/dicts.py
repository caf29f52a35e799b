"""``DictEditor``: ``dict[str, X]`` as key/value rows.

Why rows: a mapping the model leaves open (scores by subject, references by
system) is typed pair by pair. Each row is a group named "Entry N" holding a
"Key" box, the value's own editor and a Remove button; "Add entry" adds one.
Two things the model cannot see, because a Python ``dict`` has already
merged or dropped them, are checked here: a key typed twice and a blank key
(:meth:`DictEditor.checks`). A value's path is the dict's path and its key
(``scores.maths``), which is where pydantic and the API report it.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping
from typing import Any

import ipywidgets as W

from kyc_widgets.form.editor import MISSING, Editor, FormContext, Loc, close_tree
from kyc_widgets.form.fields import DictShape, FieldSpec
from kyc_widgets.form.inputs import shared_style
from kyc_widgets.form.messages import help_html
from kyc_widgets.form.paths import join

__all__ = ["BLANK_KEY_MESSAGE", "DUPLICATE_KEY_MESSAGE", "DictEditor"]

DUPLICATE_KEY_MESSAGE = "Each key can be used only once."
BLANK_KEY_MESSAGE = "Enter a key for this value."


@dataclasses.dataclass
class _Row:
    key: W.Text
    editor: Editor
    heading: W.HTML
    remove: W.Button
    box: W.VBox


class DictEditor(Editor):
    """Key/value rows, each with Remove; an "Add entry" button after them."""

    def __init__(
        self, spec: FieldSpec, ctx: FormContext, path: str, token: str, parent: Editor | None
    ) -> None:
        super().__init__(spec, ctx, path, token, parent)
        assert isinstance(spec.shape, DictShape)
        self.shape: DictShape = spec.shape
        self.rows: list[_Row] = []
        heading = W.HTML(f"<strong>{html.escape(spec.label)}</strong>", style=ctx.html_style)
        heading_id = ctx.mark(heading, "heading", token)
        parts: list[W.Widget] = [heading]
        if spec.description:
            help_text = W.HTML(help_html(spec.description), style=ctx.html_style)
            ctx.mark(help_text, "help", token)
            parts.append(help_text)
        self.error = self.make_error(indent=False)
        self.rows_box = W.VBox([])
        self.add_button = W.Button(
            description="Add entry", icon="plus", tooltip="",
            layout=W.Layout(width="auto", align_self="flex-start"),
        )
        self.add_button.add_class("kyc-form-add")
        ctx.mark(self.add_button, "add", token)
        self.add_button.on_click(lambda _b: self.add(user=True))
        self.widget = W.VBox(
            [*parts, self.error, self.rows_box, self.add_button],
            layout=W.Layout(margin="4px 0 10px 0"),
        )
        box_id = ctx.mark(self.widget, "list", token)
        ctx.bridge.set(f".{box_id}", {"role": "group", "aria-labelledby": heading_id})

    @property
    def names_itself(self) -> bool:
        return False

    def _new_row(self, index: int, key: str) -> _Row:
        ctx = self.ctx
        token = f"{self.token}--k{ctx.serial()}"
        key_box = W.Text(
            value=key, description="Key *", continuous_update=False,
            layout=W.Layout(width=ctx.input_width, max_width="100%"),
            style=shared_style(W.Text, ctx.label_width, ctx.styles),
        )
        ctx.mark(key_box, "key", token, with_id=False)
        key_box.observe(lambda _c: self._key_changed(), names="value")
        value_spec = dataclasses.replace(self.shape.value, title="Value")
        editor = ctx.make(value_spec, join(self.path, key or "?"), token, self)
        heading = W.HTML(f"<strong>Entry {index + 1}</strong>", style=ctx.html_style)
        heading_id = ctx.mark(heading, "item", token)
        remove = W.Button(description="Remove", icon="trash", tooltip="", layout=W.Layout(width="auto"))
        ctx.mark(remove, "remove", token)
        remove.on_click(lambda _b: self.remove(editor, user=True))
        box = W.VBox(
            [W.HBox([heading, remove], layout=W.Layout(align_items="center")),
             key_box, editor.widget],
            layout=W.Layout(margin="2px 0 6px 0.6em"),
        )
        box_id = ctx.mark(box, "itembox", token)
        ctx.bridge.set(f".{box_id}", {"role": "group", "aria-labelledby": heading_id})
        return _Row(key_box, editor, heading, remove, box)

    def _key_changed(self) -> None:
        if self.ctx.is_quiet:
            return
        self._redraw()  # the value's path is its key
        self.ctx.on_structure(self)
        self.ctx.on_input(self)

    def _redraw(self) -> None:
        locked = self.ctx.locked or self.read_only
        for i, row in enumerate(self.rows):
            row.heading.value = f"<strong>Entry {i + 1}</strong>"
            row.editor.rebase(join(self.path, row.key.value.strip() or "?"))
            row.key.disabled = locked
            row.remove.disabled = locked or len(self.rows) <= self.shape.min_items
        self.add_button.disabled = locked or (
            self.shape.max_items is not None and len(self.rows) >= self.shape.max_items
        )
        self.rows_box.children = tuple(row.box for row in self.rows)

    def add(self, key: str = "", value: Any = MISSING, *, user: bool = False) -> Editor:
        """A new row at the end; the user's "Add entry" puts focus on its key."""
        row = self._new_row(len(self.rows), key)
        row.editor.clear()
        if value is not MISSING:
            row.editor.write(value)
        self.rows.append(row)
        self._redraw()
        self.ctx.on_structure(self)
        if user:
            self.ctx.on_input(self)
            self.ctx.bridge.move_focus(f".{self.ctx.part('key', row.editor.token)} input")
        return row.editor

    def remove(self, editor: Editor, *, user: bool = False) -> None:
        """Drop a row; the user's Remove puts focus on "Add entry"."""
        index = next(i for i, row in enumerate(self.rows) if row.editor is editor)
        close_tree(self.rows.pop(index).box)
        self._redraw()
        self.ctx.on_structure(self)
        if user:
            self.ctx.on_input(self)
            self.ctx.bridge.move_focus(f".{self.ctx.part('add', self.token)}")

    # -- the tree, values ---------------------------------------------------------------------

    def children(self) -> list[Editor]:
        return [row.editor for row in self.rows]

    def rebase(self, path: str) -> None:
        self.path = path
        self._redraw()

    def read(self) -> dict[str, Any]:
        return {row.key.value.strip(): row.editor.read() for row in self.rows}

    def payload(self) -> dict[str, Any]:
        values = {row.key.value.strip(): row.editor.payload() for row in self.rows}
        return {k: (None if v is MISSING else v) for k, v in values.items()}

    def write(self, value: Any) -> None:
        if not isinstance(value, Mapping):
            self.clear()
            return
        with self.ctx.quiet():
            while self.rows:
                close_tree(self.rows.pop().box)
            for key, item in value.items():
                self.add(str(key), item)
        self._redraw()

    def clear(self) -> None:
        initial = self.spec.initial()
        with self.ctx.quiet():
            while self.rows:
                close_tree(self.rows.pop().box)
            for key, item in dict(initial or {}).items():
                self.add(str(key), item)
            while len(self.rows) < self.shape.min_items:
                self.add()
        self._redraw()

    def checks(self) -> list[tuple[Editor, str]]:
        """A blank key, or a key typed twice: the model never sees them (a dict merges them)."""
        found: list[tuple[Editor, str]] = []
        seen: set[str] = set()
        for row in self.rows:
            key = row.key.value.strip()
            if not key:
                found.append((row.editor, BLANK_KEY_MESSAGE))
            elif key in seen:
                found.append((row.editor, DUPLICATE_KEY_MESSAGE))
            seen.add(key)
        return found

    # -- errors, focus, state -------------------------------------------------------------

    def locate(self, loc: Loc) -> Editor | None:
        if loc:
            for row in self.rows:
                if row.key.value.strip() == loc[0]:
                    return row.editor.locate(tuple(p for p in loc[1:] if p != "[key]"))
        return self

    def aria(self) -> None:
        described = [self.ctx.part("help", self.token)] if self.spec.description else []
        if self.message:
            described.append(self.ctx.part("error", self.token))
        self.ctx.bridge.set(
            f".{self.ctx.part('list', self.token)}", {"aria-describedby": " ".join(described) or None}
        )

    def focus_selector(self) -> str:
        return f".{self.ctx.part('add', self.token)}"

    def set_locked(self, locked: bool) -> None:
        super().set_locked(locked)
        self._redraw()
