"""The campaign's evidence record: what was done, by whom, from which file, and what proves it.

Why: when an auditor asks "show us that every customer in the remediation
population got a case, who created it and from which file", a CSV report and
a journal that anyone could have edited are not an answer. The record holds:

- the tool's version, the API base URL (scheme, host, port and path only:
  never a token, user info or query string), the principal(s) the API
  answered with, and every run's start and end time in UTC (a resumed
  campaign lists the earlier runs whose outcomes it took from its journal,
  each confirmed on the API first: see :mod:`.resume`; rows fixed and sent
  from the notebook add a run of their own);
- the sheet's file name, SHA-256 and row count (``hashed``: ``"now"`` when
  the file is passed as ``sheet=``; ``"when read"`` when the facts are the
  ones :func:`~.reading.read_campaign` noted on the frame, which describe the
  file as read, not later edits of the frame in memory: pass ``sheet=`` for
  a file written since; frames with fixes applied carry no such facts);
  the column mapping used (its
  content and its SHA-256, and the saved :class:`~.mapping.CampaignMapping`'s
  file name and fingerprint when one was used); the options; the counts per status;
- one entry per row: sheet row, external case id, status, HTTP status,
  ``request_id`` and the API's case id; a row with problems lists them as
  ``{"field", "code"}`` pairs read from the report's problems table
  (:mod:`.problems`), never their values or messages; a created row carries
  ``values_sha256``, a salted SHA-256 of the values it was created with
  (``sent_values`` in the header names the fields and the salt), so that
  ``verify-evidence --against-api`` can compare them with the API's case
  without the record holding them;
- for a campaign sent with an approved plan (:mod:`.plan_file`), a ``plan``
  section: the plan's hash and its approval's, the maker and the checker (as
  the API named them) and when the plan was made, approved and expires.

It holds no names, e-mails or user internal ids (the principal is the
operator's login as the API reports it). A derived external id is
pseudonymous, though (see :mod:`.identity`), and so is a hash of sent values:
whoever can guess every value of a row can confirm the guess (the random salt
of each record only stops matching the same person across records). Keep the
record where the campaign's report may be kept.

**Hash chain.** The header (everything but the entries) is hashed into the
chain's *genesis*; each entry then carries ``prev`` (the hash before it) and
``hash`` = SHA-256 over ``prev`` and the entry's canonical JSON (sorted keys,
no spaces, UTF-8) without its own ``hash``. The record ends with the chain's
``head``. The file is read strictly (:mod:`.evidence_format`: a duplicate or
unknown key anywhere, ``NaN``, a wrong type are refused, with one line).

**What a check proves** (:func:`verify_evidence`, ``kyc-widgets verify-evidence``):

- alone: the file is consistent in itself. An edited byte, a removed, added
  or reordered entry is reported *unless whoever did it recomputed the whole
  chain*, which anyone can. So this alone does not prove that the campaign
  wrote the file, and the check says so ("not anchored").
- with the head kept elsewhere (``expected_head`` / ``--head``; printed by
  ``batch --evidence`` and in the HTML summary; paste it into the change
  ticket): the file is the one whose head was noted.
- with the analyst's public key (``public_key`` / ``--public-key``) when the
  record was signed (``batch --signing-key``, :mod:`.signing`): the chain was
  not rewritten since the holder of the private key signed it.
- with the API (``--against-api``, :mod:`.evidence_api`): each case the record
  calls created exists, with the recorded case id, the hash of the values
  sent, and a recorded principal as its creator.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from kyc_widgets._version import __version__
from kyc_widgets.models import KycCaseCreateInput

from .columns import plain, plain_records
from .evidence_format import EVIDENCE_FORMAT, MalformedRecord, check_shape, parse_record
from .fields import ENUM_FIELDS
from .results import CampaignResults
from .status import RowStatus

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

_Results = TypeVar("_Results", bound=CampaignResults)

__all__ = [
    "EVIDENCE_FORMAT",
    "HASHED_FIELDS",
    "EvidenceCheck",
    "build_evidence",
    "chain_entries",
    "public_url",
    "sent_values_digest",
    "stamp_run",
    "utc_now",
    "verify_evidence",
    "write_evidence",
    "write_report_evidence",
    "WrittenRecord",
]

_ENTRY_FIELDS = ("sheet_row", "kyc_case_id", "status", "http_status", "request_id", "case_id")
_CHAIN_KEYS = ("entries", "chain")
HASHED_FIELDS: tuple[str, ...] = tuple(
    name for name in KycCaseCreateInput.model_fields if name != "current_status"
)
"""The fields whose sent values a created row's ``values_sha256`` covers: every create field
but ``current_status``, which moves with the case's workflow after creation (as in
:func:`~.outcomes.differing_fields`), so a later review would not read as tampering."""


def utc_now() -> str:
    """Now in UTC, ISO 8601 with milliseconds and a ``Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def public_url(url: object) -> str | None:
    """A base URL without user info, query or fragment (credentials never reach a record).

    Also the form two URLs are compared in (a journal's API, a record's API):
    scheme and host in lower case, no trailing ``/``.
    """
    if not url:
        return None
    parts = urlsplit(str(url).strip())
    host = parts.hostname or ""  # lower case already
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/"), "", ""))


def stamp_run(
    report: _Results,
    client: Any,
    options: dict[str, Any],
    started_at: str,
    principals: set[str],
    *,
    earlier: Sequence[dict[str, Any]] = (),
) -> _Results:
    """Record the run's API, principals, options and times on ``report`` (the sender calls this).

    ``earlier`` are the runs whose journaled outcomes this run took over, after
    the API confirmed each (:func:`~.resume.resume_from_journal`); their
    principals are the confirmed cases' creators.
    """
    report.api_base_url = public_url(getattr(client, "base_url", None))
    earlier_principals = {p for run in earlier for p in run.get("principals", ())}
    report.principals = sorted(set(principals) | earlier_principals)
    report.options = dict(options)
    attempts = report.results["attempts"].fillna(0)
    report.runs = [
        *(dict(run) for run in earlier),
        {
            "started_at": started_at,
            "finished_at": utc_now(),
            "principals": sorted(principals),
            "rows_sent": int((attempts > 0).sum()),
            "dry_run": options.get("dry_run", False),
        },
    ]
    return report


# --------------------------------------------------------------------------- building


def canonical(value: Any) -> bytes:
    """The bytes hashed for ``value``: JSON with sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _entry_hash(prev: str, entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return _sha256(prev.encode("ascii") + b"\n" + canonical(body))


def _genesis(header: dict[str, Any]) -> str:
    return _sha256(canonical({k: v for k, v in header.items() if k not in _CHAIN_KEYS}))


class _Chain:
    """The hash chain as entries join it one at a time (so a writer need not hold them all)."""

    def __init__(self, header: dict[str, Any]) -> None:
        self.genesis = self.head = _genesis(header)
        self.length = 0

    def link(self, entry: dict[str, Any]) -> dict[str, Any]:
        """``entry`` with its ``seq``, ``prev`` and ``hash``; the chain's head moves to it."""
        item = {"seq": self.length, **entry, "prev": self.head}
        item["hash"] = self.head = _entry_hash(item["prev"], item)
        self.length += 1
        return item

    def facts(self) -> dict[str, Any]:
        return {"algorithm": "sha256", "genesis": self.genesis, "head": self.head,
                "length": self.length}


def chain_entries(header: dict[str, Any], entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """``header`` plus the hash-chained ``entries`` and the ``chain`` summary (head included)."""
    chain = _Chain(header)
    chained = [chain.link(entry) for entry in entries]
    return {**header, "entries": chained, "chain": chain.facts()}


def build_evidence(report: CampaignResults, *, sheet: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The JSON-serialisable evidence record of ``report`` (see the module docstring).

    ``sheet`` is the campaign file, hashed here; without it the facts that
    :func:`~.reading.read_campaign` noted on the frame are used. Each call
    draws a new salt for the hashes of sent values, so two records of one
    report have different heads; verify the one you keep. For a large campaign,
    :func:`write_report_evidence` writes the same record without holding its
    entries in memory.
    """
    salt = secrets.token_hex(16)
    header = _header(report, sheet, salt)
    return chain_entries(header, (e for chunk in _entry_chunks(report, salt) for e in chunk))


def _header(report: CampaignResults, sheet: str | os.PathLike[str] | None, salt: str) -> dict[str, Any]:
    """Everything in the record but its entries and chain."""
    runs = sorted(report.runs, key=lambda run: str(run.get("started_at") or ""))
    mapping = {str(k): v for k, v in report.column_map.items()}
    sent_fixes = {
        int(e["sheet_row"]): {"sent_at": e.get("at"), "by": list(e.get("by") or [])}
        for e in report.fix_log
    }
    header: dict[str, Any] = {
        "format": EVIDENCE_FORMAT,
        "tool": {"name": "kyc-widgets", "version": __version__},
        "api_base_url": report.api_base_url,
        "principals": sorted(set(report.principals)),
        "started_at": min((str(r["started_at"]) for r in runs if r.get("started_at")), default=None),
        "finished_at": max((str(r["finished_at"]) for r in runs if r.get("finished_at")), default=None),
        "runs": _json_safe(runs),
        "campaign": report.campaign,
        "sheet": _sheet_facts(report, sheet),
        "mapping": {
            "columns": mapping,
            "sha256": _sha256(canonical(mapping)),
            # the CampaignMapping the sheet was read with (its file and fingerprint), if any
            "campaign_mapping": None if report.mapping is None else {
                "file": report.mapping.source,
                "fingerprint": report.mapping.fingerprint(),
                "values": _vocabulary_maps(report.mapping),
            },
        },
        "options": _json_safe(report.options),
        "dry_run": report.dry_run,
        "stopped_reason": report.stopped_reason,
        "counts": _json_safe(report.summary()),
        # which fields a fix changed (names, never values); once sent, when and by whom
        "fixed_in_notebook": [
            {"sheet_row": int(row), "fields": list(report.fixed_fields.get(row, sorted(fields))),
             **sent_fixes.get(int(row), {})}
            for row, fields in sorted(report.fixes.items())
        ],
        "sent_values": {"algorithm": "sha256", "salt": salt, "fields": list(HASHED_FIELDS)},
    }
    if report.plan is not None:  # sent with an approved plan (.plan_file): who made, who approved
        header["plan"] = _json_safe(report.plan)
    return header


def _entry_chunks(report: CampaignResults, salt: str) -> Iterator[list[dict[str, Any]]]:
    """The record's entries (before chaining), :data:`_CHUNK` rows at a time: a million-row
    report is never a million dicts at once."""
    results = report.results
    problems = problem_codes(report)
    for start in range(0, len(results), _CHUNK):
        rows = results.iloc[start : start + _CHUNK]
        columns = [[_json_safe(v) for v in plain(rows[name])] for name in _ENTRY_FIELDS]
        entries = [dict(zip(_ENTRY_FIELDS, row)) for row in zip(*columns)]
        for position in range(start, start + len(entries)):
            if position in problems:
                entries[position - start]["problems"] = problems[position]
        for position, digest in _sent_value_hashes(report, salt, start, len(entries)).items():
            entries[position - start]["values_sha256"] = digest
        yield entries


def sent_values_digest(salt: str, values: Mapping[str, Any], fields: Sequence[str]) -> str:
    """The ``values_sha256`` of one case: SHA-256 over the salt and the ``fields`` of ``values``.

    The same function hashes what a row sent (when the record is built) and
    what the API holds (``--against-api``, from the case's JSON), so the two
    agree exactly when every field does; an absent field counts as ``null``.
    """
    chosen = {name: values.get(name) for name in fields}
    return _sha256(salt.encode("utf-8") + b"\n" + canonical(chosen))


def _sent_value_hashes(
    report: CampaignResults, salt: str, start: int, count: int
) -> dict[int, str]:
    """Entry position -> ``values_sha256`` for every created row among positions
    ``start`` to ``start + count`` (the values it was sent with).

    Read from ``report.values_of`` (the pre-flight's validated values of those rows,
    updated by fixes) and the row's external id as used; nothing of it is kept in clear.
    """
    rows = report.results.iloc[start : start + count]
    created = np.flatnonzero(rows["status"].to_numpy(dtype=object) == RowStatus.CREATED)
    if not len(created):
        return {}
    frame = report.values_of(rows.index[created])
    if frame is None:
        return {}
    records = plain_records(frame)
    ids = plain(rows["kyc_case_id"].iloc[created])
    found = {}
    for position, record, case_id in zip(created.tolist(), records, ids):
        values = {str(name): _json_safe(value) for name, value in record.items()}
        values["kyc_case_id"] = _json_safe(case_id)
        found[start + position] = sent_values_digest(salt, values, HASHED_FIELDS)
    return found


_CHUNK = 10_000
"""Entries built at a time (:func:`_entry_chunks`)."""


def problem_codes(report: CampaignResults) -> dict[int, list[dict[str, Any]]]:
    """Entry position -> the row's problems as ``{"field", "code"}``, read from the problems table.

    Only the field and the code: a message may quote an enum spelling and the
    ``value`` column holds the cell itself (personal data); neither goes into the record.
    """
    problems = report.problems
    if problems.empty:
        return {}
    positions = report.results.index.get_indexer(problems.index)
    found: dict[int, list[dict[str, Any]]] = {}
    for position, name, code in zip(positions.tolist(), problems["field"].tolist(),
                                     problems["code"].tolist()):
        if position >= 0:
            found.setdefault(position, []).append({"field": name, "code": _json_safe(code)})
    return found


def _vocabulary_maps(mapping: Any) -> dict[str, dict[str, str]]:
    """The mapping's value maps of choice and country fields: sheet word -> API value.

    What the campaign translated ("Periodic review" -> KYC_REFRESH, "Deutschland" -> DE) is
    part of what was done; those words are a vocabulary, not personal data. Value maps of
    other fields (a mapping may hold one for any field) are left out: their keys could be.
    """
    keep = set(ENUM_FIELDS) | {"country_of_onboarding"}
    return {
        str(name): {str(k): str(v) for k, v in table.items()}
        for name, table in mapping.values.items()
        if name in keep
    }


def _sheet_facts(report: CampaignResults, sheet: str | os.PathLike[str] | None) -> dict[str, Any]:
    facts: dict[str, Any] = {"file_name": None, "sha256": None}
    if sheet is not None:
        path = Path(sheet)
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        facts = {"file_name": path.name, "sha256": digest.hexdigest(), "hashed": "now"}
    else:
        noted = report.source.attrs.get("kyc_sheet")
        if isinstance(noted, dict):
            facts = {"file_name": noted.get("file_name"), "sha256": noted.get("sha256"),
                     "hashed": "when read"}
    facts["rows"] = len(report.results)
    return facts


def _json_safe(value: Any) -> Any:
    """pandas/numpy scalars and missing values as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (int, float)):
        return value
    return str(value)


# --------------------------------------------------------------------------- writing


def write_evidence(
    record: dict[str, Any],
    path: str | os.PathLike[str],
    *,
    signing_key: Ed25519PrivateKey | None = None,
) -> Path:
    """Write ``record`` as JSON to ``path`` and its one-page HTML summary beside it.

    With ``signing_key`` (:func:`~.signing.load_signing_key`) the chain head is
    signed first (:func:`~.signing.sign_record`). Returns the HTML file's path
    (``path`` with the suffix ``.html``).
    """
    if signing_key is not None:
        from .signing import sign_record

        record = sign_record(record, signing_key)
    target = Path(path)
    target.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    summary = target.with_suffix(".html")
    summary.write_text(summary_html(record, target.name), encoding="utf-8")
    return summary


def write_report_evidence(
    report: CampaignResults,
    path: str | os.PathLike[str],
    *,
    sheet: str | os.PathLike[str] | None = None,
    signing_key: Ed25519PrivateKey | None = None,
) -> WrittenRecord:
    """Write the evidence record of ``report`` to ``path`` as its entries are made, and its
    HTML summary beside it: :func:`build_evidence` then :func:`write_evidence`, without the
    whole record in memory (a million-row campaign's entries are ~2.4 KB each as dicts).

    The JSON holds the same record (the chain comes last, as ``json.dumps`` of the
    record orders it); it is written to a temporary file beside ``path`` and moved
    into place once whole, so a failure leaves no half record. Returns the HTML
    summary's path and the chain's head (to keep elsewhere, without reading the record back).
    """
    salt = secrets.token_hex(16)
    header = _header(report, sheet, salt)
    chain = _Chain(header)
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            opening = json.dumps(header, ensure_ascii=False, indent=1)
            out.write(opening[: opening.rindex("}")].rstrip() + ',\n "entries": [')
            separator = "\n  "
            for chunk in _entry_chunks(report, salt):
                for entry in chunk:
                    out.write(separator + json.dumps(chain.link(entry), ensure_ascii=False))
                    separator = ",\n  "
            facts = _signed(header, chain.facts(), signing_key)
            out.write('\n ],\n "chain": ' + json.dumps(facts, ensure_ascii=False) + "\n}\n")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    summary = target.with_suffix(".html")
    summary.write_text(summary_html({**header, "chain": facts}, target.name), encoding="utf-8")
    return WrittenRecord(summary, str(facts["head"]))


class WrittenRecord(NamedTuple):
    """What :func:`write_report_evidence` wrote: the HTML summary's path, the chain's head."""

    summary: Path
    head: str


def _signed(
    header: dict[str, Any], facts: dict[str, Any], key: Ed25519PrivateKey | None
) -> dict[str, Any]:
    """The chain's facts, signed with ``key`` when there is one (:func:`~.signing.sign_record`)."""
    if key is None:
        return facts
    from .signing import sign_record

    return dict(sign_record({"format": header["format"], "chain": facts}, key)["chain"])


def summary_html(record: dict[str, Any], file_name: str) -> str:
    """A printable one-page summary of an evidence record (no per-row entries)."""
    esc = html.escape
    sheet = record.get("sheet") or {}
    chain = record.get("chain") or {}
    facts = [
        ("Tool", f"{record['tool']['name']} {record['tool']['version']}"),
        ("API", record.get("api_base_url") or "(none: nothing was sent)"),
        ("Principal(s)", ", ".join(record.get("principals") or []) or "(none reported)"),
        ("Campaign", record.get("campaign") or ""),
        ("Started (UTC)", record.get("started_at") or ""),
        ("Finished (UTC)", record.get("finished_at") or ""),
        ("Sheet", f"{sheet.get('file_name') or '(a DataFrame)'}, {sheet.get('rows')} rows"),
        ("Sheet SHA-256", sheet.get("sha256") or "(not a file)"),
        ("Mapping SHA-256", (record.get("mapping") or {}).get("sha256", "")),
        ("Dry run", str(record.get("dry_run"))),
        ("Stopped early", record.get("stopped_reason") or "no"),
        ("Entries", str(chain.get("length"))),
        ("Chain head (SHA-256)", chain.get("head", "")),
        ("Signed by key", (chain.get("signature") or {}).get("key_id") or "(not signed)"),
    ]
    plan = record.get("plan")
    if isinstance(plan, dict):
        facts += [
            ("Plan SHA-256", plan.get("sha256") or ""),
            ("Plan made by", f"{plan.get('maker')} at {plan.get('made_at')}"),
            ("Plan approved by", f"{plan.get('checker')} at {plan.get('approved_at')}"),
        ]
    rows = "".join(f"<tr><th scope='row'>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in facts)
    counts = "".join(
        f"<tr><td>{esc(status)}</td><td class='n'>{n}</td></tr>"
        for status, n in (record.get("counts") or {}).items()
        if n
    )
    runs = "".join(
        f"<tr><td>{esc(str(run.get('started_at')))}</td><td>{esc(str(run.get('finished_at')))}</td>"
        f"<td>{esc(', '.join(run.get('principals') or []))}</td><td class='n'>{run.get('rows_sent')}</td></tr>"
        for run in record.get("runs") or []
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Campaign evidence: {esc(file_name)}</title><style>"
        "body{font:11pt/1.35 system-ui,sans-serif;color:#111;background:#fff;max-width:50em;margin:1em auto}"
        "table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #555;padding:2px 6px;"
        "text-align:left;vertical-align:top}td.n{text-align:right}code{word-break:break-all}"
        "@page{size:A4;margin:15mm}</style></head><body>"
        f"<h1>Campaign evidence record</h1><p>Summary of <code>{esc(file_name)}</code>. "
        "This page proves nothing by itself. Check the record with <code>kyc-widgets "
        f"verify-evidence {esc(file_name)} --head HEAD</code> (the chain head below, kept with "
        "the change ticket) or <code>--public-key KEY.pub</code> when it is signed; "
        "<code>--against-api</code> compares it with the cases the API holds.</p>"
        f"<table>{rows}</table><h2>Rows per status</h2>"
        f"<table><thead><tr><th scope='col'>Status</th><th scope='col'>Rows</th></tr></thead>"
        f"<tbody>{counts}</tbody></table><h2>Runs</h2><table><thead><tr><th scope='col'>Started (UTC)</th>"
        "<th scope='col'>Finished (UTC)</th><th scope='col'>Principal(s)</th>"
        f"<th scope='col'>Rows sent</th></tr></thead><tbody>{runs}</tbody></table></body></html>\n"
    )


# --------------------------------------------------------------------------- verifying


@dataclass(frozen=True)
class EvidenceCheck:
    """The result of :func:`verify_evidence`; true when nothing was found wrong.

    ``anchors`` says what, beyond the file itself, the record was checked
    against (the chain head kept elsewhere, the signature by a given key):
    without one, ``ok`` means "consistent in itself", which a rewritten file is
    too. ``malformed`` is a record refused before its chain was looked at (one
    problem); ``unreadable`` a file that could not be read at all.
    """

    ok: bool
    problems: list[str] = field(default_factory=list)
    entries: int = 0
    head: str | None = None
    anchors: tuple[str, ...] = ()
    key_id: str | None = None
    """The key id the record's signature names (checked only when a public key was given)."""
    malformed: bool = False
    unreadable: bool = False
    record: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    """The record as read (None when it could not be): what ``--against-api`` compares."""

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        if self.malformed or self.unreadable:
            return f"NOT OK: {self.problems[0]}"
        if not self.ok:
            return "NOT OK:\n" + "\n".join(f"- {problem}" for problem in self.problems)
        return f"OK: {self.entries} entries, chain head {self.head}\n{self.anchoring()}"

    def anchoring(self) -> str:
        """One sentence: what the check proved beyond the file being consistent in itself."""
        if self.anchors:
            return "Anchored by " + " and ".join(self.anchors) + ": the record was not rewritten."
        signed = (
            f" It is signed by key {self.key_id}: pass that key's .pub file to check it."
            if self.key_id else ""
        )
        return (
            "Not anchored: the file is consistent in itself, which a rewritten file can be too. "
            "Give the chain head kept with the change ticket (--head, expected_head=) or the "
            "analyst's public key (--public-key, public_key=) to prove it was not rewritten."
            + signed
        )


def verify_evidence(
    path_or_record: str | os.PathLike[str] | dict[str, Any],
    *,
    expected_head: str | None = None,
    public_key: Ed25519PublicKey | str | os.PathLike[str] | None = None,
) -> EvidenceCheck:
    """Read a record strictly and recompute its hash chain (see "What a check proves" above).

    ``expected_head`` (kept elsewhere, e.g. in the change ticket) and
    ``public_key`` (the analyst's ``.pub`` file or key, for a signed record)
    each catch a file whose whole chain was recomputed. Never raises for the
    record's content: a malformed record is a check with one problem. A
    ``public_key`` file that cannot be used raises
    :class:`~.signing.SigningKeyError` (the key is the caller's, not the record's).
    """
    try:
        record = _read_record(path_or_record)
    except OSError as exc:
        return EvidenceCheck(False, [f"cannot read the record: {exc.strerror or exc}"],
                             unreadable=True)
    except MalformedRecord as exc:
        return EvidenceCheck(False, [f"the record is malformed: {exc}"], malformed=True)
    chain = record["chain"]
    entries = record["entries"]
    problems = _chain_problems(record)
    anchors: list[str] = []
    if expected_head is not None:
        if chain["head"] == expected_head:
            anchors.append("the chain head given")
        else:
            problems.append("the chain's head is not the one expected: the record was rewritten")
    signature = chain.get("signature")
    key_id = signature["key_id"] if isinstance(signature, dict) else None
    if public_key is not None:
        from .signing import load_public_key, signature_problems

        key = load_public_key(public_key) if isinstance(public_key, (str, os.PathLike)) else public_key
        found = signature_problems(record, key)
        problems.extend(found)
        if not found:
            anchors.append(f"the signature of key {key_id}")
    return EvidenceCheck(
        not problems, problems, len(entries), chain["head"], tuple(anchors), key_id, record=record
    )


def _read_record(path_or_record: str | os.PathLike[str] | dict[str, Any]) -> dict[str, Any]:
    """The record, parsed strictly and of the right shape; ``MalformedRecord`` or ``OSError``."""
    if isinstance(path_or_record, dict):
        check_shape(path_or_record)
        return path_or_record
    data = Path(path_or_record).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRecord("the record is not UTF-8 text: it was edited or is another file") from None
    return parse_record(text)


def _chain_problems(record: dict[str, Any]) -> list[str]:
    """Everything wrong with the chain itself: header, entries, order, length, head, counts."""
    chain = record["chain"]
    entries: list[dict[str, Any]] = record["entries"]
    problems: list[str] = []
    if chain["algorithm"] != "sha256":
        problems.append("unknown hash algorithm")
    if _genesis(record) != chain["genesis"]:
        problems.append("the header (times, sheet, mapping, options or counts) was edited")
    prev = chain["genesis"]
    for position, entry in enumerate(entries):
        where = f"entry {position} (sheet row {entry['sheet_row']})"
        if entry["seq"] != position:
            problems.append(f"{where} carries sequence number {entry['seq']}: entries were "
                            "removed, added or reordered")
        if entry["prev"] != prev:
            problems.append(f"{where} does not follow the entry before it: entries were removed, "
                            "added or reordered")
        if _entry_hash(entry["prev"], entry) != entry["hash"]:
            problems.append(f"{where} was edited")
        prev = entry["hash"]
    if chain["length"] != len(entries):
        problems.append(f"the chain lists {chain['length']} entries, the file holds {len(entries)}")
    if prev != chain["head"]:
        problems.append("the last entry is not the chain's head: entries were removed or added")
    counted: dict[str, int] = {}
    for entry in entries:
        counted[entry["status"]] = counted.get(entry["status"], 0) + 1
    stated = {k: v for k, v in record["counts"].items() if v}
    if counted != stated:
        problems.append("the counts per status do not match the entries")
    return problems
