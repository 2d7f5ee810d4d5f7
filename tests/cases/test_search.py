"""The case list: date range, Chinese substring search, sorting with keyset cursors, counts.

The test world is shared by the session, so every test tags its cases with a fresh token
(in the location) and narrows the list with `q`."""
from __future__ import annotations

import uuid

from core.db import db, fetch
from tests.cases.helpers import act, headers, report

SORTS = ("-created_at", "created_at", "resolve_due_at", "priority")


def token() -> str:
    return f"T{uuid.uuid4().hex[:8]}"


async def tagged(client, world, tok: str, n: int = 1, **body) -> list[dict]:
    return [await report(client, world, location=f"{tok} 楼道", **body) for _ in range(n)]


async def listed(client, h, **params) -> list[dict]:
    r = await client.get("/api/v1/cases", params={"limit": 100, **params}, headers=h)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def walk_pages(client, h, limit: int, **params) -> list[dict]:
    items, cursor = [], None
    for _ in range(1000):
        q = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/v1/cases", params=q, headers=h)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination does not end")


async def test_chinese_substring_search_in_description_and_location(client, world):
    tok = token()
    lift = (await tagged(client, world, tok, description="3号楼电梯停运"))[0]
    grass = (await tagged(client, world, tok, description="绿化带杂草丛生"))[0]
    h = await headers(client, world, "property_company:manager")
    for q in ("电梯", "电梯停运", "梯", "3号楼"):
        ids = [c["id"] for c in await listed(client, h, q=q)]
        assert lift["id"] in ids and grass["id"] not in ids, q
    ids = [c["id"] for c in await listed(client, h, q=f"{tok} 楼道")]
    assert sorted(ids) == sorted([lift["id"], grass["id"]])
    assert await listed(client, h, q=f"{tok}%") == []  # % and _ are literal
    r = await client.get("/api/v1/cases", params={"q": "x" * 101}, headers=h)
    assert r.status_code == 400 or r.status_code == 422


async def test_date_range_counts_days_in_shanghai(client, world):
    tok = token()
    late, early = await tagged(client, world, tok, 2)
    async with db().transaction():
        await fetch("UPDATE case_record SET created_at = '2021-03-01 23:30+08' WHERE id = $1",
                    late["id"])
        await fetch("UPDATE case_record SET created_at = '2021-03-02 00:30+08' WHERE id = $1",
                    early["id"])
    h = await headers(client, world, "property_company:manager")

    async def ids(**params) -> list[int]:
        return [c["id"] for c in await listed(client, h, q=tok, **params)]
    assert await ids(created_from="2021-03-02", created_to="2021-03-02") == [early["id"]]
    assert await ids(created_to="2021-03-01") == [late["id"]]
    assert sorted(await ids(created_from="2021-03-01", created_to="2021-03-02")) == sorted(
        [late["id"], early["id"]])
    assert await ids(created_from="2021-03-03") == []
    r = await client.get("/api/v1/cases", params={"created_from": "2021-03-02",
                                                  "created_to": "2021-03-01"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "created_to"


async def test_every_sort_pages_through_every_visible_case_exactly_once(client, world):
    tok = token()
    cases = [*await tagged(client, world, tok, 2, priority="normal"),
             *await tagged(client, world, tok, 2, priority="emergency"),
             *await tagged(client, world, tok, 1, priority="urgent")]
    mine = sorted(c["id"] for c in cases)
    h = await headers(client, world, "property_company:manager")
    total = (await client.get("/api/v1/cases/counts", headers=h)).json()["total"]
    for sort in SORTS:
        items = await walk_pages(client, h, 2, q=tok, sort=sort)
        ids = [c["id"] for c in items]
        assert sorted(ids) == mine, sort
        everything = [c["id"] for c in await walk_pages(client, h, 7, sort=sort)]
        assert len(everything) == len(set(everything)) == total, sort
        if sort == "priority":
            ranks = [("emergency", "urgent", "normal").index(c["priority"]) for c in items]
            assert ranks == sorted(ranks)
        if sort == "resolve_due_at":
            dues = [c["resolve_due_at"] for c in items]
            assert dues == sorted(dues)
        if sort == "created_at":
            assert ids == sorted(ids)
        if sort == "-created_at":
            assert ids == sorted(ids, reverse=True)


async def test_bad_cursors_are_refused(client, world):
    h = await headers(client, world, "property_company:manager")
    page = (await client.get("/api/v1/cases", params={"limit": 1, "sort": "priority"},
                             headers=h)).json()
    assert page["next_cursor"]
    for params in ({"cursor": page["next_cursor"]},  # made for another sort
                   {"cursor": "not-a-cursor", "sort": "priority"}, {"cursor": "12"}):
        r = await client.get("/api/v1/cases", params=params, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor", params


async def test_counts_match_the_list(client, world):
    tok = token()
    cases = await tagged(client, world, tok, 3)
    await act(client, world, "property_company:manager", cases[0]["id"], "accept")
    async with db().transaction():
        await fetch("UPDATE case_record SET resolve_due_at = now() - interval '1 hour'"
                    " WHERE id = $1", cases[1]["id"])
    h = await headers(client, world, "property_company:manager")
    counts = (await client.get("/api/v1/cases/counts", params={"q": tok}, headers=h)).json()
    assert counts["total"] == 3 and counts["overdue"] == 1
    assert counts["by_status"]["accepted"] == 1 and counts["by_status"]["submitted"] == 2
    assert counts["by_status"]["closed"] == 0
    overdue = await listed(client, h, q=tok, overdue="true")
    assert [c["id"] for c in overdue] == [cases[1]["id"]] and overdue[0]["overdue"] is True
    accepted = await client.get("/api/v1/cases/counts", params={"q": tok, "status": "accepted"},
                                headers=h)
    assert accepted.json()["total"] == 1
    everything = (await client.get("/api/v1/cases/counts", headers=h)).json()
    assert everything["total"] == len(await walk_pages(client, h, 100))


async def test_other_tenants_and_unrelated_organisations_see_none_of_the_victims_cases(client, world):
    marker = world.a1.marker
    victim = await headers(client, world, "property_company:manager")
    assert await listed(client, victim, q=marker)
    for side, persona in (("b", "bureau:admin"), ("b", "property_company:admin"),
                          ("a2", "property_company:admin"), ("a2", "street_office:admin"),
                          ("a2", "owners_committee:admin")):
        h = await headers(client, world, persona, side)
        assert await listed(client, h, q=marker) == [], (side, persona)
        r = await client.get("/api/v1/cases/counts", params={"q": marker}, headers=h)
        assert r.json()["total"] == 0, (side, persona)
        r = await client.get("/api/v1/cases/counts", headers=h)
        assert marker not in r.text
        r = await client.get(f"/api/v1/cases?estate_id={world.a1.estate}", headers=h)
        assert r.json()["items"] == []
