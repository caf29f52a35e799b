"""Stable external case ids for rows that do not carry one.

Why: a campaign must create each case once even when it is run twice, resumed
after a crash, or when only its failed rows are retried. The API can only
refuse a duplicate (409) when the request carries an external ``kyc_case_id``;
a case whose id the API generates is indistinguishable from a new one. So a
row without ``kyc_case_id`` gets an id derived from

* the **campaign name** (required in that case: it is what separates "the same
  case again" on a re-run from "a new case for the same person" in next year's
  refresh campaign; a default such as the file name would silently change when
  the file is renamed, and a fixed default would make next year's campaign
  collide with this one), and
* the row's **identifying columns**: :data:`IDENTITY_FIELDS`.

The id is ``CMP-<campaign-slug>-<16 hex digits of SHA-256>``: readable enough
to tell campaigns apart in the case list, and stable across Python and pandas
versions (hashlib, not ``hash()`` or pandas hashing). Two rows with the same
identity get the same id and the later one is reported as a duplicate in the
sheet.

**Privacy: a derived id is pseudonymous, not anonymous.** The user id does
not appear in clear, but the hash is unsalted and its other inputs (campaign
name, provider, programme, the enum members) are few and guessable, so anyone
holding the id and a list of candidate user ids can recompute it and find
whose case it is. It cannot be salted with a secret: the same sheet must give
the same ids on every machine and in every later run, which is the point.
So treat a derived ``kyc_case_id`` (in reports, journals, case lists) as
personal-data-derived: fine wherever the campaign sheet itself may be kept,
not for publication or telemetry.

Values are normalised before hashing the way people type them differently:
text is NFC-normalised (a decomposed "é" from one system and a composed one
from another are the same value, as in the contract models); surrounding
whitespace is ignored everywhere; provider and programme names also
ignore case and inner runs of whitespace; enum members are already canonical
(``kyc refresh`` -> ``KYC_REFRESH``); ``user_internal_id`` keeps its case and
its leading zeros (ids are exact).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from kyc_widgets.text import nfc

from .columns import ARROW_TEXT, compact, compact_distinct

__all__ = [
    "IDENTITY_FIELDS",
    "CampaignRequiredError",
    "campaign_slug",
    "derive_case_id",
    "derive_case_ids",
]

IDENTITY_FIELDS: tuple[str, ...] = (
    "regulated_provider_name",
    "programme_name",
    "user_internal_id",
    "user_type",
    "relationship_type",
)
"""The columns that say which case a row is: whose relationship, with which firm, why."""

_FOLDED_FIELDS = frozenset({"regulated_provider_name", "programme_name"})
_SLUG_MAX = 40
_HASH_HEX_DIGITS = 16  # 64 bits: collisions are negligible for millions of rows per campaign
_ID_PREFIX = "CMP"
_SEPARATOR = "\x1f"  # unit separator: cannot be typed into a cell, so fields cannot run into each other


class CampaignRequiredError(ValueError):
    """Rows without ``kyc_case_id`` need a campaign name to get a stable external id."""


def campaign_slug(campaign: str) -> str:
    """``"KYC Refresh 2025 Q1"`` -> ``"kyc-refresh-2025-q1"`` (ASCII letters, digits, hyphens).

    Variants of the same name that differ only in case, spaces, punctuation or
    accents give the same slug, and therefore the same ids.
    """
    ascii_text = unicodedata.normalize("NFKD", campaign).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:_SLUG_MAX].strip("-")
    if not slug:
        raise CampaignRequiredError(
            "The campaign name must contain letters or digits (it becomes part of the case ids)."
        )
    return slug


def _fold(value: str) -> str:
    return " ".join(value.split()).casefold()


def derive_case_id(campaign: str, identity: dict[str, str | None]) -> str:
    """The stable external id of one row (see the module docstring)."""
    slug = campaign_slug(campaign)
    return _id_from_parts(slug, [_part(name, identity.get(name)) for name in IDENTITY_FIELDS])


def derive_case_ids(campaign: str, frame: pd.DataFrame) -> pd.Series:
    """:func:`derive_case_id` for every row of ``frame`` (normalised text columns, NA = missing).

    Vectorised: each column is cleaned once per distinct value (``pd.factorize``),
    and each distinct identity (the tuple of those values' codes, found with
    ``np.unique``) is hashed once; the ids are then mapped back to the rows.
    A million-row campaign thus never builds a Python tuple per row, and a sheet
    that repeats identities hashes each once. The result is a compact column
    (:mod:`.columns`): the ids are held in Arrow, a code per row.
    """
    slug = campaign_slug(campaign)
    tables: list[pa.Array] = []
    codes: list[np.ndarray] = []
    for name in IDENTITY_FIELDS:
        if name in frame.columns:
            column_codes, uniques = pd.factorize(frame[name], use_na_sentinel=True)
            tables.append(_cleaned(uniques, fold=name in _FOLDED_FIELDS))
            codes.append(np.asarray(column_codes, dtype=np.int64))
        else:
            tables.append(pa.array([""]))
            codes.append(np.full(len(frame), -1, dtype=np.int64))
    if not len(frame):
        return compact([], np.zeros(0, dtype=np.int64), frame.index, "kyc_case_id")
    inverse, distinct = _distinct_rows(codes, [len(table) for table in tables])
    blocks: list[pa.Array] = []
    digests = np.empty(len(distinct), dtype=np.uint64)  # each id's hash, as the number it is
    for start in range(0, len(distinct), _CHUNK):  # a chunk of ids as Python strings at a time
        rows = distinct[start : start + _CHUNK]
        parts = [  # code -1 (missing) reads the table's last entry, ""
            table.take(np.where(rows[:, j] < 0, len(table) - 1, rows[:, j])).to_pylist()
            for j, table in enumerate(tables)
        ]
        hexes = [_digest(slug, row) for row in zip(*parts)]
        digests[start : start + len(hexes)] = [int(h, 16) for h in hexes]
        blocks.append(pa.array([f"{_ID_PREFIX}-{slug}-{h}" for h in hexes], pa.large_string()))
    ids = pa.chunked_array(blocks, pa.large_string())
    # Two distinct code tuples may fold to one id (NFC and NFD spellings of one user id). The
    # ids differ only by their hash, so the numbers tell (a sort of 8-byte integers, where
    # hashing a million id strings cost ~140 MB): each id is kept once.
    digest_codes, unique_digests = pd.factorize(digests)
    if len(unique_digests) < len(digests):
        ids = ids.take(np.unique(digest_codes, return_index=True)[1])
        inverse = np.asarray(digest_codes, dtype=np.int64)[inverse]
    return compact_distinct(pd.array(ids, dtype=ARROW_TEXT), inverse, frame.index, "kyc_case_id")


def _cleaned(uniques: Any, *, fold: bool) -> pa.Array:
    """A column's distinct values as the id reads them (NFC, stripped or folded), and ``""``
    last for code -1 (missing); built a chunk at a time, held in Arrow."""
    blocks = []
    for start in range(0, len(uniques), _CHUNK):
        texts = map(str, uniques[start : start + _CHUNK].tolist())
        clean = _fold if fold else str.strip
        # nfc() inlined: this runs once per distinct value of a large column
        blocks.append(pa.array(
            [clean(t if t.isascii() else unicodedata.normalize("NFC", t)) for t in texts],
            pa.string(),
        ))
    blocks.append(pa.array([""], pa.string()))
    return pa.concat_arrays(blocks)


_CHUNK = 65_536
"""Distinct identities hashed at a time (:func:`derive_case_ids`)."""


def _distinct_rows(codes: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """``(inverse, distinct)``: each row's position among the distinct code tuples, and those
    tuples (one row each). The codes (-1 for missing) are packed into one int64 key per row
    and factorised by hash; ``np.unique(axis=0)`` (a sort of row views) only when the key
    would overflow."""
    radix = 1
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for column, size in zip(codes, sizes):
        if radix * (size + 1) >= 2**62:
            distinct, inverse = np.unique(np.column_stack(codes), axis=0, return_inverse=True)
            return inverse.reshape(-1), distinct
        key += (column + 1) * radix
        radix *= size + 1
    inverse, _keys = pd.factorize(key)
    first = np.unique(inverse, return_index=True)[1]  # the first row of each distinct tuple
    return inverse, np.column_stack([column[first] for column in codes])


def _part(name: str, value: str | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = nfc(str(value))
    return _fold(text) if name in _FOLDED_FIELDS else text.strip()


def _id_from_parts(slug: str, parts: list[str] | tuple[str, ...]) -> str:
    return f"{_ID_PREFIX}-{slug}-{_digest(slug, parts)}"


def _digest(slug: str, parts: list[str] | tuple[str, ...]) -> str:
    """The id's hash: the first :data:`_HASH_HEX_DIGITS` hex digits of SHA-256."""
    digest = hashlib.sha256(_SEPARATOR.join((slug, *parts)).encode("utf-8")).hexdigest()
    return digest[:_HASH_HEX_DIGITS]
