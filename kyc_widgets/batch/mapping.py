"""``CampaignMapping``: one source system's sheet translated to the API, in one small file.

Why: campaign sheets arrive as core-banking or CRM exports with their own
headers ("Customer No", "Surname"), without the columns that are the same
for the whole campaign (agency, provider, programme, team) and with their own
vocabularies ("Periodic review", "P1"). A mapping says, once per source
system, how to read such a sheet, and is saved next to the campaign so the
next export from the same system needs no work:

- ``columns``: sheet header -> field name, or ``None`` to ignore a column on
  purpose. Headers the mapping does not name are matched as usual (field
  names and titles, see :mod:`.preflight`), so a mapping only needs the odd ones;
- ``constants``: field -> value used for every row;
- ``values``: field -> {sheet value -> API value}, applied to the distinct
  values of a column before the usual normalisation (so it costs nothing per
  row: see ``benchmarks/bench_mapping.py``). Enum fields map to members;
  country fields (:data:`~.fields.COUNTRY_FIELDS`) map names and alpha-3
  codes to ISO 3166-1 alpha-2 codes (``{"Deutschland": "DE"}``).

:func:`suggest_mapping` proposes one from a sheet, with a ``confidence`` per
guessed column (and per guessed value). A guess below :data:`CONFIDENT` is
never applied silently: :meth:`CampaignMapping.plan` (used by the pre-flight)
refuses a mapping that still holds one until it is confirmed
(:meth:`CampaignMapping.confirm`, or a person choosing the field in the
widget, or saving the file and reading it). Confidence is not saved:
a file a person kept is a confirmed mapping.

The file is JSON, or YAML when the name ends in ``.yaml``/``.yml`` (PyYAML,
a declared dependency)::

    {"columns": {"Customer No": "user_internal_id", "Notes": null},
     "constants": {"agency_name": "Agency One"},
     "values": {"relationship_type": {"Periodic review": "KYC_REFRESH"},
                "country_of_onboarding": {"Deutschland": "DE", "FRA": "FR"}}}
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from kyc_widgets.countries import COUNTRY_CODES, match_country
from kyc_widgets.labels import words

from .fields import (
    COUNTRY_FIELDS,
    ENUM_FIELDS,
    FIELD_TITLES,
    FIELDS,
    HEADER_ALIASES,
    HEADER_PHRASES,
    REPEATED_HEADER,
    REQUIRED_COLUMNS,
    enum_member,
    field_adapter,
    field_message,
    json_value,
    normalise_header,
    recognised_value,
)
from .limits import ReadLimits
from .mapping_file import (
    MappingError,
    checked_mapping_data,
    read_mapping_file,
    value_key_collisions,
)
from .synonyms import VALUE_SYNONYMS, phrase

__all__ = [
    "CONFIDENT",
    "PER_ROW_FIELDS",
    "CampaignColumnsError",
    "CampaignMapping",
    "ColumnPlan",
    "MappingError",
    "as_mapping",
    "enum_member",
    "suggest_country",
    "suggest_mapping",
]

CONFIDENT = 0.85
"""A suggestion at or above this is applied as is; below it, a person confirms it."""

GUESS = 0.65
"""Below this similarity no field is suggested at all: the column is left ignored."""

MAX_DISTINCT_VALUES = 50
"""An enum column with more distinct values than this gets no value-map suggestion."""

MAX_DISTINCT_COUNTRIES = 1000
"""A country column with more distinct values than this gets no value-map suggestion
(there are 249 countries; an export's spellings of them stay well below this)."""

PER_ROW_FIELDS: frozenset[str] = frozenset(
    {"legal_first_name", "legal_last_name", "user_internal_id", "kyc_case_id"}
)
"""Fields that differ for every person: a campaign constant for them is refused."""

_YAML_SUFFIXES = (".yaml", ".yml")



class CampaignColumnsError(ValueError):
    """The sheet's columns cannot be used: required ones are missing or ambiguous.

    Raised before anything is sent. ``missing`` lists the field names absent
    from the sheet; ``ambiguous`` maps a field to the headers that all mean it
    (including ``name.1``, which is how pandas renames a repeated header).
    """

    def __init__(
        self,
        missing: list[str],
        ambiguous: dict[str, list[str]] | None = None,
    ) -> None:
        self.missing = list(missing)
        self.ambiguous = dict(ambiguous or {})
        parts = []
        if self.missing:
            parts.append(
                f"The sheet is missing {len(self.missing)} required column(s): "
                + ", ".join(self.missing)
                + ". Nothing was sent."
            )
        for name, headers in self.ambiguous.items():
            repeated = any(REPEATED_HEADER.fullmatch(h) for h in headers[1:])
            parts.append(
                f"Columns {', '.join(repr(h) for h in headers)} all mean {name!r}; keep one."
                + (" (A '.1' ending means the same header appears twice in the sheet.)"
                   if repeated else "")
            )
        super().__init__(" ".join(parts))


@dataclass
class ColumnPlan:
    """How one sheet's headers are used under a mapping (see :meth:`CampaignMapping.plan`)."""

    column_map: dict[str, str]
    """Sheet header -> field, for the headers that are read."""
    unknown: list[str]
    """Headers not read: ignored on purpose (``None``) or matching no field."""
    constants: dict[str, str]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    """Field -> {:func:`~.synonyms.phrase` of a sheet value -> API value}."""
    absent: list[str] = field(default_factory=list)
    """Headers the mapping names that the sheet does not have."""


class CampaignMapping(BaseModel):
    """Sheet header -> field, campaign constants, and value maps (see the module docstring).

    Validation names every unknown field or enum value at once; a constant
    for a field that also has a mapped column, or for a per-row field
    (:data:`PER_ROW_FIELDS`), is refused. Enum constants and value-map
    targets are stored as the member (``"kyc refresh"`` -> ``"KYC_REFRESH"``).
    """

    model_config = ConfigDict(extra="forbid")

    columns: dict[str, str | None] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    confidence: dict[str, float] = Field(default_factory=dict, exclude=True)
    """Sheet header -> how sure :func:`suggest_mapping` is of its field (0..1); not saved."""
    value_confidence: dict[str, dict[str, float]] = Field(default_factory=dict, exclude=True)
    """Field -> {sheet value -> how sure the suggested value map is}; not saved."""

    _source: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check(self) -> CampaignMapping:
        problems: list[str] = []
        named = [*(f for f in self.columns.values() if f is not None), *self.constants, *self.values]
        unknown = sorted({name for name in named if name not in FIELDS})
        if unknown:
            problems.append(_unknown_fields(unknown))
        targets: dict[str, list[str]] = {}
        for header, name in self.columns.items():
            if name is not None:
                targets.setdefault(name, []).append(header)
        for name, headers in targets.items():
            if len(headers) > 1:
                problems.append(
                    f"columns {', '.join(repr(h) for h in headers)} all map to {name!r}; keep one."
                )
        for name in self.constants:
            if name in PER_ROW_FIELDS:
                problems.append(
                    f"{name!r} differs for every person and cannot be a campaign constant; "
                    "map a column to it."
                )
            elif name in targets:
                problems.append(
                    f"{name!r} is both a campaign constant and the column "
                    f"{targets[name][0]!r}; keep one (map the column to null to ignore it)."
                )
        for name, table in self.values.items():
            if name in COUNTRY_FIELDS:
                problems.extend(_check_country_targets(name, table))
            if name not in ENUM_FIELDS:
                continue
            bad = []
            for key, target in table.items():
                member = enum_member(name, target)
                if member is None:
                    bad.append(f"{key!r} -> {target!r}")
                else:
                    table[key] = member
            if bad:
                problems.append(
                    f"values for {name!r}: {', '.join(bad)} is not a member; use one of "
                    + ", ".join(m.value for m in ENUM_FIELDS[name])
                    + "."
                )
        for name, value in list(self.constants.items()):
            if name not in FIELDS or name in PER_ROW_FIELDS:
                continue
            checked, problem = self._constant(name, value)
            if problem is not None:
                problems.append(f"constant {name!r}: {problem}")
            else:
                self.constants[name] = checked
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _one_target_per_sheet_value(self) -> CampaignMapping:
        # Runs after _check, which stores enum targets as members. "Draft" -> DRAFT and
        # "draft " -> PENDING are one sheet value to the pre-flight with two targets: one
        # would apply silently (see .mapping_file).
        problems = value_key_collisions(self.values)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _constant(self, name: str, value: str) -> tuple[str, str | None]:
        text = value.strip()
        if name in ENUM_FIELDS or name in COUNTRY_FIELDS:
            mapped = self._lookup(name).get(phrase(text))
            text = mapped or recognised_value(name, text) or text
        try:
            checked = field_adapter(name).validate_python([text])[0]
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            return text, field_message(name, first)
        return str(json_value(checked)), None

    @classmethod
    def default(cls) -> CampaignMapping:
        """No mapping: every header is matched by field name or title, no constants, no values.

        The pre-flight reads every sheet through a mapping, this one when
        none is given, so there is one way headers become fields
        (:meth:`plan`).
        """
        return cls()

    # -- use ------------------------------------------------------------------

    @property
    def source(self) -> str | None:
        """The file name this mapping was loaded from or saved to, if any."""
        return self._source

    def _lookup(self, name: str) -> dict[str, str]:
        return {phrase(key): target for key, target in self.values.get(name, {}).items()}

    def unconfirmed(self) -> list[str]:
        """Guesses below :data:`CONFIDENT` nobody confirmed, as lines for people."""
        lines = []
        for header, score in self.confidence.items():
            name = self.columns.get(header)
            if name is not None and score < CONFIDENT:
                lines.append(
                    f"column {header!r} -> {name} ({FIELD_TITLES[name]}): {score:.0%} sure"
                )
        for name, scores in self.value_confidence.items():
            for value, score in scores.items():
                target = self.values.get(name, {}).get(value)
                if target is not None and score < CONFIDENT:
                    lines.append(f"{name}: value {value!r} -> {target}: {score:.0%} sure")
        return lines

    def confirm(self, *headers: str) -> CampaignMapping:
        """Accept the guesses for ``headers`` (all guesses, columns and values, when none given)."""
        for header in headers or list(self.confidence):
            self.confidence[header] = 1.0
        if not headers:
            for scores in self.value_confidence.values():
                for value in scores:
                    scores[value] = 1.0
        return self

    def covered(self) -> set[str]:
        """Fields given by a column or a constant."""
        return {f for f in self.columns.values() if f is not None} | set(self.constants)

    def plan(self, headers: Iterable[Any]) -> ColumnPlan:
        """How a sheet with these ``headers`` is read under this mapping.

        Headers the mapping names are used as it says (matched exactly, or
        ignoring case, spaces and punctuation); the others as the pre-flight
        matches them. Raises :class:`MappingError` for unconfirmed guesses or
        a constant whose field is also a column, and
        :class:`~.preflight.CampaignColumnsError` (naming the headers the
        mapping expected but the sheet lacks) when required fields are
        neither columns nor constants, or two columns mean one field.
        """
        pending = self.unconfirmed()
        if pending:
            raise MappingError(
                "The mapping holds guesses nobody confirmed: " + "; ".join(pending)
                + ". Confirm them (mapping.confirm(), or choose the field) before sending."
            )
        headers = list(headers)
        by_phrase = {phrase(h): name for h, name in self.columns.items()}
        present = {str(h) for h in headers}
        present_phrases = {phrase(h) for h in present}
        seen: dict[str, list[str]] = {}
        unknown: list[str] = []
        column_map: dict[str, str] = {}
        for header in headers:
            text = str(header)
            if text in self.columns or phrase(text) in by_phrase:
                name = self.columns[text] if text in self.columns else by_phrase[phrase(text)]
            else:
                name = HEADER_ALIASES.get(normalise_header(header))
                repeated = REPEATED_HEADER.fullmatch(text)
                if name is None and repeated and repeated.group(1) in present:
                    original = HEADER_ALIASES.get(normalise_header(repeated.group(1)))
                    original = self.columns.get(repeated.group(1), original)
                    if original is not None:
                        seen.setdefault(original, []).append(text)
                        continue
            if name is None:
                unknown.append(text)
                continue
            if name in self.constants:
                raise MappingError(
                    f"{name!r} is both a campaign constant and the sheet's column {text!r}; "
                    "keep one (map the column to null to ignore it, or drop the constant)."
                )
            seen.setdefault(name, []).append(text)
            column_map[header] = name
        absent = [h for h in self.columns if h not in present and phrase(h) not in present_phrases]
        ambiguous = {n: hs for n, hs in seen.items() if len(hs) > 1}
        missing = [n for n in REQUIRED_COLUMNS if n not in seen and n not in self.constants]
        if missing or ambiguous:
            raise MappedColumnsError(missing, ambiguous, absent)
        values = {name: self._lookup(name) for name in self.values}
        return ColumnPlan(column_map, unknown, dict(self.constants), values, absent)

    def known_values(self, name: str) -> list[str]:
        """The sheet values this mapping translates for ``name`` (for error messages)."""
        return list(self.values.get(name, {}))

    # -- files ----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """What is saved: columns, constants and values (never confidence)."""
        return self.model_dump(mode="json")

    def fingerprint(self) -> str:
        """A short hash of the saved content: which mapping a report was made with."""
        text = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

    def describe(self) -> str:
        """One line for reports and the CLI: where it came from, what it holds, its fingerprint."""
        mapped = sum(1 for name in self.columns.values() if name is not None)
        return (
            f"{self.source or 'not saved to a file'}: {mapped} column(s) mapped, "
            f"{len(self.constants)} constant(s), "
            f"{sum(len(t) for t in self.values.values())} value(s) mapped; "
            f"fingerprint {self.fingerprint()}"
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the mapping (JSON, or YAML for ``.yaml``/``.yml``) as UTF-8; returns the path."""
        target = Path(path)
        data = self.to_dict()
        if target.suffix.lower() in _YAML_SUFFIXES:
            import yaml

            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        else:
            text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        target.write_text(text, encoding="utf-8")
        self._source = target.name
        return target

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, limits: ReadLimits | None = None
    ) -> CampaignMapping:
        """Read a saved mapping; :class:`MappingError` names unknown fields, keys or values.

        Read strictly (:mod:`.mapping_file`): a file over ``limits``
        (``max_mapping_bytes``, ``max_yaml_aliases``), a key written twice, a
        constant that is not text or value-map keys that are one sheet value
        are refused.
        """
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(f"Mapping file not found: {source.name} (looked in {source.parent}).")
        mapping = cls.from_data(read_mapping_file(source, limits), name=source.name)
        mapping._source = source.name
        return mapping

    @classmethod
    def from_data(cls, data: Any, *, name: str = "mapping") -> CampaignMapping:
        """Validate parsed file content; errors become one :class:`MappingError`.

        The shape and types are checked first (:func:`~.mapping_file.checked_mapping_data`:
        text only, no other keys), then the fields and values.
        """
        data = checked_mapping_data(data, name)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise MappingError(f"{name}: " + _readable(exc)) from exc

    def with_constants(self, constants: Mapping[str, str]) -> CampaignMapping:
        """A copy with these constants added (the command line's ``--set FIELD=VALUE``);
        unconfirmed guesses stay unconfirmed."""
        data = self.to_dict()
        data["constants"] = {**data["constants"], **constants}
        copy = CampaignMapping.from_data(data, name="--set")
        copy.confidence = dict(self.confidence)
        copy.value_confidence = {k: dict(v) for k, v in self.value_confidence.items()}
        copy._source = self._source
        return copy


class MappedColumnsError(CampaignColumnsError):
    """:class:`~.preflight.CampaignColumnsError` that also names the headers the mapping
    expected and the sheet lacks (a renamed export column, usually)."""

    def __init__(
        self, missing: list[str], ambiguous: dict[str, list[str]], absent: list[str]
    ) -> None:
        super().__init__(missing, ambiguous)
        self.absent = list(absent)
        if self.absent:
            self.args = (
                self.args[0]
                + " The mapping names column(s) the sheet does not have: "
                + ", ".join(repr(h) for h in self.absent)
                + ".",
            )


def as_mapping(mapping: CampaignMapping | str | os.PathLike[str] | None) -> CampaignMapping | None:
    """A mapping object, or the mapping saved at a path, or None."""
    if mapping is None or isinstance(mapping, CampaignMapping):
        return mapping
    if isinstance(mapping, (str, os.PathLike)):
        return CampaignMapping.load(mapping)
    raise TypeError("mapping must be a CampaignMapping or the path of a saved mapping file")


# --------------------------------------------------------------------------- suggesting


def header_candidates(header: object, *, floor: float = GUESS) -> list[tuple[str, float]]:
    """Fields a header may mean, best first, with a score in 0..1 (``[]`` below ``floor``).

    An exact phrase (a field's name, title or export synonym) is the only candidate; else
    fuzzy similarity, never as sure as an exact match. :func:`suggest_mapping` asks for
    weaker ones too (``floor``): a column's values can make a weak header match the answer.
    """
    key = phrase(header)
    if not key:
        return []
    exact = HEADER_PHRASES.get(key)
    if exact is not None:
        return [exact]
    best: dict[str, float] = {}
    matcher = difflib.SequenceMatcher(b=key, autojunk=False)
    for text, (name, weight) in HEADER_PHRASES.items():
        matcher.set_seq1(text)
        if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
            continue
        score = matcher.ratio() * weight * 0.9  # a fuzzy match is never as sure as an exact one
        if score >= floor and score > best.get(name, 0.0):
            best[name] = score
    return sorted(best.items(), key=lambda item: -item[1])


VALUES_ALONE = 0.7
"""The score of a field that only a column's values point to (a vocabulary, countries,
e-mail addresses: :mod:`.value_evidence`), whatever its header: a guess to confirm."""

_WEAK_HEADER = 0.4
"""Fuzzy header matches down to this are weighed with the values (not suggested alone)."""


def _column_candidates(header: str, column: pd.Series | None) -> list[tuple[str, float]]:
    """``(field, score)`` pairs for one column: its header's, moved by its values (if given)."""
    if column is None:
        return header_candidates(header)
    from .value_evidence import STRENGTH, STRONG, UNSURE_CAP, column_evidence

    evidence = column_evidence(column)
    scores = dict(header_candidates(header, floor=_WEAK_HEADER))
    alone: set[str] = set()  # fields only the values point to: always a guess to confirm
    if evidence.values:
        for name, fit in evidence.fit.items():
            if fit >= 0.9 and STRENGTH.get(name, 0.0) >= STRONG and name not in scores:
                scores[name] = VALUES_ALONE * fit
                alone.add(name)
    found = [
        (name, round(min(evidence.score(name, score), UNSURE_CAP if name in alone else 1.0), 2))
        for name, score in scores.items()
    ]
    return sorted((c for c in found if c[1] >= GUESS), key=lambda item: -item[1])


def suggest_mapping(
    df_or_path: pd.DataFrame | str | os.PathLike[str],
    *,
    sheet: str | None = None,
    read_values: bool = True,
) -> CampaignMapping:
    """Propose a mapping for a sheet (a DataFrame or a file for :func:`~.reading.read_campaign`).

    Every header gets a field or ``None``; ``mapping.confidence`` says how
    sure each guess is (field names, titles and :mod:`.synonyms` are sure;
    fuzzy similarity is not). Each field goes to the header that matches it
    best. For enum columns, distinct values that are not already a spelling
    of a member get a value map from :data:`~.synonyms.VALUE_SYNONYMS` or by
    similarity (``mapping.value_confidence``). For country columns, names and
    alpha-3 codes get their alpha-2 code (:func:`suggest_country`); an
    ambiguous or unknown name gets none, so its rows are invalid and say why. Constants cannot be guessed:
    :meth:`CampaignMapping.covered` says which required fields still need one.

    The values count as well as the header (``read_values``, the default;
    :mod:`.value_evidence`): a header guess the column's values contradict
    ("Client Ref" holding ``0007512`` is not a user type) drops, a field they
    point to ("Client Kind" holding ``Sole proprietor``: a user type) rises,
    and a vocabulary, countries or e-mail addresses under an unknown header
    give a guess to confirm. ``benchmarks/bench_suggest.py`` measures both ways.
    """
    if isinstance(df_or_path, pd.DataFrame):
        frame = df_or_path
    else:
        from .reading import read_campaign

        frame = read_campaign(df_or_path, sheet=sheet)
    originals = {str(h): h for h in frame.columns}
    headers = list(originals)
    pairs = [
        (score, position, header, name)
        for position, header in enumerate(headers)
        for name, score in _column_candidates(
            header, frame[originals[header]] if read_values else None
        )
    ]
    pairs.sort(key=lambda item: (-item[0], item[1]))
    columns: dict[str, str | None] = dict.fromkeys(headers)
    confidence: dict[str, float] = {}
    taken: set[str] = set()
    for score, _position, header, name in pairs:
        if columns[header] is not None or name in taken:
            continue
        columns[header] = name
        confidence[header] = round(score, 2)
        taken.add(name)
    values: dict[str, dict[str, str]] = {}
    value_confidence: dict[str, dict[str, float]] = {}
    for header, target in columns.items():
        if target is None or (target not in ENUM_FIELDS and target not in COUNTRY_FIELDS):
            continue
        distinct = frame[originals[header]].dropna().astype(str).str.strip().unique().tolist()
        limit = MAX_DISTINCT_COUNTRIES if target in COUNTRY_FIELDS else MAX_DISTINCT_VALUES
        if len(distinct) > limit:
            continue
        for value in distinct:
            if not value or recognised_value(target, value) is not None:
                continue
            if target in COUNTRY_FIELDS:
                guess = suggest_country(value)
            else:
                guess = suggest_value(target, value)
            if guess is not None:
                values.setdefault(target, {})[value] = guess[0]
                value_confidence.setdefault(target, {})[value] = guess[1]
    return CampaignMapping(
        columns=columns, values=values, confidence=confidence, value_confidence=value_confidence
    )


def suggest_value(name: str, value: str) -> tuple[str, float] | None:
    """``("relationship_type", "Periodic review")`` -> ``("KYC_REFRESH", 0.95)``, or None."""
    table = VALUE_SYNONYMS.get(name, {})
    key = phrase(value)
    if key in table:
        return table[key], 0.95
    choices = {phrase(words(m.value)): m.value for m in ENUM_FIELDS[name]}
    choices.update({text: member for text, member in table.items()})
    best = difflib.get_close_matches(key, list(choices), n=1, cutoff=GUESS)
    if not best:
        return None
    score = difflib.SequenceMatcher(a=key, b=best[0]).ratio() * 0.9
    return choices[best[0]], round(score, 2)


def suggest_country(value: str) -> tuple[str, float] | None:
    """``"Deutschland"`` -> ``("DE", 0.9)``; None for an ambiguous or unknown name.

    Exact matches only (:func:`~kyc_widgets.countries.match_country`): codes
    are sure, English names nearly, local names a little less, and translated
    official names (a few are mistranslated in the catalogues) need a person's
    confirmation (below :data:`CONFIDENT`).
    """
    match = match_country(value)
    if match.code is None:
        return None
    return match.code, match.confidence


# --------------------------------------------------------------------------- helpers


def _check_country_targets(name: str, table: dict[str, str]) -> list[str]:
    """Country value-map targets are alpha-2 codes (stored in capitals); names the others."""
    bad = []
    for key, target in table.items():
        code = str(target).strip().upper()
        if code in COUNTRY_CODES:
            table[key] = code
        else:
            bad.append(f"{key!r} -> {target!r}")
    if not bad:
        return []
    return [
        f"values for {name!r}: {', '.join(bad)} is not an ISO 3166-1 alpha-2 country code "
        "(such as GB or FR)."
    ]


def _unknown_fields(unknown: list[str]) -> str:
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, FIELDS, n=1)
        hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return "unknown field(s) " + ", ".join(hints) + "; the fields are " + ", ".join(FIELDS)


def _readable(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        loc = ".".join(str(p) for p in error.get("loc", ()))
        if error.get("type") == "extra_forbidden":
            message = f"unknown key {loc!r}; a mapping has columns, constants and values"
        elif loc:
            message = f"{loc}: {message}"
        parts.append(message if len(message) <= 4000 else message[:4000] + "...")
    more = f"; and {len(parts) - 10} more" if len(parts) > 10 else ""
    return "; ".join(parts[:10]) + more  # bounded: a key may be as long as the file
