"""The demo district: a deterministic plan, written once, with a working login per persona."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from core.db import fetch
from gongzhi.demo import DEMO_PASSWORD, LOGINS, seed_demo
from gongzhi.demo_data import PERSONAS, build_plan
from tenancy.schemas import ROLES_BY_KIND
from tests.factories import login

PLAN = build_plan()
MOBILE = re.compile(r"^1[358][0-9]{9}$")
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def test_plan_is_deterministic():
    assert build_plan() == PLAN
    assert build_plan(seed=1) != PLAN


def test_plan_has_the_district_shape():
    counts = PLAN.counts()
    assert (counts["streets"], counts["communities"], counts["estates"]) == (2, 4, 6)
    assert 1900 <= counts["units"] <= 2100
    assert Counter(c.parent for c in PLAN.communities) == {0: 2, 1: 2}
    assert all(6 <= sum(b.estate == e for b in PLAN.buildings) <= 12 for e in range(6))
    assert all(55 <= u.area <= 160 and u.area == round(u.area, 2) for u in PLAN.units)
    numbers = [(u.building, u.number) for u in PLAN.units]
    assert len(set(numbers)) == len(numbers)


def test_plan_owners_cover_co_owned_multi_unit_and_unsold_units():
    owners_of = Counter(o.unit for o in PLAN.ownerships)
    units_of = Counter(o.person for o in PLAN.ownerships)
    sold = [i for i, u in enumerate(PLAN.units) if not u.unsold]
    unsold = [i for i, u in enumerate(PLAN.units) if u.unsold]
    assert all(owners_of[i] >= 1 for i in sold) and not any(owners_of[i] for i in unsold)
    assert 1 <= len({PLAN.units[i].estate for i in unsold}) <= 2 and len(unsold) >= 10
    co_owned = sum(n == 2 for n in owners_of.values())
    assert 0.03 <= co_owned / len(sold) <= 0.08 and max(owners_of.values()) == 2
    multi = [n for n in units_of.values() if n > 1]
    assert 0.02 <= len(multi) / len(PLAN.persons) <= 0.05 and max(multi) == 3
    assert len(units_of) == len(PLAN.persons)  # nobody without a unit
    assert len(set(o for o in PLAN.ownerships)) == len(PLAN.ownerships)
    phones = [p.phone for p in PLAN.persons]
    assert all(MOBILE.match(p) for p in phones) and len(set(phones)) == len(phones)
    assert any(len(p.name) >= 3 and p.name[:2] in ("欧阳", "司马", "诸葛", "上官", "皇甫", "慕容",
                                                   "司徒", "令狐") for p in PLAN.persons)


def test_plan_organisations_and_users():
    kinds = Counter(o.kind for o in PLAN.organizations)
    assert kinds == {"housing_bureau": 1, "street_office": 2, "residents_committee": 4,
                     "owners_committee": 6, "property_company": 3}
    served = Counter(e for o in PLAN.organizations if o.kind == "property_company"
                     for _place, e in o.coverage)
    assert served == {e: 1 for e in range(6)}
    assert all(CREDIT_CODE.match(o.credit_code) for o in PLAN.organizations if o.credit_code)
    usernames = [u.username for u in PLAN.users]
    assert usernames == [name for name, _description in LOGINS] == [p.username for p in PERSONAS]
    for u in PLAN.users:
        if u.organization is not None:
            assert u.role in ROLES_BY_KIND[PLAN.organizations[u.organization].kind]
    owners = {o.person for o in PLAN.ownerships if PLAN.units[o.unit].estate == 0}
    resident = next(u for u in PLAN.users if u.username == "resident")
    assert resident.organization is None and resident.person in owners
    assert len(DEMO_PASSWORD) >= 10 and re.search(r"\d", DEMO_PASSWORD)


async def _demo_counts() -> dict[str, int]:
    rows = await fetch(
        "SELECT (SELECT count(*) FROM tenant WHERE code = 'demo') AS tenants,"
        " (SELECT count(*) FROM unit u JOIN tenant t ON t.id = u.tenant WHERE t.code = 'demo') AS units,"
        " (SELECT count(*) FROM ownership o JOIN tenant t ON t.id = o.tenant WHERE t.code = 'demo')"
        " AS ownerships,"
        " (SELECT count(*) FROM app_user u JOIN tenant t ON t.id = u.tenant WHERE t.code = 'demo')"
        " AS users,"
        " (SELECT count(*) FROM audit_entry a JOIN tenant t ON t.id = a.tenant_id"
        "  WHERE t.code = 'demo' AND a.action = 'demo.seeded') AS seeded")
    return rows[0]


@pytest.fixture(scope="module")
async def seeded(client):
    """Seed twice: the summaries of both runs and the row counts after each. (Another module
    may have seeded the shared test database already; then both runs must be no-ops.)"""
    existed = (await _demo_counts())["tenants"] == 1
    first = await seed_demo()
    after_first = await _demo_counts()
    second = await seed_demo()
    return existed, first, after_first, second, await _demo_counts()


async def test_seeding_twice_creates_the_district_once(seeded):
    existed, first, after_first, second, after_second = seeded
    if not existed:
        assert "2 streets, 4 communities, 6 estates" in first
    assert "nothing changed" in second
    assert after_first == after_second == {
        "tenants": 1, "units": len(PLAN.units), "ownerships": len(PLAN.ownerships),
        "users": len(PLAN.users), "seeded": 1}


async def test_seeded_areas_match_the_plan(seeded):
    rows = await fetch("SELECT b.name AS building, u.number, u.exclusive_area, u.developer_unsold"
                       " FROM unit u JOIN building b ON b.id = u.building JOIN tenant t"
                       " ON t.id = u.tenant WHERE t.code = 'demo' AND u.estate IN"
                       " (SELECT id FROM estate WHERE name = '翠湖花园' AND tenant = t.id)")
    got = {(r["building"], r["number"]): r["exclusive_area"] for r in rows}
    expected = {(PLAN.buildings[u.building].name, u.number): u.area
                for u in PLAN.units if u.estate == 0}
    assert got == expected


@pytest.mark.parametrize("username", [name for name, _description in LOGINS])
async def test_every_demo_login_works(client, seeded, username):
    headers = await login(client, username, DEMO_PASSWORD)
    me = (await client.get("/api/v1/me", headers=headers)).json()
    persona = next(p for p in PERSONAS if p.username == username)
    assert me["username"] == username
    assert [(m["organization_kind"], m["role"]) for m in me["memberships"]] == (
        [(persona.kind, persona.role)] if persona.kind else [])
    if persona.kind:
        plan_user = next(u for u in PLAN.users if u.username == username)
        assert me["memberships"][0]["organization_name"] == PLAN.organizations[
            plan_user.organization].name
