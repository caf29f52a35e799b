"""Maker-checker: a campaign is sent only after a second analyst approves its plan.

Why: one analyst alone could prepare and send 100,000 cases. Here the maker
runs the checking dry run with their own token and writes a **plan**
(:func:`make_plan`: what will happen to every row, with no personal data:
:mod:`.plan_file` describes the file); a second analyst reviews it and
**approves** it with their own token (:func:`approve_plan`); the batch then
sends exactly the approved rows and values, or nothing
(``batch_create(..., plan=...)``, checked by :func:`.plan_file.authorise_sending`).

**Who is who** comes from the API, never from what someone types: the maker
and the checker are the principals the API reports for their tokens. The
shared contract reports ``principal`` in case envelopes only, and a campaign's
rows are mostly cases that do not exist yet; so :func:`whoami` asks for a case
that cannot exist and reads the caller's principal from the 404's
``details.principal`` (a documented extension the sandbox implements: see
docs/api-contract.md, "Who the caller is"). Against an API without it, a
principal from the envelope of a case the dry run found is used; with
neither, no plan is made and none is approved (:class:`PrincipalUnknownError`).

**The approval** refuses when the checker is the maker, when the plan
expired, was edited or is approved already, when it was made against another
API, and (``recheck=True``, the default) when the API's answers changed
since: every row the dry run looked up is looked up again, and a case that
now exists, or no longer has the recorded case id, refuses the approval
(:func:`review_plan` gives the same verdict without approving, for a review
page). The checker needs no sheet: a plan holds the external case IDs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from kyc_widgets._version import __version__
from kyc_widgets.api.errors import (
    AuthenticationError,
    KycApiError,
    NotFoundError,
    PermissionDeniedError,
)

from .evidence import chain_entries, problem_codes, public_url
from .mapping import CampaignMapping, as_mapping
from .options import BatchMode, BatchOptions
from .plan_file import (
    DEFAULT_EXPIRY,
    PLAN_FIELDS,
    PLAN_FORMAT,
    SEND_STATUSES,
    CampaignPlan,
    PlanRefusedError,
    approval_required,
    iter_bodies,
    mapping_fingerprint,
    new_salt,
    plan_time,
    read_plan,
    values_hmacs,
)
from .preflight import Preflight, preflight
from .reading import read_campaign
from .report import BatchReport
from .sending import batch_create
from .status import RowStatus

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "DEFAULT_EXPIRY",
    "CampaignPlan",
    "PlanRefusedError",
    "PlanCheck",
    "PrincipalUnknownError",
    "approval_required",
    "approve_plan",
    "approve_reviewed",
    "make_plan",
    "read_plan",
    "review_plan",
    "whoami",
]

RECHECK_WORKERS = 8
"""Lookups in flight while an approval asks the API again (the client's pacing gate still
paces them and pauses them on a 429)."""

_LISTED = 10
_PROBE_PREFIX = "whoami-probe-"


class PrincipalUnknownError(PlanRefusedError):
    """The API did not say who the caller is: no plan is made or approved on a typed name."""


# --------------------------------------------------------------------------- who am I


def whoami(client: Any, seen: Iterable[str] = ()) -> str:
    """The caller's principal as the API reports it (see the module docstring).

    Asks for a case that cannot exist: the sandbox's 404 names the caller in
    ``details.principal``. Otherwise the one principal in ``seen`` (envelopes
    already received) is used. Raises :class:`PrincipalUnknownError`, or the
    client's :class:`~kyc_widgets.api.errors.KycApiError` (a refused token).
    """
    said = _probe(client)
    return said if said is not None else _one_of(seen)


def _probe(client: Any) -> str | None:
    """The principal a lookup of a case that cannot exist names, or None."""
    try:
        envelope = client.get_case(_PROBE_PREFIX + uuid.uuid4().hex)
    except NotFoundError as exc:
        said = exc.details.get("principal")
        return said if isinstance(said, str) and said.strip() else None
    return str(envelope.principal)


def _one_of(seen: Iterable[str]) -> str:
    known = sorted(set(seen))
    if len(known) == 1:
        return known[0]
    raise PrincipalUnknownError([
        "the API did not say who you are (no 'principal' in a lookup's answer), so the plan "
        "cannot name its analysts; see docs/api-contract.md, 'Who the caller is'"
    ])


# --------------------------------------------------------------------------- making


def make_plan(
    client: Any,
    sheet_or_frame: str | os.PathLike[str] | pd.DataFrame | Preflight,
    *,
    campaign: str | None = None,
    mapping: CampaignMapping | str | os.PathLike[str] | None = None,
    expires_in: timedelta = DEFAULT_EXPIRY,
    options: BatchOptions | None = None,
) -> CampaignPlan:
    """Run the checking dry run with the maker's client and return the plan (not yet saved).

    ``sheet_or_frame`` is a campaign file (read with
    :func:`~.reading.read_campaign`, which notes its SHA-256), a frame, or a
    pre-flight already computed (a preview). ``options`` give the pacing and
    the same-subject choice; the mode is always ``check_api``: nothing is
    created. Raises :class:`~.plan_file.PlanRefusedError` when the dry run
    could not look every row up (a failure, a stop) or the API did not say
    who the maker is; the batch's own errors (missing columns, no campaign
    name) and :class:`~kyc_widgets.api.errors.KycApiError` (a refused token)
    as :func:`~.sending.batch_create` raises them.
    """
    if expires_in <= timedelta(0):
        raise ValueError("expires_in must be positive")
    pre = _preflight(sheet_or_frame, campaign, mapping)
    options = (options or BatchOptions(progress=False)).replace(
        mode=BatchMode.CHECK_API, campaign=pre.campaign, journal=None
    )
    probe = _probe(client)  # first: a refused token fails before the dry run
    report = batch_create(client, pre, options)
    _refuse_incomplete(report)
    maker = probe if probe is not None else _one_of(report.principals)
    if report.principals and set(report.principals) != {maker}:
        raise PlanRefusedError(["the API named more than one principal during the dry run "
                                "(was the token changed?): make the plan again"])
    made_at = datetime.now(timezone.utc)
    header = _header(client, pre, report, options, maker=maker, made_at=made_at,
                     expires_at=made_at + expires_in)
    return CampaignPlan(chain_entries(header, []))


def _preflight(
    sheet_or_frame: str | os.PathLike[str] | pd.DataFrame | Preflight,
    campaign: str | None,
    mapping: CampaignMapping | str | os.PathLike[str] | None,
) -> Preflight:
    if isinstance(sheet_or_frame, Preflight):
        if campaign is not None and _campaign(campaign) != _campaign(sheet_or_frame.campaign):
            raise ValueError("campaign differs from the one the pre-flight was made with")
        if mapping is not None and mapping_fingerprint(as_mapping(mapping)) != \
                mapping_fingerprint(sheet_or_frame.mapping):
            raise ValueError("mapping differs from the one the pre-flight was made with")
        return sheet_or_frame
    frame = (sheet_or_frame if isinstance(sheet_or_frame, pd.DataFrame)
             else read_campaign(sheet_or_frame))
    return preflight(frame, campaign=_campaign(campaign), mapping=mapping)


def _campaign(value: str | None) -> str | None:
    return (str(value).strip() or None) if value is not None else None


def _refuse_incomplete(report: BatchReport) -> None:
    """A plan records what the API said of every row: a dry run that could not ask is no plan."""
    if report.stopped_reason:
        from .stop import stop_words

        raise PlanRefusedError([f"the dry run stopped early ({stop_words(report.stopped_reason)}): "
                                "no plan was written"])
    status = report.results["status"]
    unchecked = status.isin([RowStatus.FAILED, RowStatus.OUTCOME_UNKNOWN]).sum()
    if unchecked:
        raise PlanRefusedError([f"the API could not be asked about {int(unchecked)} row(s) "
                                "(see a dry run's report): no plan was written; try again"])


def _header(
    client: Any,
    pre: Preflight,
    report: BatchReport,
    options: BatchOptions,
    *,
    maker: str,
    made_at: datetime,
    expires_at: datetime,
) -> dict[str, Any]:
    """The plan's document without its chain: facts, counts and one entry per row."""
    noted = pre.source.attrs.get("kyc_sheet")
    sheet = noted if isinstance(noted, dict) else {}
    mapping = pre.mapping
    salt = new_salt()
    counts = {s.value: n for s, n in report.summary().items() if n}
    rows = _rows(pre, report, salt)
    return {
        "format": PLAN_FORMAT,
        "tool": {"name": "kyc-widgets", "version": __version__},
        "api_base_url": public_url(client.base_url),
        "campaign": _campaign(pre.campaign),
        "sheet": {"file_name": sheet.get("file_name"), "sha256": sheet.get("sha256"),
                  "rows": len(pre.source)},
        "mapping": {
            "content": None if mapping is None else mapping.to_dict(),
            "fingerprint": mapping_fingerprint(mapping),
            "columns": {str(k): str(v) for k, v in pre.column_map.items()},
        },
        "options": {"allow_same_subject": options.allow_same_subject},
        "maker": {"principal": maker, "made_at": plan_time(made_at)},
        "expires_at": plan_time(expires_at),
        "counts": counts,
        "to_send": sum(1 for row in rows if row["send"]),
        "values": {"algorithm": "hmac-sha256", "salt": salt, "fields": list(PLAN_FIELDS)},
        "rows": rows,
    }


def _rows(pre: Preflight, report: BatchReport, salt: str) -> list[dict[str, Any]]:
    """One entry per sheet row: what the dry run found, and for a sent row its values' HMAC."""
    results = report.results
    status = results["status"].to_numpy(dtype=object)
    sent = [i for i, s in enumerate(status.tolist()) if s in SEND_STATUSES]
    digests = dict(zip(sent, values_hmacs(salt, iter_bodies(pre, results.index[sent]))))
    problems = problem_codes(report)
    rows = []
    columns = zip(results["sheet_row"].tolist(), results["kyc_case_id"].tolist(),
                  status.tolist(), results["case_id"].tolist(), results["error_field"].tolist())
    for i, (sheet_row, case_id_given, state, case_id, differing) in enumerate(columns):
        row: dict[str, Any] = {
            "sheet_row": int(sheet_row),
            "kyc_case_id": None if pd.isna(case_id_given) else str(case_id_given),
            "status": str(RowStatus(state).value),
            "send": i in digests,
        }
        if i in digests:
            row["values_hmac"] = digests[i]
        if state in (RowStatus.EXISTS, RowStatus.EXISTS_DIFFERS) and isinstance(case_id, str):
            row["case_id"] = case_id
        if state == RowStatus.EXISTS_DIFFERS and isinstance(differing, str):
            row["differs"] = [name.strip() for name in differing.split(",") if name.strip()]
        if i in problems:
            row["problems"] = problems[i]
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- approving


@dataclass
class PlanCheck:
    """What a checker's review found (:func:`review_plan`): who the checker is, and why
    approval would be refused; true when nothing stands in the way.

    ``changes`` are the rows whose API answer changed since the plan was made
    (sheet row, what the plan recorded, what the API says now), in words.
    """

    plan: CampaignPlan
    checker: str | None = None
    problems: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    rechecked: int = 0
    """Rows looked up again on the API."""
    recheck: bool = False
    """Whether the API was asked again about the plan's rows (recorded in the approval)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def __bool__(self) -> bool:
        return self.ok


def review_plan(
    client: Any,
    plan: CampaignPlan | str | os.PathLike[str],
    *,
    recheck: bool = True,
    now: datetime | None = None,
) -> PlanCheck:
    """Everything :func:`approve_plan` checks, without approving; never raises for the plan.

    A plan that cannot be read is a review with that problem; a refused token
    or an unreachable API raises the client's
    :class:`~kyc_widgets.api.errors.KycApiError` (nothing can be said then).
    """
    try:
        loaded = read_plan(plan)
    except PlanRefusedError as exc:
        return PlanCheck(CampaignPlan({}), problems=list(exc.problems))
    review = PlanCheck(loaded, problems=loaded.problems(now=now, approved=False))
    url = public_url(client.base_url)
    if url != public_url(loaded.api_base_url):
        review.problems.append(f"the plan was made against {loaded.api_base_url}, not {url}: "
                               "approve it with that API's token")
        return review
    probe = _probe(client)  # first: a refused token fails before the lookups
    seen: list[str] = []
    if recheck:
        review.recheck = True
        review.changes, seen = _recheck(client, loaded)
        review.rechecked = sum(1 for row in loaded.rows if row["status"] in SEND_STATUSES)
    try:
        review.checker = probe if probe is not None else _one_of(seen)
    except PrincipalUnknownError as exc:
        review.problems.extend(exc.problems)
        return review
    if review.checker == loaded.maker:
        review.problems.append(f"you made this plan ({loaded.maker}): another analyst must "
                               "approve it, with their own token")
    if review.changes:
        review.problems.append(
            f"the API's answers changed for {len(review.changes)} row(s) since the plan was "
            f"made: make a new plan ({'; '.join(review.changes[:_LISTED])}"
            + (" ..." if len(review.changes) > _LISTED else "") + ")"
        )
    return review


def approve_plan(
    client: Any,
    plan: CampaignPlan | str | os.PathLike[str],
    *,
    recheck: bool = True,
    signing_key: Ed25519PrivateKey | None = None,
    now: datetime | None = None,
) -> CampaignPlan:
    """Approve ``plan`` as the checker the API says ``client``'s token belongs to.

    Refused (:class:`~.plan_file.PlanRefusedError`, every reason listed) as
    :func:`review_plan` says. A plan given as a path is written back there,
    approved; the approved plan is returned either way. ``signing_key`` signs
    the approval (:mod:`.signing`), to be checked with the checker's public key.
    """
    approved = approve_reviewed(review_plan(client, plan, recheck=recheck, now=now),
                                signing_key=signing_key, now=now)
    if not isinstance(plan, CampaignPlan):
        approved.save(Path(plan))
    return approved


def approve_reviewed(
    review: PlanCheck,
    *,
    signing_key: Ed25519PrivateKey | None = None,
    now: datetime | None = None,
) -> CampaignPlan:
    """The plan of ``review`` approved by its checker (signed with ``signing_key``), not saved.

    For a caller that showed the review first (the command line, the review
    page): the API is not asked again. Refused as :func:`approve_plan` is.
    """
    if review.problems or review.checker is None:
        raise PlanRefusedError(review.problems or ["the checker is not known"])
    approved = review.plan.with_approval(review.checker, now=now, rechecked=review.recheck)
    return approved.signed(signing_key) if signing_key is not None else approved


def _recheck(client: Any, plan: CampaignPlan) -> tuple[list[str], list[str]]:
    """Look every looked-up row up again; ``(changes in words, principals seen)``.

    A row whose lookup fails (other than 404) is a change too: the approval
    cannot vouch for it.
    """
    rows = [row for row in plan.rows if row["status"] in SEND_STATUSES]

    def look(row: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
        try:
            envelope = client.get_case(row["kyc_case_id"])
        except NotFoundError:
            return None, None, None
        except (AuthenticationError, PermissionDeniedError):
            raise  # the checker's token: nothing can be said about any row
        except KycApiError as exc:
            return None, None, f"could not be looked up ({exc.message})"
        return str(envelope.case.id), str(envelope.principal), None

    with ThreadPoolExecutor(RECHECK_WORKERS, thread_name_prefix="kyc-plan-recheck") as pool:
        found = list(pool.map(look, rows))
    changes, seen = [], []
    for row, (case_id, principal, failure) in zip(rows, found):
        if principal:
            seen.append(principal)
        where = f"sheet row {row['sheet_row']}"
        if failure is not None:
            changes.append(f"{where} {failure}")
        elif row["status"] == RowStatus.WOULD_CREATE and case_id is not None:
            changes.append(f"{where} would be created but its case exists now")
        elif row["status"] != RowStatus.WOULD_CREATE and case_id is None:
            changes.append(f"{where} existed but its case is not found now")
        elif case_id is not None and row.get("case_id") not in (None, case_id):
            changes.append(f"{where} is now another case")
    return changes, seen
