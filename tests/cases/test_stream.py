"""The live event stream (SSE): a user hears the events of their own cases, nobody else does."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core import outbox
from core.db import fetch
from core.redis import redis
from tests.cases.helpers import headers, report, walk
from tests.factories import login

ROOT = Path(__file__).resolve().parents[2]


def parse(body: str) -> list[dict]:
    """SSE messages as dicts of their fields (comments under "comment")."""
    out = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        msg: dict = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                msg["comment"] = line[1:].strip()
            elif ":" in line:
                name, _, value = line.partition(":")
                msg[name] = msg.get(name, "") + value.removeprefix(" ")
        if msg:
            out.append(msg)
    return out


async def _user_id(username: str) -> int:
    return (await fetch("SELECT id FROM app_user WHERE username = $1", username))[0]["id"]


async def _subscribed(user_ids: list[int], timeout: float = 5.0) -> None:
    """Wait until every user's channel has a subscriber (the streams are listening)."""
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        counts = dict(await redis().pubsub_numsub(*map(outbox.user_channel, user_ids)))
        if all(n >= 1 for n in counts.values()):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the streams never subscribed: {counts}")


async def test_the_assignee_hears_the_assignment_and_other_organisations_do_not(client, world):
    handler = world.a1.users["property_company:handler"]
    others = [world.a2.users["property_company:handler"], world.users["b/bureau:admin"]]
    names = [handler, *others]
    ids = [await _user_id(n) for n in names]
    streams = [asyncio.create_task(client.get("/api/v1/events/stream", params={"max_seconds": 3},
                                              headers=await login(client, n), timeout=20))
               for n in names]
    await _subscribed(ids)

    case = await report(client, world)
    started = time.monotonic()
    await walk(client, world, case["id"], "accept", "assign")
    await outbox.publish_outbox()
    responses = await asyncio.gather(*streams)

    for r in responses:
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/event-stream")
    mine = [m for m in parse(responses[0].text) if "event" in m]
    assign = [m for m in mine if m["event"] == "case.assign"
              and json.loads(m["data"])["data"]["case_id"] == case["id"]]
    assert len(assign) == 1, mine  # heard once though it reached two of the handler's channels
    data = json.loads(assign[0]["data"])
    assert assign[0]["id"] == str(data["id"])
    assert data["data"]["assignee_user_id"] == ids[0]
    assert time.monotonic() - started < 5
    assert parse(responses[0].text)[0] == {"comment": "subscribed"}
    for r in responses[1:]:
        heard = [json.loads(m["data"]) for m in parse(r.text) if "data" in m]
        assert all(h["data"].get("case_id") != case["id"] for h in heard), heard
        assert world.a1.marker not in r.text


async def test_the_stream_needs_a_login_and_sends_heartbeats(client, world):
    r = await client.get("/api/v1/events/stream", params={"max_seconds": 1})
    assert r.status_code == 401

    from gongzhi import events

    ticks = [m async for m in events.event_stream([outbox.user_channel(0)], 0.35, heartbeat=0.1)]
    assert ticks[0].comment == "subscribed"
    assert sum(1 for m in ticks if m.comment == "heartbeat") >= 2
    h = await headers(client, world, "resident")
    r = await client.get("/api/v1/events/stream", params={"max_seconds": 0}, headers=h)
    assert r.status_code == 400


@pytest.fixture
def server():
    """The app served by a real uvicorn process on this run's database and Redis namespace."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gongzhi.asgi:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=str(ROOT), env={**os.environ, "WORKER_IN_PROCESS": "false"})
    base = f"http://127.0.0.1:{port}"
    try:
        ends = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < ends, "uvicorn did not start"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def test_through_a_real_server_the_event_arrives_live_and_disconnect_unsubscribes(
        client, world, server):
    handler = world.a1.users["property_company:handler"]
    channel = outbox.user_channel(await _user_id(handler))
    h = await login(client, handler)
    case = await report(client, world)
    async with httpx.AsyncClient(base_url=server, timeout=20) as live:
        async with live.stream("GET", "/api/v1/events/stream", headers=h) as r:
            assert r.status_code == 200
            lines = r.aiter_lines()
            assert await asyncio.wait_for(anext(lines), 5) == ": subscribed"
            await walk(client, world, case["id"], "accept", "assign")
            await outbox.publish_outbox()
            started, block = time.monotonic(), []
            while time.monotonic() - started < 5:
                line = await asyncio.wait_for(anext(lines), 5)
                block.append(line)
                if line == "" and any(x == "event: case.assign" for x in block):
                    break
                if line == "":
                    block = []
            assert "event: case.assign" in block, block
            data = json.loads(next(x for x in block if x.startswith("data: "))[6:])
            assert data["data"]["case_id"] == case["id"]
            assert f"id: {data['id']}" in block
    ends = time.monotonic() + 5  # the server noticed the disconnect and unsubscribed
    while dict(await redis().pubsub_numsub(channel))[channel.encode()] and time.monotonic() < ends:
        await asyncio.sleep(0.1)
    assert dict(await redis().pubsub_numsub(channel))[channel.encode()] == 0
