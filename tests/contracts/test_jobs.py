"""The daily contract sweep: active → expiring 90 days before the end (announced once to the
owners' and residents' committees, however often the sweep runs) → expired after the end."""
from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta

from contracts import service
from contracts.jobs import contract_status_sweep
from core.db import db, fetch
from gongzhi.worker import CRON_JOBS, FUNCTIONS, build_worker
from tests.contracts.helpers import create_active


async def _status(contract_id: int) -> str:
    return (await fetch("SELECT status FROM service_contract WHERE id = $1", contract_id))[0]["status"]


async def _notices(contract_id: int) -> list[dict]:
    rows = await fetch("SELECT payload, organization_ids FROM outbox_event"
                       " WHERE topic = 'contract.expiring' AND payload->>'contract_id' = $1",
                       str(contract_id))
    return [{**r, "payload": json.loads(r["payload"]) if isinstance(r["payload"], str)
             else r["payload"]} for r in rows]


async def _sweep_on(day: date, contract_id: int) -> dict[str, int]:
    """The sweep's transitions on a future day, for this test's contract only (a global sweep
    on a future day would move other tests' contracts too)."""
    async with db().transaction():
        return await service.advance_statuses(day, contract_id=contract_id)


async def test_expiring_at_ninety_days_notified_once_then_expired(client, world):
    today = date.today()
    ends_on = today + timedelta(days=200)
    contract = await create_active(client, world, ends_on=ends_on.isoformat())
    cid = contract["id"]
    assert contract["status"] == "active"

    assert await _sweep_on(ends_on - timedelta(days=91), cid) == {"expiring": 0,
                                                             "expired": 0}
    assert await _status(cid) == "active" and await _notices(cid) == []

    await _sweep_on(ends_on - timedelta(days=90), cid)
    await _sweep_on(ends_on - timedelta(days=90), cid)  # the same day again
    await _sweep_on(ends_on - timedelta(days=60), cid)
    assert await _status(cid) == "expiring"
    notices = await _notices(cid)
    assert len(notices) == 1
    assert notices[0]["payload"]["ends_on"] == ends_on.isoformat()
    counterparty = contract["counterparty_id"]  # the fresh estate's owners' committee
    assert set(notices[0]["organization_ids"]) == {counterparty,
                                                   world.a1.orgs["residents_committee"]}

    await _sweep_on(ends_on, cid)  # the last day is still in force
    assert await _status(cid) == "expiring"
    await _sweep_on(ends_on + timedelta(days=1), cid)
    assert await _status(cid) == "expired" and len(await _notices(cid)) == 1
    actions = [r["action"] for r in await fetch(
        "SELECT action FROM audit_entry WHERE tenant_id = $1 AND subject_type = 'service_contract'"
        " AND subject_id = $2 ORDER BY seq", world.tenant_a, str(cid))]
    assert actions == ["contract.created", "contract.activated", "contract.expiring",
                       "contract.expiry_notified", "contract.expired"]


async def test_a_contract_activated_inside_the_notice_period_is_announced_at_once(client, world):
    contract = await create_active(client, world,
                                   ends_on=(date.today() + timedelta(days=30)).isoformat())
    assert contract["status"] == "expiring"
    assert len(await _notices(contract["id"])) == 1
    await contract_status_sweep()
    await contract_status_sweep()  # the daily cron may well run twice (a retry, two workers)
    assert len(await _notices(contract["id"])) == 1


async def test_the_sweep_runs_in_the_worker_and_is_scheduled_daily(client, world):
    assert "contract_status_sweep" in [f.__name__ for f in FUNCTIONS]
    assert any(c.function is contract_status_sweep for c in CRON_JOBS)
    worker = build_worker(manage_pool=False, burst=True)
    job = await worker.queue.enqueue("contract_status_sweep", timeout=60)
    await asyncio.wait_for(worker.start(), timeout=30)
    await job.refresh()
    assert job.status == "complete", job.error
    assert await _status(world.a1.contract) == "active"  # years left: untouched
