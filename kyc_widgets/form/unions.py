"""``UnionEditor``: ``A | B | ...`` as a selector and the chosen option's editor.

Why keep one editor per option: switching a union's option must neither lose
what was typed nor carry one option's values into another (a passport number
is not a licence number). Here each option has its own editor, built the
first time it is chosen: switching back shows what that option had, and the
form's value is only ever the chosen option's, never a mix.

Discriminated unions (``Field(discriminator="kind")``) fill the tag field
themselves (it is not drawn: the selector is that choice). For a union
without a discriminator, pydantic reports the errors of every member; only
the chosen option's are shown (located by the member's name in the error
location, read from pydantic: :func:`kyc_widgets.form.shapes._member_names`),
and a model option that validates on its own is handed over as an instance,
so pydantic's smart mode keeps the option the analyst chose.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from enum import Enum
from typing import Any

import ipywidgets as W
from pydantic import BaseModel, TypeAdapter, ValidationError

from kyc_widgets.form.editor import MISSING, Editor, FormContext, Loc, close_tree
from kyc_widgets.form.fields import UNSELECTED, FieldSpec, ModelShape, UnionOption, UnionShape
from kyc_widgets.form.groups import ModelEditor
from kyc_widgets.form.inputs import shared_style
from kyc_widgets.form.messages import help_html

__all__ = ["UnionEditor"]


@functools.lru_cache(maxsize=512)
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def _accepts(option: UnionOption, value: Any, *, strict: bool) -> bool:
    """Whether ``value`` is a valid value of the option's type (to pick it on ``write``)."""
    try:
        _adapter(option.spec.annotation).validate_python(value, strict=strict)
    except (ValidationError, TypeError):
        return False
    return True


class UnionEditor(Editor):
    """A dropdown of the options (plus "(none)" when ``None`` is allowed), then the option."""

    def __init__(
        self, spec: FieldSpec, ctx: FormContext, path: str, token: str, parent: Editor | None
    ) -> None:
        super().__init__(spec, ctx, path, token, parent)
        assert isinstance(spec.shape, UnionShape)
        self.shape: UnionShape = spec.shape
        self.editors: dict[int, Editor] = {}
        self.selected: int | None = None
        options: list[tuple[str, str]] = [(o.label, o.label) for o in self.shape.options]
        if spec.nullable or spec.initial() is None:
            options.insert(0, ("(none)" if spec.nullable else "Select…", UNSELECTED))
        self.selector = W.Dropdown(
            options=options,
            description=spec.label,
            tooltip=spec.description or spec.title,
            layout=W.Layout(width=ctx.input_width, max_width="100%"),
            style=shared_style(W.Dropdown, ctx.label_width, ctx.styles),
        )
        ctx.mark(self.selector, "input", token, with_id=False)
        parts: list[W.Widget] = [self.selector]
        if spec.description:
            help_text = W.HTML(
                help_html(spec.description),
                layout=W.Layout(margin=f"0 0 2px {ctx.label_width}"),
                style=ctx.html_style,
            )
            ctx.mark(help_text, "help", token)
            parts.append(help_text)
        self.error = self.make_error()
        self.area = W.VBox([], layout=W.Layout(margin="0 0 0 0.6em"))
        self.widget = W.VBox([*parts, self.error, self.area], layout=W.Layout(margin="0 0 6px 0"))
        self.selector.observe(self._switched, names="value")
        self.set_locked(ctx.locked)
        self.aria()

    # -- options --------------------------------------------------------------------------

    def _editor(self, index: int) -> Editor:
        """The option's editor, built (blank) the first time the option is chosen."""
        if index not in self.editors:
            option = self.shape.options[index]
            spec = dataclasses.replace(option.spec, required=True, nullable=False)
            token = f"{self.token}--o{index}"
            if isinstance(spec.shape, ModelShape):
                fixed = (
                    {self.shape.discriminator: option.tag} if self.shape.discriminator else None
                )
                editor: Editor = ModelEditor(
                    spec, self.ctx, self.path, token, self, header=False, fixed=fixed
                )
            else:
                editor = self.ctx.make(spec, self.path, token, self, framed=False)
            editor.clear()
            self.editors[index] = editor
        return self.editors[index]

    def choose(self, index: int | None, *, user: bool = False) -> None:
        """Show option ``index`` (``None``: no option); the other options keep their values."""
        if index is None and not any(v == UNSELECTED for _, v in self.selector.options):
            index = 0  # a union with a default offers no "none": its first option stands
        self.selected = index
        with self.ctx.quiet():
            self.selector.value = UNSELECTED if index is None else self.shape.options[index].label
        editor = self._editor(index) if index is not None else None
        self.area.children = (editor.widget,) if editor is not None else ()
        if editor is not None:
            editor.set_locked(self.ctx.locked or self.read_only)
        self.ctx.on_structure(self)
        if user:
            self.ctx.on_input(self)

    def _switched(self, change: dict[str, Any]) -> None:
        if self.ctx.is_quiet:
            return
        labels = [o.label for o in self.shape.options]
        new = change["new"]
        self.choose(labels.index(new) if new in labels else None, user=True)

    def _match(self, value: Any) -> int | None:
        """The option a value belongs to: by its tag, its class, or the first type accepting it."""
        options = self.shape.options
        if self.shape.discriminator is not None:
            if isinstance(value, BaseModel):
                tag = getattr(value, self.shape.discriminator, None)
            elif isinstance(value, Mapping):
                tag = value.get(self.shape.discriminator_key or "", value.get(self.shape.discriminator))
            else:
                return None
            tag = tag.value if isinstance(tag, Enum) else tag
            return next(
                (i for i, o in enumerate(options)
                 if (o.tag.value if isinstance(o.tag, Enum) else o.tag) == tag),
                None,
            )
        if isinstance(value, BaseModel):
            for i, option in enumerate(options):
                if isinstance(option.spec.shape, ModelShape) and type(value) is option.spec.shape.model:
                    return i
        for strict in (True, False):
            for i, option in enumerate(options):
                if _accepts(option, value, strict=strict):
                    return i
        return self._closest(value)

    def _closest(self, value: Any) -> int | None:
        """No option accepts ``value``: the model sharing most of its keys, else a text option.

        The analyst then sees the value in the option it was meant for, with
        that option's errors, rather than an empty selector.
        """
        options = self.shape.options
        if isinstance(value, Mapping):
            scores = [
                len(set(value) & set(o.spec.shape.model.model_fields))
                if isinstance(o.spec.shape, ModelShape) else 0
                for o in options
            ]
            best = max(range(len(options)), key=lambda i: scores[i])
            return best if scores[best] else None
        return next((i for i, o in enumerate(options) if o.spec.kind == "text"), None)

    # -- the tree, values ---------------------------------------------------------------------

    def children(self) -> list[Editor]:
        return [self.editors[self.selected]] if self.selected is not None else []

    def rebase(self, path: str) -> None:
        self.path = path
        for editor in self.editors.values():
            editor.rebase(path)

    def retitle(self, title: str) -> None:
        self.title = title
        self.selector.description = title + (" *" if self.spec.required else "")

    def read(self) -> Any:
        return self.editors[self.selected].read() if self.selected is not None else None

    def payload(self) -> Any:
        if self.selected is None:
            return None if self.spec.nullable else MISSING
        value = self.editors[self.selected].payload()
        shape = self.shape.options[self.selected].spec.shape
        if isinstance(shape, ModelShape) and self.shape.discriminator is None and value is not MISSING:
            try:  # valid on its own: hand over the instance, so pydantic keeps this option
                return shape.model.model_validate(value)
            except ValidationError:
                pass  # invalid: the union's own errors say why (the chosen member's only)
        return value

    def write(self, value: Any) -> None:
        if value is None or value is MISSING:
            self.choose(None)
            return
        index = self._match(value)
        if index is None:
            index = self.selected
        if index is None:
            return
        self.choose(index)
        self.editors[index].write(value)

    def clear(self) -> None:
        for editor in self.editors.values():
            close_tree(editor.widget)
        self.editors = {}
        self.selected = None
        initial = self.spec.initial()
        if initial is not None:
            self.write(initial)
        else:
            self.choose(None)

    # -- errors, focus, state -------------------------------------------------------------

    def locate(self, loc: Loc) -> Editor | None:
        if not loc or self.selected is None:
            return self
        option = self.shape.options[self.selected]
        editor = self.editors[self.selected]
        head = loc[0]
        if self.shape.discriminator is not None:
            tags = {str(o.tag.value if isinstance(o.tag, Enum) else o.tag) for o in self.shape.options}
            mine = str(option.tag.value if isinstance(option.tag, Enum) else option.tag)
            if head == mine:
                return editor.locate(loc[1:])
            return None if head in tags else self
        members = {o.member for o in self.shape.options if o.member}
        if option.member is not None and head == option.member:
            return editor.locate(loc[1:])
        if head in members:
            return None  # another option's error: never mixed into this one
        return editor.locate(loc)

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
        return f".{self.ctx.part('input', self.token)} select"

    def set_locked(self, locked: bool) -> None:
        self.selector.disabled = locked or self.read_only
        for editor in self.editors.values():
            editor.set_locked(locked or self.read_only)
