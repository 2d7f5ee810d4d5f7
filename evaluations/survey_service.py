"""The owners' satisfaction survey: one answer per household (unit) per assessment.

Who answers: a signed-in resident whose account is linked to a person registered as an owner
of the unit (tenancy `Ownership`; the same check cases use for residents' reports). Occupancy
by tenants is not registered in tenancy, so tenants do not answer. Co-owners share one answer:
the first one counts, the next gets 409. The developer's unsold units do not answer. A member
of the evaluated property company may not answer for it (conflict of interest). Answers are
taken while the campaign is open and before its deadline.

Response rate, precisely: households answered / households, where
- households = the estate's units, leaving out units flagged `developer_unsold` (the developer's
  unsold stock is no household), counted when the summary is computed;
- households answered = survey responses of the assessment (at most one per unit; only units of
  the estate can answer, and never unsold ones).
The rate is 0 when the estate has no households. The survey is `sufficient` when at least one
household answered and rate >= the scheme version's `min_survey_response_rate`; otherwise the
scoring applies the version's `survey_rule` ('reweight': the survey's weight is spread over the
other components; 'hold': the assessment is not scored until the survey is sufficient).
`mean_score` is the mean of the `overall` answers (1–5); on the 0–100 scale it is
(mean - 1) * 25 (`score_100`).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import NamedTuple

from core import audit
from core.i18n import gettext as _
from core.problems import Conflict, Forbidden, Invalid
from evaluations import campaign_service as campaigns
from evaluations import repository as repo
from evaluations.schemas import OpenSurvey, SurveyIn, SurveyOut, SurveySummaryOut
from tenancy import service as places
from tenancy.principal import Principal


class SurveySummary(NamedTuple):
    responses: int
    households: int
    rate: float
    mean_score: float | None
    sufficient: bool


def now() -> datetime:
    return datetime.now(timezone.utc)


def score_100(mean_score: float) -> float:
    """A 1–5 mean on the 0–100 scale: 1 → 0, 3 → 50, 5 → 100."""
    return round((mean_score - 1) * 25, 2)


def _summary(stats: dict | None, households: int) -> SurveySummary:
    responses = int(stats["responses"]) if stats else 0
    rate = responses / households if households else 0.0
    mean = round(float(stats["mean"]), 4) if stats and stats["mean"] is not None else None
    min_rate = float(stats["min_rate"]) if stats else 1.0
    return SurveySummary(responses, households, round(rate, 4), mean,
                         responses > 0 and rate >= min_rate)


async def survey_summary(assessment_id: int) -> SurveySummary:
    """System level (no caller; scoring uses it): (responses, households, rate, mean score 1–5
    or None, sufficient) of one assessment, as defined in this module's docstring."""
    stats = (await repo.survey_stats([assessment_id])).get(assessment_id)
    if stats is None:
        return SurveySummary(0, 0, 0.0, None, False)
    households = (await places.household_counts(stats["tenant"], [stats["estate"]])).get(
        stats["estate"], 0)
    return _summary(stats, households)


async def survey_summaries(campaign_id: int) -> dict[int, SurveySummary]:
    """System level: `survey_summary` of every assessment of a campaign, in two queries."""
    ids = await repo.campaign_assessment_ids(campaign_id)
    stats = await repo.survey_stats(ids)
    if not stats:
        return {}
    tenant = next(iter(stats.values()))["tenant"]
    households = await places.household_counts(tenant, sorted({s["estate"] for s in
                                                                stats.values()}))
    return {i: _summary(s, households.get(s["estate"], 0)) for i, s in stats.items()}


async def summary_for(p: Principal, assessment_id: int) -> SurveySummaryOut:
    a = await campaigns.assessment_row(p, assessment_id)
    stats = (await repo.survey_stats([a["id"]]))[a["id"]]
    s = await survey_summary(a["id"])
    return SurveySummaryOut(assessment_id=a["id"], responses=s.responses, households=s.households,
                            rate=s.rate, mean_score=s.mean_score, sufficient=s.sufficient,
                            min_rate=float(stats["min_rate"]), rule=stats["rule"])


# --- the resident's side ------------------------------------------------------------------------------
async def _households_of(p: Principal) -> list[dict]:
    if p.person_id is None:
        return []
    return [u for u in await places.owned_units(p.tenant_id, p.person_id)
            if not u["developer_unsold"]]


async def open_surveys(p: Principal) -> list[OpenSurvey]:
    """Open assessments of the estates where the caller owns a household, with their units."""
    units = await _households_of(p)
    if not units:
        return []
    rows = await repo.open_assessments_in(p.tenant_id, sorted({u["estate"] for u in units}), now())
    answered = await repo.answered_units([a["id"] for a in rows], [u["unit"] for u in units])
    out = []
    for a in rows:
        if a["property_company"] in p.organization_ids:
            continue
        mine = [u for u in units if u["estate"] == a["estate"]]
        out.append(OpenSurvey(
            assessment_id=a["id"], campaign_name=a["campaign_name"], estate_id=a["estate"],
            estate_name=a["estate_name"], property_company_name=a["company_name"],
            deadline=a["submission_deadline"],
            units=[{"unit_id": u["unit"], "label": f"{u['building']} {u['number']}"}
                   for u in mine],
            answered_units=[r["unit"] for r in answered if r["assessment"] == a["id"]]))
    return out


async def answer(p: Principal, assessment_id: int, data: SurveyIn) -> SurveyOut:
    a = await campaigns.assessment_row(p, assessment_id)
    units = [u for u in await _households_of(p) if u["estate"] == a["estate"]]
    if not units:
        raise Forbidden(_("Only owners of a household in this estate answer its survey."))
    if a["property_company"] in p.organization_ids:
        raise Forbidden(_("You have a conflict of interest with the evaluated property company: "
                          "you may not evaluate it or see draft evaluations."))
    if data.unit_id not in {u["unit"] for u in units}:
        message = _("You can answer only for a household you own in this estate.")
        raise Invalid(message, errors=[{"field": "unit_id", "message": message}])
    campaign = await campaigns.get_row(p, a["campaign"])
    if campaign["status"] != "open" or campaign["submission_deadline"] <= now():
        raise Conflict(_("This survey is closed."))
    version = await repo.version(p.tenant_id, campaign["scheme_version"])
    heads = {c["key"] for c in version["criteria"]}  # type: ignore[index]
    unknown = [k for k in data.answers if k not in heads]
    if unknown:
        message = _("Answer only the questions of this survey.")
        raise Invalid(message, errors=[{"field": "answers", "message": message}])
    row = await repo.insert_response(tenant=p.tenant_id, assessment=a["id"], unit=data.unit_id,
                                     person=p.person_id, user=p.user_id, overall=data.overall,
                                     answers=dict(data.answers), comment=data.comment.strip())
    if row is None:
        raise Conflict(_("This household has already answered this survey."))
    await audit.record(p.tenant_id, "evaluation.survey_answered",
                       subject_type="evaluation_assessment", subject_id=a["id"],
                       actor_user_id=p.user_id, data={"response": row["id"],
                                                      "unit": data.unit_id})
    return SurveyOut(id=row["id"], assessment_id=a["id"], unit_id=row["unit"],
                     overall=row["overall"], answers=row["answers"], comment=row["comment"],
                     submitted_at=row["submitted_at"])

