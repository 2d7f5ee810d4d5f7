"""The evaluations part of the test world (tests/factories.py calls `seed` for each side).

Per side: the tenant's default scheme; an open campaign (the current quarter; the tenant's
second side: the current year) holding one
assessment (the side's contract); draft submissions of the estate's owners' committee (its
comment carries the side's marker, so a leak shows), residents' committee and street office; an
evidence photo; the resident's survey answer; and a conflict declared between the residents'
committee and a second property company of the side (leaving the main company's evaluation
alone).
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta, timezone

from core.db import fetch
from core.storage import key_for, storage
from evaluations import scheme_service
from evaluations.campaign_service import period_end
from evaluations.tables import (
    Assessment,
    Campaign,
    ConflictDeclaration,
    EvidencePhoto,
    Submission,
    SubmissionScore,
    SurveyResponse,
)
from tenancy import repository as repo
from tenancy import system_repository as sysrepo

WALKER_IDS = {"scheme_id": "evaluation_scheme", "scheme_version_id": "evaluation_scheme_version",
              "campaign_id": "evaluation_campaign", "assessment_id": "evaluation_assessment",
              "submission_id": "evaluation_submission", "evaluation_photo_id": "evaluation_photo",
              "conflict_id": "evaluation_conflict",
              "objection_id": "evaluation_objection"}  # results: tests/evaluations/results_world.py
WALKER_ALIASES = {"conflicted_organization_id": "organization_id",
                  "company_id": "organization_id", "evidence_case_id": "case_id"}


def quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


async def seed(tenant: int, tag: str, side) -> None:
    from tests.factories import tiny_jpeg

    version = await scheme_service.ensure_default_scheme(tenant)
    # One opened campaign per tenant and period: the second side of a tenant takes the year.
    taken = {r["period_kind"] for r in await fetch(
        "SELECT period_kind FROM evaluation_campaign WHERE tenant = $1", tenant)}
    kind = next(k for k in ("quarter", "year") if k not in taken)
    today = date.today()
    start = quarter_start(today) if kind == "quarter" else date(today.year, 1, 1)
    end = period_end(kind, start)
    now = datetime.now(timezone.utc)
    campaign = await sysrepo.insert(
        Campaign, tenant=tenant, name=f"{start.year} {kind} 物业服务评价", period_kind=kind,
        period_start=start, period_end=end, scheme_version=version["id"],
        submission_deadline=now + timedelta(days=30), status="open", opened_at=now)
    assessment = await sysrepo.insert(
        Assessment, tenant=tenant, campaign=campaign["id"], contract=side.contract,
        estate=side.estate, property_company=side.orgs["property_company"], status="open")
    subs = {}
    for kind in ("owners_committee", "residents_committee", "street_office"):
        subs[kind] = await sysrepo.insert(
            Submission, tenant=tenant, assessment=assessment["id"], organization=side.orgs[kind],
            evaluator_kind=kind, status="draft")
    oc = subs["owners_committee"]["id"]
    await sysrepo.insert(SubmissionScore, tenant=tenant, submission=oc,
                         criterion_key="cleaning", score=60, comment=f"{side.marker} 楼道不干净",
                         evidence=json.dumps({"photos": [], "cases": [side.case]}))
    jpeg = tiny_jpeg()
    digest = hashlib.sha256(jpeg).hexdigest()
    stored = await storage().put(key_for("evaluations", tenant, digest, "jpg"), jpeg, "image/jpeg")
    photo = await sysrepo.insert(EvidencePhoto, tenant=tenant, submission=oc,
                                 storage_key=stored.key, thumbnail_key=stored.key,
                                 content_type="image/jpeg", width=8, height=8, size=len(jpeg))
    await sysrepo.insert(SurveyResponse, tenant=tenant, assessment=assessment["id"],
                         unit=side.unit, person=side.person, user=side.user_ids["resident"],
                         overall=4, answers=json.dumps({"cleaning": 3}),
                         comment=f"{side.marker} 满意")
    other = await sysrepo.insert(repo.Organization, tenant=tenant, kind="property_company",
                                 name=f"第二物业 {tag}")
    conflict = await sysrepo.insert(
        ConflictDeclaration, tenant=tenant, organization=side.orgs["residents_committee"],
        conflicted_organization=other["id"], reason=f"{side.marker} 主任亲属任职")
    side.extra.update(
        evaluation_scheme=version["scheme"], evaluation_scheme_version=version["id"],
        evaluation_campaign=campaign["id"], evaluation_assessment=assessment["id"],
        evaluation_submission=oc, evaluation_photo=photo["id"],
        evaluation_conflict=conflict["id"], evaluation_second_company=other["id"])
    from tests.evaluations import results_world  # the results half's victims
    await results_world.seed(tenant, tag, side)
