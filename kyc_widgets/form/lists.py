"""``ListEditor``: ``list[X]`` as numbered items that can be added, removed and moved.

Why: a list of beneficial owners is edited item by item, each item a group
named by its number ("Beneficial owner 2") with its own Move up, Move down
and Remove buttons, and an "Add beneficial owner" button after the last. The
list's ``min_length``/``max_length`` are honoured by the buttons (no Remove
below the minimum, no Add at the maximum) and a fresh list starts with the
minimum number of blank items. Items are built when added, so a model that
holds a list of itself is expanded on demand. Moving an item moves its
values and its error messages with it; the paths (``owners.1.name``) follow
the item's new place.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import ipywidgets as W
from pydantic import BaseModel

from kyc_widgets.form.editor import MISSING, Editor, FormContext, Loc, close_tree
from kyc_widgets.form.fields import FieldSpec, ListShape, ModelShape, in_sentence
from kyc_widgets.form.messages import help_html
from kyc_widgets.form.paths import join

__all__ = ["ListEditor"]

MAX_PADDED_DEPTH = 8
"""A fresh list is padded to its minimum length only this deep (a self-holding model)."""


ITEM_BOX = {
    "margin": "2px 0 6px 0.6em",
    "padding": "0 0 0 0.8em",
    "border_left": "2px solid var(--jp-border-color2, #e0e0e0)",
}
"""An item of models: indented, with a light rule on its left, like a group."""


@dataclasses.dataclass
class _Item:
    editor: Editor
    heading: W.HTML | None
    """The item's title ("Beneficial owner 2"); ``None`` for one input, whose label is its title."""
    up: W.Button
    down: W.Button
    remove: W.Button
    box: W.Box


class ListEditor(Editor):
    """Numbered items, each with Move up/Move down/Remove; an Add button after them."""

    def __init__(
        self, spec: FieldSpec, ctx: FormContext, path: str, token: str, parent: Editor | None
    ) -> None:
        super().__init__(spec, ctx, path, token, parent)
        assert isinstance(spec.shape, ListShape)
        self.shape: ListShape = spec.shape
        self.items: list[_Item] = []
        self.heading = W.HTML(f"<strong>{html.escape(spec.label)}</strong>", style=ctx.html_style)
        heading_id = ctx.mark(self.heading, "heading", token)
        parts: list[W.Widget] = [self.heading]
        if spec.description:
            help_text = W.HTML(help_html(spec.description), style=ctx.html_style)
            ctx.mark(help_text, "help", token)
            parts.append(help_text)
        self.error = self.make_error(indent=False)
        self.items_box = W.VBox([])
        self.add_button = W.Button(
            description=f"Add {in_sentence(self.shape.item_title)}",
            icon="plus",
            tooltip="",
            layout=W.Layout(width="auto", align_self="flex-start"),
        )
        self.add_button.add_class("kyc-form-add")
        ctx.mark(self.add_button, "add", token)
        self.add_button.on_click(lambda _b: self.add(user=True))
        self.widget = W.VBox(
            [*parts, self.error, self.items_box, self.add_button],
            layout=W.Layout(margin="4px 0 10px 0"),
        )
        box_id = ctx.mark(self.widget, "list", token)
        ctx.bridge.set(f".{box_id}", {"role": "group", "aria-labelledby": heading_id})
        self.aria()

    @property
    def names_itself(self) -> bool:
        return False

    # -- items ----------------------------------------------------------------------------

    def _item_title(self, index: int) -> str:
        return f"{self.shape.item_title} {index + 1}"

    def _new_item(self, index: int) -> _Item:
        ctx = self.ctx
        token = f"{self.token}--i{ctx.serial()}"
        spec = dataclasses.replace(self.shape.item, title=self._item_title(index))
        framed = not isinstance(spec.shape, ModelShape) or spec.nullable
        editor = ctx.make(spec, join(self.path, index), token, self, framed=framed)
        buttons = [
            self._button("Move up", "arrow-up", lambda: self.move(editor, -1, user=True)),
            self._button("Move down", "arrow-down", lambda: self.move(editor, 1, user=True)),
            self._button("Remove", "trash", lambda: self.remove(editor, user=True)),
        ]
        for button, kind in zip(buttons, ("up", "down", "remove"), strict=True):
            ctx.mark(button, kind, token)
        if not spec.composite:  # one input: its label names it, the buttons go beside it
            box: W.Box = W.HBox([editor.widget, *buttons], layout=ctx.layout("item-row"))
            box_id = ctx.mark(box, "itembox", token)
            ctx.bridge.set(f".{box_id}", {"role": "group", "aria-label": spec.title})
            return _Item(editor, None, buttons[0], buttons[1], buttons[2], box)
        heading = W.HTML(f"<strong>{html.escape(spec.title)}</strong>", style=ctx.html_style)
        heading_id = ctx.mark(heading, "item", token)
        bar = W.HBox([heading, *buttons], layout=ctx.layout("item-bar", align_items="center"))
        box = W.VBox([bar, editor.widget], layout=ctx.layout("item-box", **ITEM_BOX))
        box_id = ctx.mark(box, "itembox", token)
        ctx.bridge.set(f".{box_id}", {"role": "group", "aria-labelledby": heading_id})
        return _Item(editor, heading, buttons[0], buttons[1], buttons[2], box)

    def _button(self, text: str, icon: str, action: Any) -> W.Button:
        layout = self.ctx.layout("item-button", width="auto", margin="0 0 0 6px")
        button = W.Button(description=text, icon=icon, tooltip="", layout=layout)
        button.on_click(lambda _b: action())
        return button

    def _index(self, editor: Editor) -> int:
        return next(i for i, item in enumerate(self.items) if item.editor is editor)

    def _redraw(self) -> None:
        """Numbers, paths and buttons after a change; the items in their order."""
        locked = self.ctx.locked or self.read_only
        count = len(self.items)
        for i, item in enumerate(self.items):
            title = self._item_title(i)
            if item.editor.title != title:
                item.editor.retitle(title)
                if item.heading is not None:
                    item.heading.value = f"<strong>{html.escape(title)}</strong>"
                else:
                    self.ctx.bridge.set(
                        f".{self.ctx.part('itembox', item.editor.token)}", {"aria-label": title}
                    )
            item.editor.rebase(join(self.path, i))
            item.up.disabled = locked or i == 0
            item.down.disabled = locked or i == count - 1
            item.remove.disabled = locked or count <= self.shape.min_items
        self.add_button.disabled = locked or (
            self.shape.max_items is not None and count >= self.shape.max_items
        )
        self.items_box.children = tuple(item.box for item in self.items)

    def add(self, value: Any = MISSING, *, user: bool = False) -> Editor:
        """A new item at the end (blank, or showing ``value``); the user's Add focuses it."""
        with self.ctx.bridge.hold_sync():
            item = self._new_item(len(self.items))
            item.editor.clear()
        if value is not MISSING:
            item.editor.write(value)
        self.items.append(item)
        self._redraw()
        self.ctx.on_structure(self)
        if user:
            self.ctx.on_input(self)
            self.ctx.bridge.move_focus(item.editor.focus_selector())
        return item.editor

    def remove(self, editor: Editor, *, user: bool = False) -> None:
        """Drop an item; the user's Remove puts focus on the Add button."""
        item = self.items.pop(self._index(editor))
        close_tree(item.box)
        self._redraw()
        self.ctx.on_structure(self)
        if user:
            self.ctx.on_input(self)
            self.ctx.bridge.move_focus(f".{self.ctx.part('add', self.token)}")

    def move(self, editor: Editor, delta: int, *, user: bool = False) -> None:
        """Move an item up (``-1``) or down (``1``); focus stays on the button pressed."""
        index = self._index(editor)
        target = index + delta
        if not 0 <= target < len(self.items):
            return
        self.items[index], self.items[target] = self.items[target], self.items[index]
        self._redraw()
        self.ctx.on_structure(self)
        if user:
            self.ctx.on_input(self)
            kind = "up" if delta < 0 else "down"
            moved = self.items[target]
            if (moved.up if delta < 0 else moved.down).disabled:
                kind = "down" if delta < 0 else "up"
            self.ctx.bridge.move_focus(f".{self.ctx.part(kind, moved.editor.token)}")

    # -- the tree -------------------------------------------------------------------------

    def children(self) -> list[Editor]:
        return [item.editor for item in self.items]

    def rebase(self, path: str) -> None:
        self.path = path
        for i, item in enumerate(self.items):
            item.editor.rebase(join(path, i))

    def read(self) -> list[Any]:
        return [item.editor.read() for item in self.items]

    def payload(self) -> list[Any]:
        values = [item.editor.payload() for item in self.items]
        return [None if v is MISSING else v for v in values]

    def write(self, value: Any) -> None:
        if value is None or value is MISSING:
            self.clear()
            return
        if isinstance(value, BaseModel) or not hasattr(value, "__iter__") or isinstance(value, str):
            return  # not a list: nothing to fill; validation says what is wrong
        values = list(value)
        while len(self.items) > len(values):
            close_tree(self.items.pop().box)
        for item, item_value in zip(self.items, values, strict=False):
            item.editor.write(item_value)
        for item_value in values[len(self.items) :]:
            self.add(item_value)
        self._redraw()

    def clear(self) -> None:
        while self.items:
            close_tree(self.items.pop().box)
        initial = self.spec.initial()
        for item_value in list(initial or ()):
            self.add(item_value)
        if self._depth() <= MAX_PADDED_DEPTH:
            while len(self.items) < self.shape.min_items:
                self.add()
        self._redraw()

    def _depth(self) -> int:
        depth, node = 0, self.parent
        while node is not None:
            depth, node = depth + 1, node.parent
        return depth

    # -- errors, focus, state -------------------------------------------------------------

    def locate(self, loc: Loc) -> Editor | None:
        if loc and isinstance(loc[0], int) and 0 <= loc[0] < len(self.items):
            return self.items[loc[0]].editor.locate(loc[1:])
        return self

    def aria(self) -> None:
        described = [self.ctx.part("help", self.token)] if self.spec.description else []
        if self.message:
            described.append(self.ctx.part("error", self.token))
        self.ctx.bridge.set(
            f".{self.ctx.part('list', self.token)}", {"aria-describedby": " ".join(described) or None}
        )

    def focus_selector(self) -> str:
        if not self.add_button.disabled:
            return f".{self.ctx.part('add', self.token)}"
        return self.items[0].editor.focus_selector() if self.items else f".{self.ctx.part('add', self.token)}"

    def set_locked(self, locked: bool) -> None:
        super().set_locked(locked)
        self._redraw()
