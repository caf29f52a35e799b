"""An append-only JSON-lines journal of row outcomes, for resuming after a crash.

Why a journal when re-runs are already safe (409 -> "exists")? A re-run still
costs one request per row; after a crash at row 80,000 of 100,000 the journal
lets the next run skip the rows that already landed without asking the API.

Each line is written and flushed as the outcome happens, so a killed process
loses at most the line being written: a torn last line is ignored on reading,
and opening the journal again first ends it with a newline so that the next
outcome starts a line of its own instead of being glued to (and lost with)
the torn one.

Each line records the campaign (its slug) the run was for. Resuming with
another campaign name would derive other ids for rows without one, so the
journal could not skip them and the API would not refuse them as duplicates:
the batch warns when it sees that (``BatchReport.warnings``).

A resumed run skips the rows whose last outcome is one of
:data:`~.report.DONE_STATUSES` (the case exists on the API).

Each line also names the run that wrote it (``run``: the run's start time in
UTC) and the principal the API answered with, so that the evidence record of a
resumed campaign (:mod:`.evidence`) can list every run and who made it.

Lines hold ids, statuses and HTTP facts, never the sheet's names, e-mails or
user ids (the principal is the operator's login as the API reports it).
But a *derived* ``kyc_case_id`` is a hash of the row's identity, user id
included, and can be recomputed from a list of candidate user ids, so it is
pseudonymous personal data, not anonymous: keep the journal where the
campaign sheet itself may be kept, and delete it with the sheet.
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

__all__ = ["Journal", "JournalEntry"]

logger = logging.getLogger("kyc_widgets.batch")

@dataclass(frozen=True)
class JournalEntry:
    """One outcome: ids, status, HTTP facts and the campaign slug; no names, e-mails or user ids."""

    kyc_case_id: str
    status: str
    case_id: str | None = None
    request_id: str | None = None
    http_status: int | None = None
    at: str | None = None
    campaign: str | None = None
    run: str | None = None
    principal: str | None = None


class Journal:
    """Read earlier outcomes and append new ones to ``path``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._handle: IO[str] | None = None
        self.run: str | None = None
        """Written into entries that name no run (the sender sets it to its start time)."""

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
                        campaign=data.get("campaign"),
                        run=data.get("run"),
                        principal=data.get("principal"),
                    )
                except (ValueError, KeyError, TypeError):
                    skipped += 1  # a torn last line after a crash, or a foreign line
                    continue
                found[entry.kyc_case_id] = entry
        if skipped:
            logger.warning("journal: ignored %d unreadable line(s)", skipped)
        return found

    def open(self) -> Self:
        """Open for appending (creating folders); end a torn last line first. Raises ``OSError``."""
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            torn = self._ends_torn()
            self._handle = self.path.open("a", encoding="utf-8")
            if torn:
                self._handle.write("\n")
                self._handle.flush()
        return self

    def _ends_torn(self) -> bool:
        """True when the file is not empty and its last line has no newline (a crash mid-write)."""
        try:
            with self.path.open("rb") as existing:
                size = existing.seek(0, os.SEEK_END)
                if not size:
                    return False
                existing.seek(size - 1)
                return existing.read(1) != b"\n"
        except FileNotFoundError:
            return False

    def append(self, entry: JournalEntry) -> None:
        """Write one line and flush it to the OS (survives a killed process).

        Not fsync'ed: that would cost milliseconds per row on the event loop,
        and only an operating-system crash could lose a flushed line.
        """
        if self._handle is None:
            self.open()
        assert self._handle is not None
        data = asdict(entry)
        if data["run"] is None:
            data["run"] = self.run
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
