"""Fixtures of the results tests: a closed campaign with known inputs (its own tenant), and the
published result + open objection each side of the shared test world gets for the route walker.

The closed campaign (`build`), with hand-computed expectations in test_results_workflow.py:
- estates E1 (p1; households u1 u2 u3, unsold u4), E2 (p1; household u5), E3 (p2; u6 u7);
- scheme: survey 30, owners' committee 20, residents' committee 20, street office 15, bureau 0,
  objective metrics 15; minimum survey response 50 % with the 'reweight' rule;
- submissions: A1 oc 90, rc 80, street 70 (locked), a bureau draft of 10 (never counts);
  A2 oc 80, rc 80; A3 oc 60, rc 70, street 65;
- survey: A1 overall 5 and 4 (2 of 3 households); A2 none; A3 overall 2 (1 of 2);
- cases in the period: E1/p1 one acknowledged, resolved on time and rated 5; E3/p2 one never
  acknowledged; E2 none.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from cases.sla import SlaTargets
from contracts.tables import ServiceContract
from core.db import db, fetch
from evaluations.result_tables import CompanyResult, Objection
from evaluations.tables import (
    Assessment,
    Campaign,
    EvaluationScheme,
    SchemeVersion,
    Submission,
    SurveyResponse,
)
from tenancy import repository as repo
from tenancy import system_repository as sysrepo
from tests.factories import _password_hash, login

CN = ZoneInfo("Asia/Shanghai")
WEIGHTS = {"owners_survey": 30, "owners_committee": 20, "residents_committee": 20,
           "street_office": 15, "bureau_inspection": 0, "objective_metrics": 15}
BANDS = [{"grade": "excellent", "min_score": 90}, {"grade": "good", "min_score": 80},
         {"grade": "pass", "min_score": 70}, {"grade": "fail", "min_score": 0}]
CRITERIA = [{"key": "general", "name_zh": "综合管理", "name_en": "General", "weight": 100,
             "description": "", "children": []}]


def previous_quarter(day: date) -> tuple[date, date]:
    first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    end = first - timedelta(days=1)
    return date(end.year, (end.month - 1) // 3 * 3 + 1, 1), end


@dataclass
class R:
    tenant: int = 0
    campaign: int = 0
    orgs: dict[str, int] = field(default_factory=dict)
    estates: dict[str, int] = field(default_factory=dict)
    assessments: dict[str, int] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    contracts: dict[str, int] = field(default_factory=dict)

    async def h(self, client, persona: str) -> dict[str, str]:
        return {**await login(client, self.users[persona]), "Accept-Language": "en"}


async def _case(tenant: int, estate: int, org: int, user: int, created: datetime, **values) -> int:
    row = {"tenant": tenant, "estate": estate, "category": "repair", "priority": "normal",
           "description": "x", "channel": "phone", "created_by": user, "responsible_org": org,
           "status": "submitted", "routed_at": created, "created_at": created,
           "updated_at": created, "ack_due_at": created + timedelta(days=1),
           "resolve_due_at": created + timedelta(days=3), **values}
    cols = list(row)  # valid SLA targets: the cases' own sweeps read them
    return (await fetch(f"INSERT INTO case_record ({', '.join(cols)}, sla_targets) VALUES"
                        f" ({', '.join(f'${i}' for i in range(1, len(cols) + 1))},"
                        f" ${len(cols) + 1}::jsonb) RETURNING id", *row.values(),
                        json.dumps(SlaTargets.defaults().to_dict())))[0]["id"]


async def scheme_version(tenant: int, **overrides) -> int:
    scheme = await sysrepo.insert(EvaluationScheme, tenant=tenant, name=f"结果 {secrets.token_hex(2)}")
    values = {"criteria": json.dumps(CRITERIA), "evaluator_weights": json.dumps(WEIGHTS),
              "grade_bands": json.dumps(BANDS), "objection_window_days": 5, "publication_days": 3,
              "min_survey_response_rate": Decimal("0.5"), "survey_rule": "reweight", **overrides}
    return (await sysrepo.insert(SchemeVersion, tenant=tenant, scheme=scheme["id"], number=1,
                                 **values))["id"]


async def build() -> R:
    tag, r, ins = secrets.token_hex(3), R(), sysrepo.insert
    start, end = previous_quarter(date.today())
    async with db().transaction():
        r.tenant = t = (await ins(repo.Tenant, code=f"rs-{tag}", name=f"结果区 {tag}"))["id"]
        street = (await ins(repo.Street, tenant=t, name="西街道"))["id"]
        community = (await ins(repo.Community, tenant=t, street=street, name="西社区"))["id"]
        for e in ("E1", "E2", "E3"):
            r.estates[e] = (await ins(repo.Estate, tenant=t, community=community,
                                      name=f"{e} 花园 {tag}"))["id"]

        async def org(key: str, kind: str, **place: int) -> None:
            r.orgs[key] = (await ins(repo.Organization, tenant=t, kind=kind,
                                     name=f"{key} {tag}"))["id"]
            if place:
                await ins(repo.OrganizationCoverage, tenant=t, organization=r.orgs[key], **place)

        await org("bureau", "housing_bureau")
        await org("so", "street_office", street=street)
        await org("rc", "residents_committee", community=community)
        for i in ("1", "2", "3"):
            await org(f"oc{i}", "owners_committee", estate=r.estates[f"E{i}"])
        await org("p1", "property_company", estate=r.estates["E1"])
        await ins(repo.OrganizationCoverage, tenant=t, organization=r.orgs["p1"],
                  estate=r.estates["E2"])
        await org("p2", "property_company", estate=r.estates["E3"])
        await org("p9", "property_company")  # serves nothing here: unrelated
        for persona, key, role in (("bureau", "bureau", "admin"), ("bureau_staff", "bureau", "staff"),
                                   ("p1", "p1", "manager"), ("p1_handler", "p1", "handler"),
                                   ("p2", "p2", "manager"), ("oc1", "oc1", "chair"),
                                   ("rc", "rc", "admin"), ("p9", "p9", "admin")):
            u = await ins(repo.User, tenant=t, username=f"rs{tag}_{persona}",
                          password_hash=_password_hash(), display_name=persona)
            await ins(repo.Membership, tenant=t, user=u["id"], organization=r.orgs[key], role=role)
            r.users[persona] = u["username"]
        creator = u["id"]
        units = {}
        for key, e, unsold in (("u1", "E1", False), ("u2", "E1", False), ("u3", "E1", False),
                               ("u4", "E1", True), ("u5", "E2", False), ("u6", "E3", False),
                               ("u7", "E3", False)):
            b = await ins(repo.Building, tenant=t, estate=r.estates[e], name=f"{key}栋")
            units[key] = (await ins(repo.Unit, tenant=t, estate=r.estates[e], building=b["id"],
                                    number=key, floor=1, exclusive_area=Decimal("80.00"),
                                    developer_unsold=unsold))["id"]
        version = await scheme_version(t)
        deadline = datetime.now(timezone.utc) - timedelta(days=1)
        r.campaign = (await ins(Campaign, tenant=t, name=f"上季度评价 {tag}", period_kind="quarter",
                                period_start=start, period_end=end, scheme_version=version,
                                submission_deadline=deadline, status="closed",
                                opened_by_org=r.orgs["bureau"], opened_at=deadline,
                                closed_at=deadline))["id"]
        for key, e, company in (("A1", "E1", "p1"), ("A2", "E2", "p1"), ("A3", "E3", "p2")):
            contract = (await ins(ServiceContract, tenant=t, estate=r.estates[e],
                                  property_company=r.orgs[company], counterparty=r.orgs[f"oc{e[1]}"],
                                  number=f"{key}-{tag}", status="active",
                                  starts_on=start - timedelta(days=30),
                                  ends_on=end + timedelta(days=700),
                                  fee_per_m2_month=Decimal("2.00")))["id"]
            r.contracts[key] = contract
            r.assessments[key] = (await ins(Assessment, tenant=t, campaign=r.campaign,
                                            contract=contract, estate=r.estates[e],
                                            property_company=r.orgs[company]))["id"]
        for key, org_key, kind, status, score in (
                ("A1", "oc1", "owners_committee", "submitted", 90),
                ("A1", "rc", "residents_committee", "submitted", 80),
                ("A1", "so", "street_office", "locked", 70),
                ("A1", "bureau", "bureau_inspection", "draft", 10),
                ("A2", "oc2", "owners_committee", "submitted", 80),
                ("A2", "rc", "residents_committee", "submitted", 80),
                ("A3", "oc3", "owners_committee", "submitted", 60),
                ("A3", "rc", "residents_committee", "submitted", 70),
                ("A3", "so", "street_office", "submitted", 65)):
            await ins(Submission, tenant=t, assessment=r.assessments[key], organization=r.orgs[org_key],
                      evaluator_kind=kind, status=status, score=Decimal(score),
                      submitted_at=None if status == "draft" else deadline)
        for key, unit, overall in (("A1", "u1", 5), ("A1", "u2", 4), ("A3", "u6", 2)):
            await ins(SurveyResponse, tenant=t, assessment=r.assessments[key], unit=units[unit],
                      overall=overall)
        mid = datetime.combine(start + timedelta(days=20), time(9), CN)
        r.cases["E1"] = await _case(t, r.estates["E1"], r.orgs["p1"], creator, mid,
                                    status="closed", acknowledged_at=mid + timedelta(hours=1),
                                    resolved_at=mid + timedelta(days=1), rating=5)
        r.cases["E3"] = await _case(t, r.estates["E3"], r.orgs["p2"], creator, mid)
    return r


async def seed(tenant: int, tag: str, side) -> None:
    """A published half-year result of the side's contract with an open objection by its
    property company, and the company's roll-up (victims for the route walker)."""
    version = await scheme_version(tenant)
    year = date.today().year
    taken = {r["period_start"] for r in await fetch(
        "SELECT period_start FROM evaluation_campaign WHERE tenant = $1 AND period_kind ="
        " 'half_year'", tenant)}
    start = next(d for d in (date(year - 1, 1, 1), date(year - 1, 7, 1), date(year - 2, 1, 1))
                 if d not in taken)
    end = date(start.year, 6, 30) if start.month == 1 else date(start.year, 12, 31)
    now = datetime.now(timezone.utc)
    campaign = await sysrepo.insert(
        Campaign, tenant=tenant, name=f"{side.marker} 半年评价", period_kind="half_year",
        period_start=start, period_end=end, scheme_version=version,
        submission_deadline=now - timedelta(days=10), status="published", opened_at=now)
    components = {"kinds": {"owners_committee": {"weight": 20, "score": 85.0, "state": "ok",
                                                 "effective_weight": 100.0, "submissions": 1}},
                  "held": False, "held_reason": None, "computed_total": 85.0,
                  "metrics_as_of": now.isoformat(), "adjustment": None}
    assessment = await sysrepo.insert(
        Assessment, tenant=tenant, campaign=campaign["id"], contract=side.contract,
        estate=side.estate, property_company=side.orgs["property_company"], status="objection",
        components=json.dumps(components), total_score=Decimal("85.00"), grade="good", rank=1,
        scored_at=now, published_at=now, objection_deadline=now + timedelta(days=7))
    objection = await sysrepo.insert(
        Objection, tenant=tenant, assessment=assessment["id"],
        raised_by_org=side.orgs["property_company"], reasons=f"{side.marker} 评分有误",
        evidence=json.dumps({"cases": [side.case], "note": f"{side.marker} 证据"}),
        status="open", original_score=Decimal("85.00"))
    await sysrepo.insert(CompanyResult, tenant=tenant, campaign=campaign["id"],
                         company=side.orgs["property_company"], score=Decimal("85.00"),
                         grade="good", rank=1, estates=1, held=0, households=1)
    side.extra.update(evaluation_result_campaign=campaign["id"],
                      evaluation_result_assessment=assessment["id"],
                      evaluation_objection=objection["id"])


async def next_campaign(r: R, scores: dict[str, int]) -> tuple[int, dict[str, int]]:
    """A closed campaign of the current quarter for the same contracts, each assessment scored
    only by the owners' committee (`scores`: assessment key -> score)."""
    start = date(date.today().year, (date.today().month - 1) // 3 * 3 + 1, 1)
    end = date(start.year + start.month // 10, (start.month + 2) % 12 + 1, 1) - timedelta(days=1)
    deadline = datetime.now(timezone.utc) - timedelta(minutes=5)
    ins = sysrepo.insert
    async with db().transaction():
        version = (await fetch("SELECT scheme_version FROM evaluation_campaign WHERE id = $1",
                               r.campaign))[0]["scheme_version"]
        campaign = (await ins(Campaign, tenant=r.tenant, name="本季度评价", period_kind="quarter",
                              period_start=start, period_end=end, scheme_version=version,
                              submission_deadline=deadline, status="closed",
                              opened_by_org=r.orgs["bureau"], opened_at=deadline,
                              closed_at=deadline))["id"]
        ids = {}
        for key, (e, company) in {"A1": ("E1", "p1"), "A2": ("E2", "p1"),
                                  "A3": ("E3", "p2")}.items():
            ids[key] = (await ins(Assessment, tenant=r.tenant, campaign=campaign,
                                  contract=r.contracts[key], estate=r.estates[e],
                                  property_company=r.orgs[company]))["id"]
            await ins(Submission, tenant=r.tenant, assessment=ids[key],
                      organization=r.orgs[f"oc{e[1]}"], evaluator_kind="owners_committee",
                      status="submitted", score=Decimal(scores[key]), submitted_at=deadline)
    return campaign, ids
