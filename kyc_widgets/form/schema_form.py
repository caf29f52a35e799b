"""``SchemaForm``: an ipywidgets form generated from any pydantic v2 model.

Why not an existing generator: a form an analyst relies on needs per-field
error messages next to the field, required markers, empty-means-``None`` for
optional fields, labels tied to their inputs (screen readers, browser tests)
and a notion of submission. This module adds those on top of the field
introspection and inputs of :mod:`kyc_widgets.form.fields`.

Validation is the model's own: the form never re-implements a rule. It runs
on submit (:meth:`SchemaForm.validate`) and when a field loses focus (text
inputs use ``continuous_update=False``), showing only that field's message,
so untouched required fields are not flagged before the first submit.

Accessibility (WCAG 2.1 AA): a field in error gets ``aria-invalid="true"`` and
``aria-describedby`` naming its message (and its help text), set in the
browser by the form's :class:`~kyc_widgets.a11y.bridge.A11yBridge`; the error
summary is an alert (announced when it appears, not on page load) that
:meth:`SchemaForm.focus_errors` can move keyboard focus to.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import ipywidgets as W
from pydantic import BaseModel, ValidationError

from kyc_widgets.a11y.bridge import A11yBridge, new_scope
from kyc_widgets.form.fields import (
    FieldSpec,
    build_input,
    field_specs,
    is_supported,
    label_width_for,
    normalise_choices,
    read_input,
    unsupported_reason,
    write_input,
)
from kyc_widgets.form.messages import error_html, help_html, humanize_error
from kyc_widgets.text import reveal_html

__all__ = ["Errors", "SchemaForm"]

M = TypeVar("M", bound=BaseModel)

Errors = Mapping[str | None, str] | Iterable[tuple[str | None, str]]
"""What ``set_errors`` accepts: ``{field: message}`` or ``(field, message)`` pairs."""


def _check_field_names(
    model_cls: type[BaseModel], specs: Mapping[str, FieldSpec], options: Mapping[str, Iterable[str]]
) -> None:
    """Refuse an option that names a field the model does not have (a typo would pass silently)."""
    for option, names in options.items():
        unknown = sorted(set(names) - set(specs))
        if unknown:
            raise ValueError(f"{option}: {model_cls.__name__} has no field(s) {unknown}")


class SchemaForm(W.VBox, Generic[M]):
    """A labelled, validating form for ``model_cls``; display it like any widget.

    ``exclude`` omits fields (values given for them in ``values``/``set_values``
    are kept and validated); ``read_only`` shows fields disabled; ``order``
    puts the named fields first; ``choices`` narrows a field's options (and
    turns a text field into a dropdown); ``widgets`` replaces a field's input
    with a widget instance or a zero-argument factory; ``values`` are the
    form's initial values (``reset()`` returns to them).

    Inputs per type, and why:

    - ``str`` -> ``Text``. A *required* text left blank (or all spaces) is
      reported as "This field is required." even when the model itself would
      accept ``""`` (a plain ``str``): the ``*`` promises the analyst that an
      empty box will not be sent.
    - ``Literal``/``Enum`` -> ``Dropdown``. A required choice starts on a
      "Select…" placeholder, unless the model has a default or ``values``
      gives one: then a real option is always selected and no placeholder is
      offered. ``Optional`` choices keep a "(none)" option.
    - ``int``/``float`` -> ``IntText``/``FloatText`` only when a number is always
      present (a numeric default, not ``Optional``): ipywidgets' numeric boxes
      cannot be empty and would show and send ``0`` for a field nobody filled
      in. Otherwise a ``Text`` box whose placeholder says what it expects ("A
      whole number, e.g. 42"); the text is parsed on validation (``1,000`` and
      ``1_000`` are accepted) and anything else gets "Enter a whole number.".
      ipywidgets' ``Text`` has no ``type="number"``, so the browser's spinner and
      numeric keypad are not available; the trade-off keeps "empty" honest.
    - ``bool`` -> ``Checkbox`` (``Optional[bool]`` -> a Yes/No/(none) dropdown);
      ``date``/``datetime``/``time`` -> pickers; e-mail -> ``Text`` checked by the
      model; secrets (``SecretStr``, or a name with the whole word ``token``,
      ``password``, ``secret``, ``api_key``) -> ``Password`` kept out of widget state.
    - ``Optional[X]`` -> the same input, where empty means ``None``.
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
        **box_kwargs: Any,
    ) -> None:
        all_specs = {s.name: s for s in field_specs(model_cls)}
        exclude, read_only = frozenset(exclude), frozenset(read_only)
        order = tuple(order or ())
        choices, widgets = dict(choices or {}), dict(widgets or {})
        _check_field_names(
            model_cls,
            all_specs,
            {
                "exclude": exclude,
                "read_only": read_only,
                "order": order,
                "choices": choices,
                "widgets": widgets,
            },
        )

        self._initial: dict[str, Any] = {}
        if values is not None:
            self._initial = values.model_dump() if isinstance(values, BaseModel) else dict(values)
        shown = [n for n in order if n not in exclude]
        shown += [n for n in all_specs if n not in exclude and n not in shown]
        self.model_cls: type[M] = model_cls
        self.specs: dict[str, FieldSpec] = {n: all_specs[n] for n in shown}
        self._excluded: dict[str, FieldSpec] = {n: all_specs[n] for n in exclude}
        self._read_only = read_only
        self._init_state()
        self.scope = new_scope("kyc-form")
        """A class unique to this form: its parts are found by it in the browser."""
        self.bridge = A11yBridge(self.scope)
        """Sets the fields' ARIA attributes and moves focus (see :mod:`kyc_widgets.a11y`)."""

        self._build_rows(choices, widgets)
        self.legend = W.HTML(
            help_html("Fields marked * are required.")
            if any(s.required for s in self.specs.values())
            else ""
        )
        self.form_message = W.HTML(layout=W.Layout(display="none"))
        self.form_message.add_class(self._part("summary"))
        super().__init__(
            [self.legend, *self.rows.values(), self.form_message, self.bridge], **box_kwargs
        )
        self.add_class("kyc-schema-form")
        self.add_class(self.scope)
        self.reset()

    # ------------------------------------------------------------------ building

    def _init_state(self) -> None:
        """The form's changing state, empty: values held aside, errors, what was touched."""
        self._hidden_values: dict[str, Any] = {}
        self._errors: dict[str, str] = {}
        self._form_errors: list[str] = []
        self._form_note: str | None = None
        self._summary_active = False
        self._headline: str | None = None
        self._touched: set[str] = set()
        self._suppress = 0
        self._disabled = False
        self._callbacks: list[Callable[[str, Any], None]] = []
        self._secrets: dict[str, Any] = {}

    def _build_rows(
        self,
        choices: dict[str, Iterable[Any]],
        widgets: dict[str, W.Widget | Callable[[], W.Widget]],
    ) -> None:
        """One row per shown field (``fields``, ``error_widgets``, ``rows``): input, help, error."""
        label_width = label_width_for(list(self.specs.values()))
        input_width = f"calc({label_width} + 22em)"
        self._styles: dict[type, W.Widget] = {}
        help_layout = W.Layout(margin=f"0 0 2px {label_width}")
        html_style = W.HTML.class_traits()[
            "style"
        ].klass()  # one per form: help and error texts look alike
        self.fields: dict[str, W.ValueWidget] = {}
        self.error_widgets: dict[str, W.HTML] = {}
        self.rows: dict[str, W.VBox] = {}
        for name, spec in self.specs.items():
            widget = self._make_input(
                spec,
                widgets.get(name),
                choices.get(name),
                label_width,
                input_width,
                preset=self._initial.get(name) is not None,
            )
            if hasattr(widget, "disabled"):
                widget.disabled = name in self._read_only
            error = self._make_error_text(name, label_width, html_style)
            widget.add_class(self._part("input", name))
            parts: list[W.Widget] = [widget]
            if spec.description:
                parts.append(self._make_help_text(name, spec.description, help_layout, html_style))
            parts.append(error)
            self.fields[name] = widget
            self.error_widgets[name] = error
            self.rows[name] = W.VBox(parts, layout=W.Layout(margin="0 0 6px 0"))
            widget.observe(self._on_input, names="value")

    def _make_error_text(self, name: str, label_width: str, style: Any) -> W.HTML:
        """The field's error message, hidden until there is one; its id is for ``aria-describedby``."""
        error = W.HTML(
            layout=W.Layout(display="none", margin=f"0 0 2px {label_width}"),
            style=style,
        )
        error.add_class(self._part("error", name))
        self.bridge.set(f".{self._part('error', name)}", {"id": self._part("error", name)})
        return error

    def _make_help_text(self, name: str, description: str, layout: W.Layout, style: Any) -> W.HTML:
        """The field's help text; its id is for ``aria-describedby``."""
        help_text = W.HTML(help_html(description), layout=layout, style=style)
        help_text.add_class(self._part("help", name))
        self.bridge.set(f".{self._part('help', name)}", {"id": self._part("help", name)})
        return help_text

    def _part(self, kind: str, name: str = "") -> str:
        """The class (and element id) of one part: ``input``/``help``/``error`` of a field, ``summary``."""
        return f"{self.scope}-{kind}-{name}" if name else f"{self.scope}-{kind}"

    def input_selector(self, name: str) -> str:
        """CSS selector of the field's own input element (inside the form's scope)."""
        part = f".{self._part('input', name)}"
        return ", ".join(f"{part} {tag}" for tag in ("input", "select", "textarea"))

    def extend_scope(self, widget: W.DOMWidget) -> None:
        """Let the form's fields be drawn anywhere inside ``widget`` (e.g. one moved out of the form)."""
        widget.add_class(self.scope)

    def _make_input(
        self,
        spec: FieldSpec,
        override: W.Widget | Callable[[], W.Widget] | None,
        narrowed: Iterable[Any] | None,
        label_width: str,
        input_width: str,
        *,
        preset: bool = False,
    ) -> W.ValueWidget:
        if override is not None:
            widget = override if isinstance(override, W.Widget) else override()
            if hasattr(widget, "description") and not widget.description:
                widget.description = spec.label
            if hasattr(widget, "tooltip") and not widget.tooltip:
                widget.tooltip = spec.description or spec.title
            return widget
        if not is_supported(spec):
            raise TypeError(unsupported_reason(spec))
        return build_input(
            spec,
            label_width=label_width,
            input_width=input_width,
            narrowed=normalise_choices(spec, narrowed) if narrowed is not None else None,
            styles=self._styles,
            preset=preset,
        )

    # ------------------------------------------------------------------ values

    def values(self) -> dict[str, Any]:
        """The raw values shown, keyed by field name (plus values held for excluded fields).

        Empty optional inputs are ``None``; a blank required text stays ``""``
        (what the box shows; :meth:`validate` reports it as missing); an
        unselected dropdown is ``None``. Nothing is validated here.
        """
        data = dict(self._hidden_values)
        for name, spec in self.specs.items():
            if spec.kind == "secret" and name in self._secrets:
                data[name] = self._secrets[name]
            else:
                data[name] = read_input(spec, self.fields[name])
        return data

    def set_values(self, values: Mapping[str, Any] | BaseModel) -> None:
        """Fill inputs without validating them; their stale error messages are cleared.

        Keys that are not fields of the model are ignored, so a stored record
        (with server-owned fields) can be loaded as is.
        """
        data = values.model_dump() if isinstance(values, BaseModel) else dict(values)
        with self._quiet():
            for name, value in data.items():
                if name in self.specs and self.specs[name].kind == "secret":
                    self._keep_secret(name, value)
                elif name in self.specs:
                    write_input(self.specs[name], self.fields[name], value)
                    self._touched.discard(name)
                    self._errors.pop(name, None)
                    self._show_field_error(name)
                elif name in self._excluded:
                    self._hidden_values[name] = value
        self._refresh_form_message()

    def reset(self, values: Mapping[str, Any] | BaseModel | None = None) -> None:
        """Back to the model's defaults plus the form's initial ``values``; errors cleared.

        With ``values``, those become the new initial values. (Dropdowns keep the
        options they were built with: a choice that had an initial value at
        construction has no "Select…" placeholder to go back to.)
        """
        if values is not None:
            self._initial = values.model_dump() if isinstance(values, BaseModel) else dict(values)
        self._hidden_values = {}
        self._secrets = {}
        self._touched.clear()
        self.clear_errors()
        self.set_form_message(None)
        defaults = {n: s.initial() for n, s in self.specs.items()}
        self.set_values({**defaults, **self._initial})

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        self._suppress += 1
        try:
            yield
        finally:
            self._suppress -= 1

    def _keep_secret(self, name: str, value: Any) -> None:
        """Hold a secret in the kernel only and empty the box.

        ipywidgets syncs ``Password.value`` to the front end like any value, and
        "Save widget state" writes front-end state into the notebook file. So
        the typed text is moved out of the widget as soon as it arrives (on
        blur/Enter) and only a placeholder says that something was entered.
        """
        widget = self.fields[name]
        if value is None or value == "":
            self._secrets.pop(name, None)
        else:
            self._secrets[name] = value
        widget.value = ""
        if hasattr(widget, "placeholder"):
            widget.placeholder = (
                "•••••••• entered (type to replace)" if name in self._secrets else ""
            )

    # ------------------------------------------------------------------ validation

    def _validate_raw(self) -> tuple[M | None, dict[str, str], list[str]]:
        """Validate current values: (instance, field messages, form-level messages)."""
        raw = self.values()
        # A blank required text is missing, even for a plain ``str`` that would accept "":
        # leaving it out lets the model report it as "missing" like any absent field.
        payload = {
            self._key(n): v for n, v in raw.items() if not self._blank_required_text(n, v)
        }
        try:
            return self.model_cls.model_validate(payload), {}, []
        except ValidationError as exc:
            by_key = {s.key: s for s in [*self.specs.values(), *self._excluded.values()]}
            field_msgs: dict[str, list[str]] = {}
            form_msgs: list[str] = []
            for err in exc.errors(include_url=False, include_input=False):
                loc = err["loc"]
                spec = by_key.get(loc[0]) if loc and isinstance(loc[0], str) else None
                message = humanize_error(err, spec, raw.get(spec.name) if spec else None)
                if spec is not None and spec.name in self.specs:
                    msgs = field_msgs.setdefault(spec.name, [])
                    if message not in msgs:
                        msgs.append(message)
                elif spec is not None:
                    form_msgs.append(f"{spec.title}: {message}")
                else:
                    form_msgs.append(message)
            return None, {n: " ".join(m) for n, m in field_msgs.items()}, form_msgs

    def _blank_required_text(self, name: str, value: Any) -> bool:
        spec = self._spec(name)
        return (
            spec is not None
            and is_supported(spec)  # an unsupported type's own widget: the model decides
            and spec.required
            and spec.kind in ("text", "email", "secret")
            and isinstance(value, str)
            and not value.strip()
        )

    def _key(self, name: str) -> str:
        spec = self._spec(name)
        return spec.key if spec is not None else name

    def _spec(self, name: str) -> FieldSpec | None:
        return self.specs.get(name) or self._excluded.get(name)

    def parse(self) -> M | None:
        """The model instance for the current values, or None; shows nothing.

        For callers that must decide before touching what is shown (e.g. a
        submit that may turn out to be a repeat must not wipe the API's
        messages under the fields).
        """
        instance, _field_msgs, _form_msgs = self._validate_raw()
        return instance

    def validate(self) -> M | None:
        """Submit-time check: the model instance, or ``None`` with every error shown.

        Each message goes under its own field; errors not tied to a shown field
        go to the form-level message, which also names every field to fix.
        """
        instance, field_msgs, form_msgs = self._validate_raw()
        self._touched.update(self.specs)
        self._errors = field_msgs
        self._form_errors = form_msgs
        self._summary_active = instance is None
        self._headline = None
        for name in self.specs:
            self._show_field_error(name)
        self._refresh_form_message()
        return instance

    def _on_input(self, change: dict[str, Any]) -> None:
        """A field changed from the front end (on blur/Enter for text): re-check that field only."""
        if self._suppress:
            return
        name = next(n for n, w in self.fields.items() if w is change["owner"])
        if self.specs[name].kind == "secret":
            if not change["new"]:
                return  # our own clearing of the box, below
            with self._quiet():
                self._keep_secret(name, change["new"])
        self._touched.add(name)
        _, field_msgs, _ = self._validate_raw()
        if name in field_msgs:
            self._errors[name] = field_msgs[name]
        else:
            self._errors.pop(name, None)
        self._show_field_error(name)
        self._refresh_form_message()
        value = self.values()[name]
        for callback in list(self._callbacks):
            callback(name, value)

    def on_change(self, callback: Callable[[str, Any], None], remove: bool = False) -> None:
        """Call ``callback(field_name, raw_value)`` after each user edit (not ``set_values``)."""
        if remove:
            self._callbacks.remove(callback)
        else:
            self._callbacks.append(callback)

    # ------------------------------------------------------------------ errors

    @property
    def field_errors(self) -> dict[str, str]:
        """Field name -> the message shown under that field right now (only fields with one)."""
        return dict(self._errors)

    def set_errors(self, errors: Errors, *, summary: str | None = None) -> None:
        """Show externally produced errors (e.g. the API's 400 ``details.errors``).

        Replaces the current errors. A ``None`` or unknown field goes to the
        form-level message; so does a field that is excluded from the form.
        ``summary`` replaces the summary's "Please fix N fields: …" line when the
        caller can name the problem (e.g. a conflict); ``""`` shows no such line
        (the caller shows its own message).
        """
        pairs = errors.items() if isinstance(errors, Mapping) else errors
        self._errors, self._form_errors = {}, []
        for field, message in pairs:
            spec = self._spec(field) if field else None
            if field in self.specs:
                previous = self._errors.get(field)
                self._errors[field] = f"{previous} {message}" if previous else str(message)
            elif spec is not None:
                self._form_errors.append(f"{spec.title}: {message}")
            else:
                self._form_errors.append(str(message))
        self._summary_active = True
        self._headline = summary
        for name in self.specs:
            self._show_field_error(name)
        self._refresh_form_message()

    def clear_errors(self) -> None:
        """Remove every field message and the error summary (not a ``set_form_message`` note)."""
        self._errors, self._form_errors = {}, []
        self._summary_active = False
        for name in self.specs:
            self._show_field_error(name)
        self._refresh_form_message()

    def set_form_message(self, text: str | None) -> None:
        """A form-level message not tied to a field (e.g. "Sign in again"); ``None`` removes it."""
        self._form_note = text
        self._refresh_form_message()

    def _show_field_error(self, name: str) -> None:
        widget = self.error_widgets[name]
        message = self._errors.get(name)
        widget.value = error_html(message) if message else ""
        widget.layout.display = None if message else "none"
        described = [self._part("help", name)] if self.specs[name].description else []
        if message:
            described.append(self._part("error", name))
        self.bridge.set(
            self.input_selector(name),
            {
                "aria-invalid": "true" if message else None,
                "aria-describedby": " ".join(described) or None,
            },
        )

    def aria(self, name: str) -> dict[str, str]:
        """The ARIA attributes the field's input carries in the browser (what a reader hears)."""
        return self.bridge.attributes(self.input_selector(name))

    # ------------------------------------------------------------------ focus

    def focus_field(self, name: str) -> None:
        """Move keyboard focus to the field's input (once it is shown)."""
        self.bridge.move_focus(self.input_selector(name))

    def focus_summary(self) -> None:
        """Move keyboard focus to the error summary (it is read out, then Tab goes on)."""
        self.bridge.move_focus(f".{self._part('summary')}")

    def focus_errors(self) -> None:
        """After a refused submit: focus the summary when one is shown, else the first field in error."""
        if self._message_lines():
            self.focus_summary()
            return
        first = next((n for n in self.specs if n in self._errors), None)
        if first is not None:
            self.focus_field(first)

    def summary_text(self) -> str:
        """The form-level text shown right now, as plain text (what a reader hears)."""
        return "\n".join(self._message_lines())

    def _message_lines(self) -> list[str]:
        lines: list[str] = []
        if self._summary_active and self._errors and self._headline is not None:
            if self._headline:
                lines.append(self._headline)
        elif self._summary_active and self._errors:
            titles = [self.specs[n].title for n in self.specs if n in self._errors]
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
        for name, widget in self.fields.items():
            if hasattr(widget, "disabled"):
                widget.disabled = self._disabled or name in self._read_only

    @property
    def touched(self) -> frozenset[str]:
        """Fields the user has changed since the last reset/``set_values`` (or all after ``validate``)."""
        return frozenset(self._touched)
