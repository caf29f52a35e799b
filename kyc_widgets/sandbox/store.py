"""The sandbox's SQLite store: one table of cases, durable across restarts.

Why SQLite in WAL mode with a UNIQUE constraint: duplicate detection must be
race-safe (two simultaneous creates with the same ``kyc_case_id`` give exactly
one success), and the only way to be sure is to let the database refuse the
second insert. We never check-then-insert.

The input fields are kept as one JSON document per case (``payload``) next to
the server-owned columns, so adding an optional field to the contract model
needs no schema migration.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["CaseStore", "DuplicateCaseError", "generate_kyc_case_id"]

_SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kyc_cases (
    id           TEXT PRIMARY KEY,
    kyc_case_id  TEXT NOT NULL UNIQUE,
    row_version  INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    payload      TEXT NOT NULL
)
"""


class DuplicateCaseError(Exception):
    """The UNIQUE constraint on ``kyc_case_id`` refused an insert."""


def generate_kyc_case_id() -> str:
    """A server-generated external id: short enough to read out on the phone."""
    return "KYC-" + uuid.uuid4().hex[:12].upper()


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class CaseStore:
    """Thread-safe access to the cases table through one connection and a lock.

    One connection (rather than one per thread) keeps the cost of a create to a
    single prepared INSERT; the lock serialises writers, which SQLite does
    anyway. ``synchronous=NORMAL`` in WAL mode survives a process crash (the
    sandbox's durability promise) without an fsync per commit.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            str(self.path), check_same_thread=False, isolation_level=None, timeout=10.0
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute(_SCHEMA)
        self._conn.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    @property
    def journal_mode(self) -> str:
        with self._lock:
            return str(self._conn.execute("PRAGMA journal_mode").fetchone()[0])

    def insert(self, payload: dict[str, Any], created_by: str) -> dict[str, Any]:
        """Store a new case and return its full record as a plain dict.

        ``payload`` is the validated input (JSON-ready). A missing
        ``kyc_case_id`` gets a generated one. Raises :class:`DuplicateCaseError`
        when the given ``kyc_case_id`` already exists.
        """
        data = dict(payload)
        given_id = data.get("kyc_case_id")
        for _attempt in range(5):
            kyc_case_id = given_id or generate_kyc_case_id()
            data["kyc_case_id"] = kyc_case_id
            now = _utc_now()
            record = {
                **data,
                "id": str(uuid.uuid4()),
                "row_version": 1,
                "created_by": created_by,
                "created_at": now,
                "updated_at": now,
            }
            try:
                with self._lock:
                    self._conn.execute(
                        "INSERT INTO kyc_cases (id, kyc_case_id, row_version, created_by,"
                        " created_at, updated_at, payload) VALUES (?, ?, 1, ?, ?, ?, ?)",
                        (
                            record["id"],
                            kyc_case_id,
                            created_by,
                            now,
                            now,
                            json.dumps(data, separators=(",", ":")),
                        ),
                    )
            except sqlite3.IntegrityError as exc:
                if given_id is not None:
                    raise DuplicateCaseError() from exc
                continue  # a generated id collided: draw another one
            return record
        raise DuplicateCaseError()  # pragma: no cover - 5 collisions of 48 random bits

    def get(self, kyc_case_id: str) -> dict[str, Any] | None:
        """The record with this external id, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT id, kyc_case_id, row_version, created_by, created_at, updated_at, payload"
                " FROM kyc_cases WHERE kyc_case_id = ?",
                (kyc_case_id,),
            ).fetchone()
        if row is None:
            return None
        record: dict[str, Any] = json.loads(row[6])
        record.update(
            id=row[0],
            kyc_case_id=row[1],
            row_version=row[2],
            created_by=row[3],
            created_at=row[4],
            updated_at=row[5],
        )
        return record

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM kyc_cases").fetchone()[0])

    def ping(self) -> None:
        """Readiness check: raises if the database cannot answer a query."""
        with self._lock:
            self._conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._lock:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self._conn.close()
