"""The live event stream: Server-Sent Events of the outbox messages meant for the caller.

The caller hears their own user channel and the channel of each organisation they act for
(core.outbox publishes every event to its audience's channels; ids are unique across tenants,
so nobody hears another tenant's or another organisation's events). Each message carries
`id:` = the outbox event id (delivery is at-least-once: de-duplicate by it) and `event:` = the
topic; a comment line is sent right after subscribing and every HEARTBEAT_SECONDS, which keeps
proxies from closing an idle connection. The stream subscribes to Redis pub/sub directly (no
application-wide plugin state) and unsubscribes when the client goes away or, with
`max_seconds`, when that time is up (tests, or clients that prefer to reconnect regularly).
A client that reconnects with `Last-Event-ID` first gets the published events it missed (from
the outbox table, at most REPLAY), then the live ones. /events/stream is the same stream for
the web pages, authenticated by the session cookie.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from litestar import Controller, Request, get
from litestar.params import HeaderParameter, Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from core.db import fetch
from core.i18n import gettext as _
from core.problems import NotFound
from core.outbox import message, organization_channel, user_channel
from core.redis import redis
from tenancy.guards import authenticated
from tenancy.principal import Principal

log = logging.getLogger("gongzhi.events")
HEARTBEAT_SECONDS = 15.0
MAX_SECONDS = 24 * 3600
SEEN = 1000
REPLAY = 500
PAGE_STREAM_SECONDS = 300.0


def channels_for(p: Principal) -> list[str]:
    return [user_channel(p.user_id), *map(organization_channel, sorted(p.organization_ids))]


def _sse(event: dict) -> ServerSentEventMessage:
    return ServerSentEventMessage(data=json.dumps(event, ensure_ascii=False),
                                  event=str(event["topic"]), id=str(event["id"]))


async def missed(p: Principal, after: int) -> list[dict]:
    """Published events for the caller with an id above `after` (a reconnecting client's
    Last-Event-ID), oldest first, at most REPLAY of them."""
    rows = await fetch(
        "SELECT id, topic, payload, created_at FROM outbox_event WHERE tenant_id = $1"
        " AND id > $2 AND published_at IS NOT NULL"
        " AND (user_ids && $3::int[] OR organization_ids && $4::int[]) ORDER BY id LIMIT $5",
        p.tenant_id, after, [p.user_id], sorted(p.organization_ids), REPLAY)
    return [json.loads(message({**r, "payload": json.loads(r["payload"]) if isinstance(
        r["payload"], str) else r["payload"]})) for r in rows]


async def event_stream(channels: list[str], max_seconds: float | None,
                       heartbeat: float = HEARTBEAT_SECONDS, *,
                       replay=None) -> AsyncIterator[ServerSentEventMessage]:
    """`replay`: an awaitable of events to send first (after subscribing, so none falls in
    between; the live copies of replayed events are dropped by id)."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + max_seconds if max_seconds is not None else None
    pubsub = redis().pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(*channels)
        yield ServerSentEventMessage(data=None, comment="subscribed")
        beat = loop.time() + heartbeat
        recent: deque[int] = deque(maxlen=SEEN)  # one event reaches us on several channels
        for event in await replay if replay is not None else ():
            recent.append(event["id"])
            yield _sse(event)
        while True:
            left = beat - loop.time()
            if ends is not None:
                if loop.time() >= ends:
                    return
                left = min(left, ends - loop.time())
            found = await pubsub.get_message(timeout=max(0.0, min(left, 1.0)))
            if found is not None and found.get("type") == "message":
                try:
                    event = json.loads(found["data"])
                    if event["id"] in recent:
                        continue
                    recent.append(event["id"])
                    yield _sse(event)
                except (ValueError, KeyError, TypeError):
                    log.warning("events: skipped a malformed message on %s", found.get("channel"))
                continue
            if loop.time() >= beat:
                yield ServerSentEventMessage(data=None, comment="heartbeat")
                beat = loop.time() + heartbeat
    finally:
        # the client went away (we are being cancelled): still unsubscribe, but never hang
        with anyio.move_on_after(2, shield=True):
            try:
                await pubsub.unsubscribe()
            finally:
                await pubsub.aclose()


def _stream(request: Request[Principal, str, object], max_seconds: float | None,
            last_event: str | None) -> ServerSentEvent:
    after = int(last_event) if (last_event or "").strip().isdigit() else None
    replay = missed(request.user, after) if after is not None else None
    return ServerSentEvent(event_stream(channels_for(request.user), max_seconds, replay=replay),
                           headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


MaxSeconds = Annotated[float | None, Parameter(gt=0, le=MAX_SECONDS, description=(
    "Close the stream after this many seconds"))]
LastEventId = Annotated[str | None, HeaderParameter(name="Last-Event-ID", required=False, description=(
    "The id of the last event received: published events after it are sent first (at most "
    "500; browsers send it when they reconnect)"))]


class EventStreamController(Controller):
    path = ""
    guards = [authenticated]
    tags = ["events"]

    @get("/api/v1/events/stream", summary="Live events for the caller and their organisations "
                                         "(Server-Sent Events)")
    async def stream(self, request: Request[Principal, str, object], max_seconds: MaxSeconds = None,
                     last_event: LastEventId = None) -> ServerSentEvent:
        return _stream(request, max_seconds, last_event)

    @get("/events/stream", include_in_schema=False)
    async def page_stream(self, request: Request[Principal, str, object],
                          max_seconds: MaxSeconds = None,
                          last_event: LastEventId = None) -> ServerSentEvent:
        """The same stream for the web pages: web sessions only (EventSource sends the cookie,
        never a bearer token; API clients have the route above). It ends after
        PAGE_STREAM_SECONDS; the browser reconnects with Last-Event-ID and misses nothing."""
        if request.user.token_kind != "web":
            raise NotFound(_("The requested item does not exist or you may not see it."))
        return _stream(request, min(max_seconds or PAGE_STREAM_SECONDS, PAGE_STREAM_SECONDS),
                       last_event)
