"""The cases' queue jobs: supervision (督办) and escalation of overdue cases, and closing
resolved cases nobody rated. Deadlines are moved into the past in the database."""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from cases import supervision
from cases.case_util import now
from core.db import db, fetch
from gongzhi.worker import FUNCTIONS, build_worker
from tests.cases.helpers import act, report, walk

HANDLER = "property_company:handler"


async def _set(case_id: int, **values) -> None:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(values, 2))
    async with db().transaction():
        await fetch(f"UPDATE case_record SET {sets} WHERE id = $1", case_id, *values.values())


async def _events(case_id: int, action: str) -> list[dict]:
    rows = await fetch("SELECT * FROM case_event WHERE \"case\" = $1 AND action = $2 ORDER BY seq",
                       case_id, action)
    return [{**r, "data": json.loads(r["data"]) if isinstance(r["data"], str) else r["data"]}
            for r in rows]


async def _outbox(case_id: int, topic: str) -> list[dict]:
    return await fetch("SELECT * FROM outbox_event WHERE topic = $1"
                       " AND (payload->>'case_id')::int = $2 ORDER BY id", topic, case_id)


async def test_overdue_acknowledgement_is_supervised_and_the_committee_told(client, world):
    case = await report(client, world)
    await _set(case["id"], ack_due_at=now() - timedelta(minutes=90))
    assert "supervise_overdue_cases" in [f.__name__ for f in FUNCTIONS]

    worker = build_worker(manage_pool=False, burst=True)
    job = await worker.queue.enqueue("supervise_overdue_cases", timeout=60)
    await asyncio.wait_for(worker.start(), timeout=60)
    await job.refresh()
    assert job.status == "complete", job.error
    assert job.result["supervised"] >= 1

    [event] = await _events(case["id"], "supervise")
    assert event["actor_user"] is None and event["data"]["deadline"] == "acknowledge"
    assert 89 * 60 <= event["data"]["overdue_seconds"] <= 100 * 60
    [sent] = await _outbox(case["id"], "case.overdue")
    assert world.a1.orgs["residents_committee"] in sent["organization_ids"]
    assert case["responsible_organization_id"] in sent["organization_ids"]
    assert world.a1.orgs["street_office"] not in sent["organization_ids"]
    row = (await fetch("SELECT escalated FROM case_record WHERE id = $1", case["id"]))[0]
    assert row["escalated"] is False  # one working day late is not yet a whole allowance again


async def test_overdue_by_the_whole_allowance_again_escalates_to_the_street_office(client, world):
    case = await report(client, world)
    await _set(case["id"], ack_due_at=now() - timedelta(days=10))
    done = await supervision.sweep_tenant(world.tenant_a)
    assert done == {"supervised": 1, "escalated": 1}
    row = (await fetch("SELECT escalated, version FROM case_record WHERE id = $1", case["id"]))[0]
    assert row["escalated"] is True
    [event] = await _events(case["id"], "escalate")
    assert event["actor_user"] is None and event["reason"]
    assert event["data"]["to_organization_ids"] == [world.a1.orgs["street_office"]]
    [sent] = await _outbox(case["id"], "case.escalate")
    assert world.a1.orgs["street_office"] in sent["organization_ids"]

    # running it again changes nothing
    assert await supervision.sweep_tenant(world.tenant_a) == {"supervised": 0, "escalated": 0}
    again = (await fetch("SELECT version FROM case_record WHERE id = $1", case["id"]))[0]
    assert again["version"] == row["version"]
    assert len(await _events(case["id"], "supervise")) == 1
    assert len(await _outbox(case["id"], "case.overdue")) == 1


async def test_a_paused_case_is_not_supervised_while_paused(client, world):
    case = await report(client, world)
    await walk(client, world, case["id"], "accept", "assign", "acknowledge", "start")
    await act(client, world, HANDLER, case["id"], "pause", reason="等待配件")
    await _set(case["id"], resolve_due_at=now() - timedelta(days=10))
    assert await supervision.sweep_tenant(world.tenant_a) == {"supervised": 0, "escalated": 0}
    assert await _events(case["id"], "supervise") == []

    await _set(case["id"], paused=False)  # resumed, and still late
    done = await supervision.sweep_tenant(world.tenant_a)
    assert done["supervised"] == 1
    [event] = await _events(case["id"], "supervise")
    assert event["data"]["deadline"] == "resolve"


async def test_other_tenants_cases_and_acknowledged_ones_are_left_alone(client, world):
    case = await report(client, world)
    await walk(client, world, case["id"], "accept", "assign", "acknowledge")
    await _set(case["id"], ack_due_at=now() - timedelta(days=10))
    assert await supervision.sweep_tenant(world.tenant_b) == {"supervised": 0, "escalated": 0}
    assert await supervision.sweep_tenant(world.tenant_a) == {"supervised": 0, "escalated": 0}


async def test_concurrent_sweeps_supervise_each_case_once(client, world):
    ids = []
    for _ in range(4):
        case = await report(client, world)
        await _set(case["id"], ack_due_at=now() - timedelta(days=10))
        ids.append(case["id"])
    results = await asyncio.gather(*(supervision.sweep_tenant(world.tenant_a) for _ in range(3)))
    assert sum(r["supervised"] for r in results) == 4
    assert sum(r["escalated"] for r in results) == 4
    for case_id in ids:
        assert len(await _events(case_id, "supervise")) == 1
        assert len(await _events(case_id, "escalate")) == 1


async def test_a_moved_deadline_is_supervised_again_when_it_passes(client, world):
    case = await report(client, world)
    await _set(case["id"], ack_due_at=now() - timedelta(minutes=5))
    assert (await supervision.sweep_tenant(world.tenant_a))["supervised"] == 1
    await _set(case["id"], ack_due_at=now() - timedelta(minutes=1))
    assert (await supervision.sweep_tenant(world.tenant_a))["supervised"] == 1
    assert len(await _events(case["id"], "supervise")) == 2


async def test_resolved_cases_nobody_rated_close_after_the_allowed_days(client, world):
    old, recent = await report(client, world), await report(client, world)
    for c in (old, recent):
        await walk(client, world, c["id"], "accept", "assign", "acknowledge", "start")
        await act(client, world, HANDLER, c["id"], "resolve", comment="已修好")
    await _set(old["id"], resolved_at=now() - timedelta(days=supervision.AUTO_CLOSE_DAYS, hours=1))
    await _set(recent["id"], resolved_at=now() - timedelta(days=supervision.AUTO_CLOSE_DAYS - 1))

    worker = build_worker(manage_pool=False, burst=True)
    job = await worker.queue.enqueue("close_unrated_cases", timeout=60)
    await asyncio.wait_for(worker.start(), timeout=60)
    await job.refresh()
    assert job.status == "complete", job.error
    assert job.result == 1

    rows = {r["id"]: r for r in await fetch(
        "SELECT id, status, closed_at, rating FROM case_record WHERE id = ANY($1::int[])",
        [old["id"], recent["id"]])}
    assert rows[old["id"]]["status"] == "closed" and rows[old["id"]]["closed_at"]
    assert rows[old["id"]]["rating"] is None
    assert rows[recent["id"]]["status"] == "resolved"
    [event] = await _events(old["id"], "close")
    assert event["actor_user"] is None and event["data"]["rated"] is False
    assert len(await _outbox(old["id"], "case.close")) == 1
    assert await supervision.close_unrated_cases() == 0  # idempotent
    assert len(await _events(old["id"], "close")) == 1


async def test_a_case_with_unreadable_sla_targets_does_not_stop_the_sweep(client, world):
    broken = await report(client, world)
    sound = await report(client, world)
    await _set(broken["id"], ack_due_at=now() - timedelta(days=10), sla_targets="{}")
    await _set(sound["id"], ack_due_at=now() - timedelta(days=10))
    done = await supervision.sweep_tenant(world.tenant_a)
    assert done["supervised"] >= 2
    assert len(await _events(broken["id"], "supervise")) == 1  # supervised on the defaults
    assert len(await _events(sound["id"], "supervise")) == 1
