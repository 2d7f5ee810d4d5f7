"""Possible duplicates (same estate and category, last 7 days, same building or within 50 m,
masked) and merging (the duplicate's reporter follows the original)."""
from __future__ import annotations

import secrets

from core.db import db, fetch
from tenancy import repository as repo
from tenancy import system_repository as sysrepo
from tests.cases.helpers import act, headers, report
from tests.factories import _password_hash, login, tiny_jpeg

LAT, LON = 31.2300, 121.4700


async def similar(client, h, **params) -> list[dict]:
    r = await client.get("/api/v1/cases/similar", params=params, headers=h)
    assert r.status_code == 200, r.text
    return r.json()


async def test_same_building_within_7_days_is_found_masked(client, world):
    a1 = world.a1
    first = await report(client, world, category="greening", building_id=a1.building)
    other_category = await report(client, world, category="parking", building_id=a1.building)
    old = await report(client, world, category="greening", building_id=a1.building)
    async with db().transaction():
        await fetch("UPDATE case_record SET created_at = now() - interval '8 days' WHERE id = $1",
                    old["id"])
    second = await report(client, world, category="greening", building_id=a1.building)
    ids = [c["id"] for c in second["similar_open_cases"]]
    assert first["id"] in ids and second["id"] not in ids
    assert other_category["id"] not in ids and old["id"] not in ids
    manager = await headers(client, world, "bureau:admin")  # sees every case of the tenant
    found = await similar(client, manager, estate_id=a1.estate, category="greening",
                          building_id=a1.building)
    assert {first["id"], second["id"]} <= {c["id"] for c in found} and old["id"] not in ids
    assert all("reporter" not in c for c in found)
    r = await client.get("/api/v1/cases/similar", headers=manager, params={
        "estate_id": a1.estate, "category": "greening", "building_id": a1.building})
    assert "13811112222" not in r.text and "138****2222" not in r.text
    # another estate: nothing of a1's, and nothing for someone who cannot see a1's cases
    assert first["id"] not in [c["id"] for c in await similar(
        client, manager, estate_id=world.a2.estate, category="greening", building_id=a1.building)]
    stranger = await headers(client, world, "property_company:manager", "a2")
    assert await similar(client, stranger, estate_id=a1.estate, category="greening",
                         building_id=a1.building) == []


async def test_coordinates_match_within_50_metres(client, world):
    near = await report(client, world, category="sanitation", latitude=LAT, longitude=LON)
    far = await report(client, world, category="sanitation", latitude=LAT + 0.0006, longitude=LON)
    manager = await headers(client, world, "bureau:admin")
    found = await similar(client, manager, estate_id=world.a1.estate, category="sanitation",
                          latitude=LAT + 0.0003, longitude=LON)  # ~33 m from near, ~33 m from far
    assert {near["id"], far["id"]} <= {c["id"] for c in found}
    found = {c["id"]: c for c in await similar(
        client, manager, estate_id=world.a1.estate, category="sanitation", latitude=LAT,
        longitude=LON)}
    assert near["id"] in found and far["id"] not in found  # far is ~67 m away
    assert found[near["id"]]["distance_m"] < 1
    created = await report(client, world, category="sanitation", latitude=LAT - 0.0002,
                           longitude=LON)
    assert near["id"] in [c["id"] for c in created["similar_open_cases"]]
    assert far["id"] not in [c["id"] for c in created["similar_open_cases"]]


async def second_resident(world) -> tuple[int, dict[str, str]]:
    """Another account of the a1 owner (a co-owner's phone, say)."""
    async with db().transaction():
        u = await sysrepo.insert(repo.User, tenant=world.tenant_a,
                                 username=f"coowner_{secrets.token_hex(3)}",
                                 password_hash=_password_hash(), display_name="co-owner",
                                 person=world.a1.person)
    return u["id"], u["username"]


async def test_merging_makes_the_reporter_a_follower_of_the_original(client, world):
    user_id, username = await second_resident(world)
    other = await login(client, username)
    r = await client.post("/api/v1/cases", headers=other, json={
        "estate_id": world.a1.estate, "category": "repair", "description": "电梯故障"})
    assert r.status_code == 201, r.text
    original = r.json()
    resident = await headers(client, world, "resident")
    assert (await client.get(f"/api/v1/cases/{original['id']}", headers=resident)).status_code == 404
    dup = await report(client, world, description="电梯不动了")
    await act(client, world, "property_company:manager", dup["id"], "mark_duplicate",
              duplicate_of_case_id=original["id"])
    got = await client.get(f"/api/v1/cases/{original['id']}", headers=resident)
    assert got.status_code == 200 and got.json()["reporter"]["masked"] is True
    manager = await headers(client, world, "property_company:manager")
    url = f"/api/v1/cases/{original['id']}/comments"
    assert (await client.post(url, json={"text": "内部", "visibility": "internal"},
                              headers=manager)).status_code == 201
    assert (await client.post(url, json={"text": "已派人"}, headers=manager)).status_code == 201
    events = (await client.get(f"/api/v1/cases/{original['id']}/events", headers=resident)).json()
    assert all(e["visibility"] == "public" for e in events) and events[-1]["data"]["text"] == "已派人"
    rows = await fetch("SELECT user_ids FROM outbox_event WHERE topic = 'case.comment'"
                       " AND (payload->>'case_id')::int = $1 ORDER BY id", original["id"])
    assert world.a1.user_ids["resident"] not in rows[0]["user_ids"]
    assert world.a1.user_ids["resident"] in rows[1]["user_ids"] and user_id in rows[1]["user_ids"]
    await act(client, world, "property_company:manager", original["id"], "accept")
    rows = await fetch("SELECT user_ids FROM outbox_event WHERE topic = 'case.accept'"
                       " AND (payload->>'case_id')::int = $1", original["id"])
    assert world.a1.user_ids["resident"] in rows[0]["user_ids"]
    # a follower acts on nothing: the original's actions stay its reporter's, photos included
    assert got.json()["allowed_actions"] == []
    photo = {"file": ("p.jpg", tiny_jpeg(), "image/jpeg")}
    r = await client.post(f"/api/v1/cases/{original['id']}/attachments", headers=resident,
                          files=photo)
    assert r.status_code == 403, r.text
    assert (await client.post(f"/api/v1/cases/{original['id']}/attachments", headers=other,
                              files=photo)).status_code == 201
    # the merged duplicate takes no more photos
    r = await client.post(f"/api/v1/cases/{dup['id']}/attachments", headers=resident, files=photo)
    assert r.status_code == 409, r.text
