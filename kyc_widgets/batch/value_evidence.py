"""What a column's values say about which field it is: evidence for :func:`~.mapping.suggest_mapping`.

Why: headers of exports are short and ambiguous ("Client Ref", "Client
Kind", "Type", "Code"), and a guess from the header alone can be the wrong
way round. The values usually settle it: ``0007512`` is an identifier, not a
user type; ``Retail individual`` and ``Sole proprietor`` are user types (the
export vocabulary of :data:`~.synonyms.VALUE_SYNONYMS`), not identifiers;
``a.b@bank.example`` is an e-mail address; ``DE``/``Deutschland`` a country.

:func:`column_evidence` reads a sample of a column's distinct values once and
returns, per field, how well they fit (0..1) and how much that should count
(:data:`STRENGTH`): a vocabulary (enum members and their export synonyms),
countries and e-mail shapes are strong evidence either way; identifiers
(code-like, mostly unique) medium; names and free text weak, because first
and last names look alike and any text can be a team name. :func:`combine`
folds that into the header's score, so a header guess the values contradict
drops and a field the values point to rises, while an exact header (a field's
name or title) stays what it is.

Nothing here is kept or logged: values are read in memory to score fields,
and only the scores leave this module.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from kyc_widgets.countries import match_country
from kyc_widgets.labels import words

from .fields import COUNTRY_FIELDS, ENUM_FIELDS, FIELDS, enum_member
from .synonyms import VALUE_SYNONYMS, phrase

__all__ = [
    "SAMPLE_ROWS",
    "STRENGTH",
    "STRONG",
    "UNSURE_CAP",
    "WEAK",
    "ColumnEvidence",
    "column_evidence",
    "combine",
]

SAMPLE_ROWS = 2_000
"""Rows read from the top of a column: enough to see its shape, cheap for 100k rows."""

_MAX_DISTINCT = 200
"""Distinct values looked at per column."""

_IDENTIFIERS = frozenset({"user_internal_id", "kyc_case_id"})
_PERSON_NAMES = frozenset({"legal_first_name", "legal_last_name", "assigned_analyst_name"})
_EMAILS = frozenset({"assigned_analyst_email"})
_TEXTS = frozenset({"agency_name", "regulated_provider_name", "programme_name", "assigned_team"})

STRENGTH: dict[str, float] = {
    **{name: 0.6 for name in ENUM_FIELDS},  # STRONG
    **{name: 0.6 for name in COUNTRY_FIELDS},
    **{name: 0.6 for name in _EMAILS},
    **{name: 0.45 for name in _IDENTIFIERS},
    **{name: 0.15 for name in _PERSON_NAMES},
    **{name: 0.1 for name in _TEXTS},
}
"""How much a field's value fit counts against its header score (see :func:`combine`)."""

WEAK = 0.3
"""Evidence below this strength can lower a header's score, never raise it."""

STRONG = 0.6
"""Evidence this strong (a vocabulary, countries, e-mail addresses) can make a fuzzy header
match sure enough to apply; weaker evidence leaves it a guess (:data:`UNSURE_CAP`)."""

UNSURE_CAP = 0.84
"""Below :data:`~.mapping.CONFIDENT`: the most medium evidence (an identifier's shape) lifts
a fuzzy header match to, so a person still confirms it."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/\-]*$")
_NAME = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)*\.?$")


@dataclass(frozen=True)
class ColumnEvidence:
    """How well a column's values fit each field (0..1), from a sample of them."""

    fit: dict[str, float]
    values: int
    """Non-empty cells sampled (0: no evidence at all)."""

    def score(self, name: str, header_score: float) -> float:
        """The header's score for ``name`` with the values taken into account.

        Weak evidence (names, free text: :data:`STRENGTH` under :data:`WEAK`) only
        ever lowers a score: any text can be a team or a name, so it cannot make a
        header match that was too weak on its own into a suggestion.
        """
        if not self.values:
            return header_score
        fit, strength = self.fit.get(name, 0.0), STRENGTH.get(name, 0.0)
        if strength < WEAK:
            fit = min(fit, 0.5)
        score = combine(header_score, fit, strength)
        if strength < STRONG and header_score < UNSURE_CAP:
            score = min(score, UNSURE_CAP)  # an id's shape fits many columns: a person confirms
        return score


def combine(header_score: float, fit: float, strength: float) -> float:
    """A header score moved by the values: up towards 1 when they fit, down when they do not.

    ``fit`` 0.5 is neutral. Above it, the distance to 1 shrinks by up to
    ``strength``; below it, the score is cut by up to ``strength``. An exact
    header (1.0) is never lowered by less than a clear contradiction: a
    column named "Case priority" holding ``ASAP`` is still that column, with
    bad values that the pre-flight reports.
    """
    lean = (fit - 0.5) * 2  # -1 .. 1
    if lean >= 0:
        return 1 - (1 - header_score) * (1 - strength * lean)
    cut = strength * -lean
    if header_score >= 1.0:
        cut = min(cut, 0.1)
    return header_score * (1 - cut)


def column_evidence(column: pd.Series) -> ColumnEvidence:
    """Read a sample of ``column`` (the first :data:`SAMPLE_ROWS` rows) and score every field."""
    sample = column.iloc[:SAMPLE_ROWS]
    texts = [str(v).strip() for v in sample[sample.notna()].tolist()]
    texts = [t for t in texts if t]
    if not texts:
        return ColumnEvidence({}, 0)
    counts = pd.Series(texts, dtype=object).value_counts()  # object: a lone surrogate fits
    distinct = counts.index.tolist()[:_MAX_DISTINCT]
    weights = counts.iloc[:_MAX_DISTINCT].to_numpy(dtype=float)
    total = float(weights.sum())
    unique_share = len(counts) / len(texts)

    def share(test: Iterable[bool]) -> float:
        return float(sum(w for w, ok in zip(weights, test) if ok) / total)

    members = [{name for name in ENUM_FIELDS if _is_member(name, value)} for value in distinct]
    fit: dict[str, float] = {}
    for name in ENUM_FIELDS:
        fit[name] = share(name in found for found in members)
    country = share(match_country(value).code is not None for value in distinct)
    for name in COUNTRY_FIELDS:
        fit[name] = country
    email = share(bool(_EMAIL.match(value)) for value in distinct)
    for name in _EMAILS:
        fit[name] = email
    code = share(_code_like(value) for value in distinct)
    fit["user_internal_id"] = code * min(1.0, unique_share / 0.9) if email < 0.5 else 0.0
    fit["kyc_case_id"] = fit["user_internal_id"]
    name_like = share(
        bool(_NAME.match(value)) and not found for value, found in zip(distinct, members)
    )
    single = share(" " not in value for value in distinct)
    fit["legal_first_name"] = fit["legal_last_name"] = name_like * (0.5 + 0.5 * single)
    fit["assigned_analyst_name"] = name_like * (1 - single) * (1 if unique_share < 0.5 else 0.6)
    plain_text = share(not _EMAIL.match(value) and not _code_digits(value) for value in distinct)
    repeated = 1.0 if unique_share < 0.5 else 0.5
    for name in _TEXTS:
        fit[name] = plain_text * repeated
    return ColumnEvidence({name: fit.get(name, 0.5) for name in FIELDS}, len(texts))


def _code_like(value: str) -> bool:
    """An identifier's shape: one token of letters, digits and separators, with a digit."""
    return len(value) <= 40 and bool(_CODE.match(value)) and any(c.isdigit() for c in value)


def _code_digits(value: str) -> bool:
    return any(c.isdigit() for c in value) and " " not in value


def _is_member(name: str, value: str) -> bool:
    """A member of field ``name`` in any spelling, an export synonym of one, or close to either."""
    if enum_member(name, value) is not None:
        return True
    key = phrase(value)
    table = VALUE_SYNONYMS.get(name, {})
    if key in table:
        return True
    vocabulary = _vocabulary(name)
    padded = f" {key} "
    if any(f" {known} " in padded for known in vocabulary if len(known) > 3):
        return True  # "retail individual" holds the member "individual"
    return bool(difflib.get_close_matches(key, vocabulary, n=1, cutoff=0.75))


_VOCABULARY: dict[str, list[str]] = {}


def _vocabulary(name: str) -> list[str]:
    """The phrases of a field's members and of their export synonyms (computed once)."""
    found = _VOCABULARY.get(name)
    if found is None:
        found = [phrase(words(m.value)) for m in ENUM_FIELDS[name]]
        found += list(VALUE_SYNONYMS.get(name, {}))
        _VOCABULARY[name] = found
    return found
