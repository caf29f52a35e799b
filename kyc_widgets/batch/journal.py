"""An append-only JSON-lines journal of row outcomes, for resuming after a crash.

Why a journal when re-runs are already safe (409 -> "exists")? A re-run still
costs one request per row; after a crash at row 80,000 of 100,000 the journal
lets the next run skip the rows that already landed without asking the API.

Each line is written and flushed as the outcome happens, so a killed process
loses at most the line being written (a torn last line is ignored on reading).
Lines hold ids and statuses only, never names, e-mails or user ids: the file
can sit next to the sheet on a shared drive without becoming a personal-data
store.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from typing_extensions import Self

__all__ = ["SKIP_ON_RESUME", "Journal", "JournalEntry"]

logger = logging.getLogger("kyc_widgets.batch")

SKIP_ON_RESUME = frozenset({"created", "exists"})
"""Outcomes that mean the case exists: a resumed run does not send these rows again."""


@dataclass(frozen=True)
class JournalEntry:
    """One outcome. Only ids, status and HTTP facts: no personal data."""

    kyc_case_id: str
    status: str
    case_id: str | None = None
    request_id: str | None = None
    http_status: int | None = None
    at: str | None = None


class Journal:
    """Read earlier outcomes and append new ones to ``path``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._handle: IO[str] | None = None

    def load(self) -> dict[str, JournalEntry]:
        """The last outcome per ``kyc_case_id`` (later lines win); {} if the file does not exist."""
        found: dict[str, JournalEntry] = {}
        try:
            handle = self.path.open("r", encoding="utf-8")
        except FileNotFoundError:
            return found
        skipped = 0
        with handle:
            for line in handle:
                line = line.strip()
                if not line:
                    continue
                try:
                    data = json.loads(line)
                    entry = JournalEntry(
                        kyc_case_id=str(data["kyc_case_id"]),
                        status=str(data["status"]),
                        case_id=data.get("case_id"),
                        request_id=data.get("request_id"),
                        http_status=data.get("http_status"),
                        at=data.get("at"),
                    )
                except (ValueError, KeyError, TypeError):
                    skipped += 1  # a torn last line after a crash, or a foreign line
                    continue
                found[entry.kyc_case_id] = entry
        if skipped:
            logger.warning("journal: ignored %d unreadable line(s)", skipped)
        return found

    def open(self) -> Self:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        return self

    def append(self, entry: JournalEntry) -> None:
        """Write one line and flush it to the OS (survives a killed process).

        Not fsync'ed: that would cost milliseconds per row on the event loop,
        and only an operating-system crash could lose a flushed line.
        """
        if self._handle is None:
            self.open()
        assert self._handle is not None
        data = asdict(entry)
        if data["at"] is None:
            data["at"] = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        self._handle.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
