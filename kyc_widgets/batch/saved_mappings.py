"""Mappings remembered per user: the next export with the same headers needs no work.

Why: an analyst maps a core-banking export once (columns confirmed, campaign
constants typed, values translated) and gets the same export every month.
The app runs on a private temporary copy of its notebook that is removed when
it stops, so a mapping saved "next to the notebook" was lost. Here it is kept
in the user's own data folder (``platformdirs.user_data_dir("kyc-widgets")``,
or :data:`DATA_DIR_ENV` when set: tests and shared machines point it
elsewhere), one JSON file per header fingerprint, and :func:`recall` finds it
again for a sheet with the same headers.

The key is :func:`headers_fingerprint`: the headers as the mapping compares
them (:func:`~.synonyms.phrase`: case, spaces and punctuation ignored), in any
order, hashed. A file holds the mapping (columns, constants, value maps), the
headers it was saved for and when. It holds no cell of any sheet; campaign
constants can name the assigned analyst (a name, an e-mail address), which is
the analyst's own setting, kept in the analyst's own folder (created 0700,
files 0600). Reading is as strict as reading a mapping file
(:meth:`~.mapping.CampaignMapping.from_data`), and bounded.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .mapping import CampaignMapping, MappingError
from .synonyms import phrase

__all__ = [
    "DATA_DIR_ENV",
    "MAX_SAVED_BYTES",
    "SavedMapping",
    "data_dir",
    "headers_fingerprint",
    "recall",
    "remember",
]

DATA_DIR_ENV = "KYC_WIDGETS_DATA_DIR"
"""Overrides the folder of remembered mappings (and anything else kept per user)."""

MAX_SAVED_BYTES = 1_000_000
"""A remembered mapping larger than this is not read (a mapping is a few kilobytes)."""

_FORMAT = "kyc-widgets-saved-mapping/1"


@dataclass(frozen=True)
class SavedMapping:
    """A mapping found for a sheet's headers: what it is, when it was saved, where it lives."""

    mapping: CampaignMapping
    headers: list[str]
    saved_at: str | None
    path: Path


def data_dir() -> Path:
    """The per-user folder: :data:`DATA_DIR_ENV`, else platformdirs' user data dir."""
    given = os.environ.get(DATA_DIR_ENV, "").strip()
    if given:
        return Path(given).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("kyc-widgets", appauthor=False))


def headers_fingerprint(headers: Iterable[Any]) -> str:
    """The key of a sheet's headers: compared as a mapping compares them, in any order."""
    phrases = sorted({phrase(h) for h in headers if phrase(h)})
    return hashlib.sha256("\n".join(phrases).encode("utf-8")).hexdigest()[:20]


def _path(headers: Iterable[Any], folder: Path | None) -> Path:
    return (folder or data_dir()) / "mappings" / f"{headers_fingerprint(headers)}.json"


def remember(
    mapping: CampaignMapping, headers: Iterable[Any], *, folder: Path | None = None
) -> Path:
    """Keep ``mapping`` for sheets with these ``headers`` (replacing an older one); its path.

    Written to a temporary file in the same folder and renamed, so a reader never sees half
    a file. Raises ``OSError`` when the folder cannot be written.
    """
    headers = [str(h) for h in headers]
    target = _path(headers, folder)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    record = {
        "format": _FORMAT,
        "headers": headers,
        "saved_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mapping": mapping.to_dict(),
    }
    text = json.dumps(record, indent=1, ensure_ascii=False) + "\n"
    partial = target.with_suffix(".json.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, target)
    return target


def recall(headers: Iterable[Any], *, folder: Path | None = None) -> SavedMapping | None:
    """The mapping remembered for these ``headers``, or None when there is none.

    Raises :class:`~.mapping.MappingError` when a file is there but cannot be used (too
    large, not JSON, not a mapping): the caller says so rather than start from nothing
    without a word.
    """
    path = _path(headers, folder)
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if size > MAX_SAVED_BYTES:
        raise MappingError("The mapping remembered for these columns is too large to be read.")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MappingError("The mapping remembered for these columns cannot be read.") from exc
    if not isinstance(record, dict) or record.get("format") != _FORMAT:
        raise MappingError("The mapping remembered for these columns is not one this app wrote.")
    mapping = CampaignMapping.from_data(record.get("mapping"), name="The remembered mapping")
    saved = [str(h) for h in record.get("headers") or []]
    stamp = record.get("saved_at")
    return SavedMapping(mapping, saved, stamp if isinstance(stamp, str) else None, path)
