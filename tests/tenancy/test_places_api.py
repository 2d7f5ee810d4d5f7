"""The places admin API: the ledger from street to owner, its validation, who may write, and the
audit trail every write leaves."""
from __future__ import annotations

import json
import secrets

import pytest

from core import audit
from core.db import fetch
from core.i18n import gettext
from tests.factories import login

PROBLEM = "application/problem+json"


def _tag() -> str:
    return secrets.token_hex(3)


async def _last_seq(tenant_id: int) -> int:
    rows = await fetch("SELECT COALESCE(MAX(seq), 0) AS seq FROM audit_entry WHERE tenant_id = $1",
                       tenant_id)
    return rows[0]["seq"]


async def _entries_since(tenant_id: int, seq: int) -> list[dict]:
    rows = await fetch("SELECT action, subject_type, subject_id, actor_user_id, data FROM audit_entry"
                       " WHERE tenant_id = $1 AND seq > $2 ORDER BY seq", tenant_id, seq)
    return [{**r, "data": json.loads(r["data"])} for r in rows]


async def _admin(client, world) -> dict[str, str]:
    return await login(client, world.a1.users["bureau:admin"])


async def _new_street(client, headers) -> dict:
    r = await client.post("/api/v1/streets", json={"name": f"街道 {_tag()}"}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_tenant_admin_builds_street_to_owner_and_reads_every_level_back(client, world):
    h = await _admin(client, world)
    admin_id = world.a1.user_ids["bureau:admin"]
    start = await _last_seq(world.tenant_a)
    tag = _tag()

    street = (await client.post("/api/v1/streets", json={"name": f"和平街道 {tag}", "code": f"HP{tag}"},
                                headers=h)).json()
    community = await client.post("/api/v1/communities", json={"street_id": street["id"],
                                                               "name": f"和平社区 {tag}"}, headers=h)
    assert community.status_code == 201, community.text
    community = community.json()
    estate = await client.post("/api/v1/estates", json={
        "community_id": community["id"], "name": f"和平小区 {tag}", "address": "和平路 8 号",
        "developer": "和平地产"}, headers=h)
    assert estate.status_code == 201, estate.text
    estate = estate.json()
    assert estate["street_id"] == street["id"] and estate["community_id"] == community["id"]
    building = await client.post(f"/api/v1/estates/{estate['id']}/buildings",
                                 json={"name": "1 幢", "floors": 18}, headers=h)
    assert building.status_code == 201, building.text
    building = building.json()
    # The area is exact: sent as a string or a JSON number, it comes back as a two-decimal string.
    unit = await client.post(f"/api/v1/buildings/{building['id']}/units",
                             json={"number": "1-101", "exclusive_area": "88.50", "floor": 1}, headers=h)
    assert unit.status_code == 201, unit.text
    unit = unit.json()
    assert unit["exclusive_area"] == "88.50" and unit["estate_id"] == estate["id"]
    second = await client.post(f"/api/v1/buildings/{building['id']}/units",
                               json={"number": "1-102", "exclusive_area": 75.5}, headers=h)
    assert second.status_code == 201 and second.json()["exclusive_area"] == "75.50"

    new_owner = await client.post(f"/api/v1/units/{unit['id']}/owners",
                                  json={"person": {"name": "张建国", "phone": "13912345678"}}, headers=h)
    assert new_owner.status_code == 201, new_owner.text
    new_owner = new_owner.json()
    assert new_owner["person"] == {"id": new_owner["person"]["id"], "name": "张**",
                                   "phone": "139****5678", "masked": True}
    existing = await client.post(f"/api/v1/units/{unit['id']}/owners",
                                 json={"person_id": world.a1.person}, headers=h)
    assert existing.status_code == 201, existing.text
    assert existing.json()["person"]["id"] == world.a1.person

    # Read everything back, one by one and in lists.
    assert (await client.get(f"/api/v1/streets/{street['id']}", headers=h)).json() == {
        "id": street["id"], "name": f"和平街道 {tag}", "code": f"HP{tag}"}
    assert (await client.get(f"/api/v1/communities/{community['id']}", headers=h)).json() == community
    assert (await client.get(f"/api/v1/estates/{estate['id']}", headers=h)).json() == estate
    assert (await client.get(f"/api/v1/buildings/{building['id']}", headers=h)).json() == {
        "id": building["id"], "estate_id": estate["id"], "name": "1 幢", "floors": 18}
    assert (await client.get(f"/api/v1/units/{unit['id']}", headers=h)).json() == unit
    listed = (await client.get(f"/api/v1/communities?street_id={street['id']}", headers=h)).json()
    assert listed == [community]
    assert (await client.get(f"/api/v1/estates?community_id={community['id']}", headers=h)).json() == [estate]
    assert [b["id"] for b in (await client.get(f"/api/v1/estates/{estate['id']}/buildings",
                                               headers=h)).json()] == [building["id"]]
    units = (await client.get(f"/api/v1/buildings/{building['id']}/units", headers=h)).json()
    assert [(u["number"], u["exclusive_area"]) for u in units] == [("1-101", "88.50"), ("1-102", "75.50")]
    owners = (await client.get(f"/api/v1/units/{unit['id']}/owners", headers=h)).json()
    assert [o["person"]["id"] for o in owners] == [new_owner["person"]["id"], world.a1.person]
    assert all(o["person"]["masked"] for o in owners)

    entries = await _entries_since(world.tenant_a, start)
    assert [e["action"] for e in entries] == [
        "street.created", "community.created", "estate.created", "building.created", "unit.created",
        "unit.created", "person.created", "ownership.created", "ownership.created"]
    assert {e["actor_user_id"] for e in entries} == {admin_id}
    assert entries[0]["subject_id"] == str(street["id"])
    report = await audit.verify(world.tenant_a)
    assert report.ok, report


async def test_patch_changes_only_the_fields_sent_and_is_audited(client, world):
    h = await _admin(client, world)
    street = await _new_street(client, h)
    start = await _last_seq(world.tenant_a)

    r = await client.patch(f"/api/v1/streets/{street['id']}", json={"code": "NEW-1"}, headers=h)
    assert r.status_code == 200 and r.json() == {**street, "code": "NEW-1"}
    r = await client.patch(f"/api/v1/streets/{street['id']}", json={"code": None}, headers=h)
    assert r.json() == {**street, "code": None}  # null clears an optional field
    r = await client.patch(f"/api/v1/streets/{street['id']}", json={"name": None}, headers=h)
    assert r.status_code == 400  # a required field cannot be cleared

    unit_id = world.a1.unit
    before = (await client.get(f"/api/v1/units/{unit_id}", headers=h)).json()
    r = await client.patch(f"/api/v1/units/{unit_id}", json={"exclusive_area": "90.25", "floor": 2},
                           headers=h)
    assert r.status_code == 200
    assert r.json() == {**before, "exclusive_area": "90.25", "floor": 2}
    r = await client.patch(f"/api/v1/units/{unit_id}", json={"floor": None}, headers=h)
    assert r.json() == {**before, "exclusive_area": "90.25", "floor": None}
    r = await client.patch(f"/api/v1/units/{unit_id}", json={"exclusive_area": before["exclusive_area"],
                                                             "floor": before["floor"]}, headers=h)
    assert r.json() == before

    estate = (await client.get(f"/api/v1/estates/{world.a1.estate}", headers=h)).json()
    r = await client.patch(f"/api/v1/estates/{world.a1.estate}", json={"developer": "新开发商"}, headers=h)
    assert r.json() == {**estate, "developer": "新开发商"}

    entries = await _entries_since(world.tenant_a, start)
    assert [e["action"] for e in entries] == ["street.updated", "street.updated", "unit.updated",
                                              "unit.updated", "unit.updated", "estate.updated"]
    assert entries[0]["data"] == {"code": "NEW-1"}
    assert entries[2]["data"] == {"exclusive_area": "90.25", "floor": 2}
    assert (await audit.verify(world.tenant_a)).ok


def _assert_problem(r, status: int, lang: str, title: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status
    assert body["title"] == gettext(title, lang)
    if lang == "en":
        assert body["title"] == title
    assert body["type"].startswith("/problems/") and body["instance"] and body["request_id"]
    return body


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize(("path", "payload", "status", "field", "message"), [
    ("/api/v1/streets", {"name": ""}, 400, "name", "Must have at least {n} characters."),
    ("/api/v1/streets", {}, 400, "name", "This field is required."),
    ("/api/v1/streets", {"name": "x", "colour": "red"}, 400, "colour", "This field is not allowed."),
    ("/api/v1/streets", {"name": 5}, 400, "name", "Expected a value of type {expected}, got {got}."),
    ("/api/v1/streets", ["not", "an", "object"], 400, None,
     "Expected a value of type {expected}, got {got}."),
    ("/api/v1/streets", {"name": "x", "code": "has spaces"}, 400, "code", "The format is not valid."),
    ("/api/v1/communities", {"street_id": 2_000_000_000, "name": "x"}, 422, "street_id",
     "This item does not exist or you may not see it."),
    ("/api/v1/communities", {"street_id": "one", "name": "x"}, 400, "street_id",
     "Expected a value of type {expected}, got {got}."),
    ("/api/v1/estates", {"community_id": 0, "name": "x"}, 400, "community_id", "Must be at least {n}."),
    ("/api/v1/units/{unit}/owners", {"person": {"name": "王五", "phone": "12"}}, 400, "person.phone",
     "Must have at least {n} characters."),
    ("/api/v1/units/{unit}/owners", {"person": {}}, 400, "person.name", "This field is required."),
])
async def test_invalid_bodies_answer_a_problem_naming_the_field_in_the_callers_language(
        client, world, lang, path, payload, status, field, message):
    h = await _admin(client, world)
    r = await client.post(path.format(unit=world.a1.unit), json=payload,
                          headers={**h, "Accept-Language": lang})
    body = _assert_problem(r, status, lang, "Bad request" if status == 400 else "Invalid input")
    assert [e["field"] for e in body["errors"]] == [field]
    expected = gettext(message, lang).split("{")[0]
    assert body["errors"][0]["message"].startswith(expected), body["errors"]


@pytest.mark.parametrize("area", [0, -1, "0.00", "12.345", "100000.01", "NaN", "Infinity", "1e400"])
async def test_exclusive_area_must_be_positive_bounded_and_have_two_decimals(client, world, area):
    h = await _admin(client, world)
    for lang in ("en", "zh-CN"):
        r = await client.post(f"/api/v1/buildings/{world.a1.building}/units",
                              json={"number": f"A-{_tag()}", "exclusive_area": area},
                              headers={**h, "Accept-Language": lang})
        body = _assert_problem(r, 422, lang, "Invalid input")
        assert body["errors"] == [{"field": "exclusive_area", "message": gettext(
            "The exclusive area must be more than 0 and at most 100000 m², with at most two decimals.",
            lang)}]
    r = await client.patch(f"/api/v1/units/{world.a1.unit}", json={"exclusive_area": area}, headers=h)
    assert r.status_code == 422
    assert (await client.get(f"/api/v1/units/{world.a1.unit}", headers=h)).json()["exclusive_area"] != area


async def test_an_owner_is_either_an_existing_person_or_a_new_one(client, world):
    h = await _admin(client, world)
    for payload in ({}, {"person_id": world.a1.person, "person": {"name": "李四"}}):
        r = await client.post(f"/api/v1/units/{world.a1.unit}/owners", json=payload, headers=h)
        assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    # A person of another tenant does not exist for this caller.
    r = await client.post(f"/api/v1/units/{world.a1.unit}/owners", json={"person_id": world.b.person},
                          headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "person_id"


async def test_duplicates_are_refused_with_409(client, world):
    h = await _admin(client, world)
    street = await _new_street(client, h)
    r = await client.post("/api/v1/streets", json={"name": street["name"]}, headers=h)
    assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["detail"]

    community = (await client.post("/api/v1/communities", json={"street_id": street["id"], "name": "同名"},
                                   headers=h)).json()
    r = await client.post("/api/v1/communities", json={"street_id": street["id"], "name": "同名"}, headers=h)
    assert r.status_code == 409
    estate = (await client.post("/api/v1/estates", json={"community_id": community["id"], "name": "同名"},
                                headers=h)).json()
    r = await client.post("/api/v1/estates", json={"community_id": community["id"], "name": "同名"}, headers=h)
    assert r.status_code == 409
    building = (await client.post(f"/api/v1/estates/{estate['id']}/buildings", json={"name": "1"},
                                  headers=h)).json()
    r = await client.post(f"/api/v1/estates/{estate['id']}/buildings", json={"name": "1"}, headers=h)
    assert r.status_code == 409
    unit = {"number": "101", "exclusive_area": "50"}
    unit_id = (await client.post(f"/api/v1/buildings/{building['id']}/units", json=unit, headers=h)).json()["id"]
    r = await client.post(f"/api/v1/buildings/{building['id']}/units", json=unit, headers=h)
    assert r.status_code == 409
    owner = {"person_id": world.a1.person}
    assert (await client.post(f"/api/v1/units/{unit_id}/owners", json=owner, headers=h)).status_code == 201
    r = await client.post(f"/api/v1/units/{unit_id}/owners", json=owner, headers=h)
    assert r.status_code == 409
    # Renaming onto an existing name is a conflict too.
    other = await _new_street(client, h)
    r = await client.patch(f"/api/v1/streets/{other['id']}", json={"name": street["name"]}, headers=h)
    assert r.status_code == 409


async def test_street_office_admin_adds_communities_and_estates_in_its_own_street_only(client, world):
    h = await login(client, world.a1.users["street_office:admin"])
    tag = _tag()
    r = await client.post("/api/v1/communities", json={"street_id": world.a1.street, "name": f"新社区 {tag}"},
                          headers=h)
    assert r.status_code == 201, r.text
    community = r.json()
    r = await client.post("/api/v1/estates", json={"community_id": community["id"], "name": f"新小区 {tag}"},
                          headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["street_id"] == world.a1.street

    # Another street is out of its sight: the reference is invalid, and nothing is created.
    r = await client.post("/api/v1/communities", json={"street_id": world.a2.street, "name": f"越界 {tag}"},
                          headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "street_id"
    r = await client.post("/api/v1/estates", json={"community_id": world.a2.community, "name": f"越界 {tag}"},
                          headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "community_id"
    assert not await fetch("SELECT id FROM community WHERE name = $1", f"越界 {tag}")
    assert not await fetch("SELECT id FROM estate WHERE name = $1", f"越界 {tag}")
    # Streets are the jurisdiction's to create.
    assert (await client.post("/api/v1/streets", json={"name": f"街 {tag}"}, headers=h)).status_code == 403
    # Staff of the street office do not maintain the ledger.
    staff = await login(client, world.a1.users["street_office:staff"])
    r = await client.post("/api/v1/communities", json={"street_id": world.a1.street, "name": f"员工 {tag}"},
                          headers=staff)
    assert r.status_code == 403


async def test_residents_committee_admin_adds_buildings_and_units_in_its_community(client, world):
    h = await login(client, world.a1.users["residents_committee:admin"])
    tag = _tag()
    r = await client.post(f"/api/v1/estates/{world.a1.estate}/buildings", json={"name": f"B-{tag}"},
                          headers=h)
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/buildings/{r.json()['id']}/units",
                          json={"number": "201", "exclusive_area": "66.6"}, headers=h)
    assert r.status_code == 201 and r.json()["exclusive_area"] == "66.60"
    # Not in another community's estates, nor may it create communities.
    r = await client.post(f"/api/v1/estates/{world.a2.estate}/buildings", json={"name": f"B-{tag}"},
                          headers=h)
    assert r.status_code == 404
    r = await client.post("/api/v1/communities", json={"street_id": world.a1.street, "name": f"C-{tag}"},
                          headers=h)
    assert r.status_code == 403


async def test_owners_committee_member_cannot_change_the_ledger(client, world):
    h = await login(client, world.a1.users["owners_committee:member"])
    before = await fetch("SELECT count(*) AS n FROM building WHERE estate = $1", world.a1.estate)
    r = await client.post(f"/api/v1/estates/{world.a1.estate}/buildings", json={"name": "member"}, headers=h)
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    r = await client.post(f"/api/v1/buildings/{world.a1.building}/units",
                          json={"number": "member", "exclusive_area": "10"}, headers=h)
    assert r.status_code == 403
    r = await client.patch(f"/api/v1/units/{world.a1.unit}", json={"floor": 9}, headers=h)
    assert r.status_code == 403
    r = await client.post(f"/api/v1/units/{world.a1.unit}/owners", json={"person": {"name": "路人"}},
                          headers=h)
    assert r.status_code == 403
    r = await client.delete(f"/api/v1/ownerships/{world.a1.ownership}", headers=h)
    assert r.status_code == 403
    after = await fetch("SELECT count(*) AS n FROM building WHERE estate = $1", world.a1.estate)
    assert before == after


async def test_removing_an_ownership_deletes_it_once_and_is_audited(client, world):
    h = await _admin(client, world)
    r = await client.post(f"/api/v1/units/{world.a1.unit}/owners", json={"person": {"name": "赵六"}},
                          headers=h)
    ownership = r.json()
    start = await _last_seq(world.tenant_a)

    r = await client.delete(f"/api/v1/ownerships/{ownership['id']}", headers=h)
    assert r.status_code == 204
    owners = (await client.get(f"/api/v1/units/{world.a1.unit}/owners", headers=h)).json()
    assert ownership["id"] not in [o["id"] for o in owners]
    assert (await client.delete(f"/api/v1/ownerships/{ownership['id']}", headers=h)).status_code == 404
    # Another tenant's admin cannot even see it.
    other = await login(client, world.b.users["bureau:admin"])
    assert (await client.delete(f"/api/v1/ownerships/{world.a1.ownership}", headers=other)).status_code == 404

    entries = await _entries_since(world.tenant_a, start)
    assert [(e["action"], e["subject_id"], e["data"]) for e in entries] == [
        ("ownership.deleted", str(world.a1.unit), {"person": ownership["person"]["id"]})]
    assert (await audit.verify(world.tenant_a)).ok
