"""The campaign's field vocabulary, built once from the contract model: a leaf module.

Every part of a campaign speaks of the same fifteen fields of
:class:`~kyc_widgets.models.KycCaseCreateInput`: the reader looks for a header
row by them, the mapping matches headers to them, the pre-flight validates
them, the fix form and the report name them. Each of those used to keep its
own copy (titles inverted twice, two header normalisers, two enum
canonicalisers), and copies drift. Here is the one definition of:

- names (:data:`FIELDS`), titles both ways (:data:`FIELD_TITLES`,
  :data:`FIELD_BY_TITLE`, :func:`field_title`), the required columns;
- header matching: :func:`normalise_header`, :data:`HEADER_ALIASES`, and the
  phrase index of names, titles and export synonyms (:func:`is_known_header`);
- enum members: :data:`ENUM_FIELDS`, :func:`enum_member`, :func:`canonical_enum`;
- country fields (ISO 3166-1 alpha-2 codes): :data:`COUNTRY_FIELDS`, and
  :func:`recognised_value`, what a cell already says in the API's words;
- each field's own pydantic type as a validator (:func:`field_adapter`) and
  the words of a validation error (:func:`field_message`).

It imports only the contract, :mod:`kyc_widgets.labels`, :mod:`kyc_widgets.countries`,
:mod:`kyc_widgets.text` and :mod:`.synonyms`.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Any

from pydantic import ConfigDict, TypeAdapter, WithJsonSchema

from kyc_widgets.countries import COUNTRY_CODES
from kyc_widgets.labels import words
from kyc_widgets.models import COUNTRY_CODE_PATTERN, REQUIRED_CREATE_FIELDS, KycCaseCreateInput
from kyc_widgets.text import reveal

from .synonyms import HEADER_SYNONYMS, phrase

__all__ = [
    "COUNTRY_FIELDS",
    "ENUM_FIELDS",
    "ENUM_SEPARATORS",
    "FIELDS",
    "FIELD_BY_TITLE",
    "FIELD_TITLES",
    "HEADER_ALIASES",
    "HEADER_PHRASES",
    "PERSONAL_DATA_FIELDS",
    "REPEATED_HEADER",
    "REQUIRED_COLUMNS",
    "canonical_enum",
    "enum_member",
    "field_adapter",
    "field_message",
    "field_title",
    "is_known_header",
    "json_value",
    "normalise_header",
    "or_list",
    "quote_value",
    "recognised_value",
]

_MODEL_FIELDS = KycCaseCreateInput.model_fields

FIELDS: tuple[str, ...] = tuple(_MODEL_FIELDS)
"""Every column the batch understands, in the form's order."""

REQUIRED_COLUMNS: tuple[str, ...] = tuple(
    name for name in REQUIRED_CREATE_FIELDS if name != "current_status"
)
"""Columns a campaign sheet must have (a missing or empty ``current_status`` means DRAFT)."""

ENUM_FIELDS: dict[str, type[Enum]] = {
    name: info.annotation
    for name, info in _MODEL_FIELDS.items()
    if isinstance(info.annotation, type) and issubclass(info.annotation, Enum)
}
"""Fields whose values are the members of an enum, and that enum."""

COUNTRY_FIELDS: frozenset[str] = frozenset(
    name
    for name, info in _MODEL_FIELDS.items()
    if any(
        isinstance(meta, WithJsonSchema)
        and (meta.json_schema or {}).get("pattern") == COUNTRY_CODE_PATTERN
        for meta in info.metadata
    )
)
"""Fields that hold an ISO 3166-1 alpha-2 code (the contract's ``CountryCode``): their
campaign value maps turn names and alpha-3 codes into codes (:mod:`.mapping`)."""

FIELD_TITLES: dict[str, str] = {name: info.title or words(name) for name, info in _MODEL_FIELDS.items()}
"""Field name -> its title for people ("Assigned analyst e-mail")."""

FIELD_BY_TITLE: dict[str, str] = {title: name for name, title in FIELD_TITLES.items()}
"""Title -> field name: :data:`FIELD_TITLES` the other way."""

PERSONAL_DATA_FIELDS: frozenset[str] = frozenset(
    {
        "legal_first_name",
        "legal_last_name",
        "user_internal_id",
        "assigned_analyst_name",
        "assigned_analyst_email",
    }
)
"""Contract fields that identify a person; exports can leave them out."""

ENUM_SEPARATORS = re.compile(r"[\s\-]+")
"""What separates the words of an enum member as people type it (``kyc-refresh``)."""

REPEATED_HEADER = re.compile(r"(.*)\.(\d+)", re.DOTALL)
"""``name.1``: pandas' spelling of the second ``name`` header in one sheet."""


def field_title(name: Any) -> Any:
    """A contract field's title ("Assigned analyst e-mail"); other values pass through."""
    return FIELD_TITLES.get(name, name) if isinstance(name, str) else name


def normalise_header(header: object) -> str:
    """``" Legal First-Name "`` -> ``"legal_first_name"``.

    A trailing ``*`` (the template's required marker) is dropped.
    """
    return re.sub(r"[\s\-]+", "_", str(header).strip().rstrip("*").strip().lower())


HEADER_ALIASES: dict[str, str] = {
    **{normalise_header(title): name for name, title in FIELD_TITLES.items()},
    **{name: name for name in FIELDS},
    "assigned_analyst_e_mail": "assigned_analyst_email",
    "external_case_id": "kyc_case_id",
}
"""A :func:`normalise_header` spelling -> field: names, titles and two common variants."""


def _phrase_index() -> dict[str, tuple[str, float]]:
    index: dict[str, tuple[str, float]] = {}
    for name, phrases in HEADER_SYNONYMS.items():
        for text in phrases:
            index[phrase(text)] = (name, 0.95)
    for alias, name in HEADER_ALIASES.items():
        index[phrase(alias)] = (name, 1.0)
    for name in FIELDS:
        index[phrase(name)] = (name, 1.0)
        index[phrase(FIELD_TITLES[name])] = (name, 1.0)
    return index


HEADER_PHRASES: dict[str, tuple[str, float]] = _phrase_index()
"""Phrase -> (field, how sure): names, titles and aliases 1.0, export synonyms 0.95."""


def is_known_header(header: object) -> bool:
    """A field's name or title, or an export synonym of one (no fuzzy matching: cheap)."""
    return phrase(header) in HEADER_PHRASES


def canonical_enum(text: str) -> str:
    """How people type a member, in its canonical spelling: ``"Kyc refresh"`` -> ``"KYC_REFRESH"``."""
    return ENUM_SEPARATORS.sub("_", text.strip().upper())


def enum_member(name: str, text: str) -> str | None:
    """The member of field ``name`` that ``text`` spells (case, spaces, hyphens ignored), or None."""
    enum = ENUM_FIELDS.get(name)
    if enum is None:
        return None
    candidate = canonical_enum(str(text))
    return candidate if candidate in enum.__members__ else None


def recognised_value(name: str, text: str) -> str | None:
    """What ``text`` already is in the API's words, needing no value map, or None.

    An enum member in any spelling (:func:`enum_member`); for a country field,
    an alpha-2 code in any case (``"de"`` -> ``"DE"``), which the contract accepts.
    """
    if name in COUNTRY_FIELDS:
        code = str(text).strip().upper()
        return code if len(code) == 2 and code in COUNTRY_CODES else None
    return enum_member(name, text)


_ADAPTERS: dict[str, TypeAdapter[Any]] = {}


def field_adapter(name: str) -> TypeAdapter[Any]:
    """A ``list[<field type>]`` validator built from the model's own field definition."""
    adapter = _ADAPTERS.get(name)
    if adapter is None:
        info = _MODEL_FIELDS[name]
        params: Any = (info.annotation, *info.metadata)
        item: Any = Annotated[params] if info.metadata else info.annotation
        adapter = TypeAdapter(list[item], config=ConfigDict(str_strip_whitespace=True))
        _ADAPTERS[name] = adapter
    return adapter


def json_value(value: Any) -> Any:
    """An enum member as its value; anything else as is."""
    return value.value if isinstance(value, Enum) else value


def field_message(name: str, error: Any, value: Any = None) -> str:
    """The words of one pydantic error of field ``name``, without the field's title.

    Callers put the title in front when the field is not shown beside the
    message (see :func:`kyc_widgets.batch.problems.render`). ``value`` is the
    refused cell: a choice's message names it ("'ASAP' is not a case priority;
    use Low, Normal, High or Urgent"), because the analyst has to find it in
    the sheet. Only for choices: their spellings are vocabulary, not personal
    data, and the message reaches the command line; other messages never hold
    the cell (:func:`~kyc_widgets.batch.problems.with_value` adds it where a
    screen shows it).
    """
    kind = error.get("type")
    if kind == "missing":
        return "this column is required and the cell is empty"
    if kind == "enum" and name in ENUM_FIELDS:
        members = or_list([words(member.value) for member in ENUM_FIELDS[name]])
        quoted = "This value" if value is None else quote_value(value)
        if name == "current_status":
            return (
                f"{quoted} is not a status a case can be created in; use {members} "
                "(final outcomes such as approval come from review, never from creation)"
            )
        return f"{quoted} is not a {FIELD_TITLES[name].lower()}; use {members}"
    return str(error.get("msg", "invalid value")).removeprefix("Value error, ")


QUOTED_LENGTH = 40
"""Longest cell text quoted in a message; a longer one is cut with an ellipsis."""


def quote_value(value: Any) -> str:
    """``'ASAP'``: a cell's text as a message quotes it (short, hidden characters shown)."""
    text = reveal(str(value))
    if len(text) > QUOTED_LENGTH:
        text = text[: QUOTED_LENGTH - 1] + "…"
    return f"'{text}'"


def or_list(items: list[str]) -> str:
    """``["Low", "Normal", "High"]`` -> ``"Low, Normal or High"``."""
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
