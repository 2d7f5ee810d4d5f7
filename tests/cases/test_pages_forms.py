"""The case web forms over HTTP with a real web session (cookie + CSRF token): staff intake by
channel naming an owner or a free-text contact, the resident's form with possible duplicates,
several photos, public and internal comments, and who is refused (404) on each."""
from __future__ import annotations

import re

import httpx
import pytest

from core.db import fetch
from tests.cases.helpers import act, headers, report
from tests.factories import PASSWORD, tiny_jpeg


@pytest.fixture
async def browser(app, client):
    """Makes web sessions: `await browser(username)` -> a client with its own cookie jar."""
    clients: list[httpx.AsyncClient] = []

    async def session(username: str) -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.9.8.6", 41000)),
                              base_url="http://testserver.local")
        clients.append(c)
        r = await c.post("/login", data={"username": username, "password": PASSWORD,
                                         "_csrf_token": await csrf(c, "/login")})
        assert r.status_code in (302, 303), r.text
        return c

    yield session
    for c in clients:
        await c.aclose()


async def csrf(c: httpx.AsyncClient, path: str) -> str:
    r = await c.get(path)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return re.search(r'name="_csrf_token" value="([^"]+)"', r.text).group(1)


def created_id(r: httpx.Response) -> int:
    assert r.status_code in (302, 303), r.text[:500]
    return int(re.search(r"/cases/(\d+)$", r.headers["location"]).group(1))


async def case_row(case_id: int) -> dict:
    return (await fetch("SELECT * FROM case_record WHERE id = $1", case_id))[0]


async def test_staff_record_a_phone_call_naming_the_owner_and_only_contact_roles_see_the_phone(
        client, world, browser):
    a1 = world.a1
    web = await browser(a1.users["residents_committee:grid_worker"])
    page = await web.get("/cases/new")
    assert page.status_code == 200 and 'name="channel"' in page.text
    places = await web.get("/cases/new/places", params={"estate_id": a1.estate,
                                                       "building_id": a1.building,
                                                       "unit_id": a1.unit})
    assert f'value="{a1.person}"' in places.text  # the unit's owner, name masked
    owner = (await fetch("SELECT name, phone FROM person WHERE id = $1", a1.person))[0]
    assert owner["name"] not in places.text
    r = await web.post("/cases/new", files={"photos": ("", b"", "application/octet-stream")}, data={
        "_csrf_token": await csrf(web, "/cases/new"), "channel": "phone", "estate_id": a1.estate,
        "building_id": a1.building, "unit_id": a1.unit, "reporter_person_id": a1.person,
        "category": "repair", "priority": "urgent", "description": "电话报修：厨房水管爆裂"})
    case = await case_row(created_id(r))
    assert (case["channel"], case["reporter_person"], case["reporter_name"], case["unit"]) == (
        "phone", a1.person, owner["name"], a1.unit)
    assert case["reporter_phone"] == owner["phone"] and case["reporter_user"] is None
    # The grid worker picked a known resident: they do not get to read the phone through it.
    seen = (await client.get(f"/api/v1/cases/{case['id']}", headers=await headers(
        client, world, "residents_committee:grid_worker"))).json()["reporter"]
    assert seen["masked"] and seen["phone"] != owner["phone"]
    manager = (await client.get(f"/api/v1/cases/{case['id']}", headers=await headers(
        client, world, "property_company:manager"))).json()["reporter"]
    assert not manager["masked"] and manager["phone"] == owner["phone"]


async def test_staff_record_a_walk_in_with_a_free_text_contact_and_two_photos(client, world,
                                                                             browser):
    a1 = world.a1
    web = await browser(a1.users["property_company:manager"])
    r = await web.post("/cases/new", data={
        "_csrf_token": await csrf(web, "/cases/new"), "channel": "walk_in",
        "estate_id": a1.estate, "category": "sanitation", "priority": "normal",
        "description": "走访：垃圾房异味", "reporter_name": "赵先生",
        "reporter_phone": "13611112222"},
        files=[("photos", ("a.jpg", tiny_jpeg(), "image/jpeg")), ("photos", ("b.jpg", tiny_jpeg(), "image/jpeg"))])
    case = await case_row(created_id(r))
    assert (case["channel"], case["reporter_name"], case["reporter_person"]) == ("walk_in", "赵先生", None)
    photos = await fetch('SELECT count(*) AS n FROM case_attachment WHERE "case" = $1', case["id"])
    assert photos[0]["n"] == 2
    # no channel: refused with the form again, nothing written
    before = (await fetch("SELECT count(*) AS n FROM case_record"))[0]["n"]
    r = await web.post("/cases/new", data={"_csrf_token": await csrf(web, "/cases/new"),
                                           "estate_id": a1.estate, "category": "repair",
                                           "description": "x", "reporter_name": "赵"})
    assert r.status_code == 422 and 'name="channel"' in r.text
    assert (await fetch("SELECT count(*) AS n FROM case_record"))[0]["n"] == before


async def test_intake_for_an_estate_one_does_not_cover_is_not_found(world, browser):
    a1 = world.a1
    for username in (world.a2.users["residents_committee:grid_worker"],
                     world.b.users["property_company:manager"], world.a2.users["resident"]):
        web = await browser(username)
        r = await web.get("/cases/new/places", params={"estate_id": a1.estate})
        assert r.status_code == 404, username
        r = await web.post("/cases/new", data={
            "_csrf_token": await csrf(web, "/cases/new"), "channel": "phone",
            "estate_id": a1.estate, "category": "repair", "description": "x",
            "reporter_name": "王", "reporter_person_id": a1.person})
        assert r.status_code == 404, username


async def test_a_named_reporter_must_own_a_unit_in_the_estate(client, world):
    h = await headers(client, world, "property_company:manager")
    body = {"estate_id": world.a1.estate, "category": "repair", "description": "x",
            "channel": "phone"}
    for person in (world.a2.person, world.b.person):
        r = await client.post("/api/v1/cases", json={**body, "reporter_person_id": person}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reporter_person_id"
    r = await client.post("/api/v1/cases", headers=await headers(client, world, "resident"),
                          json={**body, "channel": "app", "reporter_person_id": world.a1.person})
    assert r.status_code == 422


async def test_the_resident_form_shows_open_cases_of_the_same_building_as_possible_duplicates(
        client, world, browser):
    a1 = world.a1
    earlier = await report(client, world, building_id=a1.building, category="greening",
                           description="草坪积水")
    web = await browser(a1.users["resident"])
    page = await web.get("/cases/new")
    assert page.status_code == 200 and 'name="channel"' not in page.text
    hint = await web.get("/cases/new/places", params={"estate_id": a1.estate, "category": "greening",
                                                      "building_id": a1.building})
    assert f'data-similar-id="{earlier["id"]}"' in hint.text
    other = await web.get("/cases/new/places", params={"estate_id": a1.estate, "category": "parking",
                                                       "building_id": a1.building})
    assert f'data-similar-id="{earlier["id"]}"' not in other.text


async def test_comments_public_for_the_reporter_internal_for_organisations_only(client, world,
                                                                               browser):
    a1 = world.a1
    case = await report(client, world, description="评论测试：门禁失灵")
    resident = await browser(a1.users["resident"])
    manager = await browser(a1.users["property_company:manager"])
    r = await resident.post(f"/cases/{case['id']}/comment", data={
        "_csrf_token": await csrf(resident, f"/cases/{case['id']}"), "text": "请尽快处理",
        "visibility": "public"})
    assert r.status_code in (302, 303)
    r = await resident.post(f"/cases/{case['id']}/comment", data={
        "_csrf_token": await csrf(resident, f"/cases/{case['id']}"), "text": "偷偷说",
        "visibility": "internal"})
    assert r.status_code == 403
    r = await manager.post(f"/cases/{case['id']}/comment", data={
        "_csrf_token": await csrf(manager, f"/cases/{case['id']}"), "text": "内部：需要换主板",
        "visibility": "internal"})
    assert r.status_code in (302, 303)
    seen_by_resident = (await resident.get(f"/cases/{case['id']}")).text
    seen_by_manager = (await manager.get(f"/cases/{case['id']}")).text
    assert "请尽快处理" in seen_by_resident and "请尽快处理" in seen_by_manager
    assert "需要换主板" in seen_by_manager and "需要换主板" not in seen_by_resident
    assert 'value="internal"' in seen_by_manager and 'value="internal"' not in seen_by_resident
    for username in (world.a2.users["property_company:manager"], world.b.users["property_company:manager"]):
        outsider = await browser(username)
        r = await outsider.post(f"/cases/{case['id']}/comment", data={
            "_csrf_token": await csrf(outsider, "/cases"), "text": "x", "visibility": "public"})
        assert r.status_code == 404, username


async def test_resolving_on_the_web_takes_photos_of_the_result(client, world, browser):
    case = await report(client, world, description="路灯不亮（网页办结带照片）")
    for step in ("accept", "assign"):
        await act(client, world, "property_company:manager", case["id"], step,
                  **({"assignee_user_id": world.a1.user_ids["property_company:handler"]}
                     if step == "assign" else {}))
    for step in ("acknowledge", "start"):
        await act(client, world, "property_company:handler", case["id"], step)
    web = await browser(world.a1.users["property_company:handler"])
    r = await web.post(f"/cases/{case['id']}/act", data={
        "_csrf_token": await csrf(web, f"/cases/{case['id']}"), "action": "resolve",
        "comment": "已更换灯泡"}, files=[("photos", ("r1.jpg", tiny_jpeg(), "image/jpeg")),
                                        ("photos", ("r2.jpg", tiny_jpeg(), "image/jpeg"))])
    assert r.status_code in (302, 303) and "error" not in r.headers["location"]
    assert (await case_row(case["id"]))["status"] == "resolved"
    rows = await fetch('SELECT count(*) AS n FROM case_attachment WHERE "case" = $1', case["id"])
    assert rows[0]["n"] == 2
    # photos on an action that takes none: refused, nothing changes
    r = await web.post(f"/cases/{case['id']}/act", data={
        "_csrf_token": await csrf(web, f"/cases/{case['id']}"), "action": "reopen", "reason": "x"},
        files=[("photos", ("r3.jpg", tiny_jpeg(), "image/jpeg"))])
    assert r.headers["location"].endswith("?error=photo")
    assert (await case_row(case["id"]))["status"] == "resolved"
