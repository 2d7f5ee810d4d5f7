"""Results of a campaign: compute (scores, grades, ranks, roll-ups), publish, finalise, read.

compute   bureau administrators, once the campaign is closed (submissions locked), and again as
          often as wanted until publication (idempotent: every result is rewritten from the
          inputs). Each assessment gets `components` (per evaluator kind: nominal and effective
          weight, score, state, and the survey's or metrics' details), `total_score`, `grade`,
          `rank` (among the campaign's assessments) and status `scored`; each company a roll-up
          (evaluation_company_result). Campaigns above INLINE_LIMIT assessments are computed
          by the `compute_campaign_results` job (the answer says `queued`).
publish   every assessment becomes `published` with its objection deadline (the scheme's
          objection window in working days, on the tenant's calendar); the campaign is
          `published`; the company and the estate's committees and street office are told
          (outbox `evaluation.published`).
finalise  once every objection deadline and the minimum posting time (publication_days) have
          passed and no objection is open: assessments and campaign become `final`; from then
          on every write on the campaign's results answers 409.
Everything is audited.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from cases import service as cases
from core import audit, outbox
from core.i18n import gettext as _
from core.problems import Conflict, Forbidden, NotFound
from evaluations import metrics_repository as mrepo
from evaluations import results_repository as repo
from evaluations import scoring, survey_service
from evaluations.metrics import metrics_from
from evaluations.results_repository import ESTATE_KINDS, ResultFilters, ResultScope
from evaluations.results_schemas import CampaignResultsOut, CompanyResultOut, ComputeOut, ResultOut
from tenancy import service as places
from tenancy.principal import Principal

TZ = ZoneInfo("Asia/Shanghai")
INLINE_LIMIT = 300  # larger campaigns are computed by a queue job
WRITABLE = ("closed",)  # campaign statuses in which results may be (re)computed


def now() -> datetime:
    return datetime.now(timezone.utc)


def not_found() -> NotFound:
    return NotFound(_("The requested item does not exist or you may not see it."))


def scope_for(p: Principal) -> ResultScope:
    return ResultScope(
        p.tenant_id, p.tenant_wide,
        tuple(sorted(s.organization_id for s in p.seats if s.kind == "property_company")),
        tuple(sorted(set().union(*(s.estates for s in p.seats if s.kind in ESTATE_KINDS)))))


def require_bureau_admin(p: Principal) -> int:
    """The caller's housing-bureau organisation, when they administer it."""
    seat = next((s for s in p.seats if s.kind == "housing_bureau" and s.role == "admin"), None)
    if seat is None:
        raise Forbidden(_("Only the housing bureau's administrators may do this."))
    return seat.organization_id


def final_refused() -> Conflict:
    return Conflict(_("The results of this campaign are final and can no longer change."))


async def campaign_row(p: Principal, campaign_id: int, *, lock: bool = False) -> dict:
    row = await repo.campaign(scope_for(p), campaign_id, lock=lock)
    if row is None:
        raise not_found()
    return row


def period(campaign: dict) -> tuple[datetime, datetime]:
    """[first day 00:00, day after the last day 00:00) in China time."""
    start = datetime.combine(campaign["period_start"], time(), TZ)
    end = datetime.combine(campaign["period_end"] + timedelta(days=1), time(), TZ)
    return start, end


# --- compute ----------------------------------------------------------------------------------------
def _components(campaign: dict, a: dict, subs: dict[str, list], survey: Any,
                metrics: dict) -> dict[str, scoring.Component]:
    weights = {k: float(w) for k, w in campaign["evaluator_weights"].items()}
    out: dict[str, scoring.Component] = {}
    for kind in scoring.KINDS:
        w = weights.get(kind, 0.0)
        if kind == scoring.SURVEY:
            score = scoring.survey_score(survey.mean_score) if survey else None
            state = "missing" if score is None else ("ok" if survey.sufficient else "insufficient")
            detail = {"responses": survey.responses if survey else 0,
                      "households": survey.households if survey else 0,
                      "response_rate": survey.rate if survey else 0.0,
                      "mean": survey.mean_score if survey else None,
                      "min_response_rate": float(campaign["min_survey_response_rate"])}
        elif kind == scoring.OBJECTIVE:
            score, parts = scoring.objective_score(metrics)
            state = "ok" if score is not None else "missing"
            detail = {"metrics": metrics, "metric_scores": parts}
        else:
            score = scoring.kind_score(subs.get(kind, []))
            state = "ok" if score is not None else "missing"
            detail = {"submissions": len(subs.get(kind, []))}
        out[kind] = scoring.Component(kind, w, score, state, detail=detail)
    return out


async def compute_campaign(tenant_id: int, campaign: dict, user_id: int | None,
                           at: datetime | None = None) -> ComputeOut:
    """Score every assessment of the campaign (the caller holds the campaign row lock)."""
    at = at or now()
    rows = await repo.system_assessments(tenant_id, campaign["id"])
    subs: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for s in await repo.system_submission_scores(tenant_id, campaign["id"]):
        subs[s["assessment"]][s["evaluator_kind"]].append(
            None if s["score"] is None else float(s["score"]))
    surveys = await survey_service.survey_summaries(campaign["id"])
    start, end = period(campaign)
    counts = await mrepo.all_counts(tenant_id, [(a["estate"], a["property_company"]) for a in rows],
                                    start, end, at)
    results, totals = [], {}
    for a in rows:
        metrics = metrics_from(counts[(a["estate"], a["property_company"])]).to_dict()
        comps = _components(campaign, a, subs.get(a["id"], {}), surveys.get(a["id"]), metrics)
        t = scoring.total(comps, campaign["survey_rule"])
        totals[a["id"]] = t.score
        results.append({"id": a["id"], "total_score": t.score, "status": "scored",
                        "grade": scoring.grade(t.score, campaign["grade_bands"]),
                        "components": {"kinds": {k: c.to_dict() for k, c in comps.items()},
                                       "held": t.held, "held_reason": t.reason,
                                       "computed_total": t.score, "metrics_as_of": at.isoformat(),
                                       "adjustment": None}})
    ranks = scoring.ranks(totals)
    for r in results:
        r["rank"] = ranks[r["id"]]
    await repo.write_scores(tenant_id, results, at)
    companies = await _rollups(tenant_id, campaign, rows, totals)
    held = sum(1 for v in totals.values() if v is None)
    await audit.record(tenant_id, "evaluation.results_computed", subject_type="evaluation_campaign",
                       subject_id=campaign["id"], actor_user_id=user_id,
                       data={"assessments": len(rows), "held": held, "companies": companies,
                             "metrics_as_of": at.isoformat()})
    return ComputeOut(campaign["id"], False, len(rows), len(rows) - held, held, companies)


async def _rollups(tenant_id: int, campaign: dict, rows: list[dict],
                   totals: dict[int, float | None]) -> int:
    households = await places.household_counts(tenant_id, sorted({a["estate"] for a in rows}))
    by_company: dict[int, list[tuple[float | None, int]]] = defaultdict(list)
    for a in rows:
        by_company[a["property_company"]].append((totals[a["id"]], households.get(a["estate"], 0)))
    rollups = {c: scoring.rollup(c, items) for c, items in by_company.items()}
    ranks = scoring.ranks({c: r.score for c, r in rollups.items()})
    await repo.replace_company_results(tenant_id, campaign["id"], [
        {"company": c, "score": r.score, "grade": scoring.grade(r.score, campaign["grade_bands"]),
         "rank": ranks[c], "estates": r.estates, "held": r.held, "households": r.units}
        for c, r in rollups.items()])
    return len(rollups)


async def rescore_ranks(tenant_id: int, campaign: dict) -> None:
    """After an adjusted total: ranks and roll-ups again from the stored totals."""
    rows = await repo.system_assessments(tenant_id, campaign["id"])
    totals = {a["id"]: None if a["total_score"] is None else float(a["total_score"]) for a in rows}
    await repo.write_ranks(tenant_id, scoring.ranks(totals))
    await _rollups(tenant_id, campaign, rows, totals)


async def compute(p: Principal, campaign_id: int) -> ComputeOut:
    require_bureau_admin(p)
    campaign = await campaign_row(p, campaign_id, lock=True)
    if campaign["status"] == "final":
        raise final_refused()
    if campaign["status"] not in WRITABLE:
        raise Conflict(_("Results are computed once the campaign is closed and until they are "
                         "published."))
    n = len(await repo.system_assessments(p.tenant_id, campaign_id))
    if n > INLINE_LIMIT:
        from core.queue import queue
        await queue().enqueue("compute_campaign_results", tenant_id=p.tenant_id,
                              campaign_id=campaign_id, user_id=p.user_id, timeout=1800,
                              retries=3, key=f"evaluations:compute:{campaign_id}")
        await audit.record(p.tenant_id, "evaluation.results_queued",
                           subject_type="evaluation_campaign", subject_id=campaign_id,
                           actor_user_id=p.user_id, data={"assessments": n})
        return ComputeOut(campaign_id, True, n)
    return await compute_campaign(p.tenant_id, campaign, p.user_id)


# --- publish and finalise ---------------------------------------------------------------------------
async def publish(p: Principal, campaign_id: int) -> CampaignResultsOut:
    bureau = require_bureau_admin(p)
    campaign = await campaign_row(p, campaign_id, lock=True)
    if campaign["status"] == "final":
        raise final_refused()
    rows = await repo.system_assessments(p.tenant_id, campaign_id)
    if campaign["status"] != "closed" or not rows or any(a["status"] != "scored" for a in rows):
        raise Conflict(_("Only a closed campaign whose results have all been computed can be "
                         "published."))
    at = now()
    calendar = await cases.calendar_for(p.tenant_id)
    deadline = calendar.add_working_days(at, campaign["objection_window_days"])
    published = await repo.publish(p.tenant_id, campaign_id, at, deadline)
    await repo.set_campaign_status(p.tenant_id, campaign_id, "published")
    for a in published:
        committees = await places.organizations_covering_estate(p.tenant_id, a["estate"],
                                                                 list(ESTATE_KINDS))
        await outbox.emit(p.tenant_id, "evaluation.published", {
            "campaign_id": campaign_id, "assessment_id": a["id"], "estate_id": a["estate"],
            "property_company_id": a["property_company"],
            "total_score": None if a["total_score"] is None else float(a["total_score"]),
            "grade": a["grade"], "objection_deadline": deadline.isoformat()},
            organizations=[a["property_company"], *committees, bureau])
    await audit.record(p.tenant_id, "evaluation.results_published",
                       subject_type="evaluation_campaign", subject_id=campaign_id,
                       actor_user_id=p.user_id, actor_org_id=bureau,
                       data={"assessments": len(published), "objection_deadline": deadline.isoformat()})
    return CampaignResultsOut(campaign_id, "published", len(published))


async def finalize(p: Principal, campaign_id: int) -> CampaignResultsOut:
    bureau = require_bureau_admin(p)
    campaign = await campaign_row(p, campaign_id, lock=True)
    if campaign["status"] == "final":
        raise final_refused()
    if campaign["status"] != "published":
        raise Conflict(_("Only published results can be made final."))
    rows = await repo.system_assessments(p.tenant_id, campaign_id)
    at = now()
    until = max([a["objection_deadline"] for a in rows if a["objection_deadline"]] +
                [a["published_at"] + timedelta(days=campaign["publication_days"])
                 for a in rows if a["published_at"]], default=at)
    if at < until:
        raise Conflict(_("The objection window or the minimum posting time runs until {moment}."
                         ).format(moment=until.astimezone(TZ).strftime("%Y-%m-%d %H:%M")))
    if await repo.open_objections(p.tenant_id, campaign_id):
        raise Conflict(_("Objections are still open; resolve them first."))
    n = await repo.finalize(p.tenant_id, campaign_id, at)
    await repo.set_campaign_status(p.tenant_id, campaign_id, "final")
    companies = sorted({a["property_company"] for a in rows})
    await outbox.emit(p.tenant_id, "evaluation.finalized", {"campaign_id": campaign_id},
                      organizations=[*companies, bureau])
    await audit.record(p.tenant_id, "evaluation.results_finalized",
                       subject_type="evaluation_campaign", subject_id=campaign_id,
                       actor_user_id=p.user_id, actor_org_id=bureau, data={"assessments": n})
    return CampaignResultsOut(campaign_id, "final", n)


# --- reading ----------------------------------------------------------------------------------------
def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def result_out(r: dict) -> ResultOut:
    total, previous = _num(r["total_score"]), _num(r["previous_score"])
    comps = r["components"]
    return ResultOut(
        assessment_id=r["id"], campaign_id=r["campaign"], contract_id=r["contract"],
        estate_id=r["estate"], estate_name=r["estate_name"], street_id=r["street_id"],
        street_name=r["street_name"], property_company_id=r["property_company"],
        property_company_name=r["company_name"], status=r["status"], total_score=total,
        grade=r["grade"], rank=r["rank"], held=bool(comps and comps.get("held")),
        components=comps, previous_score=previous, previous_grade=r["previous_grade"],
        trend=None if total is None or previous is None else scoring.round2(total - previous),
        scored_at=r["scored_at"], published_at=r["published_at"],
        objection_deadline=r["objection_deadline"], finalized_at=r["finalized_at"],
        objections=r["objections"], open_objections=r["open_objections"])


async def previous_id(tenant_id: int, campaign: dict) -> int | None:
    prev = await repo.previous_campaign(tenant_id, campaign["period_start"])
    return prev["id"] if prev else None


async def results(p: Principal, campaign_id: int, filters: ResultFilters = ResultFilters(),
                  *, limit: int = 5000, offset: int = 0) -> list[ResultOut]:
    campaign = await campaign_row(p, campaign_id)
    rows = await repo.results(scope_for(p), campaign_id, await previous_id(p.tenant_id, campaign),
                              filters, limit=limit, offset=offset)
    return [result_out(r) for r in rows]


async def result(p: Principal, assessment_id: int) -> ResultOut:
    row = await repo.result(scope_for(p), assessment_id)
    if row is None:
        raise not_found()
    campaign = await campaign_row(p, row["campaign"])
    prev = await previous_id(p.tenant_id, campaign)
    if prev:
        rows = await repo.results(scope_for(p), row["campaign"], prev,
                                  ResultFilters(estate_id=row["estate"],
                                                company_id=row["property_company"]))
        row = next((r for r in rows if r["id"] == assessment_id), row)
    return result_out(row)


async def company_results(p: Principal, campaign_id: int) -> list[CompanyResultOut]:
    campaign = await campaign_row(p, campaign_id)
    rows = await repo.company_results(scope_for(p), campaign_id,
                                      await previous_id(p.tenant_id, campaign))
    out = []
    for r in rows:
        score, previous = _num(r["score"]), _num(r["previous_score"])
        out.append(CompanyResultOut(
            campaign_id=campaign_id, property_company_id=r["company"],
            property_company_name=r["company_name"], score=score, grade=r["grade"],
            rank=r["rank"], estates=r["estates"], held=r["held"], households=r["households"],
            previous_score=previous,
            trend=None if score is None or previous is None else scoring.round2(score - previous)))
    return out


# --- the queue job ----------------------------------------------------------------------------------
async def compute_campaign_results(ctx: Any = None, *, tenant_id: int, campaign_id: int,
                                   user_id: int | None = None) -> dict:
    """SAQ job: compute a large campaign in its own transaction (skipped unless still closed)."""
    from core.db import db
    async with db().transaction():
        campaign = await repo.campaign(ResultScope(tenant_id, True), campaign_id, lock=True)
        if campaign is None or campaign["status"] not in WRITABLE:
            return {"computed": 0}
        out = await compute_campaign(tenant_id, campaign, user_id)
    return {"computed": out.assessments, "held": out.held}
