"""Case transitions through the API: permissions per role, counters, SLA effects, safe writes."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.db import db, fetch
from tests.cases.helpers import act, headers, report, walk

MANAGER, HANDLER = "property_company:manager", "property_company:handler"
GRID, STREET = "residents_committee:grid_worker", "street_office:staff"


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_report_to_rating_with_a_reopen_on_a_low_rating(client, world):
    case = await report(client, world)
    out = await walk(client, world, case["id"], "accept", "assign")
    assert out["assignee_user_id"] == world.a1.user_ids[HANDLER]  # the least-loaded handler
    out = await walk(client, world, case["id"], "acknowledge", "start")
    assert out["status"] == "in_progress" and out["acknowledged_at"]
    out = await act(client, world, HANDLER, case["id"], "resolve", comment="已更换水管")
    assert out["status"] == "resolved" and out["resolved_at"] and out["resolution"] == "已更换水管"
    out = await act(client, world, "resident", case["id"], "rate", rating=2, comment="还在漏")
    assert (out["status"], out["reopens"], out["resolved_at"], out["rating"]) == (
        "in_progress", 1, None, 2)
    await act(client, world, HANDLER, case["id"], "resolve", comment="再次维修")
    out = await act(client, world, "resident", case["id"], "rate", rating=5)
    assert out["status"] == "closed" and out["closed_at"] and out["allowed_actions"] == ["reopen"]
    events = (await client.get(f"/api/v1/cases/{case['id']}/events",
                               headers=await headers(client, world, "resident"))).json()
    assert [e["seq"] for e in events] == list(range(1, 10))
    assert [e["action"] for e in events][-3:] == ["rate", "resolve", "rate"]


@pytest.mark.parametrize("persona,action,body,expect", [
    (HANDLER, "accept", {}, 403), ("owners_committee:chair", "accept", {}, 403),
    ("resident", "accept", {}, 403), ("bureau:admin", "accept", {}, 403),
    (GRID, "accept", {}, 200), (MANAGER, "accept", {}, 200),
    (GRID, "reject", {"reason": "不属于物业范围"}, 200), (STREET, "escalate", {"reason": "督办"}, 200),
    (HANDLER, "escalate", {"reason": "x"}, 403), ("resident", "withdraw", {}, 200),
    (MANAGER, "withdraw", {}, 403), (MANAGER, "resolve", {"comment": "x"}, 409),
])
async def test_who_may_do_what_on_a_new_case(client, world, persona, action, body, expect):
    case = await report(client, world)
    out = await act(client, world, persona, case["id"], action, expect, **body)
    if expect in (403, 409):
        assert "allowed_actions" in out and action not in out["allowed_actions"]
    if expect == 409:
        assert out["allowed_actions"] == ["accept", "reject", "transfer", "mark_duplicate"]


async def test_stale_if_match_gets_412_and_a_fresh_one_works(client, world):
    case = await report(client, world)
    h = await headers(client, world, MANAGER)
    url = f"/api/v1/cases/{case['id']}"
    tag = (await client.get(url, headers=h)).headers["etag"]
    assert tag == '"v1"'
    r = await client.post(f"{url}/actions/accept", json={}, headers={**h, "If-Match": tag})
    assert r.status_code == 200 and r.headers["etag"] == '"v2"'
    r = await client.post(f"{url}/actions/assign", json={}, headers={**h, "If-Match": tag})
    assert r.status_code == 412 and r.json()["etag"] == '"v2"'
    r = await client.post(f"{url}/actions/frobnicate", json={}, headers=h)
    assert r.status_code == 404
    r = await client.post(f"{url}/actions/assign", json={"rating": 3}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rating"


async def test_transfer_is_counted_and_moves_responsibility(client, world):
    case = await report(client, world)
    await walk(client, world, case["id"], "accept", "assign")
    r = await act(client, world, GRID, case["id"], "transfer", 422,
                  target_organization_id=world.a2.orgs["property_company"], reason="x")
    assert r["errors"][0]["field"] == "target_organization_id"
    out = await act(client, world, GRID, case["id"], "transfer", reason="邻里纠纷，社区处理",
                    target_organization_id=world.a1.orgs["residents_committee"])
    assert (out["status"], out["transfers"], out["assignee_user_id"]) == ("accepted", 1, None)
    assert out["responsible_organization_id"] == world.a1.orgs["residents_committee"]
    assert out["ack_due_at"] == case["ack_due_at"]  # 首接负责: the clock keeps running


async def test_return_only_within_the_window(client, world):
    case = await report(client, world)
    await walk(client, world, case["id"], "accept", "assign")
    out = await act(client, world, HANDLER, case["id"], "return", reason="非本单位职责")
    assert (out["status"], out["returns"], out["assignee_user_id"]) == ("returned", 1, None)
    late = await report(client, world)
    await walk(client, world, late["id"], "accept", "assign")
    async with db().transaction():
        await fetch("UPDATE case_record SET routed_at = routed_at - interval '30 days'"
                    " WHERE id = $1", late["id"])
    await act(client, world, HANDLER, late["id"], "return", 409, reason="太晚了")


async def test_a_pause_moves_the_resolution_deadline_by_its_length(client, world):
    case = await report(client, world, priority="emergency")
    await walk(client, world, case["id"], "accept", "assign", "acknowledge")
    out = await act(client, world, HANDLER, case["id"], "pause", reason="等待配件")
    assert out["paused"] and out["pauses"] == 1
    assert out["allowed_actions"] == ["resume", "request_extension"]
    await act(client, world, HANDLER, case["id"], "resolve", 409, comment="x")
    async with db().transaction():  # the pause began two hours ago
        await fetch("UPDATE case_record SET pauses = jsonb_set(pauses, '{0,begin}',"
                    " to_jsonb(((pauses->0->>'begin')::timestamptz - interval '2 hours')::text))"
                    " WHERE id = $1", case["id"])
    out = await act(client, world, HANDLER, case["id"], "resume")
    shift = at(out["resolve_due_at"]) - at(case["resolve_due_at"])
    assert timedelta(hours=2) <= shift < timedelta(hours=2, minutes=1)


async def test_an_approved_extension_sets_the_new_date(client, world):
    case = await report(client, world)
    await walk(client, world, case["id"], "accept", "assign", "acknowledge", "start")
    new = (at(case["resolve_due_at"]) + timedelta(days=5)).isoformat()
    await act(client, world, HANDLER, case["id"], "request_extension", 422, reason="x",
              new_due_at=case["created_at"])
    out = await act(client, world, HANDLER, case["id"], "request_extension", reason="等待厂家",
                    new_due_at=new)
    assert at(out["extension_requested_until"]) == at(new)
    await act(client, world, MANAGER, case["id"], "approve_extension", 403)
    out = await act(client, world, GRID, case["id"], "approve_extension")
    assert at(out["resolve_due_at"]) == at(new) and out["extension_requested_until"] is None


async def test_duplicates_point_at_an_original_in_the_same_estate(client, world):
    original, dup = await report(client, world), await report(client, world)
    r = await act(client, world, MANAGER, dup["id"], "mark_duplicate", 422,
                  duplicate_of_case_id=world.a2.case)
    assert r["errors"][0]["field"] == "duplicate_of_case_id"
    out = await act(client, world, MANAGER, dup["id"], "mark_duplicate",
                    duplicate_of_case_id=original["id"])
    assert out["status"] == "duplicate" and out["duplicate_of_case_id"] == original["id"]
    assert out["allowed_actions"] == []


def test_a_pause_shifts_by_its_whole_length_in_the_allowance_unit():
    from cases.calendar import TZ, WorkingCalendar
    from cases.case_actions import _shifted
    from cases.sla import Allowance

    cal = WorkingCalendar()
    t0 = datetime(2026, 3, 6, 16, 0, tzinfo=TZ)  # a Friday
    hours = Allowance(24, "natural_hours")
    assert _shifted(t0 + timedelta(hours=1), t0, t0 + timedelta(hours=3), hours, cal) \
        == t0 + timedelta(hours=4)  # paused across the deadline: the clock stood still throughout
    assert _shifted(t0, t0 + timedelta(hours=1), t0 + timedelta(hours=2), hours, cal) == t0
    days = Allowance(3, "working_days")
    monday_due = datetime(2026, 3, 9, 16, 0, tzinfo=TZ)
    shifted = _shifted(monday_due, t0, datetime(2026, 3, 9, 10, 0, tzinfo=TZ), days, cal)
    assert shifted == datetime(2026, 3, 10, 10, 0, tzinfo=TZ)  # Fri 16-17 and Mon 9-10 count
