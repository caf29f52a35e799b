"""An evidence record compared with the API: the cases it calls created are really there.

Why: a record whose chain verifies (and even one that is signed) only says
what the tool wrote. ``kyc-widgets verify-evidence FILE --against-api`` asks
the API itself, one ``GET`` per row the record calls ``created`` or
``exists``:

- the case exists (a row reported created that the API lacks is reported);
- it has the case id the record names;
- for ``created``: its ``created_by`` is one of the record's principals, and
  the hash of its values (:func:`~.evidence.sent_values_digest`, with the
  record's salt and field list) equals the entry's ``values_sha256``, so a
  case whose fields differ from what was sent is reported, without the
  record holding the values.

Nothing is printed or kept of the API's answers but these verdicts. The
lookups run through the client's pacing gate (a 429 pauses them), a few at a
time; a refused token (401, 403) stops the comparison, since every further
lookup would be refused too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kyc_widgets.api.errors import (
    AuthenticationError,
    KycApiError,
    NotFoundError,
    PermissionDeniedError,
)
from kyc_widgets.api.protocols import AnyCaseApi, AsyncCaseApi, is_async_api
from kyc_widgets.models import CaseEnvelope

from .evidence import sent_values_digest
from .status import RowStatus

__all__ = ["ApiComparison", "acompare_with_api", "compare_with_api"]

LOOKUPS_IN_FLIGHT = 8
"""Lookups at a time: a verification is not a campaign, and need not press the API."""

_CHECKED = (RowStatus.CREATED.value, RowStatus.EXISTS.value)


@dataclass
class ApiComparison:
    """What the API said about the record's cases; true when it confirms every one."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    refused: str | None = None
    """Why the comparison stopped: the API refused the token (``"HTTP 401"``, ``"HTTP 403"``)."""

    def __bool__(self) -> bool:
        return not self.problems and self.refused is None


def compare_with_api(record: dict[str, Any], client: AnyCaseApi) -> ApiComparison:
    """:func:`acompare_with_api` for scripts: runs on its own event loop with an async twin."""

    async def compare() -> ApiComparison:
        twin = client.async_twin()
        try:
            return await acompare_with_api(record, twin)
        finally:
            await twin.aclose()

    if is_async_api(client):
        raise TypeError("use 'await acompare_with_api(record, client)' with an async client")
    return asyncio.run(compare())


async def acompare_with_api(record: dict[str, Any], client: AsyncCaseApi) -> ApiComparison:
    """Look up every case ``record`` (checked already: :func:`~.evidence.verify_evidence`)
    calls created or existing; see the module docstring for what is compared."""
    todo = iter([entry for entry in record["entries"] if entry["status"] in _CHECKED])
    result = ApiComparison()
    found: dict[int, list[str]] = {}

    async def worker() -> None:
        for entry in todo:
            if result.refused is not None:
                return
            problems = await _check_entry(client, record, entry, result)
            result.checked += 1
            if problems:
                found[entry["seq"]] = problems

    await asyncio.gather(*(worker() for _ in range(LOOKUPS_IN_FLIGHT)))
    result.problems = [problem for seq in sorted(found) for problem in found[seq]]
    return result


async def _check_entry(
    client: AsyncCaseApi, record: dict[str, Any], entry: dict[str, Any], result: ApiComparison
) -> list[str]:
    where = f"entry {entry['seq']} (sheet row {entry['sheet_row']})"
    status = entry["status"]
    if not entry["kyc_case_id"]:
        return [f"{where}: the record says {status} but names no external case id"]
    try:
        found = await client.get_case(entry["kyc_case_id"])
    except NotFoundError:
        return [f"{where}: the record says {status}, but the API has no case with its "
                "external case id"]
    except (AuthenticationError, PermissionDeniedError) as exc:
        result.refused = f"HTTP {exc.status}"
        return []
    except KycApiError as exc:
        return [f"{where}: could not be checked ({exc.code}, request_id {exc.request_id})"]
    return [f"{where}: {problem}" for problem in _differences(record, entry, found)]


def _differences(record: dict[str, Any], entry: dict[str, Any], found: CaseEnvelope) -> Iterator[str]:
    """How the API's case differs from what the record says of it (names, never values)."""
    if entry["case_id"] is not None and found.case.id != entry["case_id"]:
        yield "the API's case has another case id than the record's"
    if entry["status"] != RowStatus.CREATED.value:
        return
    if found.case.created_by not in record["principals"]:
        yield (f"the API's case was created by {found.case.created_by!r}, who is not among "
               "the record's principals")
    digest = entry.get("values_sha256")
    sent = record.get("sent_values")
    if digest is not None and sent is not None:
        stored = found.case.model_dump(mode="json")
        if sent_values_digest(sent["salt"], stored, sent["fields"]) != digest:
            yield "the API's case holds other values than the record says were sent"
