"""Which editor a field gets: the one place that knows every editor class.

Why one function: the answer depends on the field's kind, on the form's
options and on the custom-input registry, in that order: a form's
``widgets={path: ...}`` beats a registered input
(:mod:`kyc_widgets.form.custom_inputs`), which beats the built-in editor for
the kind. Groups build their children through the form's context
(``FormContext.make``), which calls this, so no editor module imports another
to build a child.
"""

from __future__ import annotations

from kyc_widgets.form.custom_inputs import custom_input_for
from kyc_widgets.form.dicts import DictEditor
from kyc_widgets.form.editor import Editor, FormContext
from kyc_widgets.form.fields import FieldSpec, ModelShape
from kyc_widgets.form.groups import ModelEditor
from kyc_widgets.form.leaf import LeafEditor
from kyc_widgets.form.lists import ListEditor
from kyc_widgets.form.optional import OptionalEditor
from kyc_widgets.form.unions import UnionEditor

__all__ = ["build_editor"]


def build_editor(
    ctx: FormContext,
    spec: FieldSpec,
    path: str,
    token: str,
    parent: Editor | None,
    *,
    framed: bool = True,
) -> Editor:
    """The editor for ``spec`` at ``path``; ``framed=False`` when the caller draws the title."""
    override = ctx.option(ctx.widgets, path)
    if override is None and spec.composite:
        override = custom_input_for(spec)
    if override is not None or not spec.composite:
        return LeafEditor(spec, ctx, path, token, parent, override=override)
    if spec.nullable and spec.kind in ("model", "list", "dict"):
        return OptionalEditor(spec, ctx, path, token, parent)
    if spec.kind == "model":
        _refuse_endless(spec, path, parent)
        return ModelEditor(spec, ctx, path, token, parent, header=framed)
    if spec.kind == "list":
        return ListEditor(spec, ctx, path, token, parent)
    if spec.kind == "dict":
        return DictEditor(spec, ctx, path, token, parent)
    return UnionEditor(spec, ctx, path, token, parent)


def _refuse_endless(spec: FieldSpec, path: str, parent: Editor | None) -> None:
    """A model that requires itself (not ``Optional``, not in a list) has no end: say so.

    Such a value can never be typed in full; building it would never stop.
    """
    assert isinstance(spec.shape, ModelShape)
    node = parent
    while node is not None:
        if isinstance(node, (ListEditor, OptionalEditor, UnionEditor, DictEditor)):
            return  # built on demand from there: the analyst decides where it ends
        shape = node.spec.shape
        if isinstance(shape, ModelShape) and shape.model is spec.shape.model:
            raise TypeError(
                f"SchemaForm cannot draw field {path!r}: {spec.shape.model.__name__} requires "
                "itself without end; make the field Optional or a list"
            )
        node = node.parent

