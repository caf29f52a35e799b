"""Plain-language messages for :class:`kyc_widgets.form.schema_form.SchemaForm`.

Why: pydantic's messages are written for developers ("String should have at
least 1 character", "Input should be 'LOW', 'NORMAL'..."). An analyst needs
to know what to do. Messages are text with a "⚠ Error:" prefix, never colour
alone. A message may come from the API, so hidden or direction-changing
characters in it are drawn visibly (:func:`kyc_widgets.text.reveal_html`).
"""

from __future__ import annotations

import html
from typing import Any

from pydantic_core import ErrorDetails

from kyc_widgets.form.fields import FieldSpec
from kyc_widgets.text import reveal_html

__all__ = [
    "CHOICE_MESSAGE",
    "EMAIL_MESSAGE",
    "REQUIRED_MESSAGE",
    "error_html",
    "help_html",
    "humanize_error",
]

REQUIRED_MESSAGE = "This field is required."
CHOICE_MESSAGE = "Choose one of the options."
EMAIL_MESSAGE = "Enter a valid e-mail address (e.g. name@example.com)."

_TYPE_MESSAGES: dict[str, str] = {
    "missing": REQUIRED_MESSAGE,
    "enum": CHOICE_MESSAGE,
    "literal_error": CHOICE_MESSAGE,
    "int_parsing": "Enter a whole number.",
    "int_from_float": "Enter a whole number.",
    "int_type": "Enter a whole number.",
    "float_parsing": "Enter a number.",
    "float_type": "Enter a number.",
    "decimal_parsing": "Enter a number.",
    "date_parsing": "Enter a valid date.",
    "date_type": "Enter a valid date.",
    "date_from_datetime_parsing": "Enter a valid date.",
    "datetime_parsing": "Enter a valid date and time.",
    "datetime_type": "Enter a valid date and time.",
    "time_parsing": "Enter a valid time.",
    "bool_parsing": CHOICE_MESSAGE,
    "bool_type": CHOICE_MESSAGE,
    "extra_forbidden": "This field is not accepted here.",
    "uuid_parsing": "Enter a valid UUID (e.g. 123e4567-e89b-12d3-a456-426614174000).",
    "uuid_type": "Enter a valid UUID (e.g. 123e4567-e89b-12d3-a456-426614174000).",
    "url_parsing": "Enter a valid web address (e.g. https://example.com).",
    "url_scheme": "Enter a web address starting with http:// or https://.",
    "union_tag_invalid": CHOICE_MESSAGE,
    "union_tag_not_found": CHOICE_MESSAGE,
    "string_pattern_mismatch": "This does not have the expected format.",
    "model_type": "Fill in this section.",
    "model_attributes_type": "Fill in this section.",
    "dict_type": "Fill in this section.",
    "list_type": "Enter a list of items.",
    "time_delta_parsing": "Enter a valid duration.",
}

_BOUND_MESSAGES: dict[str, tuple[str, str]] = {
    "greater_than_equal": ("ge", "Enter a number of at least {}."),
    "greater_than": ("gt", "Enter a number greater than {}."),
    "less_than_equal": ("le", "Enter a number of at most {}."),
    "less_than": ("lt", "Enter a number less than {}."),
    "multiple_of": ("multiple_of", "Enter a multiple of {}."),
    "decimal_max_digits": ("max_digits", "Use at most {} digits in all."),
    "decimal_max_places": ("decimal_places", "Use at most {} digits after the decimal point."),
    "decimal_whole_digits": ("whole_digits", "Use at most {} digits before the decimal point."),
}
"""Constraint errors (``ge``/``le``/``gt``/``lt``/``multiple_of``/digits): ctx key, sentence."""


def humanize_error(error: ErrorDetails, spec: FieldSpec | None = None, raw: Any = None) -> str:
    """One pydantic error as a sentence an analyst can act on.

    A blank input counts as missing whatever rule caught it (``min_length``,
    enum, ...): "This field is required." says what to do; "String should have
    at least 1 character" does not. Messages from the model's own validators
    are kept, minus pydantic's "Value error, " prefix.
    """
    kind = error["type"]
    if kind == "missing" or (spec is not None and spec.required and _is_blank(raw)):
        return REQUIRED_MESSAGE
    if spec is not None and spec.kind == "email" and kind == "value_error":
        return EMAIL_MESSAGE
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    ctx = error.get("ctx") or {}
    if kind in _BOUND_MESSAGES and _BOUND_MESSAGES[kind][0] in ctx:
        key, sentence = _BOUND_MESSAGES[kind]
        bound = ctx[key]
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)  # "at most 100", not "at most 100.0"
        return sentence.format(bound)
    if kind in ("too_short", "too_long") and spec is not None and spec.kind in ("list", "dict"):
        return _count_message(kind, ctx)
    if kind == "string_too_short" and "min_length" in ctx:
        n = ctx["min_length"]
        return REQUIRED_MESSAGE if n == 1 else f"Use at least {n} characters."
    if kind == "string_too_long" and "max_length" in ctx:
        return f"Use at most {ctx['max_length']} characters."
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def _count_message(kind: str, ctx: dict[str, Any]) -> str:
    """A list or dict with too few or too many items, said in items."""
    if kind == "too_short":
        n = int(ctx.get("min_length", 1))
        return f"Add at least {n} item{'s' if n != 1 else ''}."
    n = int(ctx.get("max_length", 0))
    return f"Remove items: at most {n} {'is' if n == 1 else 'are'} allowed."


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def help_html(text: str) -> str:
    return (
        '<div style="font-size:var(--jp-content-font-size0, 0.85em);'
        "color:var(--jp-ui-font-color2, #555);line-height:1.3;"
        f'white-space:normal">{html.escape(text)}</div>'
    )


def error_html(message: str) -> str:
    return (
        '<div style="color:var(--jp-error-color1, #b00020);line-height:1.3;white-space:normal">'
        f"<strong>⚠ Error:</strong> {reveal_html(message)}</div>"
    )
