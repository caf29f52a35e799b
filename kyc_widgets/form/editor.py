"""The form as a tree of editors, and what every editor of one form shares.

Why a tree: a nested value (a customer with an address, a list of owners, an
identity document that is one of several kinds) is edited by nested editors,
one per field, item or option, each knowing its dotted path
(:mod:`kyc_widgets.form.paths`). An editor reads its raw value, writes a value
into its inputs, says what to validate, finds the editor an error location
points to, and shows that error next to itself with the ARIA that ties it to
its input. The form (:class:`~kyc_widgets.form.schema_form.SchemaForm`) owns
the root and does validation, summaries and focus; it never needs to know
which kind of editor it talks to.

Editors are built by one factory that the form puts in the context
(``FormContext.build``), so a group can build its children without importing
every other editor module (no import cycles).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import ipywidgets as W

from kyc_widgets.a11y.bridge import A11yBridge
from kyc_widgets.form.fields import FieldSpec
from kyc_widgets.form.messages import error_html
from kyc_widgets.form.paths import as_pattern, parts

__all__ = ["MISSING", "Editor", "EditorFactory", "FormContext", "Loc", "Override", "close_tree"]


class _Missing:
    """Nothing was entered: the key is left out, so pydantic reports it as missing."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
Loc = tuple[str | int, ...]
Override: TypeAlias = "W.Widget | Callable[[], W.Widget]"
EditorFactory = Callable[..., "Editor"]
"""``build(spec, path, token, parent, *, framed=True)``: see ``SchemaForm``'s factory."""


@dataclass
class FormContext:
    """What the editors of one form share: its scope and bridge, styles, options, callbacks."""

    scope: str
    bridge: A11yBridge
    label_width: str
    input_width: str
    read_only: frozenset[str] = frozenset()
    choices: Mapping[str, Iterable[Any]] = field(default_factory=dict)
    widgets: Mapping[str, Override] = field(default_factory=dict)
    initial: Mapping[str, Any] = field(default_factory=dict)
    by_alias: bool = False
    """Paths and values by each field's key (its alias), as JSON Schema forms name them."""
    locked: bool = False
    build: EditorFactory | None = None
    on_input: Callable[[Editor], None] = lambda _editor: None
    """The user changed this editor's value (typed, chose, added, removed, moved)."""
    on_structure: Callable[[Editor], None] = lambda _editor: None
    """Editors were built, dropped or moved under this one: paths may have changed."""
    styles: dict[type, W.Widget] = field(default_factory=dict)
    quiet_depth: int = 0
    _serial: Iterator[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        # Shared by every part that looks alike: fewer widget models, a faster build.
        self.html_style = W.HTML.class_traits()["style"].klass()  # help and error texts alike
        self.help_layout = W.Layout(margin=f"0 0 2px {self.label_width}")
        self.row_layout = W.Layout(margin="0 0 6px 0")
        self._layouts: dict[str, W.Layout] = {}

    def layout(self, name: str, **traits: Any) -> W.Layout:
        """One layout per ``name`` in this form, for parts never hidden one by one (buttons, bars)."""
        if name not in self._layouts:
            self._layouts[name] = W.Layout(**traits)
        return self._layouts[name]

    def make(
        self, spec: FieldSpec, path: str, token: str, parent: Editor | None, *, framed: bool = True
    ) -> Editor:
        """Build the editor for ``spec`` at ``path`` (the form's factory).

        ``framed=False``: the caller draws the title (a list item's heading, a
        union's selector), so a nested model gets no collapsible header.
        """
        assert self.build is not None, "the form sets its factory before building"
        return self.build(spec, path, token, parent, framed=framed)

    def serial(self) -> int:
        """A number never used before in this form (tokens of list items and rows)."""
        return next(self._serial)

    def part(self, kind: str, token: str = "") -> str:
        """The class (and element id) of one part: ``input``/``help``/``error`` of a field..."""
        return f"{self.scope}-{kind}-{token}" if token else f"{self.scope}-{kind}"

    def mark(self, widget: W.DOMWidget, kind: str, token: str, *, with_id: bool = True) -> str:
        """Give ``widget`` its part class (and the same element id, for ARIA references)."""
        name = self.part(kind, token)
        widget.add_class(name)
        if with_id:
            self.bridge.set(f".{name}", {"id": name})
        return name

    def option(self, options: Mapping[str, Any], path: str) -> Any:
        """A per-field option (``choices``, ``widgets``) by exact path, else by list pattern."""
        if path in options:
            return options[path]
        return options.get(as_pattern(path))

    def is_read_only(self, spec: FieldSpec, path: str) -> bool:
        """Read-only by the model or by the form's ``read_only`` (a path or any ancestor)."""
        if spec.read_only:
            return True
        names = parts(path)
        return any(
            ".".join(str(p) for p in names[:i]) in self.read_only
            or as_pattern(".".join(str(p) for p in names[:i])) in self.read_only
            for i in range(1, len(names) + 1)
        )

    def preset(self, path: str) -> bool:
        """True when the form's initial values give this field a value (no placeholder)."""
        value: Any = self.initial
        for part in parts(path):
            if isinstance(value, Mapping) and part in value:
                value = value[part]
            elif isinstance(value, list) and isinstance(part, int) and part < len(value):
                value = value[part]
            else:
                return False
        return value is not None

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Changes made by the program (``set_values``), not by the user: no callbacks."""
        self.quiet_depth += 1
        try:
            yield
        finally:
            self.quiet_depth -= 1

    @property
    def is_quiet(self) -> bool:
        return self.quiet_depth > 0


class Editor:
    """One node: a field's input or group of inputs, at a dotted ``path``.

    Subclasses set ``widget`` (what is drawn) and ``error`` (the message text
    under it), and override the value methods. ``token`` is fixed for the
    editor's life (its CSS classes and element ids), while ``path`` changes
    when a list item moves.
    """

    widget: W.Widget
    error: W.HTML
    read_only: bool

    def __init__(
        self, spec: FieldSpec, ctx: FormContext, path: str, token: str, parent: Editor | None
    ) -> None:
        self.spec = spec
        self.ctx = ctx
        self.path = path
        self.token = token
        self.parent = parent
        self.title = spec.title
        self.message: str | None = None
        self.read_only = ctx.is_read_only(spec, path) or bool(parent and parent.read_only)
        """Shown, not editable: the model says so, the form's ``read_only``, or a read-only group."""

    def __repr__(self) -> str:  # never the value: it may be a secret
        return f"<{type(self).__name__} {self.path or '(form)'}>"

    # -- the tree -----------------------------------------------------------------------

    def children(self) -> list[Editor]:
        """The editors built under this one, in the order they are drawn."""
        return []

    def walk(self) -> Iterator[Editor]:
        """This editor, then every editor under it, in the order they are drawn."""
        yield self
        for child in self.children():
            yield from child.walk()

    def rebase(self, path: str) -> None:
        """A list item moved: this editor (and those under it) now sit at ``path``."""
        self.path = path

    @property
    def title_path(self) -> str:
        """The titles from the top down to this editor ("Address › City"), for summaries.

        Wrappers whose child carries the title (a list's items are numbered, an
        optional group is titled like its field) are left out above the editor.
        """
        titles = [self.title]
        node = self.parent
        while node is not None and node.path:
            if node.names_itself and node.title != titles[-1]:
                titles.append(node.title)
            node = node.parent
        return " › ".join(reversed(titles))

    @property
    def names_itself(self) -> bool:
        """False for wrappers whose child already carries the title (lists, optionals)."""
        return True

    def retitle(self, title: str) -> None:
        """A list item's number changed: its title (and label) follow."""
        self.title = title

    # -- values -------------------------------------------------------------------------

    def read(self) -> Any:
        """The raw value shown (nested dicts and lists), nothing validated."""
        raise NotImplementedError

    def payload(self) -> Any:
        """What to validate: like :meth:`read`, ``MISSING`` when nothing was entered."""
        return self.read()

    def write(self, value: Any) -> None:
        """Show ``value``; ``None`` on a non-nullable group means "its defaults"."""
        raise NotImplementedError

    def clear(self) -> None:
        """Back to a fresh state: the field's default, or empty (built parts dropped)."""
        self.write(self.spec.initial())

    # -- errors and focus ---------------------------------------------------------------

    def checks(self) -> list[tuple[Editor, str]]:
        """Problems the model cannot see (e.g. a dict key typed twice): (editor, message)."""
        return []

    def locate(self, loc: Loc) -> Editor | None:
        """The editor an error at ``loc`` (relative to this one) belongs to.

        ``None`` means the error is about an option that is not selected (a
        union reports every member's errors): it is not shown.
        """
        return self

    def show(self, message: str | None) -> None:
        """Show ``message`` next to this editor (``None`` hides it) and update its ARIA."""
        self.message = message
        self.error.value = error_html(message) if message else ""
        self.error.layout.display = None if message else "none"
        self.aria()

    def aria(self) -> None:
        """Set ``aria-invalid``/``aria-describedby`` on the element that is read out."""

    def focus_selector(self) -> str:
        """CSS selector (inside the form's scope) of the control focus goes to."""
        raise NotImplementedError

    def reveal(self) -> None:
        """Make this editor visible (open the collapsed groups around it)."""
        if self.parent is not None:
            self.parent.reveal()

    def set_locked(self, locked: bool) -> None:
        """Lock or unlock the inputs (read-only ones stay locked)."""
        for child in self.children():
            child.set_locked(locked)

    def make_error(self, *, indent: bool = True) -> W.HTML:
        """The message text under this editor, hidden until there is one; its id is for ARIA.

        ``indent``: under an input, aligned with it (past the label column).
        """
        margin = f"0 0 2px {self.ctx.label_width}" if indent else "0 0 2px 0"
        error = W.HTML(
            layout=W.Layout(display="none", margin=margin),
            style=self.ctx.html_style,
        )
        self.ctx.mark(error, "error", self.token)
        return error


def close_tree(widget: W.Widget) -> None:
    """Close a dropped part's widgets (their comm models), children first.

    A removed list item or a union option built again must not leave its
    models in the kernel (and in saved widget state). Layouts and styles are
    left open: some are shared by the whole form.
    """
    for child in getattr(widget, "children", ()):
        close_tree(child)
    widget.close()
