"""Tenancy's queue jobs, run by a real SAQ worker on the real Redis queue."""
import asyncio
from datetime import timedelta

from core.db import db, fetch
from gongzhi.worker import FUNCTIONS, build_worker
from tenancy import auth
from tenancy import repository as repo


async def test_purge_tokens_job_removes_long_expired_tokens_and_keeps_live_ones(client, world):
    user_id = world.a1.user_ids["owners_committee:member"]
    now = auth.now()
    async with db().transaction():
        old = await repo.create_token(tenant=world.tenant_a, user=user_id, token_hash=auth.new_token()[1],
                                      kind="api", expires_at=now - timedelta(days=30))
        live = await repo.create_token(tenant=world.tenant_a, user=user_id, token_hash=auth.new_token()[1],
                                       kind="api", expires_at=now + timedelta(days=1))
    assert "purge_tokens" in [f.__name__ for f in FUNCTIONS]

    worker = build_worker(manage_pool=False, burst=True)
    job = await worker.queue.enqueue("purge_tokens", timeout=30)
    await asyncio.wait_for(worker.start(), timeout=30)
    await job.refresh()
    assert job.status == "complete", job.error
    assert job.result >= 1

    ids = {r["id"] for r in await fetch("SELECT id FROM auth_token WHERE id = ANY($1::int[])", [old, live])}
    assert ids == {live}
