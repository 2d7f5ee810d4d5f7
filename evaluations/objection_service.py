"""Objections (异议) to published results, and their resolution by the housing bureau.

Raise: an administrator or manager of the evaluated property company, while the assessment is
`published` and before its objection deadline, with reasons and evidence (case ids of the
estate, a note). One open objection per assessment at a time; the assessment goes to
`objection`. Resolve: a bureau administrator, with a reason: `uphold` keeps the result,
`adjust` sets a new total (0–100): the grade follows the scheme's bands, ranks and company
roll-ups are recomputed, and the components record the adjustment. The assessment returns to
`published`. Resolutions use If-Match on the objection's version. Everything is audited and
told through the outbox (`evaluation.objection_raised` to the bureau,
`evaluation.objection_resolved` to the company). Nothing changes once the campaign is final.
"""
from __future__ import annotations

from datetime import timezone

from core import audit, outbox
from core.i18n import gettext as _
from core.problems import Conflict, Forbidden, Invalid, PreconditionFailed
from evaluations import results_repository as repo
from evaluations import scoring
from evaluations.results_schemas import ObjectionIn, ObjectionOut, ResolveIn
from evaluations.results_service import (
    campaign_row,
    final_refused,
    not_found,
    now,
    require_bureau_admin,
    rescore_ranks,
    scope_for,
)
from tenancy.principal import Principal

OBJECTING_ROLES = ("admin", "manager")


def etag(row: dict) -> str:
    return f'"o{row["version"]}"'


def objection_out(r: dict) -> ObjectionOut:
    ev = r["evidence"] or {}
    num = lambda v: None if v is None else float(v)  # noqa: E731
    return ObjectionOut(
        id=r["id"], assessment_id=r["assessment"], raised_by_organization_id=r["raised_by_org"],
        reasons=r["reasons"], evidence_case_ids=list(ev.get("cases", [])),
        evidence_note=ev.get("note", ""), status=r["status"],
        original_score=num(r["original_score"]), adjusted_score=num(r["adjusted_score"]),
        resolution_reason=r["resolution_reason"], resolved_at=r["resolved_at"],
        created_at=r["created_at"].astimezone(timezone.utc), version=r["version"],
        estate_name=r.get("estate_name"), property_company_name=r.get("company_name"))


async def raise_objection(p: Principal, assessment_id: int, data: ObjectionIn) -> ObjectionOut:
    a = await repo.result(scope_for(p), assessment_id, lock=True)
    if a is None:
        raise not_found()
    seat = next((s for s in p.seats if s.organization_id == a["property_company"]), None)
    if seat is None or seat.role not in OBJECTING_ROLES:
        raise Forbidden(_("Only the evaluated property company's administrators and managers "
                          "may object to its result."))
    campaign = await campaign_row(p, a["campaign"], lock=True)
    if campaign["status"] == "final" or a["status"] == "final":
        raise final_refused()
    if a["status"] == "objection":
        raise Conflict(_("An objection to this result is already open."))
    if a["status"] != "published" or a["objection_deadline"] is None:
        raise Conflict(_("Objections are possible only once the result is published."))
    if now() > a["objection_deadline"]:
        raise Conflict(_("The objection window for this result has ended."))
    cases = sorted(set(data.evidence_case_ids))
    if cases and len(await repo.estate_cases(p.tenant_id, a["estate"], cases)) != len(cases):
        message = _("Evidence cases must be cases of the evaluated estate.")
        raise Invalid(message, errors=[{"field": "evidence_case_ids", "message": message}])
    row = await repo.insert_objection({
        "tenant": p.tenant_id, "assessment": a["id"], "raised_by_org": seat.organization_id,
        "raised_by_user": p.user_id, "reasons": data.reasons, "status": "open",
        "evidence": {"cases": cases, "note": data.evidence_note},
        "original_score": a["total_score"], "resolution_reason": "", "version": 1})
    await repo.update_assessment(p.tenant_id, a["id"], {"status": "objection"})
    await audit.record(p.tenant_id, "evaluation.objection_raised", subject_type="evaluation_objection",
                       subject_id=row["id"], actor_user_id=p.user_id,
                       actor_org_id=seat.organization_id,
                       data={"assessment_id": a["id"], "evidence_cases": cases})
    await outbox.emit(p.tenant_id, "evaluation.objection_raised", {
        "objection_id": row["id"], "assessment_id": a["id"], "campaign_id": a["campaign"],
        "estate_id": a["estate"], "property_company_id": a["property_company"]},
        organizations=[o for o in (campaign["opened_by_org"], seat.organization_id) if o])
    return objection_out(row)


async def objections(p: Principal, *, assessment_id: int | None = None,
                     campaign_id: int | None = None, status: str | None = None) -> list[ObjectionOut]:
    scope = scope_for(p)
    if assessment_id is not None and await repo.result(scope, assessment_id) is None:
        raise not_found()
    if campaign_id is not None:
        await campaign_row(p, campaign_id)
    rows = await repo.objections(scope, assessment_id=assessment_id, campaign_id=campaign_id,
                                 status=status)
    return [objection_out(r) for r in rows]


async def get_objection(p: Principal, objection_id: int) -> tuple[ObjectionOut, str]:
    row = await repo.objection(scope_for(p), objection_id)
    if row is None:
        raise not_found()
    return objection_out(row), etag(row)


async def resolve(p: Principal, objection_id: int, data: ResolveIn,
                  if_match: str | None = None) -> tuple[ObjectionOut, str]:
    scope = scope_for(p)
    row = await repo.objection(scope, objection_id, lock=True)
    if row is None:
        raise not_found()
    bureau = require_bureau_admin(p)
    if if_match is not None and if_match.strip() != "*" and etag(row) not in {
            t.strip().removeprefix("W/") for t in if_match.split(",")}:
        raise PreconditionFailed(_("The objection has changed since you loaded it; reload it "
                                   "and try again."), etag=etag(row))
    a = await repo.result(scope, row["assessment"], lock=True)
    campaign = await campaign_row(p, a["campaign"], lock=True)
    if campaign["status"] == "final":
        raise final_refused()
    if row["status"] != "open":
        raise Conflict(_("This objection has already been resolved."))
    adjusting = data.decision == "adjust"
    if adjusting != (data.adjusted_score is not None):
        message = _("An adjusted score is required to adjust, and only then.")
        raise Invalid(message, errors=[{"field": "adjusted_score", "message": message}])
    at = now()
    values = {"status": "adjusted" if adjusting else "upheld", "resolution_reason": data.reason,
              "resolved_by_user": p.user_id, "resolved_by_org": bureau, "resolved_at": at}
    changes: dict = {"status": "published"}
    if adjusting:
        score = scoring.round2(data.adjusted_score)
        values["adjusted_score"] = score
        comps = dict(a["components"] or {})
        comps["adjustment"] = {"objection_id": row["id"], "from": None if a["total_score"] is None
                               else float(a["total_score"]), "to": score,
                               "reason": data.reason, "at": at.isoformat()}
        comps["held"] = False  # a held assessment the bureau scores is no longer held
        changes.update(total_score=score, components=comps,
                       grade=scoring.grade(score, campaign["grade_bands"]))
    updated = await repo.resolve_objection(p.tenant_id, row["id"], values)
    await repo.update_assessment(p.tenant_id, a["id"], changes)
    if adjusting:
        await rescore_ranks(p.tenant_id, campaign)
    await audit.record(p.tenant_id, "evaluation.objection_resolved",
                       subject_type="evaluation_objection", subject_id=row["id"],
                       actor_user_id=p.user_id, actor_org_id=bureau,
                       data={"decision": data.decision, "reason": data.reason,
                             "assessment_id": a["id"], "adjusted_score": values.get("adjusted_score"),
                             "previous_score": None if a["total_score"] is None
                             else float(a["total_score"])})
    await outbox.emit(p.tenant_id, "evaluation.objection_resolved", {
        "objection_id": row["id"], "assessment_id": a["id"], "decision": data.decision,
        "total_score": values.get("adjusted_score", None if a["total_score"] is None
                                  else float(a["total_score"]))},
        organizations=[a["property_company"], bureau])
    return objection_out(updated), etag(updated)
