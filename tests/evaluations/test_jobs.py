"""The evaluation jobs run in the worker: closing campaigns whose deadline passed (every 5
minutes) and the daily reminders (at most one per organisation and day however often it runs)."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

from core.db import fetch
from evaluations.jobs import close_due_campaigns, evaluation_reminders
from gongzhi.worker import CRON_JOBS, FUNCTIONS, build_worker
from tests.evaluations.campaign_world import build, open_campaign


async def test_jobs_are_scheduled_and_run_in_the_worker(client):
    names = [f.__name__ for f in FUNCTIONS]
    assert "close_due_campaigns" in names and "evaluation_reminders" in names
    assert any(c.function is close_due_campaigns and c.cron == "*/5 * * * *" for c in CRON_JOBS)
    assert any(c.function is evaluation_reminders for c in CRON_JOBS)
    m = await build()
    due = await open_campaign(client, m)  # this quarter: its deadline is moved into the past
    await fetch("UPDATE evaluation_campaign SET submission_deadline = now() - interval '1 hour'"
                " WHERE id = $1", due["id"])
    h = await m.h(client, "bureau")
    r = await client.post("/api/v1/evaluation-campaigns", headers=h, json={
        "name": "年度评价", "period_kind": "year", "period_start": f"{date.today().year}-01-01",
        "submission_deadline": (datetime.now(timezone.utc) + timedelta(days=5)).isoformat()})
    running = r.json()["id"]
    assert (await client.post(f"/api/v1/evaluation-campaigns/{running}/open",
                              headers=h)).status_code == 200
    worker = build_worker(manage_pool=False, burst=True)
    jobs = [await worker.queue.enqueue(name, timeout=60)
            for name in ("close_due_campaigns", "evaluation_reminders", "evaluation_reminders")]
    await asyncio.wait_for(worker.start(), timeout=60)
    for job in jobs:
        await job.refresh()
        assert job.status == "complete", job.error
    statuses = await fetch("SELECT id, status FROM evaluation_campaign WHERE tenant = $1",
                           m.tenant)
    assert {r["id"]: r["status"] for r in statuses} == {due["id"]: "closed", running: "open"}
    reminders = await fetch("SELECT organization_ids FROM outbox_event WHERE tenant_id = $1"
                            " AND topic = 'evaluation.reminder'", m.tenant)
    assert sorted(r["organization_ids"][0] for r in reminders) == sorted(
        m.orgs[k] for k in ("oc1", "oc2", "rc", "so"))  # once each, for the running campaign
