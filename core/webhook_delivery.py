"""Webhook delivery: the worker job that POSTs pending deliveries and retries with back-off.

Each round claims due deliveries in a short transaction (FOR UPDATE SKIP LOCKED), counts the
attempt and leases the row by pushing `next_attempt_at` past the attempt's timeout; the POSTs
run outside any transaction; each outcome is recorded in its own short transaction. A worker
killed mid-attempt leaves a lease that expires, and the delivery is tried again: delivery is
at-least-once, and receivers de-duplicate by `X-Gongzhi-Delivery`.

Request: POST JSON {"id": delivery id, "event": topic, "created_at", "data": payload} with
X-Gongzhi-Delivery, X-Gongzhi-Event, X-Gongzhi-Timestamp (unix seconds) and
X-Gongzhi-Signature = "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body). Any 2xx
answer within WEBHOOK_TIMEOUT_SECONDS is delivered; anything else is retried after 30 s, 2 min,
10 min, 1 h and 6 h, and after the sixth failed attempt the delivery is failed.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from core import webhooks
from core.db import db, fetch
from core.settings import get_settings

log = logging.getLogger("gongzhi.webhooks")
MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (30, 120, 600, 3600, 21600)  # after attempts 1..5
BATCH = 20
LEASE_MARGIN_SECONDS = 60
USER_AGENT = "Gongzhi-Webhooks/1"


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


async def claim(limit: int = BATCH) -> list[dict[str, Any]]:
    """Lease up to `limit` due deliveries and count their attempt. Deliveries whose final
    attempt was cut short (the worker died) are marked failed here."""
    lease = get_settings().webhook_timeout_seconds + LEASE_MARGIN_SECONDS
    async with db().transaction():
        await fetch(
            "UPDATE webhook_delivery SET status = 'failed', next_attempt_at = NULL,"
            " last_error = 'no answer recorded: the worker stopped during the last attempt'"
            " WHERE status = 'pending' AND attempts >= $1 AND next_attempt_at <= now()",
            MAX_ATTEMPTS)
        rows = await fetch(
            "UPDATE webhook_delivery d SET attempts = d.attempts + 1,"
            " next_attempt_at = now() + make_interval(secs => $2)"
            " FROM outbox_event e, webhook_subscription s"
            " WHERE d.id IN (SELECT id FROM webhook_delivery WHERE status = 'pending'"
            "   AND next_attempt_at <= now() AND attempts < $3 ORDER BY next_attempt_at"
            "   LIMIT $1 FOR UPDATE SKIP LOCKED)"
            " AND e.id = d.event AND s.id = d.subscription"
            " RETURNING d.id, d.delivery_id, d.attempts, e.topic, e.payload, e.created_at,"
            " s.url, s.secret_seed",
            limit, float(lease), MAX_ATTEMPTS)
    for r in rows:
        if isinstance(r["payload"], str):
            r["payload"] = json.loads(r["payload"])
    return rows


async def attempt(client: httpx.AsyncClient, d: dict[str, Any]) -> tuple[int | None, str | None]:
    """POST one delivery; returns (HTTP status or None, error or None)."""
    reason = await webhooks.refusal(d["url"])
    if reason is not None:
        return None, f"refused: {reason}"
    payload = webhooks.body(d["delivery_id"], d["topic"], d["created_at"], d["payload"])
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "X-Gongzhi-Delivery": str(d["delivery_id"]), "X-Gongzhi-Event": d["topic"],
               "X-Gongzhi-Timestamp": timestamp,
               "X-Gongzhi-Signature": webhooks.sign(webhooks.secret_for(d["secret_seed"]),
                                                    timestamp, payload)}
    limit = get_settings().webhook_timeout_seconds
    try:
        async with asyncio.timeout(limit):  # the whole exchange, not each read
            async with client.stream("POST", d["url"], content=payload, headers=headers) as r:
                code = r.status_code  # the answer's body is never read
    except (TimeoutError, httpx.TimeoutException):
        return None, f"no answer within {limit:g} s"
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    return code, None if 200 <= code < 300 else f"HTTP {code}"


async def record(d: dict[str, Any], code: int | None, error: str | None) -> datetime | None:
    """Store an attempt's outcome; returns when to retry (None when done)."""
    now = datetime.now(timezone.utc)
    if error is None:
        status, retry_at = "delivered", None
    elif d["attempts"] >= MAX_ATTEMPTS:
        status, retry_at = "failed", None
    else:
        status, retry_at = "pending", now + retry_delay(d["attempts"])
    async with db().transaction():
        # Guarded by the attempt count: if our lease ran out and another worker took over,
        # its outcome wins.
        await fetch(
            "UPDATE webhook_delivery SET status = $3::varchar, next_attempt_at = $4,"
            " last_status_code = $5, last_error = $6,"
            " delivered_at = CASE WHEN $3::varchar = 'delivered' THEN now() END"
            " WHERE id = $1 AND attempts = $2 AND status = 'pending'",
            d["id"], d["attempts"], status, retry_at, code, error)
    if error is not None:
        log.info("webhook delivery %s attempt %d failed: %s", d["delivery_id"], d["attempts"], error)
    return retry_at


async def deliver_webhooks(ctx: Any = None) -> int:
    """SAQ job: send every due delivery; returns how many were delivered."""
    delivered = 0
    retries: list[datetime] = []
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False,
                                 timeout=get_settings().webhook_timeout_seconds) as client:
        while batch := await claim():
            outcomes = await asyncio.gather(*(attempt(client, d) for d in batch))
            for d, (code, error) in zip(batch, outcomes):
                retry_at = await record(d, code, error)
                delivered += error is None
                if retry_at is not None:
                    retries.append(retry_at)
    if retries:
        await request_delivery(at=min(retries))
    return delivered


async def request_delivery(*, at: datetime | None = None) -> None:
    """Ask for a `deliver_webhooks` run now or at `at`. Best effort: the every-minute cron
    finds whatever this misses."""
    from core.queue import queue

    kwargs: dict[str, Any] = {"timeout": 600, "ttl": -1, "retries": 3}
    if at is not None:
        kwargs.update(scheduled=int(at.timestamp()) + 1, key=f"deliver_webhooks:{int(at.timestamp())}")
    try:
        await asyncio.wait_for(queue().enqueue("deliver_webhooks", **kwargs), 5)
    except Exception as exc:
        log.warning("webhooks: could not enqueue a delivery run (%s); the cron will", exc)


async def purge_deliveries(ctx: Any = None, *, days: int = 30) -> int:
    """SAQ job: forget finished deliveries older than `days`."""
    async with db().transaction():
        rows = await fetch("DELETE FROM webhook_delivery WHERE status <> 'pending'"
                           " AND created_at < now() - make_interval(days => $1) RETURNING id", days)
    return len(rows)
