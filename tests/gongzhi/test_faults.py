"""Faults injected into real components (tests/gongzhi/faults.py), checking that nothing is lost:

- Redis killed and restarted while residents report cases: the API keeps accepting them, and
  every case's notification reaches the organisation's webhook after Redis is back (outbox);
- PostgreSQL restarted under a stream of writes: the app reconnects by itself and every write it
  acknowledged is there;
- a worker SIGKILLed in the middle of a job: another worker retries the job and its effect
  happens exactly once;
- a webhook receiver that answers 500 or times out: retried with back-off, then marked failed
  and visible in the delivery log (tests/core/test_webhooks.py covers the back-off schedule).
"""
from __future__ import annotations

import asyncio
import secrets
import time
from datetime import timedelta

import asyncpg
import httpx
from redis.asyncio import Redis
from saq.job import Status
from saq.queue.redis import RedisQueue

from cases.case_util import now
from core import webhooks
from core.db import db, fetch
from core.settings import get_settings
from tests.cases.helpers import report
from tests.conftest import TEST_URL
from tests.factories import PASSWORD
from tests.gongzhi.faults import (AppServer, PostgresServer, Process, RedisServer, WebhookReceiver,
                                  eventually, gongzhi_env)

async def _subscribe(world, url: str) -> int:
    async with db().transaction():
        sub, _secret = await webhooks.create_subscription(
            world.tenant_a, world.a1.orgs["property_company"], url, ["case.*"])
    return sub["id"]


async def _unsubscribe(sub_id: int) -> None:
    async with db().transaction():
        await fetch("UPDATE webhook_subscription SET active = FALSE WHERE id = $1", sub_id)


async def _api_login(c: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await c.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def test_cases_reported_while_redis_is_down_are_accepted_and_notified_after_it_returns(
        client, world):
    redis = RedisServer()
    receiver = WebhookReceiver()
    redis.start()
    sub = await _subscribe(world, receiver.url)
    app = AppServer(gongzhi_env(REDIS_URL=redis.url, DATABASE_URL=TEST_URL,
                                REDIS_NAMESPACE=f"faults-{secrets.token_hex(3)}",
                                WORKER_IN_PROCESS="true", WEBHOOK_ALLOW_PRIVATE="true",
                                WORKER_SWEEP_SECONDS="1"))
    try:
        await app.ready()
        async with httpx.AsyncClient(base_url=app.base_url, timeout=30) as c:
            h = await _api_login(c, world.a1.users["resident"])
            body = {"estate_id": world.a1.estate, "category": "repair", "description": "楼道灯不亮"}
            before = [(await c.post("/api/v1/cases", json=body, headers=h)) for _ in range(3)]
            redis.stop()
            during, took = [], []
            for i in range(5):
                started = time.perf_counter()
                try:
                    r = await c.post("/api/v1/cases", json=body, headers={
                        **h, "Idempotency-Key": f"redis-down-{secrets.token_hex(4)}-{i}"})
                except httpx.TimeoutException as exc:
                    raise AssertionError(f"a report hung while Redis was down:\n{app.output()}") from exc
                during.append(r)
                took.append(time.perf_counter() - started)
            health = await c.get("/health")
            redis.start()
            after = [(await c.post("/api/v1/cases", json=body, headers=h)) for _ in range(2)]
        responses = before + during + after
        assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
        assert health.status_code == 503 and health.json()["checks"]["redis"]["status"] == "down"
        created = {r.json()["id"] for r in responses}

        async def notified() -> bool:
            seen = {d["body"]["data"]["case_id"] for d in receiver.received
                    if d["body"]["event"] == "case.create"}
            return created <= seen

        recovered = time.perf_counter()
        await eventually(notified, 90, "every case's webhook after Redis returned")
        print(f"\nRedis down: {len(during)} reports accepted, in {[round(t * 1000) for t in took]} ms; "
              f"all {len(created)} webhooks delivered {time.perf_counter() - recovered:.1f} s "
              f"after the last report")
        rows = await fetch("SELECT count(*) AS n FROM outbox_event WHERE topic = 'case.create'"
                           " AND (payload->>'case_id')::int = ANY($1::int[])"
                           " AND published_at IS NULL", list(created))
        assert rows[0]["n"] == 0
    finally:
        app.stop()
        await _unsubscribe(sub)
        receiver.close()
        redis.close()


async def test_postgres_restarted_under_writes_loses_no_acknowledged_write(client, tmp_path):
    pg = PostgresServer()
    env = gongzhi_env(DATABASE_URL=pg.url, REDIS_NAMESPACE=f"faults-{secrets.token_hex(3)}")
    setup = [Process("migrate", env=env)]
    assert setup[0].proc.wait(180) == 0, setup[0].output()
    admin = Process("create-tenant", "--code", "pg-restart", "--name", "重启测试区",
                    "--admin-username", "pg.admin", "--admin-password", "Pg-restart-2026", env=env)
    assert admin.proc.wait(120) == 0, admin.output()
    app = AppServer(env)
    acknowledged: list[int] = []
    statuses: dict[int, int] = {}
    try:
        await app.ready()
        async with httpx.AsyncClient(base_url=app.base_url, timeout=30) as c:
            r = await c.post("/api/v1/auth/login",
                             json={"username": "pg.admin", "password": "Pg-restart-2026"})
            h = {"Authorization": f"Bearer {r.json()['token']}"}
            stop = asyncio.Event()

            async def writer(n: int) -> None:
                i = 0
                while not stop.is_set():
                    i += 1
                    try:
                        resp = await c.post("/api/v1/streets", headers=h,
                                            json={"name": f"街道 {n}-{i}", "code": f"S{n}-{i}"})
                    except httpx.TransportError:
                        statuses[0] = statuses.get(0, 0) + 1
                        continue
                    statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
                    if resp.status_code == 201:
                        acknowledged.append(resp.json()["id"])
                    else:  # the restart's moment: a retryable problem, never a crash
                        assert resp.status_code == 503, resp.text
                        assert resp.headers["content-type"].startswith("application/problem+json")
                        assert resp.headers["retry-after"]
                        await asyncio.sleep(0.1)

            writers = [asyncio.create_task(writer(n)) for n in range(4)]
            await asyncio.sleep(1.5)
            before_restart = len(acknowledged)
            started = time.perf_counter()
            await asyncio.to_thread(pg.restart)
            restart_s = time.perf_counter() - started
            restarted = len(acknowledged)
            await asyncio.sleep(3)
            stop.set()
            await asyncio.gather(*writers)
            # The same process answers again, without a restart.
            probe = await c.post("/api/v1/streets", headers=h, json={"name": "恢复后", "code": "AFTER"})
            assert probe.status_code == 201, probe.text
            acknowledged.append(probe.json()["id"])
        assert before_restart > 0 and len(acknowledged) > restarted, statuses
        conn = await asyncpg.connect(pg.url)
        try:
            stored = {r["id"] for r in await conn.fetch("SELECT id FROM street")}
        finally:
            await conn.close()
        assert set(acknowledged) <= stored, f"lost {set(acknowledged) - stored}"
        print(f"\nPostgreSQL restart: {len(acknowledged)} writes acknowledged, all stored; "
              f"answers {dict(sorted(statuses.items()))}; restart took {restart_s:.1f} s")
        assert app.proc.poll() is None
    finally:
        app.stop()
        pg.close()


async def test_a_worker_killed_mid_job_is_retried_and_the_job_takes_effect_once(client, world):
    case = await report(client, world)
    async with db().transaction():
        await fetch("UPDATE case_record SET ack_due_at = $2 WHERE id = $1", case["id"],
                    now() - timedelta(minutes=90))
    namespace = f"faults-{secrets.token_hex(3)}"
    env = gongzhi_env(REDIS_NAMESPACE=namespace, WORKER_SWEEP_SECONDS="1")
    q = RedisQueue(Redis.from_url(get_settings().redis_url), name=f"{namespace}:default")
    # Hold the tenant's audit-chain lock: the job will block inside its transaction, after it
    # has started writing the supervision, and is killed there.
    holder = await asyncpg.connect(TEST_URL)
    await holder.execute("SELECT pg_advisory_lock(7301, $1)", world.tenant_a)
    first = second = None
    try:
        job = await q.enqueue("supervise_overdue_cases", timeout=3, retries=3)
        first = Process("worker", env=env)

        async def blocked() -> bool:
            if first.proc.poll() is not None:
                raise AssertionError(f"the worker exited:\n{first.output()}")
            rows = await fetch("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory'"
                               " AND NOT granted AND classid = 7301 AND objid = $1", world.tenant_a)
            return rows[0]["n"] > 0 and (await q.job(job.key)).status == Status.ACTIVE

        await eventually(blocked, 60, "the job to block on the audit lock")
        first.kill()
        await holder.execute("SELECT pg_advisory_unlock(7301, $1)", world.tenant_a)
        await asyncio.sleep(1)  # the orphaned backend gets the lock, finds its client gone
        supervised = "SELECT count(*) AS n FROM case_event WHERE \"case\" = $1 AND action = 'supervise'"
        assert (await fetch(supervised, case["id"]))[0]["n"] == 0  # nothing half-done

        second = Process("worker", env=env)

        async def finished():
            j = await q.job(job.key)
            return j if j.status in (Status.COMPLETE, Status.FAILED, Status.ABORTED) else None

        done = await eventually(finished, 90, "the killed job to be retried and finish")
        assert done.status == Status.COMPLETE, (done.status, done.error, second.output())
        assert done.attempts >= 2
        assert (await fetch(supervised, case["id"]))[0]["n"] == 1
    finally:
        await holder.close()
        for p in (first, second):
            if p is not None:
                p.stop()
        await q.disconnect()
