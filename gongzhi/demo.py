"""The demo district: writes the plan of `gongzhi.demo_data` once, in one transaction.

`seed_demo()` is idempotent: when the tenant "demo" exists it changes nothing. Otherwise it
reserves ids from each table's sequence, so that every row can name its parents before any
insert, then writes each table with a single bulk statement.
"""
from __future__ import annotations

import importlib
import importlib.util
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from contracts import service as contracts
from core import audit
from core.db import db
from gongzhi.demo_data import (
    ESTATES, PERSONAS, TENANT_CODE, Plan, build_plan, first_organization, organization_specs)
from tenancy import auth
from tenancy import system_repository as sysrepo
from tenancy.tables import (
    Building, Community, Estate, Membership, Organization, OrganizationCoverage, Ownership, Person,
    Street, Tenant, Unit, User)

DEMO_PASSWORD = "Gongzhi-2026"
# Domain packages that add demo data: each `<package>.demo` module, when it exists, has
# `async def seed_demo(tenant: int) -> None`, called in the same transaction after the places,
# people, organisations, users and contracts exist.
DEMO_DOMAINS = ("evaluations", "documents", "meetings")


def _logins() -> list[tuple[str, str]]:
    specs = organization_specs()
    out = []
    for p in PERSONAS:
        if p.kind:
            out.append((p.username, f"{p.description}, {specs[first_organization(p.kind)][1]}"))
        else:
            out.append((p.username, f"{p.description} in {ESTATES[0].name}, no organisation"))
    return out


# (username, description incl. the organisation), as printed by `gongzhi demo` and the README.
LOGINS: list[tuple[str, str]] = _logins()


async def seed_demo() -> str:
    """Create the demo district unless it exists; return a one-line summary."""
    existing = await sysrepo.tenant_by_code(TENANT_CODE)
    if existing is not None:
        return _existing_summary(existing, await sysrepo.demo_tenant_counts(existing["id"]))
    plan = build_plan()
    password_hash = auth.hash_password(DEMO_PASSWORD)  # once: argon2 is slow on purpose
    async with db().transaction():
        await write_plan(plan, password_hash)
    return _summary(plan)


def _summary(plan: Plan) -> str:
    c = plan.counts()
    return (f"demo district {plan.tenant_name}: {c['streets']} streets, "
            f"{c['communities']} communities, {c['estates']} estates, {c['buildings']} buildings, "
            f"{c['units']:,} units ({c['unsold_units']} developer-unsold), {c['owners']:,} owners, "
            f"{c['organizations']} organisations, {c['users']} logins")


def _existing_summary(tenant: dict, counts: dict[str, int]) -> str:
    return (f"demo district {tenant['name']} already exists ({counts['estates']} estates, "
            f"{counts['units']:,} units, {counts['users']} users); nothing changed")


async def write_plan(plan: Plan, password_hash: str) -> int:
    """Insert every row of `plan` under a new tenant; returns the tenant id."""
    tenant = (await sysrepo.insert(Tenant, code=plan.tenant_code, name=plan.tenant_name))["id"]
    ids = {table: await sysrepo.demo_reserve_ids(table, n) for table, n in (
        (Street, len(plan.streets)), (Community, len(plan.communities)),
        (Estate, len(plan.estates)), (Building, len(plan.buildings)), (Unit, len(plan.units)),
        (Person, len(plan.persons)), (Organization, len(plan.organizations)),
        (User, len(plan.users)))}
    street, community, estate = ids[Street], ids[Community], ids[Estate]
    building, unit, person, org, user = (ids[Building], ids[Unit], ids[Person], ids[Organization],
                                         ids[User])

    async def put(table: Any, rows: list[dict[str, Any]]) -> None:
        await sysrepo.demo_bulk_insert(table, [{"tenant": tenant, **row} for row in rows])

    await put(Street, [{"id": street[i], "name": s.name, "code": s.code}
                       for i, s in enumerate(plan.streets)])
    await put(Community, [{"id": community[i], "street": street[c.parent], "name": c.name,
                           "code": c.code} for i, c in enumerate(plan.communities)])
    await put(Estate, [{"id": estate[i], "community": community[e.parent], "name": e.name,
                        "address": e.address, "developer": e.developer}
                       for i, e in enumerate(plan.estates)])
    await put(Building, [{"id": building[i], "estate": estate[b.estate], "name": b.name,
                          "floors": b.floors} for i, b in enumerate(plan.buildings)])
    await put(Unit, [{"id": unit[i], "estate": estate[u.estate], "building": building[u.building],
                      "number": u.number, "floor": u.floor, "exclusive_area": u.area,
                      "developer_unsold": u.unsold} for i, u in enumerate(plan.units)])
    await put(Person, [{"id": person[i], "name": p.name, "phone": p.phone}
                       for i, p in enumerate(plan.persons)])
    await put(Ownership, [{"person": person[o.person], "unit": unit[o.unit],
                           "estate": estate[plan.units[o.unit].estate]} for o in plan.ownerships])
    await put(Organization, [{"id": org[i], "kind": o.kind, "name": o.name,
                              "credit_code": o.credit_code} for i, o in enumerate(plan.organizations)])
    places = {"street": street, "community": community, "estate": estate}
    await put(OrganizationCoverage, [
        {"organization": org[i], "street": None, "community": None, "estate": None,
         place: places[place][index]}
        for i, o in enumerate(plan.organizations) for place, index in o.coverage])
    await put(User, [{"id": user[i], "username": u.username, "password_hash": password_hash,
                      "display_name": u.display_name, "phone": u.phone,
                      "person": None if u.person is None else person[u.person]}
                     for i, u in enumerate(plan.users)])
    await put(Membership, [{"user": user[i], "organization": org[u.organization], "role": u.role}
                           for i, u in enumerate(plan.users) if u.organization is not None])
    await _contracts(plan, tenant, estate, org)
    for name in DEMO_DOMAINS:
        if importlib.util.find_spec(f"{name}.demo") is not None:
            await importlib.import_module(f"{name}.demo").seed_demo(tenant)
    await audit.record(tenant, "demo.seeded", subject_type="tenant", subject_id=tenant,
                       data=plan.counts())
    return tenant


DEMO_SLA = {  # the first estate's contract promises more than the tenant's defaults
    "emergency": {"acknowledge": {"amount": 0.5, "unit": "natural_hours"},
                  "resolve": {"amount": 12.0, "unit": "natural_hours"}},
    "urgent": {"acknowledge": {"amount": 1.0, "unit": "natural_hours"},
               "resolve": {"amount": 24.0, "unit": "natural_hours"}},
    "normal": {"acknowledge": {"amount": 0.5, "unit": "working_days"},
               "resolve": {"amount": 2.0, "unit": "working_days"}},
    "return_window": {"amount": 1.0, "unit": "working_days"}}


async def _contracts(plan: Plan, tenant: int, estate: list[int], org: list[int]) -> None:
    """An active service contract per estate a property company serves, signed with the estate's
    owners' committee; the second one ends within the 90-day non-renewal notice period."""
    committee_of = {index: i for i, o in enumerate(plan.organizations)
                    if o.kind == "owners_committee" for _place, index in o.coverage}
    today = date.today()
    n = 0
    for i, o in enumerate(plan.organizations):
        if o.kind != "property_company":
            continue
        for _place, e in o.coverage:
            ends = today + timedelta(days=75 if n == 1 else 400 + 90 * n)
            await contracts.seed_contract(
                tenant, estate[e], org[i], org[committee_of[e]], number=f"WY-HT-{n + 1:03d}",
                starts_on=ends - timedelta(days=3 * 365), ends_on=ends,
                fee=Decimal("2.20") + Decimal("0.30") * (n % 3), sla=DEMO_SLA if n == 0 else None,
                scope_items=["房屋及设施设备维护", "保洁", "绿化养护", "秩序维护", "客户服务"])
            n += 1
