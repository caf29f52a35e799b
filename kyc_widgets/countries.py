"""Countries as ISO 3166-1 alpha-2 codes: from the codes, names and local names people type.

Why: ``country_of_onboarding`` feeds screening and reporting, which break on
"Deutschland" next to "DE" next to "Germany". The contract holds alpha-2 codes
(:data:`kyc_widgets.models.COUNTRY_CODE_PATTERN`); this module turns what
people and exports write into those codes, and says plainly when it cannot.

Where the words come from: `pycountry <https://pypi.org/project/pycountry/>`_,
a maintained copy of the ISO 3166-1 data with Debian's ``iso-codes``
translations (about 160 languages, as gettext catalogues). Nothing here is a
hand-kept list of countries; the one hand-kept table, :data:`ALIASES`, holds
only well-known English names the dataset lacks ("UK", "Ivory Coast",
"Holland"...), and a test keeps it from repeating anything pycountry knows.

How text is matched: exactly, after :func:`normalise_name` (case, accents on
Latin, Greek and Cyrillic letters, punctuation, a leading "The", "St" for
"Saint" and "&" for "and" do not count). There is no fuzzy matching: a
near-miss is not a country, and a guess would put a case in the wrong
jurisdiction. A name that means several countries ("Korea", "Congo",
"Virgin Islands") is *ambiguous*: :class:`CountryError` names the candidates
and nothing is chosen for the user.

Which names count, strongest first (:func:`match_country`):

1. alpha-2 and alpha-3 codes, in any case (``de``, ``DEU``);
2. English names: pycountry's ``name``, ``common_name`` and ``official_name``,
   the part before a comma ("Korea, Republic of" -> "Korea"), the name without
   its bracket ("Holy See (Vatican City State)" -> "Holy See", and
   "Vatican City State"), and :data:`ALIASES`;
3. local names: each language's translation of ``name`` and ``common_name``,
   split the way the English name is ("Corea, República de" -> "Corea");
4. translated official names, only where they name one country and nothing
   stronger uses the words. The catalogues hold a few mistranslations there
   (one language's "official name" of Gambia is another country's), so these
   matches are less sure (:data:`OFFICIAL_LOCAL_CONFIDENCE`).

A name found at one level is not looked up further down, so a local word that
happens to be another country's English name cannot take it over. The index
is built once, on first use (about a second: it reads every catalogue).
"""

from __future__ import annotations

import functools
import gettext
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Literal

import pycountry

__all__ = [
    "ALIASES",
    "COUNTRY_CODES",
    "OFFICIAL_LOCAL_CONFIDENCE",
    "CountryError",
    "CountryMatch",
    "CountryProblem",
    "country_code",
    "country_label",
    "country_labels",
    "country_name",
    "country_problem",
    "country_refusal",
    "match_country",
    "normalise_name",
]

COUNTRY_CODES: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries)
"""Every ISO 3166-1 alpha-2 code pycountry knows (249)."""

_ALPHA_3: dict[str, str] = {c.alpha_3: c.alpha_2 for c in pycountry.countries}

ALIASES: dict[str, str] = {
    "UK": "GB",
    "Great Britain": "GB",
    "Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Northern Ireland": "GB",
    "Russia": "RU",
    "Turkey": "TR",
    "Ivory Coast": "CI",
    "Holland": "NL",
    "Vatican": "VA",
    "Vatican City": "VA",
    "Macedonia": "MK",
    "Swaziland": "SZ",
    "Burma": "MM",
    "East Timor": "TL",
    "Cape Verde": "CV",
    "Brunei": "BN",
    "Macau": "MO",
    "UAE": "AE",
    "Republic of Korea": "KR",
    "Democratic Republic of the Congo": "CD",
    "DR Congo": "CD",
    "DRC": "CD",
    "Congo-Kinshasa": "CD",
    "Congo-Brazzaville": "CG",
}
"""Well-known English names pycountry lacks -> alpha-2 (the only hand-kept table here).

Old names that stay in exports for years (Turkey, Swaziland, Burma, Cape Verde,
Macedonia), everyday short forms (UK, Russia,
Brunei, UAE, DRC), and the nations of the United Kingdom, which ISO 3166-1 codes
as GB. A test checks that no entry is a name pycountry already knows."""

CODE_CONFIDENCE = 1.0
NAME_CONFIDENCE = 0.95
LOCAL_CONFIDENCE = 0.9
OFFICIAL_LOCAL_CONFIDENCE = 0.8
"""How sure a match on a translated official name is: below
:data:`kyc_widgets.batch.mapping.CONFIDENT`, so a person confirms it."""

Kind = Literal["alpha-2", "alpha-3", "name", "alias", "local name", "local official name"]

_CONFIDENCE: dict[str, float] = {
    "alpha-2": CODE_CONFIDENCE,
    "alpha-3": CODE_CONFIDENCE,
    "name": NAME_CONFIDENCE,
    "alias": NAME_CONFIDENCE,
    "local name": LOCAL_CONFIDENCE,
    "local official name": OFFICIAL_LOCAL_CONFIDENCE,
}

_MAX_TEXT = 200
"""Longer text is no country name; it is not even looked up."""


class CountryError(ValueError):
    """Text that is not one country: unknown, or ambiguous between ``candidates``.

    ``value`` is the text as given; ``candidates`` the alpha-2 codes it may
    mean (empty when it means none). The message names both, for people.
    """

    def __init__(self, value: str, candidates: Iterable[str] = ()) -> None:
        self.value = value
        self.candidates: tuple[str, ...] = tuple(candidates)
        shown = value.strip()[:60]
        if self.candidates:
            message = f"{shown}: {_either(self.candidates)}?"
        elif not shown:
            message = "no country given; use an ISO 3166-1 alpha-2 code such as GB or FR"
        else:
            message = (
                f"{shown!r} is not a country code or name we know; "
                "use an ISO 3166-1 alpha-2 code such as GB or FR"
            )
        super().__init__(message)


@dataclass(frozen=True)
class CountryMatch:
    """What a text means: one ``code``, or several ``candidates``, or nothing.

    ``kind`` says which names matched (:data:`Kind`), ``confidence`` how sure
    a value map built from it may be (1.0 for codes, less for names).
    """

    text: str
    candidates: tuple[str, ...]
    kind: Kind | None

    @property
    def code(self) -> str | None:
        """The alpha-2 code when the text means exactly one country."""
        return self.candidates[0] if len(self.candidates) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1

    @property
    def confidence(self) -> float:
        return _CONFIDENCE[self.kind] if self.kind is not None and self.code else 0.0

    def error(self) -> CountryError:
        """The :class:`CountryError` for a text that is not exactly one country."""
        return CountryError(self.text, self.candidates)


def country_code(text: str) -> str:
    """The ISO 3166-1 alpha-2 code for ``text``: a code, an English, common or local name.

    ``"de"``, ``"DEU"``, ``"Germany"``, ``"Deutschland"`` and ``"Allemagne"`` are
    all ``"DE"``. Raises :class:`CountryError` (a ``ValueError``) naming the
    value for unknown text, and the candidates for an ambiguous one
    (``"Korea: KP (North Korea) or KR (South Korea)?"``).
    """
    match = match_country(text)
    if match.code is None:
        raise match.error()
    return match.code


def match_country(text: str) -> CountryMatch:
    """Look ``text`` up (see the module docstring for the order); never raises for text."""
    raw = str(text)
    if len(raw) > _MAX_TEXT:
        return CountryMatch(raw, (), None)
    stripped = raw.strip()
    upper = stripped.replace(".", "").upper()  # "U.S.A." is the code USA
    if len(upper) == 2 and upper in COUNTRY_CODES:
        return CountryMatch(raw, (upper,), "alpha-2")
    if upper in _ALPHA_3:
        return CountryMatch(raw, (_ALPHA_3[upper],), "alpha-3")
    key = normalise_name(stripped)
    if not key:
        return CountryMatch(raw, (), None)
    for kind, table in _index():
        found = table.get(key)
        if found:
            return CountryMatch(raw, found, kind)
    return CountryMatch(raw, (), None)


def country_name(code: str) -> str:
    """The English name people use for an alpha-2 code (``common_name`` when there is one).

    A name that also means another country ("Congo") gives way to the official
    name ("Republic of the Congo"), so a label or a message names one country.
    """
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise KeyError(code)
    name = str(getattr(country, "common_name", None) or country.name)
    official = getattr(country, "official_name", None)
    if official and len(_english().get(normalise_name(name), ())) > 1:
        return str(official)
    return name


def country_label(code: str) -> str:
    """``"DE — Germany"``: how a picker and a value map show a code."""
    return f"{code} \u2014 {country_name(code)}"


@functools.cache
def country_labels() -> tuple[str, ...]:
    """Every :func:`country_label`, in the order of the names (accents ignored)."""
    return tuple(
        sorted((country_label(c) for c in COUNTRY_CODES), key=lambda label: _fold(label[5:]))
    )


def country_refusal(text: str) -> str:
    """Why the contract refuses ``text`` as a country, without repeating it.

    The API's messages never echo a submitted value (``docs/api-contract.md``),
    so the text is described by what it matched: "use DE (Germany)".
    """
    match = match_country(text)
    rule = "must be an ISO 3166-1 alpha-2 country code such as GB or FR"
    if match.code is not None:
        return f"{rule}; for that country use {match.code} ({country_name(match.code)})"
    if match.ambiguous:
        return f"{rule}; that name could be {_either(match.candidates)}"
    return rule


class CountryProblem(str, Enum):
    """Why a campaign cell is not a country code (the problems table's ``code``)."""

    NAME = "country_name"
    """A known name or alpha-3 code: the API takes the alpha-2 code."""
    AMBIGUOUS = "country_ambiguous"
    """A name of several countries."""
    UNKNOWN = "country_unknown"
    """Neither a code nor a name of a country."""

    def __str__(self) -> str:
        return self.value


def country_problem(text: str) -> tuple[CountryProblem, str, str]:
    """``(code, message, hint)`` for a campaign cell the contract refuses as a country.

    Unlike :func:`country_refusal` (the API's words) the message names the
    cell's text: a country name is not personal data, and the analyst must
    find the value among the sheet's. The hint says what to do about it.
    """
    match = match_country(text)
    shown = repr(str(text).strip()[:60])
    if match.code is not None:
        return (
            CountryProblem.NAME,
            f"{shown} is {match.code} ({country_name(match.code)}); the API takes the code",
            "confirm the mapping's country values (suggest_mapping proposes them), "
            "or type the code in the sheet",
        )
    if match.ambiguous:
        return (
            CountryProblem.AMBIGUOUS,
            f"{shown} could be {_either(match.candidates)}",
            "choose one for it in the mapping's country values, or type the code in the sheet",
        )
    return (
        CountryProblem.UNKNOWN,
        f"{shown} is not a country code or name we know",
        "use an ISO 3166-1 alpha-2 code such as GB or FR",
    )


def _either(codes: Iterable[str]) -> str:
    """``"KP (North Korea) or KR (South Korea)"``."""
    named = [f"{code} ({country_name(code)})" for code in codes]
    return ", ".join(named[:-1]) + " or " + named[-1] if len(named) > 1 else "".join(named)


# --------------------------------------------------------------------------- names

_NOT_WORD_ASCII = re.compile(r"[^a-z0-9]+")
_FOLD_BELOW = 0x0530  # Latin, IPA, Greek and Cyrillic: their accents are dropped
_LATIN_EXTENDED = range(0x1E00, 0x2000)  # Vietnamese, polytonic Greek


def _fold(text: str) -> str:
    """Case and the accents of Latin, Greek and Cyrillic letters removed.

    Marks of other scripts are letters' parts there (Devanagari vowel signs,
    kana voicing marks) and are kept.
    """
    kept: list[str] = []
    base = 0
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(char):
            if base < _FOLD_BELOW or base in _LATIN_EXTENDED:
                continue
        else:
            base = ord(char)
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept)).casefold()


def normalise_name(text: str) -> str:
    """``" The Côte d’Ivoire. "`` -> ``"cote d ivoire"``: how names are compared.

    Case, accents (Latin, Greek, Cyrillic), punctuation and spacing do not
    count; dots are dropped (``U.K.`` -> ``uk``), ``&`` reads "and", ``St`` reads
    "Saint", and a leading "The" goes.
    """
    text = text.replace(".", "").replace("&", " and ")
    if text.isascii():
        cleaned = _NOT_WORD_ASCII.sub(" ", text.lower())
    else:
        cleaned = "".join(
            char if unicodedata.category(char)[0] in "LMN" else " " for char in _fold(text)
        )
    words = cleaned.split()
    if words and words[0] == "the":
        words = words[1:]
    return " ".join("saint" if word == "st" else word for word in words)


def _variants(name: str, english: str, *, inner: bool = False) -> Iterator[str]:
    """``name`` and its shorter forms, cut where the English name is cut.

    "Korea, Republic of" also reads "Korea"; "Holy See (Vatican City State)"
    also reads "Holy See". A translation is cut only where its English name
    has a comma or a bracket: translators use those freely ("Perancis, Wilayah
    Bagian Selatan" is not France). ``inner`` adds the bracket's content
    ("Vatican City State"): reliable in English only.
    """
    yield name
    if "," in english and "," in name:
        yield name.split(",", 1)[0]
    if "(" in english and "(" in name:
        yield re.sub(r"\([^)]*\)", " ", name)
        content = re.search(r"\(([^)]*)\)\s*$", name) if inner else None
        if content:
            yield content.group(1)


_Table = dict[str, tuple[str, ...]]


def _add(table: dict[str, set[str]], names: Iterable[str], code: str) -> None:
    for name in names:
        key = normalise_name(name)
        if key:
            table.setdefault(key, set()).add(code)


@functools.cache
def _english() -> dict[str, set[str]]:
    """English names and their short forms -> codes (cheap: no catalogue is read)."""
    table: dict[str, set[str]] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            text = getattr(country, attr, None)
            if text:
                _add(table, _variants(text, text, inner=True), country.alpha_2)
    return table


def _languages() -> list[str]:
    """The languages pycountry has a country catalogue for."""
    root = pycountry.LOCALES_DIR
    return sorted(
        lang
        for lang in os.listdir(root)
        if os.path.isfile(os.path.join(root, lang, "LC_MESSAGES", "iso3166-1.mo"))
    )


def _local() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Translated names and common names; translated official names apart."""
    names: dict[str, set[str]] = {}
    official: dict[str, set[str]] = {}
    for language in _languages():
        catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        for country in pycountry.countries:
            for attr in ("name", "common_name", "official_name"):
                english = getattr(country, attr, None)
                if not english:
                    continue
                local = catalogue.gettext(english)
                if local == english:
                    continue
                target = official if attr == "official_name" else names
                _add(target, _variants(local, english), country.alpha_2)
    return names, official


@functools.cache
def _index() -> tuple[tuple[Kind, _Table], ...]:
    """The name tables, strongest first (built once, on first use)."""
    english = dict(_english())
    aliases: dict[str, set[str]] = {}
    _add_aliases(aliases)
    local, official = _local()
    stronger = set(english) | set(aliases)
    local_table = {k: v for k, v in local.items() if k not in stronger}
    stronger |= set(local_table)
    official_table = {k: v for k, v in official.items() if k not in stronger and len(v) == 1}
    return (
        ("name", _frozen(english)),
        ("alias", _frozen(aliases)),
        ("local name", _frozen(local_table)),
        ("local official name", _frozen(official_table)),
    )


def _add_aliases(table: dict[str, set[str]]) -> None:
    for alias, code in ALIASES.items():
        _add(table, [alias], code)


def _frozen(table: dict[str, set[str]]) -> _Table:
    return {key: tuple(sorted(codes)) for key, codes in table.items()}
