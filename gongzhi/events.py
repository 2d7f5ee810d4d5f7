"""The live event stream: Server-Sent Events of the outbox messages meant for the caller.

The caller hears their own user channel and the channel of each organisation they act for
(core.outbox publishes every event to its audience's channels; ids are unique across tenants,
so nobody hears another tenant's or another organisation's events). Each message carries
`id:` = the outbox event id (delivery is at-least-once: de-duplicate by it) and `event:` = the
topic; a comment line is sent right after subscribing and every HEARTBEAT_SECONDS, which keeps
proxies from closing an idle connection. The stream subscribes to Redis pub/sub directly (no
application-wide plugin state) and unsubscribes when the client goes away or, with
`max_seconds`, when that time is up (tests, or clients that prefer to reconnect regularly).
Events published while a client is disconnected are not replayed here: a client reloads the
lists it shows after reconnecting.
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
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from core.outbox import organization_channel, user_channel
from core.redis import redis
from tenancy.guards import authenticated
from tenancy.principal import Principal

log = logging.getLogger("gongzhi.events")
HEARTBEAT_SECONDS = 15.0
MAX_SECONDS = 24 * 3600
SEEN = 1000


def channels_for(p: Principal) -> list[str]:
    return [user_channel(p.user_id), *map(organization_channel, sorted(p.organization_ids))]


async def event_stream(channels: list[str], max_seconds: float | None,
                       heartbeat: float = HEARTBEAT_SECONDS) -> AsyncIterator[ServerSentEventMessage]:
    loop = asyncio.get_running_loop()
    ends = loop.time() + max_seconds if max_seconds is not None else None
    pubsub = redis().pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(*channels)
        yield ServerSentEventMessage(data=None, comment="subscribed")
        beat = loop.time() + heartbeat
        recent: deque[int] = deque(maxlen=SEEN)  # one event reaches us on several channels
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
                    yield ServerSentEventMessage(data=json.dumps(event, ensure_ascii=False),
                                                 event=str(event["topic"]), id=str(event["id"]))
                except (ValueError, KeyError, TypeError):
                    log.warning("events: skipped a malformed message on %s", found.get("channel"))
                continue
            if loop.time() >= beat:
                yield ServerSentEventMessage(data=None, comment="heartbeat")
                beat = loop.time() + heartbeat
        recent: deque[int] = deque(maxlen=SEEN)  # one event reaches us on several channels
    finally:
        # the client went away (we are being cancelled): still unsubscribe, but never hang
        with anyio.move_on_after(2, shield=True):
            try:
                await pubsub.unsubscribe()
            finally:
                await pubsub.aclose()


class EventStreamController(Controller):
    path = "/api/v1/events"
    guards = [authenticated]
    tags = ["events"]

    @get("/stream", summary="Live events for the caller and their organisations (Server-Sent Events)")
    async def stream(self, request: Request[Principal, str, object],
                     max_seconds: Annotated[float | None, Parameter(
                         gt=0, le=MAX_SECONDS,
                         description="Close the stream after this many seconds")] = None,
                     ) -> ServerSentEvent:
        return ServerSentEvent(event_stream(channels_for(request.user), max_seconds),
                               headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
