"""The working calendar API: everyone of the tenant reads it, only bureau admins edit it, an
edit moves deadlines at once, and nothing crosses tenants."""
from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from cases import service as svc
from cases.calendar import TZ
from cases.sla import SlaTargets, deadline
from core.db import fetch
from tests.factories import login

NORMAL_ACK = SlaTargets.defaults().normal.acknowledge
FRIDAY_AFTERNOON = datetime(2026, 3, 6, 16, 30, tzinfo=TZ)


def days_by_date(body: dict) -> dict[str, dict]:
    return {d["date"]: d for d in body["days"]}


async def test_any_user_of_the_tenant_reads_the_statutory_days_of_a_year(client, world):
    h = await login(client, world.a1.users["residents_committee:grid_worker"])
    r = await client.get("/api/v1/calendar?year=2026", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["year"] == 2026 and body["covered"] and body["business_hours"] == "09:00-17:00"
    days = days_by_date(body)
    assert days["2026-02-14"] == {"date": "2026-02-14", "kind": "workday", "name": "春节调休上班",
                                  "source": "national", "workday": True}
    assert days["2026-10-01"]["kind"] == "holiday" and not days["2026-10-01"]["workday"]
    assert list(days) == sorted(days)
    r = await client.get("/api/v1/calendar?year=2031", headers=h)
    assert r.status_code == 200 and not r.json()["covered"]


async def test_a_tenant_holiday_moves_a_deadline_at_once_and_is_audited(client, world):
    h = await login(client, world.a1.users["bureau:admin"])
    before = await svc.calendar_for(world.tenant_a)  # cached now: the edit must drop it
    assert deadline(FRIDAY_AFTERNOON, NORMAL_ACK, before) == datetime(2026, 3, 9, 16, 30, tzinfo=TZ)

    r = await client.put("/api/v1/calendar/2026-03-09", json={"kind": "holiday", "name": "防汛"},
                         headers=h)
    assert r.status_code == 200, r.text
    assert r.json() == {"date": "2026-03-09", "kind": "holiday", "name": "防汛", "source": "tenant",
                        "workday": False}
    after = await svc.calendar_for(world.tenant_a)
    assert deadline(FRIDAY_AFTERNOON, NORMAL_ACK, after) == datetime(2026, 3, 10, 16, 30, tzinfo=TZ)
    listed = days_by_date((await client.get("/api/v1/calendar?year=2026", headers=h)).json())
    assert listed["2026-03-09"]["source"] == "tenant"

    rows = await fetch("SELECT action, subject_id, actor_user_id, data FROM audit_entry"
                       " WHERE tenant_id = $1 AND subject_type = 'calendar_day' ORDER BY seq DESC"
                       " LIMIT 1", world.tenant_a)
    assert rows[0]["action"] == "calendar_day.set" and rows[0]["subject_id"] == "2026-03-09"
    assert rows[0]["actor_user_id"] == world.a1.user_ids["bureau:admin"]
    assert json.loads(rows[0]["data"]) == {"kind": "holiday", "name": "防汛", "previous": None}

    r = await client.delete("/api/v1/calendar/2026-03-09", headers=h)
    assert r.status_code == 204, r.text
    restored = await svc.calendar_for(world.tenant_a)
    assert deadline(FRIDAY_AFTERNOON, NORMAL_ACK, restored) == datetime(2026, 3, 9, 16, 30, tzinfo=TZ)
    assert (await client.delete("/api/v1/calendar/2026-03-09", headers=h)).status_code == 404


async def test_a_tenant_may_turn_a_national_holiday_into_a_working_day_and_back(client, world):
    h = await login(client, world.a1.users["bureau:admin"])
    for kind, name in (("holiday", "先设为假日"), ("workday", "国庆值班")):  # the second updates
        r = await client.put("/api/v1/calendar/2026-10-07", json={"kind": kind, "name": name},
                             headers=h)
        assert r.status_code == 200, r.text
    day = days_by_date((await client.get("/api/v1/calendar?year=2026", headers=h)).json())["2026-10-07"]
    assert day == {"date": "2026-10-07", "kind": "workday", "name": "国庆值班", "source": "tenant",
                   "workday": True}
    assert (await client.delete("/api/v1/calendar/2026-10-07", headers=h)).status_code == 204
    day = days_by_date((await client.get("/api/v1/calendar?year=2026", headers=h)).json())["2026-10-07"]
    assert day["source"] == "national" and not day["workday"]


@pytest.mark.parametrize("persona", ["bureau:staff", "street_office:admin", "property_company:admin",
                                     "residents_committee:admin", "owners_committee:chair"])
async def test_only_the_bureau_admin_may_edit_the_calendar(client, world, persona):
    h = await login(client, world.a1.users[persona])
    r = await client.put("/api/v1/calendar/2026-03-16", json={"kind": "holiday", "name": "擅自"},
                         headers=h)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.delete("/api/v1/calendar/2026-02-14", headers=h)).status_code == 403
    rows = await fetch("SELECT 1 FROM calendar_day WHERE date = '2026-03-16'")
    assert rows == []


async def test_another_tenants_edit_never_reaches_this_tenant(client, world):
    hb = await login(client, world.b.users["bureau:admin"])
    r = await client.put("/api/v1/calendar/2026-03-17", json={"kind": "holiday", "name": "B 的假日"},
                         headers=hb)
    assert r.status_code == 200, r.text
    try:
        assert not (await svc.calendar_for(world.tenant_b)).is_workday(date(2026, 3, 17))
        assert (await svc.calendar_for(world.tenant_a)).is_workday(date(2026, 3, 17))
        ha = await login(client, world.a1.users["bureau:admin"])
        listed = days_by_date((await client.get("/api/v1/calendar?year=2026", headers=ha)).json())
        assert "2026-03-17" not in listed
        # tenant A's admin cannot remove tenant B's day: for A it does not exist
        assert (await client.delete("/api/v1/calendar/2026-03-17", headers=ha)).status_code == 404
    finally:
        assert (await client.delete("/api/v1/calendar/2026-03-17", headers=hb)).status_code == 204


@pytest.mark.parametrize("url,body,status", [
    ("/api/v1/calendar/2026-03-18", {"kind": "party", "name": "x"}, 400),
    ("/api/v1/calendar/2026-03-18", {"kind": "holiday", "name": ""}, 400),
    ("/api/v1/calendar/2026-03-18", {"kind": "holiday", "name": "   "}, 422),
    ("/api/v1/calendar/2026-03-18", {"kind": "holiday"}, 400),
    ("/api/v1/calendar/1999-12-31", {"kind": "holiday", "name": "太早"}, 422),
    ("/api/v1/calendar/not-a-date", {"kind": "holiday", "name": "x"}, 404),
])
async def test_invalid_calendar_edits_are_refused_with_a_problem(client, world, url, body, status):
    h = await login(client, world.a1.users["bureau:admin"])
    r = await client.put(url, json=body, headers=h)
    assert r.status_code == status, r.text


async def test_reading_needs_a_login_and_a_sensible_year(client, world):
    assert (await client.get("/api/v1/calendar?year=2026")).status_code == 401
    h = await login(client, world.a1.users["bureau:admin"])
    assert (await client.get("/api/v1/calendar?year=1999", headers=h)).status_code == 400
    assert (await client.get("/api/v1/calendar", headers=h)).status_code == 200
