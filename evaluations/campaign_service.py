"""Evaluation campaigns: the housing bureau opens a period's evaluation of every contract in force.

Life of a campaign: draft (created by a bureau administrator, with a scheme version, the period
and a submission deadline) → open (one assessment per contract in force at some time during the
period, and a draft submission for each organisation expected to evaluate it: the estate's
owners' committee, its residents' committee and its street office, leaving out organisations
with a declared conflict of interest; the bureau's own inspection is added on demand) → closed
(at the deadline, by the `close_due_campaigns` job or a bureau administrator: submitted
submissions are locked, drafts never count) → published → final (the scoring half).

Reminders: once a day (China time) each evaluator organisation with drafts left in an open
campaign gets one `evaluation.reminder` outbox event; the reminder log makes it idempotent.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from asyncpg.exceptions import UniqueViolationError

from contracts import service as contracts
from core import audit, outbox
from core.i18n import gettext as _
from core.problems import Conflict, Invalid, PreconditionFailed
from evaluations import repository as repo
from evaluations import scheme_service as schemes
from evaluations.repository import Reach
from evaluations.schemas import AssessmentOut, CampaignIn, CampaignOut, CampaignPatch, Progress
from tenancy import service as places
from tenancy.principal import Principal

TZ = ZoneInfo("Asia/Shanghai")
EXPECTED_KINDS = ("owners_committee", "residents_committee", "street_office")
PERIOD_MONTHS = {"quarter": 3, "half_year": 6, "year": 12}
PERIOD_STARTS = {"quarter": (1, 4, 7, 10), "half_year": (1, 7), "year": (1,)}


def now() -> datetime:
    return datetime.now(timezone.utc)


def invalid(field: str, message: str) -> Invalid:
    return Invalid(message, errors=[{"field": field, "message": message}])


async def reach(p: Principal) -> Reach:
    """What the caller reads: bureau everything; companies their own; other organisations the
    estates they cover; a resident the estates where they own a unit."""
    if p.tenant_wide:
        return Reach(p.tenant_id, everything=True, organizations=p.organization_ids)
    companies = frozenset(s.organization_id for s in p.seats if s.kind == "property_company")
    estates = set().union(*(s.estates for s in p.seats if s.kind != "property_company"))
    if p.person_id is not None:
        estates |= {u["estate"] for u in await places.owned_units(p.tenant_id, p.person_id)}
    return Reach(p.tenant_id, companies=companies, estates=frozenset(estates),
                 organizations=p.organization_ids)


def period_end(kind: str, start: date) -> date:
    """The last day of the quarter, half-year or year starting on `start` (its first day)."""
    if start.day != 1 or start.month not in PERIOD_STARTS[kind]:
        raise invalid("period_start", _("The period must start on the first day of a quarter, "
                                        "half-year or year."))
    month = start.month - 1 + PERIOD_MONTHS[kind]
    return date(start.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def campaign_out(c: dict) -> CampaignOut:
    return CampaignOut(id=c["id"], name=c["name"], period_kind=c["period_kind"],
                       period_start=c["period_start"], period_end=c["period_end"],
                       scheme_version_id=c["scheme_version"],
                       submission_deadline=c["submission_deadline"], status=c["status"],
                       opened_at=c["opened_at"], closed_at=c["closed_at"],
                       created_at=c["created_at"], assessments=c["assessments"],
                       version=c["version"])


def assessment_out(a: dict, progress: dict | None = None,
                   households: int | None = None) -> AssessmentOut:
    return AssessmentOut(
        id=a["id"], campaign_id=a["campaign"], contract_id=a["contract"], estate_id=a["estate"],
        estate_name=a["estate_name"], property_company_id=a["property_company"],
        property_company_name=a["company_name"], status=a["status"],
        progress=Progress(households=households or 0, **progress) if progress else None)


async def get_row(p: Principal, campaign_id: int, *, lock: bool = False) -> dict:
    row = await repo.campaign(await reach(p), campaign_id, lock=lock)
    if row is None:
        raise schemes.not_found()
    return row


async def log(p: Principal | None, tenant_id: int, action: str, campaign_id: int,
              **data: Any) -> None:
    await audit.record(tenant_id, action, subject_type="evaluation_campaign",
                       subject_id=campaign_id, actor_user_id=p.user_id if p else None, data=data)


# --- reading ----------------------------------------------------------------------------------------
async def list_campaigns(p: Principal, *, status: str | None = None, limit: int = 100,
                         offset: int = 0) -> list[CampaignOut]:
    rows = await repo.campaigns(await reach(p), status=status, limit=limit, offset=offset)
    return [campaign_out(r) for r in rows]


async def get_campaign(p: Principal, campaign_id: int) -> CampaignOut:
    return campaign_out(await get_row(p, campaign_id))


async def list_assessments(p: Principal, campaign_id: int, *, limit: int = 5000,
                           offset: int = 0) -> list[AssessmentOut]:
    r = await reach(p)
    if await repo.campaign(r, campaign_id) is None:
        raise schemes.not_found()
    rows = await repo.assessments(r, campaign_id, limit=limit, offset=offset)
    return await _with_progress(p.tenant_id, rows)


async def _with_progress(tenant_id: int, rows: list[dict]) -> list[AssessmentOut]:
    progress = await repo.progress(tenant_id, [a["id"] for a in rows])
    households = await places.household_counts(tenant_id, sorted({a["estate"] for a in rows}))
    return [assessment_out(a, progress.get(a["id"]), households.get(a["estate"], 0))
            for a in rows]


async def assessment_row(p: Principal, assessment_id: int) -> dict:
    row = await repo.assessment(await reach(p), assessment_id)
    if row is None:
        raise schemes.not_found()
    return row


async def get_assessment(p: Principal, assessment_id: int) -> AssessmentOut:
    return (await _with_progress(p.tenant_id, [await assessment_row(p, assessment_id)]))[0]


# --- writing ----------------------------------------------------------------------------------------
def _bureau_seat(p: Principal) -> int:
    schemes.require_bureau_admin(p)
    return next(s.organization_id for s in p.seats
                if s.kind == "housing_bureau" and s.role == "admin")


async def create_campaign(p: Principal, data: CampaignIn) -> CampaignOut:
    bureau = _bureau_seat(p)
    end = period_end(data.period_kind, data.period_start)
    if data.submission_deadline.tzinfo is None:
        raise invalid("submission_deadline", _("Give the deadline with its time zone."))
    if data.submission_deadline <= now():
        raise invalid("submission_deadline", _("The deadline must lie in the future."))
    if data.scheme_version_id is None:
        version = await schemes.ensure_default_scheme(p.tenant_id, p.user_id)
    else:
        version = await repo.version(p.tenant_id, data.scheme_version_id)
        if version is None:
            raise invalid("scheme_version_id", _("This scheme version does not exist or you may "
                                                 "not see it."))
    row = await repo.insert_campaign(
        tenant=p.tenant_id, name=data.name.strip(), period_kind=data.period_kind,
        period_start=data.period_start, period_end=end, scheme_version=version["id"],
        submission_deadline=data.submission_deadline, status="draft", opened_by_org=bureau,
        opened_by_user=p.user_id, version=1)
    await log(p, p.tenant_id, "evaluation.campaign_created", row["id"], name=data.name,
              period_kind=data.period_kind, period_start=data.period_start, period_end=end,
              scheme_version=version["id"], submission_deadline=data.submission_deadline)
    return await get_campaign(p, row["id"])


async def update_campaign(p: Principal, campaign_id: int, data: CampaignPatch,
                          if_match: str | None) -> CampaignOut:
    """Rename a draft, or move the deadline of a draft or open campaign (into the future: a
    campaign already closed stays closed). Evaluators of an open campaign are told."""
    row = await get_row(p, campaign_id, lock=True)
    _bureau_seat(p)
    if if_match is not None and f'"v{row["version"]}"' not in {
            t.strip().removeprefix("W/") for t in if_match.split(",")}:
        raise PreconditionFailed(_("The campaign has changed since you loaded it; reload it and "
                                   "try again."), etag=f'"v{row["version"]}"')
    changes: dict[str, Any] = {}
    if data.name is not None:
        if row["status"] != "draft":
            raise Conflict(_("Only a draft campaign can be renamed."))
        changes["name"] = data.name.strip()
    if data.submission_deadline is not None:
        if row["status"] not in ("draft", "open"):
            raise Conflict(_("The deadline of a closed campaign cannot move."))
        if data.submission_deadline.tzinfo is None:
            raise invalid("submission_deadline", _("Give the deadline with its time zone."))
        if data.submission_deadline <= now():
            raise invalid("submission_deadline", _("The deadline must lie in the future."))
        changes["submission_deadline"] = data.submission_deadline
    if changes:
        await repo.update_campaign(campaign_id, changes)
        await log(p, p.tenant_id, "evaluation.campaign_updated", campaign_id,
                  before={k: row[k] for k in changes}, after=changes)
        if row["status"] == "open" and "submission_deadline" in changes:
            orgs = await repo.campaign_evaluators(campaign_id)
            await outbox.emit(p.tenant_id, "evaluation.deadline_changed", {
                "campaign_id": campaign_id, "name": row["name"],
                "submission_deadline": data.submission_deadline.isoformat()},  # type: ignore[union-attr]
                organizations=orgs)
    return await get_campaign(p, campaign_id)


async def open_campaign(p: Principal, campaign_id: int) -> CampaignOut:
    row = await get_row(p, campaign_id, lock=True)
    _bureau_seat(p)
    if row["status"] != "draft":
        raise Conflict(_("Only a draft campaign can be opened."))
    if row["submission_deadline"] <= now():
        raise Conflict(_("The deadline has already passed; create a new campaign."))
    try:  # the unique index decides between two campaigns of one period
        await repo.update_campaign(campaign_id, {"status": "open", "opened_at": now()})
    except UniqueViolationError as exc:
        raise Conflict(_("A campaign for this period has already been opened.")) from exc
    created = await create_assessments(p.tenant_id, row, p.user_id)
    await log(p, p.tenant_id, "evaluation.campaign_opened", campaign_id, assessments=created)
    return await get_campaign(p, campaign_id)


async def create_assessments(tenant_id: int, campaign: dict, user_id: int | None) -> int:
    """One assessment per contract in force during the period, with the expected evaluators'
    draft submissions; tells each evaluator organisation. Returns how many assessments."""
    found = await contracts.contracts_in_force_during(tenant_id, campaign["period_start"],
                                                      campaign["period_end"])
    await repo.insert_assessments(tenant_id, campaign["id"], found)
    rows = await repo.assessments(Reach(tenant_id, everything=True), campaign["id"])
    evaluators: dict[int, int] = {}
    for a in rows:
        pairs = [(o, kind) for kind in EXPECTED_KINDS for o in
                 await places.organizations_covering_estate(tenant_id, a["estate"], [kind])]
        barred = set(await repo.conflicted_orgs(tenant_id, a["property_company"],
                                                [o for o, _kind in pairs]))
        pairs = [(o, kind) for o, kind in pairs if o not in barred]
        await repo.insert_submissions(tenant_id, a["id"], pairs, user_id)
        for o, _kind in pairs:
            evaluators[o] = evaluators.get(o, 0) + 1
    for org, count in evaluators.items():
        await outbox.emit(tenant_id, "evaluation.campaign_opened", {
            "campaign_id": campaign["id"], "name": campaign["name"], "assessments": count,
            "submission_deadline": campaign["submission_deadline"].isoformat()},
            organizations=[org])
    return len(rows)


async def close_campaign(p: Principal, campaign_id: int) -> CampaignOut:
    row = await get_row(p, campaign_id, lock=True)
    _bureau_seat(p)
    if row["status"] != "open":
        raise Conflict(_("Only an open campaign can be closed."))
    await _close(row, p)
    return await get_campaign(p, campaign_id)


async def _close(row: dict, p: Principal | None) -> None:
    locked = await repo.lock_submitted(row["id"])
    await repo.update_campaign(row["id"], {"status": "closed", "closed_at": now()})
    await log(p, row["tenant"], "evaluation.campaign_closed", row["id"], locked=len(locked),
              by="deadline" if p is None else "bureau")


async def close_due_campaigns(at: datetime | None = None, *, tenant_id: int | None = None) -> int:
    """Close every open campaign (of one tenant, or all) whose deadline has passed (the job
    runs this; idempotent)."""
    rows = await repo.system_campaigns_due(at or now(), tenant_id)
    for row in rows:
        await _close(row, None)
    return len(rows)


async def send_reminders(at: datetime | None = None, *, tenant_id: int | None = None) -> int:
    """One reminder per day (China time) to each evaluator organisation that still has drafts in
    an open campaign before its deadline. Returns how many were sent now."""
    at = at or now()
    day = at.astimezone(TZ).date()
    sent = 0
    for r in await repo.system_pending_evaluators(at, tenant_id):
        if not await repo.system_claim_reminder(r["tenant"], r["campaign"], r["organization"],
                                                day, r["pending"]):
            continue
        await outbox.emit(r["tenant"], "evaluation.reminder", {
            "campaign_id": r["campaign"], "name": r["name"], "pending": r["pending"],
            "submission_deadline": r["submission_deadline"].isoformat()},
            organizations=[r["organization"]])
        await audit.record(r["tenant"], "evaluation.reminder_sent",
                           subject_type="evaluation_campaign", subject_id=r["campaign"],
                           actor_org_id=r["organization"], data={"pending": r["pending"]})
        sent += 1
    return sent
