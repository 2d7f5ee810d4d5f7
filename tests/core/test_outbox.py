"""The transactional outbox on the real PostgreSQL and Redis: an event exists if and only if its
change committed, reaches its live channels once, and waits out a Redis outage."""
from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest
from redis.asyncio import Redis

import core.redis
from core import outbox
from core.db import db, fetch
from core.settings import get_settings
from gongzhi.worker import FUNCTIONS, build_worker


class Listener:
    """A real Redis pub/sub subscription on its own connection (untouched by monkeypatching)."""

    def __init__(self, *channels: str) -> None:
        self.channels = channels
        self.redis = Redis.from_url(get_settings().redis_url)
        self.pubsub = self.redis.pubsub()

    async def __aenter__(self) -> Listener:
        await self.pubsub.subscribe(*self.channels)
        for _ in self.channels:  # wait until Redis confirmed every subscription
            while await self.pubsub.get_message(timeout=1.0) is None:
                pass
        return self

    async def __aexit__(self, *exc) -> None:
        await self.pubsub.aclose()
        await self.redis.aclose()

    async def collect(self, *, expected: int, seconds: float = 5.0) -> list[tuple[str, dict]]:
        """Messages until `expected` arrived, then whatever else comes within a short grace."""
        out: list[tuple[str, dict]] = []
        deadline = asyncio.get_running_loop().time() + seconds
        grace = None
        while asyncio.get_running_loop().time() < (grace or deadline):
            m = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if m is not None:
                out.append((m["channel"].decode(), json.loads(m["data"])))
            if len(out) >= expected and grace is None:
                grace = asyncio.get_running_loop().time() + 0.3
        return out


async def _emit(world, topic: str = "test.happened", n: int = 1, **audience) -> list[int]:
    async with db().transaction():
        return [await outbox.emit(world.tenant_a, topic, {"n": i, "名称": "报修"}, **audience)
                for i in range(n)]


async def _unpublished(ids: list[int]) -> set[int]:
    rows = await fetch("SELECT id FROM outbox_event WHERE id = ANY($1::bigint[])"
                       " AND published_at IS NULL", ids)
    return {r["id"] for r in rows}


async def test_an_event_emitted_in_a_rolled_back_transaction_never_exists(client, world):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db().transaction():
            event_id = await outbox.emit(world.tenant_a, "test.rolled_back", {"x": 1},
                                         organizations=[world.a1.orgs["street_office"]])
            assert await fetch("SELECT id FROM outbox_event WHERE id = $1", event_id)
            raise Boom
    assert await fetch("SELECT id FROM outbox_event WHERE id = $1", event_id) == []


async def test_emitting_outside_a_transaction_is_refused(client, world):
    with pytest.raises(RuntimeError, match="outside a transaction"):
        await outbox.emit(world.tenant_a, "test.loose", {})


async def test_a_committed_event_reaches_its_organisation_and_user_channels_via_the_worker(
        client, world):
    org, user = world.a1.orgs["residents_committee"], world.a1.user_ids["residents_committee:admin"]
    assert "publish_outbox" in [f.__name__ for f in FUNCTIONS]
    async with Listener(outbox.organization_channel(org), outbox.user_channel(user)) as listener:
        [event_id] = await _emit(world, "test.assigned", organizations=[org], users=[user])
        worker = build_worker(manage_pool=False, burst=True)
        job = await worker.queue.enqueue("publish_outbox", timeout=30)
        await asyncio.wait_for(worker.start(), timeout=30)
        await job.refresh()
        assert job.status == "complete", job.error
        got = [(ch, m) for ch, m in await listener.collect(expected=2) if m["id"] == event_id]
    assert sorted(ch for ch, _ in got) == sorted([outbox.organization_channel(org),
                                                  outbox.user_channel(user)])
    assert all(m["topic"] == "test.assigned" and m["data"] == {"n": 0, "名称": "报修"}
               for _, m in got)
    assert await _unpublished([event_id]) == set()


async def test_litestar_channels_subscribers_receive_published_events(client, world):
    user = world.a1.user_ids["owners_committee:chair"]
    async with outbox.channels_plugin() as plugin:
        subscriber = await plugin.subscribe([outbox.user_channel(user)])
        await asyncio.sleep(0.2)  # let the SUBSCRIBE reach Redis before anything is published
        [event_id] = await _emit(world, "test.rated", users=[user])
        await outbox.publish_outbox()
        events = subscriber.iter_events()
        received = json.loads(await asyncio.wait_for(anext(events), timeout=5))
        await plugin.unsubscribe(subscriber)
    assert received["id"] == event_id and received["topic"] == "test.rated"


async def test_events_wait_out_a_redis_outage_and_are_published_exactly_once_after(
        client, world, monkeypatch):
    org = world.a1.orgs["owners_committee"]
    await outbox.publish_outbox()  # start from an empty outbox
    async with Listener(outbox.organization_channel(org)) as listener:
        ids = await _emit(world, "test.overdue", 3, organizations=[org])
        dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
        monkeypatch.setattr(core.redis, "_client", dead)  # nothing listens on port 1
        await outbox.publish_outbox()
        await outbox.publish_outbox()
        assert await _unpublished(ids) == set(ids), "events were marked published without Redis"
        monkeypatch.undo()
        await dead.aclose()

        assert await outbox.publish_outbox() >= 3
        assert await outbox.publish_outbox() == 0
        got = Counter(m["id"] for _, m in await listener.collect(expected=3))
    assert {i: got[i] for i in ids} == {i: 1 for i in ids}
    assert await _unpublished(ids) == set()


async def test_concurrent_publishers_publish_every_event_exactly_once(client, world):
    org = world.a1.orgs["property_company"]
    await outbox.publish_outbox()
    async with Listener(outbox.organization_channel(org)) as listener:
        ids = await _emit(world, "test.created", 450, organizations=[org])
        counts = await asyncio.gather(*(outbox.publish_outbox() for _ in range(4)))
        got = Counter(m["id"] for _, m in await listener.collect(expected=len(ids), seconds=15))
    assert sum(counts) >= len(ids)
    assert sum(1 for c in counts if c) >= 2, f"the publishers did not share the work: {counts}"
    assert {i: got[i] for i in ids} == {i: 1 for i in ids}
    assert await _unpublished(ids) == set()


async def test_a_commit_at_the_request_boundary_asks_a_worker_to_publish(client, world):
    from core.db import provide_transaction

    queued_before = await _queued_publishers()
    dependency = provide_transaction()
    await anext(dependency)  # what Litestar does around a handler that takes `tx`
    event_id = await outbox.emit(world.tenant_a, "test.kicked", {})
    with pytest.raises(StopAsyncIteration):
        await anext(dependency)
    for _ in range(50):
        if await _queued_publishers() > queued_before:
            break
        await asyncio.sleep(0.05)
    assert await _queued_publishers() > queued_before
    assert await _unpublished([event_id]) == {event_id}
    await outbox.publish_outbox()
    assert await _unpublished([event_id]) == set()


async def _queued_publishers() -> int:
    from core.queue import queue

    info = await queue().info(jobs=True, limit=100_000)
    return sum(1 for j in info.get("jobs", []) if j.get("function") == "publish_outbox")
