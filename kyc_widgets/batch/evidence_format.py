"""Reading an evidence record strictly: one meaning per file, or a refusal in one line.

Why strict: the hash chain of :mod:`.evidence` hashes what a JSON parser
returns, and Python's ``json`` keeps the *last* of two equal keys while other
readers (a spreadsheet's import, ``jq`` in some modes, an auditor's own
script) may keep the first. A record with ``"status": "created", …,
"status": "invalid"`` in one entry would then verify, and mean two things.
So would keys that the verifier ignores (an ``"approved_by"`` slipped into
``chain``, which no hash covers). Hence:

- :func:`parse_record` refuses duplicate keys in any object (``object_pairs_hook``),
  ``NaN`` and ``Infinity`` (not JSON), and text that is not JSON at all;
- :func:`check_shape` refuses unknown keys, missing keys and values of the
  wrong type at every level the tool defines (header, runs, sheet, mapping,
  entries and their problems, chain and signature), so nothing in a record
  goes unchecked. ``options`` and ``mapping.columns`` are maps by nature:
  their keys are free, their values must be plain (hashed into the genesis).

Both raise :class:`MalformedRecord`, whose message is one line naming where
(``entry 3``, ``chain``): the command line prints it as is, never a traceback.
"""

from __future__ import annotations

from typing import Any

from .json_shapes import (
    INT,
    OPT_INT,
    OPT_STR,
    ROOT,
    SCALAR,
    STR,
    List,
    MalformedRecord,
    Map,
    Nullable,
    Object,
    Types,
    Words,
    kind_of,
    loads_strictly,
)
from .status import STATUSES

__all__ = [
    "CHAIN_SHAPE",
    "EVIDENCE_FORMAT",
    "LEGACY_FORMATS",
    "MalformedRecord",
    "check_shape",
    "parse_record",
]

EVIDENCE_FORMAT = "kyc-widgets/campaign-evidence/2"
"""The format written now: format 1 plus ``sent_values`` (the header) and ``values_sha256``
(entries of created rows), an optional ``chain.signature`` and an optional ``plan`` (the
approved plan it was sent with: hashes, maker, checker, times)."""
LEGACY_FORMATS = ("kyc-widgets/campaign-evidence/1",)
"""Formats still verified (records written by earlier versions)."""

_STATUS_WORDS = frozenset(status.value for status in STATUSES)


# --------------------------------------------------------------------------- parsing


def parse_record(text: str) -> dict[str, Any]:
    """The record in ``text``, parsed strictly and checked (:func:`check_shape`)."""
    record = loads_strictly(text, what="the record", whole="an evidence record")
    check_shape(record)
    return record


_PROBLEM = Object({"field": OPT_STR, "code": OPT_STR})
_ENTRY = Object(
    {
        "seq": INT, "sheet_row": OPT_INT, "kyc_case_id": OPT_STR,
        "status": Words(_STATUS_WORDS), "http_status": OPT_INT, "request_id": OPT_STR,
        "case_id": OPT_STR, "prev": STR, "hash": STR,
    },
    {"problems": List(_PROBLEM), "values_sha256": STR},
)
_RUN = Object(
    {"started_at": OPT_STR, "finished_at": OPT_STR, "principals": List(STR), "rows_sent": INT},
    {"dry_run": Types((bool, str)), "from_journal": Types((bool,))},
)
_SIGNATURE = Object({"algorithm": STR, "key_id": STR, "value": STR})
CHAIN_SHAPE = Object(
    {"algorithm": STR, "genesis": STR, "head": STR, "length": INT}, {"signature": _SIGNATURE}
)
_MAPPING = Object(
    {
        "columns": Map(STR),
        "sha256": STR,
        "campaign_mapping": Nullable(
            Object({"file": OPT_STR, "fingerprint": STR}, {"values": Map(Map(STR))})
        ),
    }
)
_HEADER_V1 = Object(
    {
        "format": STR,
        "tool": Object({"name": STR, "version": STR}),
        "api_base_url": OPT_STR,
        "principals": List(STR),
        "started_at": OPT_STR,
        "finished_at": OPT_STR,
        "runs": List(_RUN),
        "campaign": OPT_STR,
        "sheet": Object({"file_name": OPT_STR, "sha256": OPT_STR, "rows": INT},
                         {"hashed": STR}),
        "mapping": _MAPPING,
        "options": Map(SCALAR),
        "dry_run": Types((bool,)),
        "stopped_reason": OPT_STR,
        "counts": Map(INT, keys=_STATUS_WORDS),
        "fixed_in_notebook": List(Object(
            {"sheet_row": INT, "fields": List(STR)},
            optional={"sent_at": OPT_STR, "by": List(STR)},
        )),
        "entries": List(_ENTRY, label="entry"),
        "chain": CHAIN_SHAPE,
    }
)
_SENT_VALUES = Object({"algorithm": Words(frozenset({"sha256"})), "salt": STR,
                        "fields": List(STR)})
_PLAN = Object(
    {"sha256": STR, "approval_sha256": STR, "maker": STR, "made_at": STR, "checker": STR,
     "approved_at": STR, "expires_at": STR, "signed_by": OPT_STR}
)
"""The approved plan a campaign was sent with (:mod:`.plan_file`); absent without one."""
_SHAPES = {
    LEGACY_FORMATS[0]: _HEADER_V1,
    EVIDENCE_FORMAT: Object(
        {**_HEADER_V1.required, "sent_values": _SENT_VALUES}, {"plan": _PLAN}
    ),
}


def check_shape(record: Any) -> None:
    """Raise :class:`MalformedRecord` unless ``record`` has exactly the shape its format defines."""
    if not isinstance(record, dict):
        raise MalformedRecord(f"the record is {kind_of(record)}, not an evidence record")
    fmt = record.get("format")
    shape = _SHAPES.get(fmt) if isinstance(fmt, str) else None
    if shape is None:
        known = ", ".join(_SHAPES)
        raise MalformedRecord(f"not an evidence record of a known format ({known})")
    shape.check(record, ROOT)
