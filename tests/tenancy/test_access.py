"""Who sees and does what on the victim side's own ground (DESIGN §2–§3).

The bureau sees the whole tenant; a street office its street; a residents' committee its
community; an owners' committee and the property company serving the estate that estate.
List endpoints return only rows in scope; only tenant admins create streets and
organisations; organisation admins manage only their own organisation's memberships.
"""
from __future__ import annotations

import secrets

import pytest

from tests.factories import PASSWORD, login

ESTATE_PERSONAS = ("owners_committee:admin", "owners_committee:chair", "owners_committee:member",
                   "property_company:admin", "property_company:manager", "property_company:handler")


async def get(client, world, persona: str, url: str, side: str = "a1"):
    return await client.get(url, headers=await login(client, getattr(world, side).users[persona]))


async def ids(client, world, persona: str, url: str) -> set[int]:
    r = await get(client, world, persona, url)
    assert r.status_code == 200, r.text
    return {row["id"] for row in r.json()}


async def rows(client, world, persona: str, url: str) -> list[dict]:
    r = await get(client, world, persona, url)
    assert r.status_code == 200, r.text
    return r.json()


def new_name(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


# --- reading -------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["bureau:admin", "bureau:staff"])
async def test_bureau_sees_every_place_of_its_tenant_and_nothing_of_another(client, world, persona):
    a1, a2, b = world.a1, world.a2, world.b
    streets = await ids(client, world, persona, "/api/v1/streets?limit=500")
    assert {a1.street, a2.street} <= streets and b.street not in streets
    estates = await ids(client, world, persona, "/api/v1/estates?limit=500")
    assert {a1.estate, a2.estate} <= estates and b.estate not in estates
    orgs = await ids(client, world, persona, "/api/v1/organizations?limit=500")
    assert {*a1.orgs.values(), *a2.orgs.values()} <= orgs
    assert not orgs & {*b.orgs.values(), world.bureau_b}
    for url in (f"/api/v1/units/{a2.unit}", f"/api/v1/buildings/{a2.building}",
                f"/api/v1/persons/{a2.person}", f"/api/v1/units/{a1.unit}/owners"):
        assert (await get(client, world, persona, url)).status_code == 200, url
    for url in (f"/api/v1/streets/{b.street}", f"/api/v1/units/{b.unit}", f"/api/v1/persons/{b.person}"):
        assert (await get(client, world, persona, url)).status_code == 404, url


@pytest.mark.parametrize("persona", ["street_office:admin", "street_office:staff"])
async def test_street_office_sees_its_streets_places_and_not_street_2(client, world, persona):
    a1, a2 = world.a1, world.a2
    assert await ids(client, world, persona, "/api/v1/streets") == {a1.street}
    communities = await rows(client, world, persona, "/api/v1/communities?limit=500")
    assert a1.community in {c["id"] for c in communities}
    assert {c["street_id"] for c in communities} == {a1.street}
    estates = await rows(client, world, persona, "/api/v1/estates?limit=500")
    assert a1.estate in {e["id"] for e in estates}
    assert {e["street_id"] for e in estates} == {a1.street}
    assert a1.unit in await ids(client, world, persona, f"/api/v1/buildings/{a1.building}/units")
    assert await ids(client, world, persona, f"/api/v1/communities?street_id={a2.street}") == set()
    for url in (f"/api/v1/streets/{a2.street}", f"/api/v1/communities/{a2.community}",
                f"/api/v1/estates/{a2.estate}", f"/api/v1/buildings/{a2.building}",
                f"/api/v1/units/{a2.unit}", f"/api/v1/units/{a2.unit}/owners",
                f"/api/v1/persons/{a2.person}", f"/api/v1/organizations/{a2.orgs['street_office']}"):
        assert (await get(client, world, persona, url)).status_code == 404, url


@pytest.mark.parametrize("persona", ["residents_committee:admin", "residents_committee:grid_worker"])
async def test_residents_committee_sees_its_community_only(client, world, persona):
    a1, a2 = world.a1, world.a2
    assert await ids(client, world, persona, "/api/v1/communities?limit=500") == {a1.community}
    estates = await rows(client, world, persona, "/api/v1/estates?limit=500")
    assert a1.estate in {e["id"] for e in estates}
    assert {e["community_id"] for e in estates} == {a1.community}
    assert await ids(client, world, persona, "/api/v1/streets") == {a1.street}  # its enclosing street
    assert (await get(client, world, persona, f"/api/v1/units/{a1.unit}")).status_code == 200
    for url in (f"/api/v1/communities/{a2.community}", f"/api/v1/estates/{a2.estate}",
                f"/api/v1/units/{a2.unit}", f"/api/v1/persons/{a2.person}"):
        assert (await get(client, world, persona, url)).status_code == 404, url


@pytest.mark.parametrize("persona", ESTATE_PERSONAS)
async def test_owners_committee_and_property_company_see_their_estate_only(client, world, persona):
    a1, a2 = world.a1, world.a2
    assert await ids(client, world, persona, "/api/v1/estates?limit=500") == {a1.estate}
    assert await ids(client, world, persona, "/api/v1/communities?limit=500") == {a1.community}
    assert a1.building in await ids(client, world, persona, f"/api/v1/estates/{a1.estate}/buildings")
    units = await rows(client, world, persona, f"/api/v1/buildings/{a1.building}/units?limit=500")
    assert a1.unit in {u["id"] for u in units} and {u["estate_id"] for u in units} == {a1.estate}
    orgs = await ids(client, world, persona, "/api/v1/organizations?limit=500")
    assert set(a1.orgs.values()) <= orgs and not orgs & set(a2.orgs.values())
    for url in (f"/api/v1/estates/{a2.estate}", f"/api/v1/estates/{a2.estate}/buildings",
                f"/api/v1/buildings/{a2.building}", f"/api/v1/units/{a2.unit}",
                f"/api/v1/persons/{a2.person}", f"/api/v1/communities/{a2.community}"):
        assert (await get(client, world, persona, url)).status_code == 404, url


# --- creating places and organisations ---------------------------------------------------------------
@pytest.mark.parametrize("persona", ["bureau:staff", "street_office:admin", "residents_committee:admin",
                                     "owners_committee:admin", "property_company:admin"])
async def test_only_tenant_admins_create_streets_and_organisations(client, world, persona):
    h = await login(client, world.a1.users[persona])
    r = await client.post("/api/v1/streets", json={"name": new_name("street")}, headers=h)
    assert r.status_code == 403, r.text
    r = await client.post("/api/v1/organizations", headers=h, json={
        "kind": "property_company", "name": new_name("firm"), "coverage": [{"street_id": world.a1.street}]})
    assert r.status_code == 403, r.text


async def test_tenant_admin_creates_streets_and_organisations(client, world):
    h = await login(client, world.a1.users["bureau:admin"])
    r = await client.post("/api/v1/streets", json={"name": new_name("street")}, headers=h)
    assert r.status_code == 201, r.text
    street = r.json()["id"]
    r = await client.post("/api/v1/organizations", headers=h, json={
        "kind": "street_office", "name": new_name("office"), "coverage": [{"street_id": street}]})
    assert r.status_code == 201, r.text
    assert r.json()["coverage"] == [{"street_id": street, "community_id": None, "estate_id": None}]


@pytest.mark.parametrize("persona,allowed", [
    ("owners_committee:member", False), ("property_company:admin", False),
    ("property_company:manager", False), ("property_company:handler", False),
    ("residents_committee:grid_worker", False), ("street_office:staff", False), ("bureau:staff", False),
    ("owners_committee:chair", True), ("owners_committee:admin", True),
    ("residents_committee:admin", True), ("street_office:admin", True), ("bureau:admin", True)])
async def test_only_place_managers_edit_units(client, world, persona, allowed):
    h = await login(client, world.a1.users[persona])
    r = await client.patch(f"/api/v1/units/{world.a1.unit}", json={"floor": 1}, headers=h)  # unchanged value
    assert r.status_code == (200 if allowed else 403), r.text
    r = await client.patch(f"/api/v1/buildings/{world.a1.building}", json={}, headers=h)
    assert r.status_code == (200 if allowed else 403), r.text


# --- memberships -------------------------------------------------------------------------------------------
async def create_member(client, admin_headers: dict, org: int, role: str) -> dict:
    username = new_name("member")
    r = await client.post("/api/v1/users", headers=admin_headers, json={
        "username": username, "password": PASSWORD, "display_name": username,
        "organization_id": org, "role": role})
    assert r.status_code == 201, r.text
    user = r.json()
    members = await client.get(f"/api/v1/organizations/{org}/memberships", headers=admin_headers)
    membership = next(m for m in members.json() if m["user_id"] == user["id"])
    return {"user": user, "membership": membership}


async def test_organisation_admin_manages_the_memberships_of_its_own_organisation(client, world):
    a1 = world.a1
    h = await login(client, a1.users["owners_committee:admin"])
    m = await create_member(client, h, a1.orgs["owners_committee"], "member")
    assert m["membership"]["role"] == "member"
    r = await client.patch(f"/api/v1/memberships/{m['membership']['id']}", json={"role": "secretary"},
                           headers=h)
    assert r.status_code == 200 and r.json()["role"] == "secretary", r.text
    r = await client.delete(f"/api/v1/memberships/{m['membership']['id']}", headers=h)
    assert r.status_code == 204, r.text
    members = await client.get(f"/api/v1/organizations/{a1.orgs['owners_committee']}/memberships", headers=h)
    assert m["user"]["id"] not in {x["user_id"] for x in members.json()}


async def test_organisation_admin_cannot_touch_another_organisations_memberships(client, world):
    a1 = world.a1
    oc_admin = await login(client, a1.users["owners_committee:admin"])
    pc_admin = await login(client, a1.users["property_company:admin"])
    handler_membership = a1.memberships["property_company:handler"]
    r = await client.patch(f"/api/v1/memberships/{handler_membership}", json={"role": "admin"},
                           headers=oc_admin)
    assert r.status_code in (403, 404), r.text
    r = await client.delete(f"/api/v1/memberships/{handler_membership}", headers=oc_admin)
    assert r.status_code in (403, 404), r.text
    m = await create_member(client, oc_admin, a1.orgs["owners_committee"], "member")
    r = await client.post(f"/api/v1/organizations/{a1.orgs['property_company']}/memberships",
                          json={"user_id": m["user"]["id"], "role": "admin"}, headers=oc_admin)
    assert r.status_code == 403, r.text
    r = await client.post(f"/api/v1/organizations/{a1.orgs['owners_committee']}/memberships",
                          json={"user_id": a1.user_ids["property_company:handler"], "role": "admin"},
                          headers=pc_admin)
    assert r.status_code == 403, r.text
    r = await client.post("/api/v1/users", headers=oc_admin, json={
        "username": new_name("x"), "password": PASSWORD, "display_name": "x",
        "organization_id": a1.orgs["property_company"], "role": "handler"})
    assert r.status_code == 403, r.text
    members = await client.get(f"/api/v1/organizations/{a1.orgs['property_company']}/memberships",
                               headers=pc_admin)
    assert {x["id"]: x["role"] for x in members.json()}[handler_membership] == "handler"


async def test_organisation_admin_cannot_adopt_a_user_of_another_organisation(client, world):
    """Adopting would make them "admin of that user": able to read, rename and deactivate them."""
    a1 = world.a1
    oc_admin = await login(client, a1.users["owners_committee:admin"])
    for victim in (a1.user_ids["property_company:handler"], a1.user_ids["bureau:admin"]):
        r = await client.post(f"/api/v1/organizations/{a1.orgs['owners_committee']}/memberships",
                              json={"user_id": victim, "role": "member"}, headers=oc_admin)
        assert r.status_code in (404, 422), r.text
        assert (await client.get(f"/api/v1/users/{victim}", headers=oc_admin)).status_code == 404
        r = await client.patch(f"/api/v1/users/{victim}", json={"is_active": False}, headers=oc_admin)
        assert r.status_code in (403, 404), r.text
    members = await client.get(f"/api/v1/organizations/{a1.orgs['owners_committee']}/memberships",
                               headers=oc_admin)
    assert a1.user_ids["bureau:admin"] not in {x["user_id"] for x in members.json()}


async def test_tenant_admin_may_add_any_user_of_the_tenant_to_any_organisation(client, world):
    a1 = world.a1
    h = await login(client, a1.users["bureau:admin"])
    username = new_name("staff")
    r = await client.post("/api/v1/users", headers=h, json={
        "username": username, "password": PASSWORD, "display_name": username})
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/organizations/{a1.orgs['residents_committee']}/memberships",
                          json={"user_id": r.json()["id"], "role": "staff"}, headers=h)
    assert r.status_code == 201 and r.json()["role"] == "staff", r.text


async def test_plain_members_cannot_manage_memberships(client, world):
    a1 = world.a1
    admin = await login(client, a1.users["owners_committee:admin"])
    chair = await login(client, a1.users["owners_committee:chair"])
    m = await create_member(client, admin, a1.orgs["owners_committee"], "member")
    r = await client.patch(f"/api/v1/memberships/{m['membership']['id']}", json={"role": "admin"},
                           headers=chair)
    assert r.status_code == 403, r.text
    r = await client.delete(f"/api/v1/memberships/{m['membership']['id']}", headers=chair)
    assert r.status_code == 403, r.text
    r = await client.post("/api/v1/users", headers=chair, json={
        "username": new_name("x"), "password": PASSWORD, "display_name": "x",
        "organization_id": a1.orgs["owners_committee"], "role": "member"})
    assert r.status_code == 403, r.text


async def test_role_must_exist_for_the_kind_of_organisation(client, world):
    a1 = world.a1
    oc_admin = await login(client, a1.users["owners_committee:admin"])
    bureau = await login(client, a1.users["bureau:admin"])
    m = await create_member(client, oc_admin, a1.orgs["owners_committee"], "member")
    r = await client.patch(f"/api/v1/memberships/{m['membership']['id']}", json={"role": "grid_worker"},
                           headers=oc_admin)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["role"], r.text
    r = await client.post("/api/v1/users", headers=oc_admin, json={
        "username": new_name("x"), "password": PASSWORD, "display_name": "x",
        "organization_id": a1.orgs["owners_committee"], "role": "dispatcher"})
    assert r.status_code == 422, r.text
    r = await client.post(f"/api/v1/organizations/{a1.orgs['property_company']}/memberships",
                          json={"user_id": m["user"]["id"], "role": "chair"}, headers=bureau)
    assert r.status_code == 422, r.text
    members = await client.get(f"/api/v1/organizations/{a1.orgs['owners_committee']}/memberships",
                               headers=oc_admin)
    assert {x["id"]: x["role"] for x in members.json()}[m["membership"]["id"]] == "member"


async def test_organisation_admin_cannot_edit_an_account_that_also_acts_for_another_organisation(
        client, world):
    """Renaming or deactivating such an account would reach into the other organisation."""
    a1 = world.a1
    bureau = await login(client, a1.users["bureau:admin"])
    oc_admin = await login(client, a1.users["owners_committee:admin"])
    username = new_name("twohats")
    r = await client.post("/api/v1/users", headers=bureau, json={
        "username": username, "password": PASSWORD, "display_name": username,
        "organization_id": a1.orgs["owners_committee"], "role": "member"})
    assert r.status_code == 201, r.text
    user = r.json()["id"]
    r = await client.patch(f"/api/v1/users/{user}", json={"display_name": "renamed"}, headers=oc_admin)
    assert r.status_code == 200, r.text  # only in the owners' committee: its admin manages it
    r = await client.post(f"/api/v1/organizations/{a1.orgs['residents_committee']}/memberships",
                          json={"user_id": user, "role": "staff"}, headers=bureau)
    assert r.status_code == 201, r.text
    for change in ({"display_name": "hijacked"}, {"is_active": False}):
        r = await client.patch(f"/api/v1/users/{user}", json=change, headers=oc_admin)
        assert r.status_code == 403, r.text
    r = await client.get(f"/api/v1/users/{user}", headers=bureau)
    assert (r.json()["display_name"], r.json()["is_active"]) == ("renamed", True)


async def test_member_names_are_full_for_the_organisation_itself_and_masked_for_related_ones(client, world):
    from tenancy.masking import mask_name

    oc = world.a1.orgs["owners_committee"]
    url = f"/api/v1/organizations/{oc}/memberships"
    own = (await client.get(url, headers=await login(client, world.a1.users["owners_committee:member"]))).json()
    assert any(world.a1.marker in m["display_name"] for m in own)
    related = await client.get(url, headers=await login(client, world.a1.users["property_company:manager"]))
    assert related.status_code == 200
    names = [m["display_name"] for m in related.json()]
    assert names and not any(world.a1.marker in n for n in names)
    assert set(names) == {mask_name(m["display_name"]) for m in own}
