"""A campaign plan as a file: what will be sent, who made it, who approved it (four eyes).

Why: bulk actions on customer records are where compliance teams want a second
person between preparing and executing. A plan is what the second analyst
approves and what the batch then sends, exactly: :mod:`.plan` makes and
approves plans (it asks the API); this module is the file itself (its format,
strict reading, hashes) and the check the sender runs before the first
request (:func:`authorise_sending`). It imports nothing that sends, so
:mod:`.sending` can call it.

**What a plan holds** (``kyc-widgets/campaign-plan/1``, JSON): the API it was
checked against, the campaign, the sheet's file name, SHA-256 and row count,
the mapping's content and fingerprint (and the columns it read), the options
that decide which rows are sent (``allow_same_subject``), the maker's
principal as the API reported it and when the plan was made and expires, the
counts of the checking dry run (would create, exists, exists but differs,
invalid, duplicate, held back as the same subject), and one row per sheet
row: sheet row, external case ID, what the dry run found, whether it is sent,
for a sent row a keyed hash of the values to send (``values_hmac``), for a row
that exists the API's case id, for a row that differs the names of the
differing fields, for an invalid row its problems as ``{"field", "code"}``.
No names, e-mails, user ids or cell values: the plan can travel in a change
ticket. (The external case IDs are pseudonymous, as everywhere: a derived one
can be recomputed from a user id, see :mod:`.identity`.)

**Why the values' hash is keyed, and with what.** A plain or salted hash of
a row's values lets whoever holds the plan confirm a guess: with a user id
and a name from elsewhere, try the few countries, priorities and statuses
until one matches. So each row's ``values_hmac`` is an HMAC-SHA256 whose key
is derived from **every row to send** (SHA-256 over a domain string, the
plan's random salt and the canonical JSON of all those rows' values): whoever
has the sheet recomputes it, whoever has only the plan would have to guess
every other row of the campaign to test one. The key is as strong as the
campaign is large: a one-row plan is as guessable as that row. The price: a
changed cell changes the key, so the sender can say that the values differ
from the approved ones, not in which row.

**The approval** is the plan's one entry, hash-chained to it with
:func:`~.evidence.chain_entries` (the evidence record's chain): the plan's
hash is the chain's genesis (SHA-256 of the canonical JSON of everything but
the entries and the chain), the approval records the checker's principal,
its time and whether the API was asked again, and carries ``prev`` (the
plan's hash) and its own ``hash``. Editing one byte of a plan makes it
unreadable (strict JSON: a duplicate or unknown key, a wrong type) or breaks
the chain: the plan's hash no longer matches its approval's. What the chain
cannot stop is someone who rewrites the file and recomputes every hash, as
with the evidence record: anchor the approval by keeping its hash (printed by
``kyc-widgets approve``) in the change ticket, or by the checker's signature
(``approve --signing-key``, checked with ``batch --approver-key``:
:mod:`.signing`'s Ed25519 keys).

**Before sending** (:func:`authorise_sending`, called by
:func:`~.sending.abatch_create` before any request): the plan must be
readable and intact, approved by another principal than its maker, not
expired, made against this API, for this campaign, with this mapping (same
fingerprint) and this sheet (same SHA-256, when both are known); the rows to
send must be exactly the planned rows (by sheet row and external case ID)
with exactly the approved values. Anything else is a :class:`PlanRefusedError`
that lists every reason, and nothing is sent. Without a plan nothing changes,
unless approval is required (``require_approval=True`` or
``KYC_REQUIRE_APPROVAL=1``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kyc_widgets.models import KycCaseCreateInput

from .evidence import canonical, chain_entries, public_url
from .evidence_format import CHAIN_SHAPE, MalformedRecord
from .json_shapes import (
    INT,
    OPT_STR,
    ROOT,
    STR,
    List,
    Map,
    Nullable,
    Object,
    Types,
    Words,
    loads_strictly,
)
from .mapping import CampaignMapping
from .options import BatchMode, BatchOptions
from .preflight import Preflight
from .status import STATUSES, RowStatus
from .subjects import hold_same_subject

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = [
    "DEFAULT_EXPIRY",
    "PLAN_FIELDS",
    "PLAN_FORMAT",
    "REQUIRE_APPROVAL_ENV",
    "SEND_STATUSES",
    "CampaignPlan",
    "PlanRefusedError",
    "SendingApproval",
    "approval_required",
    "authorise_sending",
    "iter_bodies",
    "read_plan",
    "values_hmacs",
]

PLAN_FORMAT = "kyc-widgets/campaign-plan/1"
DEFAULT_EXPIRY = timedelta(hours=72)
"""How long a plan can be approved and sent: the API's answers it records get stale."""
REQUIRE_APPROVAL_ENV = "KYC_REQUIRE_APPROVAL"
"""``1`` (or ``true``, ``yes``): a campaign is sent only with an approved plan."""
PLAN_FIELDS: tuple[str, ...] = tuple(KycCaseCreateInput.model_fields)
"""The fields a row's ``values_hmac`` covers: every create field, ``current_status`` and
``kyc_case_id`` included (what is approved is what is sent)."""
SEND_STATUSES: tuple[RowStatus, ...] = (
    RowStatus.WOULD_CREATE, RowStatus.EXISTS, RowStatus.EXISTS_DIFFERS,
)
"""What the checking dry run says of a row that is sent (an existing case gets 409: exists)."""

_KEY_DOMAIN = b"kyc-widgets campaign plan values key\n"
_HMAC = "hmac-sha256"
_CHAIN_KEYS = ("entries", "chain")
_ENTRY_CHAIN_KEYS = ("seq", "prev", "hash")
_LISTED = 10
"""Sheet rows named in one refusal; the rest are counted."""


class PlanRefusedError(ValueError):
    """A plan that cannot be used (or a campaign that needs one); ``problems`` says why, in words.

    Raised before anything is sent or written: every reason is listed at once,
    so the analyst fixes them in one go (when sending: nothing was sent).
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = [str(p) for p in problems] or ["the plan cannot be used"]
        super().__init__("; ".join(self.problems))


# --------------------------------------------------------------------------- values


def values_hmacs(salt: str, bodies: Iterable[Mapping[str, Any]]) -> list[str]:
    """The ``values_hmac`` of each body, keyed with every body (see the module docstring).

    A body is a row's create request (:meth:`~.preflight.Preflight.bodies`,
    :func:`iter_bodies`); an absent field counts as ``null``.
    """
    messages = [canonical({name: body.get(name) for name in PLAN_FIELDS}) for body in bodies]
    key = hashlib.sha256(_KEY_DOMAIN + salt.encode("ascii") + b"\n" + b"\n".join(messages))
    return [hmac.new(key.digest(), message, hashlib.sha256).hexdigest() for message in messages]


def iter_bodies(pre: Preflight, labels: Sequence[Any], chunk: int = 1024) -> Iterator[dict[str, Any]]:
    """The create bodies of ``labels``, built a chunk at a time (a dict per row for a whole
    100,000-row sheet at once would be most of a plan's memory)."""
    for start in range(0, len(labels), chunk):
        yield from pre.bodies(labels[start:start + chunk])


def approval_required(explicit: bool | None = None) -> bool:
    """``explicit`` when given, else whether :data:`REQUIRE_APPROVAL_ENV` says so."""
    if explicit is not None:
        return bool(explicit)
    return os.environ.get(REQUIRE_APPROVAL_ENV, "").strip().lower() in ("1", "true", "yes")


# --------------------------------------------------------------------------- times


def plan_time(moment: datetime) -> str:
    """``moment`` in UTC as the plan writes times: ISO 8601, milliseconds, ``Z``."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedRecord(f"{where} is not a time") from None
    if moment.tzinfo is None:
        raise MalformedRecord(f"{where} has no time zone")
    return moment


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(timezone.utc)


# --------------------------------------------------------------------------- shape

_STATUS_WORDS = frozenset(status.value for status in STATUSES)
_PROBLEM = Object({"field": OPT_STR, "code": OPT_STR})
_ROW = Object(
    {"sheet_row": INT, "kyc_case_id": OPT_STR, "status": Words(_STATUS_WORDS),
     "send": Types((bool,))},
    {"values_hmac": STR, "case_id": STR, "differs": List(STR), "problems": List(_PROBLEM)},
)
_APPROVAL = Object(
    {"seq": INT, "kind": Words(frozenset({"approval"})), "checker": STR, "approved_at": STR,
     "rechecked": Types((bool,)), "prev": STR, "hash": STR}
)
_MAPPING_CONTENT = Object(
    {"columns": Map(OPT_STR), "constants": Map(STR), "values": Map(Map(STR))}
)
_SHAPE = Object(
    {
        "format": Words(frozenset({PLAN_FORMAT})),
        "tool": Object({"name": STR, "version": STR}),
        "api_base_url": STR,
        "campaign": OPT_STR,
        "sheet": Object({"file_name": OPT_STR, "sha256": OPT_STR, "rows": INT}),
        "mapping": Object({"content": Nullable(_MAPPING_CONTENT), "fingerprint": STR,
                            "columns": Map(STR)}),
        "options": Object({"allow_same_subject": Types((bool,))}),
        "maker": Object({"principal": STR, "made_at": STR}),
        "expires_at": STR,
        "counts": Map(INT, keys=_STATUS_WORDS),
        "to_send": INT,
        "values": Object({"algorithm": Words(frozenset({_HMAC})), "salt": STR,
                           "fields": List(STR)}),
        "rows": List(_ROW, label="row"),
        "entries": List(_APPROVAL, label="approval"),
        "chain": CHAIN_SHAPE,
    }
)


def _parse(text: str) -> dict[str, Any]:
    """The plan in ``text``, parsed strictly (no duplicate or unknown keys, no NaN) and shaped."""
    record = loads_strictly(text, what="the plan", whole="a plan")
    if not isinstance(record, dict) or record.get("format") != PLAN_FORMAT:
        raise MalformedRecord(f"not a campaign plan ({PLAN_FORMAT})")
    _SHAPE.check(record, ROOT)
    for name in ("made_at",):
        _parse_time(record["maker"][name], f"maker.{name}")
    _parse_time(record["expires_at"], "expires_at")
    for entry in record["entries"]:
        _parse_time(entry["approved_at"], f"approval {entry['seq']}.approved_at")
    return record


def read_plan(source: str | os.PathLike[str] | bytes | CampaignPlan) -> CampaignPlan:
    """A plan from a file (or its bytes), read strictly; :class:`PlanRefusedError` when it
    is not a plan, or was edited after it was made or approved.

    ``OSError`` when the file cannot be read at all.
    """
    if isinstance(source, CampaignPlan):
        return source
    path = None
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        data = path.read_bytes()
    try:
        record = _parse(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise PlanRefusedError(["the plan is not UTF-8 text: it was edited or is another file"]) \
            from None
    except MalformedRecord as exc:
        raise PlanRefusedError([f"the plan is malformed: {_plan_words(str(exc))}"]) from None
    problems = _chain_problems(record) + _row_problems(record)
    if problems:
        raise PlanRefusedError(problems)
    return CampaignPlan(record, path)


def _plan_words(message: str) -> str:
    return message.replace("the record", "the plan")


def _chain_problems(record: dict[str, Any]) -> list[str]:
    """The plan's hash and its approval's, recomputed with the evidence record's chain."""
    header = {k: v for k, v in record.items() if k not in _CHAIN_KEYS}
    bare = [{k: v for k, v in e.items() if k not in _ENTRY_CHAIN_KEYS} for e in record["entries"]]
    rebuilt = chain_entries(header, bare)
    chain = {k: v for k, v in record["chain"].items() if k != "signature"}
    if chain.get("algorithm") != "sha256":
        return ["the plan names an unknown hash algorithm"]
    if rebuilt["chain"]["genesis"] != chain["genesis"]:
        return ["the plan was edited after it was made (its content does not match its hash): "
                "make a new plan"]
    if rebuilt["entries"] != record["entries"] or rebuilt["chain"] != chain:
        return ["the approval does not belong to this plan as it is now (its hash does not "
                "match): the plan or its approval was edited after it was approved"]
    return []


def _row_problems(record: dict[str, Any]) -> list[str]:
    """Rows, counts and the approval agree with each other (a forged count is refused)."""
    rows = record["rows"]
    counted: dict[str, int] = {}
    for row in rows:
        counted[row["status"]] = counted.get(row["status"], 0) + 1
    problems = []
    if counted != {k: v for k, v in record["counts"].items() if v}:
        problems.append("the plan's counts do not match its rows")
    sent = [row for row in rows if row["send"]]
    if record["to_send"] != len(sent):
        problems.append("the plan's number of rows to send does not match its rows")
    if any(row["status"] not in SEND_STATUSES or "values_hmac" not in row
           or row["kyc_case_id"] is None for row in sent) \
            or any("values_hmac" in row for row in rows if not row["send"]):
        problems.append("the plan's rows to send are not consistent (status, id, hash)")
    if len(record["entries"]) > 1:
        problems.append("the plan carries more than one approval")
    return problems


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class CampaignPlan:
    """A plan read or made (see the module docstring); ``record`` is its JSON document.

    Immutable: approving returns a new plan (:meth:`with_approval`). ``source``
    is the file it was read from, if any.
    """

    record: dict[str, Any]
    source: Path | None = None

    # -- facts ---------------------------------------------------------------------

    @property
    def sha256(self) -> str:
        """The plan's hash (the chain's genesis): what its approval is chained to."""
        return str(self.record["chain"]["genesis"])

    @property
    def head(self) -> str:
        """The chain's head: the approval's hash once approved (keep it in the change ticket)."""
        return str(self.record["chain"]["head"])

    @property
    def maker(self) -> str:
        return str(self.record["maker"]["principal"])

    @property
    def made_at(self) -> str:
        return str(self.record["maker"]["made_at"])

    @property
    def expires_at(self) -> str:
        return str(self.record["expires_at"])

    @property
    def approval(self) -> dict[str, Any] | None:
        entries = self.record["entries"]
        return dict(entries[0]) if entries else None

    @property
    def approved(self) -> bool:
        return self.approval is not None

    @property
    def checker(self) -> str | None:
        return None if self.approval is None else str(self.approval["checker"])

    @property
    def approved_at(self) -> str | None:
        return None if self.approval is None else str(self.approval["approved_at"])

    @property
    def campaign(self) -> str | None:
        return self.record["campaign"]

    @property
    def api_base_url(self) -> str:
        return str(self.record["api_base_url"])

    @property
    def counts(self) -> dict[str, int]:
        """Rows per status of the checking dry run (non-zero ones, in report order)."""
        counts = self.record["counts"]
        return {s.value: counts[s.value] for s in STATUSES if counts.get(s.value)}

    @property
    def to_send(self) -> int:
        return int(self.record["to_send"])

    @property
    def rows(self) -> list[dict[str, Any]]:
        return list(self.record["rows"])

    @property
    def signed_by(self) -> str | None:
        """The key id of the checker's signature, if the approval is signed."""
        signature = self.record["chain"].get("signature")
        return None if signature is None else str(signature["key_id"])

    def differing_rows(self) -> list[dict[str, Any]]:
        """Rows whose case exists on the API with other values (``differs`` names the fields)."""
        return [row for row in self.record["rows"] if row["status"] == RowStatus.EXISTS_DIFFERS]

    def expired(self, now: datetime | None = None) -> bool:
        return _now(now) >= _parse_time(self.expires_at, "expires_at")

    # -- checks ----------------------------------------------------------------------

    def problems(self, *, now: datetime | None = None, approved: bool = True) -> list[str]:
        """Why this plan cannot be sent (``approved=True``) or approved (``False``) now."""
        problems = []
        approval = self.approval
        if approved and approval is None:
            problems.append("the plan is not approved: another analyst must approve it "
                            "(kyc-widgets approve PLAN.json, or the app's Approve a plan)")
        if not approved and approval is not None:
            problems.append(f"the plan is approved already (by {approval['checker']} at "
                            f"{approval['approved_at']})")
        if approval is not None:
            problems.extend(self._approval_problems(approval))
        if self.expired(now):
            problems.append(f"the plan expired at {self.expires_at}: make a new plan "
                            "(the API's answers it records may have changed)")
        return problems

    def _approval_problems(self, approval: dict[str, Any]) -> list[str]:
        problems = []
        if approval["checker"] == self.maker:
            problems.append(f"the plan was approved by its maker ({self.maker}): a second "
                            "analyst must approve it")
        approved_at = _parse_time(approval["approved_at"], "approved_at")
        if not _parse_time(self.made_at, "made_at") <= approved_at \
                < _parse_time(self.expires_at, "expires_at"):
            problems.append("the plan was approved outside the time it was valid")
        return problems

    def signature_problems(self, public_key: Ed25519PublicKey) -> list[str]:
        """What is wrong with the checker's signature for ``public_key`` ([] when it verifies)."""
        from .signing import signature_problems

        found = signature_problems(self.record, public_key)
        return [_plan_words(p).replace("the chain was rewritten", "the plan or its approval "
                                       "was edited") for p in found]

    # -- changes ---------------------------------------------------------------------

    def with_approval(self, checker: str, *, now: datetime | None = None,
                      rechecked: bool = True) -> CampaignPlan:
        """This plan approved by ``checker`` (the principal the API reported), chained to it."""
        header = {k: v for k, v in self.record.items() if k not in _CHAIN_KEYS}
        entry = {"kind": "approval", "checker": checker, "approved_at": plan_time(_now(now)),
                 "rechecked": bool(rechecked)}
        return CampaignPlan(chain_entries(header, [entry]), self.source)

    def signed(self, key: Ed25519PrivateKey) -> CampaignPlan:
        """This plan with its chain head signed by ``key`` (the checker's, :mod:`.signing`)."""
        from .signing import sign_record

        return CampaignPlan(sign_record(self.record, key), self.source)

    # -- files -----------------------------------------------------------------------

    def to_json(self) -> str:
        return json.dumps(self.record, ensure_ascii=False, indent=1) + "\n"

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the plan to ``path`` (replaced in one step: never half a plan on disk)."""
        target = Path(path)
        fd, temporary = tempfile.mkstemp(prefix=".plan-", dir=target.parent or Path("."))
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.to_json())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target

    def evidence_facts(self) -> dict[str, Any]:
        """What the evidence record keeps of the plan a campaign was sent with."""
        return {
            "sha256": self.sha256,
            "approval_sha256": self.head,
            "maker": self.maker,
            "made_at": self.made_at,
            "checker": self.checker,
            "approved_at": self.approved_at,
            "expires_at": self.expires_at,
            "signed_by": self.signed_by,
        }

    def __repr__(self) -> str:
        state = f"approved by {self.checker}" if self.approved else "not approved"
        return (f"CampaignPlan(campaign={self.campaign!r}, to_send={self.to_send}, "
                f"maker={self.maker!r}, {state})")


def new_salt() -> str:
    return secrets.token_hex(16)


# --------------------------------------------------------------------------- sending


@dataclass(frozen=True)
class SendingApproval:
    """What :func:`authorise_sending` allowed: the positions to send and the evidence's facts."""

    plan: CampaignPlan
    positions: np.ndarray

    def only(self, to_send: np.ndarray) -> np.ndarray:
        """``to_send`` restricted to the approved rows (a resumed run sends fewer, never more)."""
        return to_send[np.isin(to_send, self.positions)]

    @property
    def facts(self) -> dict[str, Any]:
        return self.plan.evidence_facts()


def authorise_sending(
    plan: CampaignPlan | str | os.PathLike[str] | None,
    pre: Preflight,
    options: BatchOptions,
    client: Any,
    *,
    require: bool | None = None,
    approver_key: Ed25519PublicKey | None = None,
    now: datetime | None = None,
) -> SendingApproval | None:
    """Check ``plan`` against what is about to be sent; :class:`PlanRefusedError` if it fails.

    None when there is no plan and none is required (``require``, else
    :data:`REQUIRE_APPROVAL_ENV`; only a run that sends needs one). Makes no
    request: the API was asked when the plan was made and approved.
    """
    if plan is None:
        if options.mode is BatchMode.SEND and approval_required(require):
            raise PlanRefusedError([
                "this campaign needs an approved plan (approval is required): make a plan "
                "(kyc-widgets plan, or Make a plan in the app), have another analyst approve "
                "it, then send with it"
            ])
        return None
    try:
        loaded = read_plan(plan)
    except OSError as exc:
        raise PlanRefusedError([f"cannot read the plan: {exc.strerror or exc}"]) from None
    problems = loaded.problems(now=now, approved=True)
    if approver_key is not None:
        problems.extend(loaded.signature_problems(approver_key))
    problems.extend(_context_problems(loaded, pre, options, client))
    positions, row_problems = _rows_to_send(loaded, pre, options)
    problems.extend(row_problems)
    if problems:
        raise PlanRefusedError(problems)
    return SendingApproval(loaded, positions)


def _context_problems(
    plan: CampaignPlan, pre: Preflight, options: BatchOptions, client: Any
) -> list[str]:
    """Same API, campaign, mapping, sheet and same-subject choice as the plan's."""
    problems = []
    url = public_url(getattr(client, "base_url", None)) if client is not None else None
    if url is not None and url != public_url(plan.api_base_url):
        problems.append(f"the plan was made against {plan.api_base_url}, not {url}")
    campaign = (str(pre.campaign).strip() or None) if pre.campaign is not None else None
    if campaign != plan.campaign:
        problems.append(f"the plan is for campaign {plan.campaign!r}, not {pre.campaign!r}")
    fingerprint = mapping_fingerprint(pre.mapping)
    if fingerprint != plan.record["mapping"]["fingerprint"]:
        problems.append("the sheet is read with another mapping than the plan's (fingerprint "
                        f"{fingerprint}, the plan's {plan.record['mapping']['fingerprint']})")
    planned, noted = plan.record["sheet"]["sha256"], pre.source.attrs.get("kyc_sheet")
    current = noted.get("sha256") if isinstance(noted, dict) else None
    if planned and current and planned != current:
        problems.append("the sheet is not the one the plan was made from (its SHA-256 differs)")
    if plan.record["options"]["allow_same_subject"] != options.allow_same_subject:
        problems.append("the plan was made with another choice for rows that repeat a "
                        "customer and reason (allow_same_subject)")
    return problems


def mapping_fingerprint(mapping: CampaignMapping | None) -> str:
    """The fingerprint a plan keeps: the mapping's, or that of no mapping (the default)."""
    return (mapping or CampaignMapping.default()).fingerprint()


def would_send(pre: Preflight, allow_same_subject: bool) -> np.ndarray:
    """Positions of the rows a run sends: ready, less the same subject held back."""
    ready = np.flatnonzero(pre.ready.to_numpy(dtype=bool))
    notes = {"note": np.full(len(pre.status), None, dtype=object)}  # the sender's rule, unseen
    return hold_same_subject(pre, notes, ready, allow=allow_same_subject)


def _rows_to_send(
    plan: CampaignPlan, pre: Preflight, options: BatchOptions
) -> tuple[np.ndarray, list[str]]:
    """The positions to send, and what differs from the plan's rows (rows, then values)."""
    positions = would_send(pre, options.allow_same_subject)
    rows = pre.sheet_row.to_numpy()[positions].tolist()
    ids = pre.kyc_case_id.to_numpy(dtype=object)[positions].tolist()
    planned = [row for row in plan.rows if row["send"]]
    now_keys = list(zip(rows, ids))
    plan_keys = [(row["sheet_row"], row["kyc_case_id"]) for row in planned]
    if now_keys != plan_keys:
        extra = sorted({r for r, _ in set(now_keys) - set(plan_keys)})
        missing = sorted({r for r, _ in set(plan_keys) - set(now_keys)})
        problems = []
        if extra:
            problems.append(f"{len(extra)} row(s) would be sent that the plan does not list "
                            f"as planned: {_sheet_rows(extra)}")
        if missing:
            problems.append(f"{len(missing)} planned row(s) would not be sent as planned: "
                            f"{_sheet_rows(missing)}")
        return positions, problems
    digests = values_hmacs(plan.record["values"]["salt"],
                           iter_bodies(pre, pre.source.index[positions]))
    if digests != [row["values_hmac"] for row in planned]:
        return positions, [
            "the values to send are not the ones the plan was approved with (a cell of the "
            "sheet or the mapping changed since); the plan keeps no values, so it cannot say "
            "which: make a new plan from this sheet"
        ]
    return positions, []


def _sheet_rows(rows: Iterable[int]) -> str:
    listed = list(rows)
    shown = ", ".join(str(r) for r in listed[:_LISTED])
    more = f" and {len(listed) - _LISTED} more" if len(listed) > _LISTED else ""
    return f"sheet row(s) {shown}{more}"
