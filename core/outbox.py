"""Transactional outbox: domain events are rows written in the transaction of the change, so an
event exists if and only if the change committed. A worker job publishes them afterwards.

Publishing an event means: send it to the live channels of its audience (Redis pub/sub, one
channel per organisation and per user; the web process subscribes through Litestar Channels
for its SSE streams), create a webhook delivery for every matching subscription, and mark it
published. While Redis is unreachable events stay unpublished and are retried; nothing is
lost. Live channels are at-least-once: a publisher that dies between PUBLISH and COMMIT sends
that event again, so consumers de-duplicate by the event `id`.

Latency: `emit` inside a request asks, once the request's transaction has committed, for a
`publish_outbox` job (see `kick`); a worker then publishes within milliseconds. Outside a
request (jobs, scripts) call `kick()` after committing. A cron runs the publisher every
minute as a safety net, so the worst case (Redis or every worker down, or a lost kick) is
about a minute after recovery.
"""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import timezone
from typing import Any

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.redis import RedisChannelsPubSubBackend

from core import webhooks
from core.db import after_commit, db, fetch, require_transaction
from core.redis import key, redis
from core.webhook_delivery import request_delivery

log = logging.getLogger("gongzhi.outbox")
BATCH = 100
KICK_COALESCE_SECONDS = 0.02  # commits within this window share one publisher job
KICK_PAUSE_AFTER_FAILURE = 10.0  # Redis down: stop trying for a while, the cron catches up
KICK_IDLE_SECONDS = 30.0


def organization_channel(organization_id: int) -> str:
    return key("channel", "org", int(organization_id))


def user_channel(user_id: int) -> str:
    return key("channel", "user", int(user_id))


def channels_plugin() -> ChannelsPlugin:
    """Litestar Channels over the same Redis pub/sub the publisher writes to, for the web
    process's live streams (subscribe to `user_channel(...)` / `organization_channel(...)`)."""
    return ChannelsPlugin(backend=RedisChannelsPubSubBackend(redis=redis()),
                          arbitrary_channels_allowed=True)


async def emit(tenant_id: int, topic: str, payload: dict[str, Any], *,
               organizations: tuple[int, ...] | list[int] = (),
               users: tuple[int, ...] | list[int] = ()) -> int:
    """Record an event in the current transaction; returns its id.

    `payload` goes as is to every organisation in `organizations` (live channel and webhooks)
    and every user in `users`: mask personal data for audiences that may not see it."""
    require_transaction()
    rows = await fetch(
        "INSERT INTO outbox_event (tenant_id, topic, payload, organization_ids, user_ids,"
        " created_at) VALUES ($1, $2, $3::jsonb, $4::int[], $5::int[], now()) RETURNING id",
        int(tenant_id), topic, json.dumps(payload, ensure_ascii=False, default=str),
        sorted({int(o) for o in organizations}), sorted({int(u) for u in users}))
    after_commit(kick)
    return rows[0]["id"]


def message(event: dict[str, Any]) -> bytes:
    """What live subscribers receive."""
    return json.dumps({"id": event["id"], "topic": event["topic"],
                       "created_at": event["created_at"].astimezone(timezone.utc).isoformat(),
                       "data": event["payload"]}, ensure_ascii=False).encode()


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    if isinstance(row["payload"], str):
        row["payload"] = json.loads(row["payload"])
    return row


async def publish_batch(limit: int = BATCH) -> tuple[int, int, bool]:
    """Publish up to `limit` unpublished events in one transaction. Returns (claimed, published,
    deliveries created). Rows locked by another publisher are skipped, never published twice;
    on the first Redis failure the rest of the batch stays for a later run."""
    backend = RedisChannelsPubSubBackend(redis=redis())
    published: list[int] = []
    deliveries = 0
    async with db().transaction():
        events = [_decoded(r) for r in await fetch(
            "SELECT id, tenant_id, topic, payload, organization_ids, user_ids, created_at"
            " FROM outbox_event WHERE published_at IS NULL ORDER BY id"
            " LIMIT $1 FOR UPDATE SKIP LOCKED", limit)]
        for event in events:
            channels = [*map(organization_channel, event["organization_ids"]),
                        *map(user_channel, event["user_ids"])]
            try:
                if channels:
                    await backend.publish(message(event), channels)
            except Exception as exc:  # Redis down or failing: retry the rest later
                log.warning("outbox: publishing event %s failed (%s); %d left for later",
                            event["id"], exc, len(events) - len(published))
                break
            deliveries += await webhooks.create_deliveries(event)
            published.append(event["id"])
        if published:
            await fetch("UPDATE outbox_event SET published_at = now() WHERE id = ANY($1::bigint[])",
                        published)
    return len(events), len(published), deliveries


async def publish_outbox(ctx: Any = None) -> int:
    """SAQ job: publish every pending event; returns how many were published."""
    total = created = 0
    while True:
        claimed, published, deliveries = await publish_batch()
        total, created = total + published, created + deliveries
        if claimed < BATCH or published < claimed:
            break
    if created:
        await request_delivery()
    return total


async def purge_published(ctx: Any = None, *, days: int = 30) -> int:
    """SAQ job: forget events published more than `days` ago whose webhooks are all done
    (their delivery log goes with them)."""
    async with db().transaction():
        rows = await fetch(
            "DELETE FROM outbox_event e WHERE published_at < now() - make_interval(days => $1)"
            " AND NOT EXISTS (SELECT 1 FROM webhook_delivery d WHERE d.event = e.id"
            " AND d.status = 'pending') RETURNING id", days)
    return len(rows)


# --- asking a worker to publish soon ---------------------------------------------------------
_wake: asyncio.Event | None = None
_kicker: asyncio.Task | None = None


def kick() -> None:
    """Ask for a `publish_outbox` job soon. Never blocks and never fails the caller: the
    enqueue runs in a background task that coalesces bursts of commits into one job."""
    global _wake, _kicker
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    if _kicker is None or _kicker.done() or _kicker.get_loop() is not loop:
        _wake = asyncio.Event()
        _kicker = loop.create_task(_kick_loop(_wake), name="outbox-kicker")
    assert _wake is not None
    _wake.set()


async def _kick_loop(wake: asyncio.Event) -> None:
    from core.queue import queue

    while True:
        try:
            await asyncio.wait_for(wake.wait(), KICK_IDLE_SECONDS)
        except asyncio.TimeoutError:
            return  # idle: the next kick starts a new loop
        wake.clear()
        try:
            # Every kick enqueues a fresh job (no dedup key): a job that is already running may
            # have claimed before this commit, so only a new one is sure to see it.
            await asyncio.wait_for(queue().enqueue("publish_outbox", timeout=120, ttl=-1, retries=3), 5)
        except Exception as exc:
            log.warning("outbox: could not enqueue the publisher (%s); the cron will", exc)
            await asyncio.sleep(KICK_PAUSE_AFTER_FAILURE)
        await asyncio.sleep(KICK_COALESCE_SECONDS)


async def stop_kicker() -> None:
    global _kicker
    if _kicker is not None and not _kicker.done():
        _kicker.cancel()
        await asyncio.gather(_kicker, return_exceptions=True)
    _kicker = None
