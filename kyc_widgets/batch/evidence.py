"""The campaign's evidence record: what was done, by whom, from which file, tamper-evident.

Why: when an auditor asks "show us that every customer in the remediation
population got a case, who created it and from which file", a CSV report and
a journal that anyone could have edited are not an answer. The record holds:

- the tool's version, the API base URL (scheme, host, port and path only:
  never a token, user info or query string), the principal(s) the API
  answered with, and every run's start and end time in UTC (a resumed
  campaign lists the earlier runs its journal recorded, and rows fixed and
  sent from the notebook add a run of their own);
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
  (:mod:`.problems`), never their values or messages.

It holds no names, e-mails or user internal ids (the principal is the
operator's login as the API reports it). A derived external id is
pseudonymous, though (see :mod:`.identity`): keep the record where the
campaign's report may be kept.

**Hash chain.** The header (everything but the entries) is hashed into the
chain's *genesis*; each entry then carries ``prev`` (the hash before it) and
``hash`` = SHA-256 over ``prev`` and the entry's canonical JSON (sorted keys,
no spaces, UTF-8) without its own ``hash``. The record ends with the chain's
``head``. :func:`verify_evidence` recomputes all of it, so an edited byte, a
removed entry or two swapped entries are reported. Someone who rewrites the
whole file can recompute the chain too: keep the head elsewhere (it is
printed by the command line and in the HTML summary; paste it into the
change ticket) and pass it as ``expected_head``.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from kyc_widgets._version import __version__

from .results import CampaignResults

_Results = TypeVar("_Results", bound=CampaignResults)

__all__ = [
    "EVIDENCE_FORMAT",
    "EvidenceCheck",
    "build_evidence",
    "chain_entries",
    "stamp_run",
    "utc_now",
    "verify_evidence",
    "write_evidence",
]

EVIDENCE_FORMAT = "kyc-widgets/campaign-evidence/1"
_ENTRY_FIELDS = ("sheet_row", "kyc_case_id", "status", "http_status", "request_id", "case_id")
_CHAIN_KEYS = ("entries", "chain")


def utc_now() -> str:
    """Now in UTC, ISO 8601 with milliseconds and a ``Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def public_url(url: object) -> str | None:
    """A base URL without user info, query or fragment (credentials never reach a record)."""
    if not url:
        return None
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def stamp_run(
    report: _Results,
    client: Any,
    options: dict[str, Any],
    started_at: str,
    principals: set[str],
) -> _Results:
    """Record the run's API, principals, options and times on ``report`` (the sender calls this)."""
    report.api_base_url = public_url(getattr(client, "base_url", None))
    report.principals = sorted(principals)
    report.options = dict(options)
    attempts = report.results["attempts"].fillna(0)
    report.runs = [
        {
            "started_at": started_at,
            "finished_at": utc_now(),
            "principals": sorted(principals),
            "rows_sent": int((attempts > 0).sum()),
            "dry_run": options.get("dry_run", False),
        }
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


def chain_entries(header: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    """``header`` plus the hash-chained ``entries`` and the ``chain`` summary (head included)."""
    genesis = _genesis(header)
    prev = genesis
    chained = []
    for seq, entry in enumerate(entries):
        item = {"seq": seq, **entry, "prev": prev}
        item["hash"] = prev = _entry_hash(item["prev"], item)
        chained.append(item)
    return {
        **header,
        "entries": chained,
        "chain": {"algorithm": "sha256", "genesis": genesis, "head": prev, "length": len(chained)},
    }


def build_evidence(report: CampaignResults, *, sheet: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The JSON-serialisable evidence record of ``report`` (see the module docstring).

    ``sheet`` is the campaign file, hashed here; without it the facts that
    :func:`~.reading.read_campaign` noted on the frame are used.
    """

    earlier, journal_principals = _journal_runs(report)
    runs = sorted([*earlier, *report.runs], key=lambda run: str(run.get("started_at") or ""))
    mapping = {str(k): v for k, v in report.column_map.items()}
    results = report.results
    header: dict[str, Any] = {
        "format": EVIDENCE_FORMAT,
        "tool": {"name": "kyc-widgets", "version": __version__},
        "api_base_url": report.api_base_url,
        "principals": sorted(set(report.principals) | journal_principals),
        "started_at": min((str(r["started_at"]) for r in runs if r.get("started_at")), default=None),
        "finished_at": max((str(r["finished_at"]) for r in runs if r.get("finished_at")), default=None),
        "runs": runs,
        "campaign": report.campaign,
        "sheet": _sheet_facts(report, sheet),
        "mapping": {
            "columns": mapping,
            "sha256": _sha256(canonical(mapping)),
            # the CampaignMapping the sheet was read with (its file and fingerprint), if any
            "campaign_mapping": None if report.mapping is None else {
                "file": report.mapping.source, "fingerprint": report.mapping.fingerprint()
            },
        },
        "options": _json_safe(report.options),
        "dry_run": report.dry_run,
        "stopped_reason": report.stopped_reason,
        "counts": report.summary(),
        "fixed_in_notebook": [
            {"sheet_row": int(row), "fields": sorted(fields)} for row, fields in sorted(report.fixes.items())
        ],
    }
    columns = {name: results[name].tolist() for name in _ENTRY_FIELDS}
    entries = [
        {name: _json_safe(columns[name][i]) for name in _ENTRY_FIELDS} for i in range(len(results))
    ]
    for position, found in _problem_codes(report).items():
        entries[position]["problems"] = found
    return chain_entries(header, entries)


def _problem_codes(report: CampaignResults) -> dict[int, list[dict[str, Any]]]:
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


def _journal_runs(report: CampaignResults) -> tuple[list[dict[str, Any]], set[str]]:
    """Earlier runs recorded in the campaign's journal (a resumed campaign), and their principals."""
    path = report.options.get("journal")
    if not path:
        return [], set()
    current = {run.get("started_at") for run in report.runs}
    runs: dict[str, dict[str, Any]] = {}
    principals: set[str] = set()
    try:
        handle = Path(path).open(encoding="utf-8")
    except OSError:
        return [], set()
    with handle:
        for line in handle:
            try:
                data = json.loads(line)
            except ValueError:
                continue  # a torn line (see .journal)
            if not isinstance(data, dict):
                continue
            run, principal = data.get("run"), data.get("principal")
            if isinstance(principal, str) and principal:
                principals.add(principal)
            if not isinstance(run, str) or run in current:
                continue
            entry = runs.setdefault(
                run, {"started_at": run, "finished_at": run, "principals": [], "rows_sent": 0,
                      "from_journal": True}
            )
            entry["rows_sent"] += 1
            at = data.get("at")
            if isinstance(at, str):
                entry["finished_at"] = max(entry["finished_at"], _as_z(at))
            if isinstance(principal, str) and principal and principal not in entry["principals"]:
                entry["principals"].append(principal)
    return list(runs.values()), principals


def _as_z(stamp: str) -> str:
    return stamp.replace("+00:00", "Z")


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


def write_evidence(record: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``record`` as JSON to ``path`` and its one-page HTML summary beside it.

    Returns the HTML file's path (``path`` with the suffix ``.html``).
    """
    target = Path(path)
    target.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    summary = target.with_suffix(".html")
    summary.write_text(summary_html(record, target.name), encoding="utf-8")
    return summary


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
        "Check the record with <code>kyc-widgets verify-evidence "
        f"{esc(file_name)}</code>; keep the chain head below with the change ticket.</p>"
        f"<table>{rows}</table><h2>Rows per status</h2>"
        f"<table><thead><tr><th scope='col'>Status</th><th scope='col'>Rows</th></tr></thead>"
        f"<tbody>{counts}</tbody></table><h2>Runs</h2><table><thead><tr><th scope='col'>Started (UTC)</th>"
        "<th scope='col'>Finished (UTC)</th><th scope='col'>Principal(s)</th>"
        f"<th scope='col'>Rows sent</th></tr></thead><tbody>{runs}</tbody></table></body></html>\n"
    )


# --------------------------------------------------------------------------- verifying


@dataclass(frozen=True)
class EvidenceCheck:
    """The result of :func:`verify_evidence`; true when nothing was found wrong."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    entries: int = 0
    head: str | None = None

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        if self.ok:
            return f"OK: {self.entries} entries, chain head {self.head}"
        return "NOT OK:\n" + "\n".join(f"- {problem}" for problem in self.problems)


def verify_evidence(
    path_or_record: str | os.PathLike[str] | dict[str, Any], *, expected_head: str | None = None
) -> EvidenceCheck:
    """Recompute an evidence record's hash chain; report edits, removals and reordering.

    ``expected_head`` (kept elsewhere, e.g. in the change ticket) also
    catches a file whose whole chain was recomputed.
    """
    if isinstance(path_or_record, dict):
        record: Any = path_or_record
    else:
        try:
            record = json.loads(Path(path_or_record).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            return EvidenceCheck(False, [f"cannot read the record: {type(exc).__name__}"])
        except ValueError:
            return EvidenceCheck(False, ["the record is not valid JSON: it was edited or truncated"])
    if not isinstance(record, dict) or not isinstance(record.get("chain"), dict):
        return EvidenceCheck(False, ["not an evidence record (no hash chain)"])
    chain = record["chain"]
    entries = record.get("entries")
    if not isinstance(entries, list):
        return EvidenceCheck(False, ["the record has no list of entries"])
    problems: list[str] = []
    if record.get("format") != EVIDENCE_FORMAT:
        problems.append(f"unknown format {record.get('format')!r}")
    if chain.get("algorithm") != "sha256":
        problems.append("unknown hash algorithm")
    if _genesis(record) != chain.get("genesis"):
        problems.append("the header (times, sheet, mapping, options or counts) was edited")
    prev = chain.get("genesis")
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(f"entry {position} is not an object")
            continue
        where = f"entry {position} (sheet row {entry.get('sheet_row')})"
        if entry.get("seq") != position:
            problems.append(f"{where} carries sequence number {entry.get('seq')}: entries were "
                            "removed, added or reordered")
        if entry.get("prev") != prev:
            problems.append(f"{where} does not follow the entry before it: entries were removed, "
                            "added or reordered")
        if _entry_hash(str(entry.get("prev")), entry) != entry.get("hash"):
            problems.append(f"{where} was edited")
        prev = entry.get("hash")
    if chain.get("length") != len(entries):
        problems.append(f"the chain lists {chain.get('length')} entries, the file holds {len(entries)}")
    if prev != chain.get("head"):
        problems.append("the last entry is not the chain's head: entries were removed or added")
    if expected_head is not None and chain.get("head") != expected_head:
        problems.append("the chain's head is not the one expected: the record was rewritten")
    counted: dict[str, int] = {}
    for entry in entries:
        if isinstance(entry, dict):
            counted[str(entry.get("status"))] = counted.get(str(entry.get("status")), 0) + 1
    stated = {k: v for k, v in (record.get("counts") or {}).items() if v}
    if counted != stated:
        problems.append("the counts per status do not match the entries")
    head = chain.get("head") if isinstance(chain.get("head"), str) else None
    return EvidenceCheck(not problems, problems, len(entries), head)
