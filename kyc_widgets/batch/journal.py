"""An append-only JSON-lines journal of row outcomes, for resuming after a crash.

Why a journal when re-runs are already safe (409 -> "exists")? After a crash
at row 80,000 of 100,000 the next run should not send 80,000 creates again:
a create is a compliance-changing request, and 80,000 refusals are noise in
the API's logs and in the report. With the journal the rows that landed are
*looked up* instead (one ``GET`` each, :mod:`.resume`) and keep the outcome,
case id and ``request_id`` of the run that created them.

**A journal is never trusted on its word.** It is a text file: anyone who can
write it can add a line saying a row was created, and a journal copied from
another campaign, API or analyst says things about other cases. So a resumed
run counts a journaled row as done only when the API confirms it: the case
exists, with the journaled case id, created by the journaled principal
(:func:`~.resume.resume_from_journal`). Otherwise the row is sent like any
other (a 409 then says it exists).

**Header.** The first line of a journal says what it is bound to::

    {"journal": "kyc-widgets/journal/2", "api_base_url": "https://kyc.example.com",
     "campaign": "remediation-2024-q4", "principal": "analyst@bank", "started_at": "..."}

``api_base_url`` is the public form of the client's URL (no credentials:
:func:`~.evidence.public_url`). A run whose client talks to another API refuses
the journal before sending anything (:class:`JournalMismatchError`): its lines
speak of cases on another server. The campaign and principal are checked by
the confirmation above, row by row.

*Why the principal is the first answer's.* The API names the caller only in
its answers (``{"principal", "case"}``): there is no "who am I" call, and a
token says nothing readable about its holder. A new journal is therefore
created (and its folder checked) before the first request, but its header is
written with the first outcome, naming the principal that answer gave
(``null`` when the first outcome had no answer: a refused token, a lost
connection). Every outcome line names its own principal as well, so a journal
continued by a colleague after a crash says who did what; a resumed run notes
when the API now answers with another principal than the header's.

Each line also records the campaign (its slug) the run was for. Resuming with
another campaign name would derive other ids for rows without one, so the
journal could not skip them and the API would not refuse them as duplicates:
the batch warns when it sees that (``BatchReport.warnings``).

Each line is written and flushed as the outcome happens, so a killed process
loses at most the line being written: a torn last line is ignored on reading,
and opening the journal again first ends it with a newline so that the next
outcome starts a line of its own instead of being glued to (and lost with)
the torn one. Lines are read strictly: a line with a duplicate or unknown key,
or a status that is not one, is ignored (and counted in the log).

Each line names the run that wrote it (``run``: the run's start time in UTC),
so that the evidence record of a resumed campaign (:mod:`.evidence`) can list
the earlier runs whose outcomes were confirmed.

Lines hold ids, statuses and HTTP facts, never the sheet's names, e-mails or
user ids (the principal is the operator's login as the API reports it).
But a *derived* ``kyc_case_id`` is a hash of the row's identity, user id
included, and can be recomputed from a list of candidate user ids, so it is
pseudonymous personal data, not anonymous: keep the journal where the
campaign sheet itself may be kept, and delete it with the sheet.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from typing_extensions import Self

from .json_shapes import unique_keys
from .status import STATUSES

__all__ = [
    "JOURNAL_FORMAT",
    "Journal",
    "JournalContents",
    "JournalEntry",
    "JournalHeader",
    "JournalMismatchError",
]

logger = logging.getLogger("kyc_widgets.batch")

JOURNAL_FORMAT = "kyc-widgets/journal/2"
"""The header's ``journal`` value. Journals of format 1 had no header (read, never trusted)."""

_STATUS_WORDS = frozenset(status.value for status in STATUSES)


class JournalMismatchError(ValueError):
    """The journal was written against another API than this run's: nothing was sent."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One outcome: ids, status, HTTP facts and the campaign slug; no names, e-mails or user ids.

    Slotted: a resume holds one per journaled row, and a ``__dict__`` each was
    ~200 bytes of a million-line journal's every line.
    """

    kyc_case_id: str
    status: str
    case_id: str | None = None
    request_id: str | None = None
    http_status: int | None = None
    at: str | None = None
    campaign: str | None = None
    run: str | None = None
    principal: str | None = None


@dataclass(frozen=True)
class JournalHeader:
    """The first line: the API, campaign and principal the journal's outcomes belong to."""

    api_base_url: str | None
    campaign: str | None = None
    principal: str | None = None
    started_at: str | None = None

    def line(self) -> dict[str, Any]:
        return {"journal": JOURNAL_FORMAT, **asdict(self)}


@dataclass
class JournalContents:
    """What :meth:`Journal.read` found: the header (None for a journal without one), the last
    outcome per ``kyc_case_id``, and how many lines were ignored."""

    header: JournalHeader | None = None
    entries: dict[str, JournalEntry] = field(default_factory=dict)
    ignored: int = 0


_ENTRY_KEYS = frozenset(f.name for f in fields(JournalEntry))
_HEADER_KEYS = frozenset({"journal", *(f.name for f in fields(JournalHeader))})


class Journal:
    """Read earlier outcomes and append new ones to ``path``.

    ``header`` (set by the sender before :meth:`open`) is written as the
    first line of a new or empty journal, with the principal of the first
    outcome appended (see the module docstring). A journal used without one
    (``Journal(path)`` in a script) writes outcome lines only.
    """

    def __init__(self, path: str | os.PathLike[str], header: JournalHeader | None = None) -> None:
        self.path = Path(path)
        self.header = header
        self._handle: IO[str] | None = None
        self._header_due = False
        self.run: str | None = None
        """Written into entries that name no run (the sender sets it to its start time)."""

    def load(self) -> dict[str, JournalEntry]:
        """The last outcome per ``kyc_case_id`` (later lines win); {} if the file does not exist."""
        return self.read().entries

    def read(self) -> JournalContents:
        """Header and outcomes, read strictly (see the module docstring); empty if no file.

        Raises ``OSError`` when the file exists but cannot be read (a folder, say).
        """
        contents = JournalContents()
        try:
            handle = self.path.open("r", encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return contents
        with handle, _no_cyclic_gc():
            for number, line in enumerate(handle):
                line = line.strip()
                if line:
                    _read_line(line, number, contents)
        if contents.ignored:
            logger.warning("journal: ignored %d unreadable or foreign line(s)", contents.ignored)
        return contents

    def open(self) -> Self:
        """Open for appending (creating folders); end a torn last line first. Raises ``OSError``."""
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            torn, empty = self._ends_torn()
            self._handle = self.path.open("a", encoding="utf-8")
            self._header_due = empty and self.header is not None
            if torn:
                self._handle.write("\n")
                self._handle.flush()
        return self

    def _ends_torn(self) -> tuple[bool, bool]:
        """(the last line has no newline: a crash mid-write, the file is empty or absent)."""
        try:
            with self.path.open("rb") as existing:
                size = existing.seek(0, os.SEEK_END)
                if not size:
                    return False, True
                existing.seek(size - 1)
                return existing.read(1) != b"\n", False
        except FileNotFoundError:
            return False, True

    def append(self, entry: JournalEntry) -> None:
        """Write one line (after the header, for a new journal) and flush it to the OS.

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
        if self._header_due and self.header is not None:
            self._header_due = False
            header = JournalHeader(
                self.header.api_base_url, self.header.campaign, entry.principal,
                self.header.started_at or self.run,
            )
            self._handle.write(_dumps(header.line()) + "\n")
        self._handle.write(_dumps(data) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while a journal is read.

    Why: a million-line journal makes a million entries (and their dicts and strings),
    none in a reference cycle, and the collector's passes over that growing heap took
    about half of the reading time. It is switched back on (if it was on) afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _read_line(line: str, number: int, contents: JournalContents) -> None:
    """One line into ``contents``: the header (first line only), an outcome, or ignored."""
    try:
        data = _STRICT_JSON.decode(line)
    except ValueError:  # a torn last line after a crash, or a duplicate key
        contents.ignored += 1
        return
    if not isinstance(data, dict):
        contents.ignored += 1
    elif "journal" in data:
        header = _header(data) if number == 0 else None
        if header is None:
            contents.ignored += 1  # a header elsewhere, or of another format
        else:
            contents.header = header
    else:
        entry = _entry(data)
        if entry is None:
            contents.ignored += 1
        else:
            contents.entries[entry.kyc_case_id] = entry


_STRICT_JSON = json.JSONDecoder(object_pairs_hook=unique_keys)
"""One decoder for every line: ``json.loads(line, object_pairs_hook=...)`` builds a new one
per call, which was most of the time a million-line journal took to read."""


def _header(data: dict[str, Any]) -> JournalHeader | None:
    if data.get("journal") != JOURNAL_FORMAT or not set(data) <= _HEADER_KEYS:
        return None
    values = {name: data.get(name) for name in _HEADER_KEYS - {"journal"}}
    if not all(value is None or isinstance(value, str) for value in values.values()):
        return None
    return JournalHeader(**values)


def _entry(data: dict[str, Any]) -> JournalEntry | None:
    if not data.keys() <= _ENTRY_KEYS or data.get("status") not in _STATUS_WORDS:
        return None
    if type(data.get("kyc_case_id")) is not str:
        return None
    http_status = data.get("http_status")
    if http_status is not None and type(http_status) is not int:  # bool is not int here
        return None
    for name in _TEXT_KEYS:
        value = data.get(name)
        if value is not None and type(value) is not str:
            return None
    for name in _SHARED_KEYS:
        value = data.get(name)
        if value is not None:
            data[name] = sys.intern(value)
    return JournalEntry(**data)


_TEXT_KEYS = ("case_id", "request_id", "at", "campaign", "run", "principal")

_SHARED_KEYS = ("status", "campaign", "run", "principal")
"""Values most lines repeat: one string each (interned), not one per line, so a
million-line journal does not hold four million copies of a few words."""
