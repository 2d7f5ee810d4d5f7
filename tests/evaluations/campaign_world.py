"""A small tenant of its own for campaign tests (a campaign assesses every contract of its tenant,
so these tests must not share a tenant with the others).

One street (street office) → one community (residents' committee) → four estates:
- E1: owners' committee oc1, company p1 under an active contract; units u1 (co-owned by owner1
  and owner2), u2 (owner3), u3 (nobody registered), u4 (the developer's unsold unit, held by
  `developer`);
- E2: owners' committee oc2, company p2 under an active contract; unit u5 (owner5);
- E3: a draft contract only; E4: a contract that ended last year. Neither gets an assessment.
Users: bureau admin/staff, street office admin, residents' committee admin and grid worker,
oc1 chair/member, oc2 chair, p1 manager, `dual` (member of oc1 AND of p1), and the owners.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from contracts.tables import ServiceContract
from core.db import db
from tenancy import repository as repo
from tenancy import system_repository as sysrepo
from tests.factories import _password_hash, login


@dataclass
class Mini:
    tenant: int = 0
    orgs: dict[str, int] = field(default_factory=dict)
    estates: dict[str, int] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)
    contracts: dict[str, int] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)

    async def h(self, client, persona: str) -> dict[str, str]:
        return {**await login(client, self.users[persona]), "Accept-Language": "en"}


def quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


async def build() -> Mini:
    tag = secrets.token_hex(3)
    m = Mini()
    ins = sysrepo.insert
    async with db().transaction():
        m.tenant = (await ins(repo.Tenant, code=f"ev-{tag}", name=f"评价区 {tag}"))["id"]
        t = m.tenant
        street = (await ins(repo.Street, tenant=t, name="东街道"))["id"]
        community = (await ins(repo.Community, tenant=t, street=street, name="东社区"))["id"]
        for name in ("E1", "E2", "E3", "E4"):
            m.estates[name] = (await ins(repo.Estate, tenant=t, community=community,
                                         name=f"{name} 小区"))["id"]

        async def org(key: str, kind: str, **place: int) -> None:
            m.orgs[key] = (await ins(repo.Organization, tenant=t, kind=kind, name=f"{key} {tag}"))["id"]
            if place:
                await ins(repo.OrganizationCoverage, tenant=t, organization=m.orgs[key], **place)

        await org("bureau", "housing_bureau")
        await org("so", "street_office", street=street)
        await org("rc", "residents_committee", community=community)
        await org("oc1", "owners_committee", estate=m.estates["E1"])
        await org("oc2", "owners_committee", estate=m.estates["E2"])
        await org("p1", "property_company", estate=m.estates["E1"])
        await org("p2", "property_company", estate=m.estates["E2"])
        await org("p3", "property_company")
        today = date.today()
        for key, estate, company, status, start, end in (
                ("E1", "E1", "p1", "active", today - timedelta(days=400), today + timedelta(days=700)),
                ("E2", "E2", "p2", "active", today - timedelta(days=30), today + timedelta(days=700)),
                ("E3", "E3", "p3", "draft", today - timedelta(days=30), today + timedelta(days=700)),
                ("E4", "E4", "p3", "expired", today - timedelta(days=900), today - timedelta(days=400))):
            m.contracts[key] = (await ins(
                ServiceContract, tenant=t, estate=m.estates[estate],
                property_company=m.orgs[company], counterparty_name="开发商", kind="preliminary",
                status=status, starts_on=start, ends_on=end, fee_per_m2_month=Decimal("2.00"),
                number=f"{key}-{tag}"))["id"]

        async def user(persona: str, org_key: str | None = None, role: str = "",
                       person: int | None = None, also: tuple[str, str] | None = None) -> None:
            u = await ins(repo.User, tenant=t, username=f"ev{tag}_{persona}",
                          password_hash=_password_hash(), display_name=persona, person=person)
            m.users[persona], m.user_ids[persona] = u["username"], u["id"]
            for key, r in ((org_key, role), also or (None, None)):
                if key:
                    await ins(repo.Membership, tenant=t, user=u["id"], organization=m.orgs[key],
                              role=r)

        for persona, key, role in (("bureau", "bureau", "admin"), ("bureau_staff", "bureau", "staff"),
                                   ("so", "so", "admin"), ("rc", "rc", "admin"),
                                   ("grid", "rc", "grid_worker"), ("oc1", "oc1", "chair"),
                                   ("oc1_member", "oc1", "member"), ("oc2", "oc2", "chair"),
                                   ("p1", "p1", "manager")):
            await user(persona, key, role)
        await user("dual", "oc1", "member", also=("p1", "manager"))
        building = {}
        for e in ("E1", "E2"):
            building[e] = (await ins(repo.Building, tenant=t, estate=m.estates[e], name="1栋"))["id"]
        for key, e, unsold in (("u1", "E1", False), ("u2", "E1", False), ("u3", "E1", False),
                               ("u4", "E1", True), ("u5", "E2", False)):
            m.units[key] = (await ins(repo.Unit, tenant=t, estate=m.estates[e],
                                      building=building[e], number=f"{key}", floor=1,
                                      exclusive_area=Decimal("90.00"),
                                      developer_unsold=unsold))["id"]
        for persona, units in (("owner1", ["u1"]), ("owner2", ["u1"]), ("owner3", ["u2"]),
                               ("developer", ["u4"]), ("owner5", ["u5"])):
            person = (await ins(repo.Person, tenant=t, name=persona))["id"]
            for u in units:
                e = "E2" if u == "u5" else "E1"
                await ins(repo.Ownership, tenant=t, person=person, unit=m.units[u],
                          estate=m.estates[e])
            await user(persona, person=person)
    return m


async def open_campaign(client, m: Mini, *, deadline: datetime | None = None) -> dict:
    """A campaign of the current quarter, created and opened by the bureau admin."""
    h = await m.h(client, "bureau")
    deadline = deadline or datetime.now(timezone.utc) + timedelta(days=20)
    r = await client.post("/api/v1/evaluation-campaigns", headers=h, json={
        "name": f"季度评价 {secrets.token_hex(2)}", "period_kind": "quarter",
        "period_start": quarter_start(date.today()).isoformat(),
        "submission_deadline": deadline.isoformat()})
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/evaluation-campaigns/{r.json()['id']}/open", headers=h)
    assert r.status_code == 200, r.text
    return r.json()


async def assessment_of(client, m: Mini, campaign_id: int, estate: str) -> dict:
    r = await client.get(f"/api/v1/evaluation-campaigns/{campaign_id}/assessments",
                         headers=await m.h(client, "bureau"))
    assert r.status_code == 200, r.text
    return next(a for a in r.json() if a["estate_id"] == m.estates[estate])
