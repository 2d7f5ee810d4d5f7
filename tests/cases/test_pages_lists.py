"""The organisations' case lists on the web: the queue's filters, counts and keyset paging,
the committees' estates overview, and the live stream the pages listen to (with Last-Event-ID
replay), each refusing what the caller may not see."""
from __future__ import annotations

import re

import pytest

from cases import queue_pages
from core import outbox
from core.db import db, fetch
from tests.cases.helpers import act, headers, report
from tests.cases.test_pages_forms import browser  # noqa: F401  (fixture)
from tests.cases.test_stream import parse
from tests.factories import login


def ids_in(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-case-id="(\d+)"', html)]


async def all_ids(web, **params) -> list[int]:
    """Every case id of the filtered queue, following its "more" links."""
    r = await web.get("/cases", params=params)
    seen = []
    for _ in range(1000):
        assert r.status_code == 200, r.text[:300]
        seen += ids_in(r.text)
        more = re.search(r'href="(/cases\?[^"]*cursor=[^"]+)" rel="next"', r.text)
        if not more:
            return seen
        r = await web.get(more.group(1).replace("&amp;", "&"))
    raise AssertionError("the queue never ends")


async def test_queue_shows_open_cases_by_default_and_filters_by_status_and_overdue(
        client, world, browser):
    open_case = await report(client, world, description="队列：开放")
    rejected = await report(client, world, description="队列：不予受理")
    await act(client, world, "property_company:manager", rejected["id"], "reject", reason="非物业范围")
    late = await report(client, world, description="队列：超时")
    async with db().transaction():
        await fetch("UPDATE case_record SET ack_due_at = now() - interval '3 hours',"
                    " resolve_due_at = now() - interval '1 hour' WHERE id = $1", late["id"])
    web = await browser(world.a1.users["property_company:manager"])
    page = (await web.get("/cases")).text
    assert 'data-live-stream="/events/stream"' in page and "/static/cases-live.js" in page
    default = await all_ids(web)
    assert open_case["id"] in default and rejected["id"] not in default
    overdue_first = ids_in(page)  # nearest deadline first: the overdue case is on page one
    assert late["id"] in overdue_first
    assert re.search(rf'class="case-item overdue" data-case-id="{late["id"]}"', page)
    everything = await all_ids(web, all="1")
    assert {open_case["id"], rejected["id"]} <= set(everything)
    assert (await all_ids(web, status="rejected")).count(rejected["id"]) == 1
    overdue = await all_ids(web, overdue="1")
    assert late["id"] in overdue and open_case["id"] not in overdue
    assert re.search(r'class="chip chip-overdue"[^>]*>[^<]*\d', page)
    for username in (world.a2.users["property_company:manager"], world.b.users["property_company:manager"]):
        other = await browser(username)
        assert not {open_case["id"], late["id"]} & set(await all_ids(other, all="1"))


async def test_queue_pages_with_its_cursor_through_every_open_case_once(client, world, browser,
                                                                        monkeypatch):
    for i in range(5):
        await report(client, world, description=f"分页测试 {i}")
    monkeypatch.setattr(queue_pages, "PAGE_SIZE", 2)
    web = await browser(world.a1.users["property_company:manager"])
    seen, url = [], "/cases"
    for _ in range(500):
        html = (await web.get(url)).text
        seen += ids_in(html)
        more = re.search(r'href="(/cases\?[^"]*cursor=[^"]+)" rel="next"', html)
        if not more:
            break
        url = more.group(1).replace("&amp;", "&")
    want = await fetch("SELECT id FROM case_record WHERE responsible_org = $1 AND status = ANY($2)",
                       world.a1.orgs["property_company"], list(queue_pages.OPEN_STATUSES))
    assert len(seen) == len(set(seen)) and set(seen) == {r["id"] for r in want}
    # a cursor that is not this list's: the list starts again from the top, no error
    assert (await web.get("/cases", params={"cursor": "bm90LWEtY3Vyc29y"})).status_code == 200


async def test_committees_see_per_estate_counts_and_others_are_refused(client, world, browser):
    late = await report(client, world, description="概览：超时")
    async with db().transaction():
        await fetch("UPDATE case_record SET resolve_due_at = now() - interval '1 hour',"
                    " ack_due_at = now() - interval '2 hours' WHERE id = $1", late["id"])
    for persona in ("residents_committee:admin", "owners_committee:chair", "street_office:staff"):
        web = await browser(world.a1.users[persona])
        html = (await web.get("/cases/estates")).text
        row = re.search(rf'<tr data-estate-id="{world.a1.estate}" class="overdue">(.*?)</tr>', html, re.S)
        assert row, persona
        assert f"/cases?estate_id={world.a1.estate}&amp;overdue=1" in row.group(1)
        assert f'data-estate-id="{world.a2.estate}"' not in html, persona
    web = await browser(world.a1.users["property_company:manager"])
    assert (await web.get("/cases/estates")).status_code == 403
    web = await browser(world.b.users["residents_committee:admin"])
    html = (await web.get("/cases/estates")).text
    assert f'data-estate-id="{world.a1.estate}"' not in html


async def test_the_page_stream_takes_web_sessions_only(client, world, browser):
    token_headers = await headers(client, world, "property_company:manager")
    r = await client.get("/events/stream", params={"max_seconds": "0.2"}, headers=token_headers)
    assert r.status_code == 404
    assert (await client.get("/events/stream")).status_code == 401
    web = await browser(world.a1.users["property_company:manager"])
    r = await web.get("/events/stream", params={"max_seconds": "0.2"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert parse(r.text)[0]["comment"] == "subscribed"


async def test_a_reconnecting_stream_gets_the_published_events_it_missed_and_no_one_elses(
        client, world):
    case = await report(client, world, description="断线重连")
    await outbox.publish_outbox()
    event = (await fetch("SELECT id FROM outbox_event WHERE topic = 'case.create'"
                         " AND payload->>'case_id' = $1", str(case["id"])))[0]["id"]
    h = await headers(client, world, "property_company:manager")
    r = await client.get("/api/v1/events/stream", params={"max_seconds": "0.3"},
                         headers={**h, "Last-Event-ID": str(event - 1)})
    got = [m for m in parse(r.text) if m.get("id")]
    assert str(event) in [m["id"] for m in got]
    assert got == sorted(got, key=lambda m: int(m["id"])) and len({m["id"] for m in got}) == len(got)
    for stranger in (world.a2.users["property_company:manager"], world.users["b/bureau:admin"]):
        r = await client.get("/api/v1/events/stream", params={"max_seconds": "0.3"},
                             headers={**await login(client, stranger), "Last-Event-ID": str(event - 1)})
        assert str(event) not in [m.get("id") for m in parse(r.text)], stranger
