"""``SchemaForm``: an ipywidgets form generated from any pydantic v2 model.

Why not an existing generator: a form an analyst relies on needs per-field
error messages next to the field, required markers, empty-means-``None`` for
optional fields, labels tied to their inputs (screen readers, browser tests)
and a notion of submission, at every level of a nested model. The form is a
tree of editors (:mod:`kyc_widgets.form.editor`): one per field, list item,
dict entry and union option, each at a dotted path (``"owners.1.name"``,
:mod:`kyc_widgets.form.paths`). This module adds validation, the error
summary and focus on top of that tree.

Validation is the model's own: the form never re-implements a rule. It runs
on submit (:meth:`SchemaForm.validate`) and when a field loses focus (text
inputs use ``continuous_update=False``), showing only that field's message,
so untouched required fields are not flagged before the first submit.

Accessibility (WCAG 2.1 AA): a field in error gets ``aria-invalid="true"`` and
``aria-describedby`` naming its message (and its help text), set in the
browser by the form's :class:`~kyc_widgets.a11y.bridge.A11yBridge`; groups are
``role="group"`` named by their title; the error summary is an alert
(announced when it appears, not on page load) that :meth:`SchemaForm.focus_errors`
can move keyboard focus to.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar, cast

import ipywidgets as W
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from kyc_widgets.a11y.bridge import A11yBridge, new_scope
from kyc_widgets.form.editor import Editor, FormContext
from kyc_widgets.form.factory import build_editor
from kyc_widgets.form.fields import FieldSpec, ModelShape
from kyc_widgets.form.groups import ModelEditor
from kyc_widgets.form.inputs import label_width_for
from kyc_widgets.form.json_schema import model_from_json_schema
from kyc_widgets.form.leaf import LeafEditor
from kyc_widgets.form.messages import help_html, humanize_error
from kyc_widgets.form.paths import normalise, parts
from kyc_widgets.form.shapes import field_specs, model_title
from kyc_widgets.text import reveal_html

__all__ = ["Errors", "SchemaForm"]

M = TypeVar("M", bound=BaseModel)

Errors = Mapping[str, str] | Mapping[str | None, str] | Iterable[tuple[str | None, str]]
"""What ``set_errors`` accepts: ``{path: message}`` or ``(path, message)`` pairs."""

_Found = tuple[M | None, dict[Editor, list[str]], list[str]]


def _check_field_names(
    model_cls: type[BaseModel], specs: Mapping[str, FieldSpec], options: Mapping[str, Iterable[str]]
) -> None:
    """Refuse an option that names a field the model does not have (a typo would pass silently).

    A dotted path (``"address.city"``, ``"owners.*.name"``) is checked by its first part.
    """
    for option, names in options.items():
        unknown = sorted({str(n) for n in names if str(parts(str(n))[0]) not in specs})
        if unknown:
            raise ValueError(f"{option}: {model_cls.__name__} has no field(s) {unknown}")


def _labels(specs: Iterable[FieldSpec], depth: int = 2) -> list[FieldSpec]:
    """The specs whose labels share the label column: these, and nested models' a little deeper."""
    found: list[FieldSpec] = []
    for spec in specs:
        found.append(spec)
        if depth and isinstance(spec.shape, ModelShape):
            found.extend(_labels(field_specs(spec.shape.model), depth - 1))
    return found


def _as_dict(values: Mapping[str, Any] | BaseModel | None) -> dict[str, Any]:
    """A model instance's fields (shallow: nested instances kept), or a mapping's items."""
    if values is None:
        return {}
    if isinstance(values, BaseModel):
        return {name: getattr(values, name) for name in type(values).model_fields}
    return dict(values)


class SchemaForm(W.VBox, Generic[M]):
    """A labelled, validating form for ``model_cls``; display it like any widget.

    ``exclude`` omits top-level fields (values given for them in ``values``/
    ``set_values`` are kept and validated); ``read_only`` shows fields disabled
    (a dotted path; a group's path locks all of it); ``order`` puts the named
    fields first; ``choices`` narrows a field's options (and turns a text field
    into a dropdown); ``widgets`` replaces a field's input with a widget
    instance or a zero-argument factory; ``values`` are the form's initial
    values (``reset()`` returns to them). ``choices``/``widgets``/``read_only``
    take dotted paths, with ``*`` for every item of a list (``"owners.*.country"``).
    ``by_alias``: paths and :meth:`values` use each field's alias (the key it is
    validated under) instead of its Python name.

    Inputs per type, and why:

    - ``str`` -> ``Text``. A *required* text left blank (or all spaces) is
      reported as "This field is required." even when the model itself would
      accept ``""`` (a plain ``str``): the ``*`` promises the analyst that an
      empty box will not be sent.
    - ``Literal``/``Enum`` -> ``Dropdown``. A required choice starts on a
      "Select…" placeholder, unless the model has a default or ``values``
      gives one: then a real option is always selected and no placeholder is
      offered. ``Optional`` choices keep a "(none)" option. A one-value
      ``Literal`` (a constant) is shown, not editable.
    - ``int``/``float`` -> ``IntText``/``FloatText`` only when a number is always
      present (a numeric default, not ``Optional``): ipywidgets' numeric boxes
      cannot be empty and would show and send ``0`` for a field nobody filled
      in. Otherwise a ``Text`` box whose placeholder says what it expects ("A
      whole number, e.g. 42"); the text is parsed on validation (``1,000`` and
      ``1_000`` are accepted) and anything else gets "Enter a whole number.".
      ipywidgets' ``Text`` has no ``type="number"``, so the browser's spinner and
      numeric keypad are not available; the trade-off keeps "empty" honest.
      ``Decimal``, ``UUID`` and URLs are text boxes too, checked by the model.
    - ``bool`` -> ``Checkbox`` (``Optional[bool]`` -> a Yes/No/(none) dropdown);
      ``date``/``datetime``/``time`` -> pickers; e-mail -> ``Text`` checked by the
      model; secrets (``SecretStr``, or a name with the whole word ``token``,
      ``password``, ``secret``, ``api_key``) -> ``Password`` kept out of widget state.
    - ``Optional[X]`` -> the same input, where empty means ``None``.

    Groups, each at a dotted path (:mod:`kyc_widgets.form.paths`):

    - a nested model -> a titled, collapsible group of its fields
      (:mod:`~kyc_widgets.form.groups`); ``Optional`` -> "Add …"/"Remove …"
      around it, built on demand (:mod:`~kyc_widgets.form.optional`);
    - ``list[X]`` -> numbered items with Move up/Move down/Remove and an Add
      button, ``min_length``/``max_length`` honoured (:mod:`~kyc_widgets.form.lists`);
    - ``dict[str, X]`` -> key/value rows (:mod:`~kyc_widgets.form.dicts`);
    - ``A | B`` (with or without ``Field(discriminator=...)``) -> a selector and
      the chosen option's editor; each option keeps its own values
      (:mod:`~kyc_widgets.form.unions`).

    A field type with no built-in input raises ``TypeError`` naming it, unless
    it is excluded, given a widget, or matched by a registered custom input
    (:func:`kyc_widgets.form.custom_inputs.register_input`).
    """

    def __init__(
        self,
        model_cls: type[M],
        *,
        exclude: Iterable[str] = (),
        read_only: Iterable[str] = (),
        order: Iterable[str] | None = None,
        choices: Mapping[str, Iterable[Any]] | None = None,
        widgets: Mapping[str, W.Widget | Callable[[], W.Widget]] | None = None,
        values: Mapping[str, Any] | BaseModel | None = None,
        by_alias: bool = False,
        **box_kwargs: Any,
    ) -> None:
        all_specs = {s.name: s for s in field_specs(model_cls)}
        to_name = {s.key: s.name for s in all_specs.values()} if by_alias else {}
        exclude = frozenset(to_name.get(n, n) for n in exclude)
        read_only = frozenset(read_only)
        order = tuple(to_name.get(n, n) for n in order or ())
        choices, widgets = dict(choices or {}), dict(widgets or {})
        _check_field_names(
            model_cls,
            {**all_specs, **{k: all_specs[n] for k, n in to_name.items()}},
            {"exclude": exclude, "read_only": read_only, "order": order,
             "choices": choices, "widgets": widgets},
        )
        self._initial: dict[str, Any] = _as_dict(values)
        shown = [n for n in order if n not in exclude]
        shown += [n for n in all_specs if n not in exclude and n not in shown]
        self.model_cls: type[M] = model_cls
        self.specs: dict[str, FieldSpec] = {n: all_specs[n] for n in shown}
        """The top-level fields shown, in order (what the form is built from)."""
        self._excluded: dict[str, FieldSpec] = {n: all_specs[n] for n in exclude}
        self._init_state()
        self.scope = new_scope("kyc-form")
        """A class unique to this form: its parts are found by it in the browser."""
        self.bridge = A11yBridge(self.scope)
        """Sets the fields' ARIA attributes and moves focus (see :mod:`kyc_widgets.a11y`)."""
        self._by_alias = by_alias
        self.ctx = self._make_context(read_only, choices, widgets)
        self.form_message = W.HTML(layout=W.Layout(display="none"))
        self.form_message.add_class(self._part("summary"))
        with self.bridge.hold_sync():  # one ARIA update for the whole build, not one per field
            self.root = self._build_root()
            self.legend = W.HTML(
                help_html("Fields marked * are required.") if self._any_required() else ""
            )
            super().__init__(
                [self.legend, *self.root.rows(), self.form_message, self.bridge], **box_kwargs
            )
            self.add_class("kyc-schema-form")
            self.add_class(self.scope)
            self.reset()

    @classmethod
    def from_json_schema(
        cls,
        schema: Mapping[str, Any],
        *,
        document: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> SchemaForm[Any]:
        """The same form from a JSON Schema document (draft 2020-12, ``$defs``/``$ref``).

        For forms that come from an API's OpenAPI document rather than Python
        code: the schema becomes pydantic models
        (:func:`kyc_widgets.form.json_schema.model_from_json_schema`), and the
        form's results are plain JSON values: :meth:`validate` and
        :meth:`parse` return a ``dict`` keyed by the schema's property names
        (``model_dump(mode="json", by_alias=True)``); paths and :meth:`values`
        use the property names too (``by_alias=True``).
        ``document``: where ``$ref`` pointers are read (the whole OpenAPI
        document, when ``schema`` is one of its ``components/schemas``).
        ``options`` are the constructor's.
        """
        model: Any = model_from_json_schema(schema, document=document)
        form = cast(SchemaForm[Any], cls(model, by_alias=True, **options))
        form._plain = True
        return form

    # ------------------------------------------------------------------ building

    def _init_state(self) -> None:
        """The form's changing state, empty: values held aside, messages, what was touched."""
        self._hidden_values: dict[str, Any] = {}
        self._form_errors: list[str] = []
        self._form_note: str | None = None
        self._summary_active = False
        self._headline: str | None = None
        self._touched: set[str] = set()
        self._disabled = False
        self._callbacks: list[Callable[[str, Any], None]] = []
        self._plain = False
        self._index: dict[str, list[Editor]] | None = None

    def _make_context(
        self,
        read_only: frozenset[str],
        choices: dict[str, Iterable[Any]],
        widgets: dict[str, W.Widget | Callable[[], W.Widget]],
    ) -> FormContext:
        label_width = label_width_for(_labels(self.specs.values()))
        ctx = FormContext(
            scope=self.scope,
            bridge=self.bridge,
            label_width=label_width,
            input_width=f"calc({label_width} + 22em)",
            read_only=read_only,
            choices=choices,
            widgets=widgets,
            initial=self._initial,
            by_alias=self._by_alias,
        )
        ctx.build = functools.partial(build_editor, ctx)
        ctx.on_input = self._on_input
        ctx.on_structure = self._on_structure
        return ctx

    def _build_root(self) -> ModelEditor:
        title = model_title(self.model_cls)
        spec = FieldSpec(
            name="", key="", title=title, description=None, kind="model", required=True,
            nullable=False, default=PydanticUndefined, default_factory=None,
            shape=ModelShape(self.model_cls, title),
        )
        return ModelEditor(
            spec, self.ctx, "", "", None, specs=list(self.specs.values()), bare=self.form_message
        )

    def _any_required(self) -> bool:
        return any(s.required for s in self.specs.values()) or any(
            e.spec.required for e in self.root.walk() if e.path
        )

    def _part(self, kind: str, name: str = "") -> str:
        """The class (and element id) of one part: ``input``/``help``/``error`` of a field, ``summary``."""
        return f"{self.scope}-{kind}-{name}" if name else f"{self.scope}-{kind}"

    def extend_scope(self, widget: W.DOMWidget) -> None:
        """Let the form's fields be drawn anywhere inside ``widget`` (e.g. one moved out of the form)."""
        widget.add_class(self.scope)

    # ------------------------------------------------------------------ the tree by path

    def _editors(self) -> dict[str, list[Editor]]:
        """Every built editor by path, outermost first (cached until the structure changes)."""
        if self._index is None:
            index: dict[str, list[Editor]] = {}
            for editor in self.root.walk():
                if editor.path:
                    index.setdefault(editor.path, []).append(editor)
            self._index = index
        return self._index

    def editor(self, path: str) -> Editor | None:
        """The field's editor at ``path`` (``"owners.1.name"``), or ``None`` when not built.

        Several editors can sit at one path (a union and its chosen option, an
        optional group and the group): this is the outermost, the field's own
        (a union's selector, a list's Add button...).
        """
        found = self._editors().get(normalise(path))
        return found[0] if found else None

    def _shown_at(self, path: str) -> Editor | None:
        """The editor at ``path`` showing a message, else the field's own editor."""
        found = self._editors().get(normalise(path), [])
        return next((e for e in found if e.message), found[0] if found else None)

    @property
    def fields(self) -> dict[str, W.ValueWidget]:
        """Path -> the input showing that value, for every input built (top level: the name)."""
        out: dict[str, W.ValueWidget] = {}
        for path, editors in self._editors().items():
            leaf = next((e for e in reversed(editors) if isinstance(e, LeafEditor)), None)
            if leaf is not None:
                out[path] = leaf.input
        return out

    @property
    def rows(self) -> dict[str, W.Widget]:
        """Path -> what is drawn for it (a top-level field's row is a child of the form)."""
        return {path: editors[0].widget for path, editors in self._editors().items()}

    @property
    def error_widgets(self) -> dict[str, W.HTML]:
        """Path -> the message text under that field or group (hidden while it has none)."""
        return {
            path: next((e for e in editors if e.message), editors[0]).error
            for path, editors in self._editors().items()
        }

    def input_selector(self, name: str) -> str:
        """CSS selector of the field's own input element (inside the form's scope)."""
        editor = self._shown_at(name)
        if editor is not None:
            return editor.focus_selector()
        part = f".{self._part('input', name)}"
        return ", ".join(f"{part} {tag}" for tag in ("input", "select", "textarea"))

    # ------------------------------------------------------------------ values

    def values(self) -> dict[str, Any]:
        """The raw values shown, nested like ``model_dump()`` (plus values held for excluded fields).

        Nested models are dicts, lists are lists, a union is its chosen option's
        value. Empty optional inputs are ``None``; a blank required text stays
        ``""`` (what the box shows; :meth:`validate` reports it as missing); an
        unselected dropdown is ``None``. Nothing is validated here.
        """
        data = {
            (self._excluded[n].key if self._by_alias else n): v
            for n, v in self._hidden_values.items()
        }
        data.update(self.root.read())
        return data

    def set_values(self, values: Mapping[str, Any] | BaseModel) -> None:
        """Fill inputs at every level without validating them; their stale messages are cleared.

        Keys that are not fields of the model are ignored, so a stored record
        (with server-owned fields) can be loaded as is. A nested dict fills the
        fields it names; a list sets the number of items.
        """
        data = _as_dict(values)
        excluded_keys = {s.key: n for n, s in self._excluded.items()}
        with self.bridge.hold_sync():
            self._write_top(data, excluded_keys)
        self._index = None
        self._refresh_form_message()

    def _write_top(self, data: Mapping[str, Any], excluded_keys: Mapping[str, str]) -> None:
        for name, value in data.items():
            editor = self.root.child(name)
            if editor is not None:
                editor.write(value)
                for written in editor.walk():
                    written.show(None)
                    self._touched.discard(written.path)
            elif name in self._excluded or name in excluded_keys:
                self._hidden_values[excluded_keys.get(name, name)] = value

    def reset(self, values: Mapping[str, Any] | BaseModel | None = None) -> None:
        """Back to the model's defaults plus the form's initial ``values``; errors cleared.

        With ``values``, those become the new initial values. (Dropdowns keep the
        options they were built with: a choice that had an initial value at
        construction has no "Select…" placeholder to go back to.)
        """
        if values is not None:
            self._initial = _as_dict(values)
            self.ctx.initial = self._initial
        self._hidden_values = {}
        self._touched.clear()
        with self.bridge.hold_sync():
            self.root.clear()
        self._index = None
        self.clear_errors()
        self.set_form_message(None)
        self.set_values(self._initial)

    # ------------------------------------------------------------------ validation

    def _validate_raw(self) -> _Found[M]:
        """Validate current values: (instance, messages by editor, form-level messages)."""
        payload = self.root.payload()
        for name, value in self._hidden_values.items():
            payload[self._excluded[name].key] = value
        checks = [found for editor in self.root.walk() for found in editor.checks()]
        messages: dict[Editor, list[str]] = {}
        form_msgs: list[str] = []
        try:
            instance: M | None = self.model_cls.model_validate(payload)
        except ValidationError as exc:
            instance = None
            for err in exc.errors(include_url=False, include_input=False):
                self._place(err, messages, form_msgs)
        for editor, message in checks:
            instance = None
            messages.setdefault(editor, []).append(message)
        return instance, messages, form_msgs

    def _place(self, err: Any, messages: dict[Editor, list[str]], form_msgs: list[str]) -> None:
        """Put one pydantic error with the editor its location points to (or the summary)."""
        loc = tuple(err["loc"])
        excluded = next((s for s in self._excluded.values() if loc and s.key == loc[0]), None)
        if excluded is not None:
            form_msgs.append(f"{excluded.title}: {humanize_error(err, excluded)}")
            return
        editor = self.root.locate(loc)
        if editor is None:
            return  # an option that is not chosen: not the analyst's problem
        if editor is self.root:
            form_msgs.append(humanize_error(err))
            return
        message = humanize_error(err, editor.spec, editor.read())
        found = messages.setdefault(editor, [])
        if message not in found:
            found.append(message)

    def _result(self, instance: M | None) -> M | None:
        if instance is None or not self._plain:
            return instance
        return cast(M, instance.model_dump(mode="json", by_alias=True))

    def parse(self) -> M | None:
        """The model instance for the current values, or None; shows nothing.

        For callers that must decide before touching what is shown (e.g. a
        submit that may turn out to be a repeat must not wipe the API's
        messages under the fields). A JSON Schema form returns a plain dict.
        """
        instance, _messages, _form_msgs = self._validate_raw()
        return self._result(instance)

    def validate(self) -> M | None:
        """Submit-time check: the model instance, or ``None`` with every error shown.

        Each message goes under its own field or group, at any depth; errors not
        tied to a shown field go to the form-level message, which also names
        every field to fix. A JSON Schema form returns a plain dict.
        """
        instance, messages, form_msgs = self._validate_raw()
        with self.bridge.hold_sync():
            for editor in self.root.walk():
                if editor.path:
                    self._touched.add(editor.path)
                    message = " ".join(messages.get(editor, [])) or None
                    if message != editor.message:
                        editor.show(message)
        self._form_errors = form_msgs
        self._summary_active = instance is None
        self._headline = None
        self._refresh_form_message()
        return self._result(instance)

    def _on_input(self, editor: Editor) -> None:
        """An input changed from the front end (on blur/Enter for text): re-check that field only."""
        self._touched.add(editor.path)
        _, messages, _ = self._validate_raw()
        editor.show(" ".join(messages.get(editor, [])) or None)
        self._refresh_form_message()
        value = editor.read()
        for callback in list(self._callbacks):
            callback(editor.path, value)

    def _on_structure(self, _editor: Editor) -> None:
        """Items added, removed or moved, an option chosen: paths are read afresh."""
        self._index = None

    def on_change(self, callback: Callable[[str, Any], None], remove: bool = False) -> None:
        """Call ``callback(path, raw_value)`` after each user edit (not ``set_values``)."""
        if remove:
            self._callbacks.remove(callback)
        else:
            self._callbacks.append(callback)

    # ------------------------------------------------------------------ errors

    def _in_error(self) -> list[Editor]:
        """Editors showing a message, in the order they are drawn."""
        return [e for e in self.root.walk() if e.path and e.message]

    @property
    def field_errors(self) -> dict[str, str]:
        """Dotted path -> the message shown there right now (``"owners.1.name"``)."""
        out: dict[str, str] = {}
        for editor in self._in_error():
            assert editor.message is not None
            out[editor.path] = f"{out[editor.path]} {editor.message}" if editor.path in out else editor.message
        return out

    def set_errors(self, errors: Errors, *, summary: str | None = None) -> None:
        """Show externally produced errors (e.g. the API's 400 ``details.errors``).

        Replaces the current errors. A field is a dotted path (``owners[1].name``
        and JSON Pointers are read too); its message goes under that input, or,
        when that input is not built (an item not there), under the nearest
        group that is. A ``None`` or unknown field goes to the form-level
        message; so does a field that is excluded from the form. ``summary``
        replaces the summary's "Please fix N fields: …" line when the caller
        can name the problem (e.g. a conflict); ``""`` shows no such line (the
        caller shows its own message).
        """
        pairs = errors.items() if isinstance(errors, Mapping) else errors
        shown: dict[Editor, list[str]] = {}
        self._form_errors = []
        for field, message in pairs:
            target = self._target(normalise(field)) if field else None
            if target is not None:
                shown.setdefault(target, []).append(str(message))
            elif field and str(parts(normalise(field))[0]) in self._excluded:
                title = self._excluded[str(parts(normalise(field))[0])].title
                self._form_errors.append(f"{title}: {message}")
            else:
                self._form_errors.append(str(message))
        with self.bridge.hold_sync():
            for editor in self.root.walk():
                if editor.path:
                    editor.show(" ".join(shown.get(editor, [])) or None)
        self._summary_active = True
        self._headline = summary
        self._refresh_form_message()

    def _target(self, path: str) -> Editor | None:
        """The editor at ``path``, else its nearest built ancestor below the top level."""
        names = parts(path)
        for size in range(len(names), 0, -1):
            editor = self.editor(".".join(str(p) for p in names[:size]))
            if editor is not None:
                return editor
        return None

    def clear_errors(self) -> None:
        """Remove every field message and the error summary (not a ``set_form_message`` note)."""
        self._form_errors = []
        self._summary_active = False
        with self.bridge.hold_sync():
            for editor in self.root.walk():
                if editor.message:
                    editor.show(None)
        self._refresh_form_message()

    def set_form_message(self, text: str | None) -> None:
        """A form-level message not tied to a field (e.g. "Sign in again"); ``None`` removes it."""
        self._form_note = text
        self._refresh_form_message()

    def aria(self, name: str) -> dict[str, str]:
        """The ARIA attributes the field's input carries in the browser (what a reader hears)."""
        return self.bridge.attributes(self.input_selector(name))

    # ------------------------------------------------------------------ focus

    def focus_field(self, name: str) -> None:
        """Move keyboard focus to the field's input (opening folded groups around it)."""
        editor = self._shown_at(name)
        if editor is not None:
            editor.reveal()
        self.bridge.move_focus(self.input_selector(name))

    def focus_summary(self) -> None:
        """Move keyboard focus to the error summary (it is read out, then Tab goes on)."""
        self.bridge.move_focus(f".{self._part('summary')}")

    def focus_errors(self) -> None:
        """After a refused submit: focus the summary when one is shown, else the first field in error."""
        if self._message_lines():
            self.focus_summary()
            return
        first = next(iter(self._in_error()), None)
        if first is not None:
            first.reveal()
            self.bridge.move_focus(first.focus_selector())

    def summary_text(self) -> str:
        """The form-level text shown right now, as plain text (what a reader hears)."""
        return "\n".join(self._message_lines())

    def _message_lines(self) -> list[str]:
        lines: list[str] = []
        in_error = self._in_error() if self._summary_active else []
        if in_error and self._headline is not None:
            if self._headline:
                lines.append(self._headline)
        elif in_error:
            titles = list(dict.fromkeys(e.title_path for e in in_error))
            noun = "field" if len(titles) == 1 else "fields"
            lines.append(f"Please fix {len(titles)} {noun}: {', '.join(titles)}")
        if self._summary_active:
            lines.extend(self._form_errors)
        if self._form_note:
            lines.append(self._form_note)
        return lines

    def _refresh_form_message(self) -> None:
        lines = self._message_lines()
        if not lines:
            self.form_message.value = ""
            self.form_message.layout.display = "none"
            return
        items = "".join(f"<div>{reveal_html(line)}</div>" for line in lines[1:])
        self.form_message.value = (
            '<div role="alert" style="border-left:4px solid var(--jp-error-color1, #b00020);'
            'padding:4px 8px;margin:4px 0;white-space:normal">'
            f"<strong>⚠ {reveal_html(lines[0])}</strong>{items}</div>"
        )
        self.form_message.layout.display = None

    # ------------------------------------------------------------------ state

    @property
    def disabled(self) -> bool:
        """True while the whole form is locked (e.g. during a save); read-only fields stay locked."""
        return self._disabled

    @disabled.setter
    def disabled(self, value: bool) -> None:
        self._disabled = bool(value)
        self.ctx.locked = self._disabled
        self.root.set_locked(self._disabled)

    @property
    def touched(self) -> frozenset[str]:
        """Paths the user has changed since the last reset/``set_values`` (or all after ``validate``)."""
        return frozenset(self._touched)
