"""The per-address request limit and its counter (core/ratelimit.py), against the real Redis.
(While Redis is down requests are served unthrottled: tests/gongzhi/test_faults.py stops a real
Redis under load and checks that every write is still answered.)"""
from __future__ import annotations

import asyncio
import random
import secrets
from contextlib import asynccontextmanager

import httpx

from core.db import fetch
from core.ratelimit import hit
from core.redis import key, redis
from core.settings import get_settings
from tests.factories import login


@asynccontextmanager
async def from_address(client: httpx.AsyncClient, address: str | None = None):
    address = address or f"10.{random.randint(100, 250)}.{random.randint(0, 250)}.{random.randint(1, 250)}"
    transport = httpx.ASGITransport(app=client._transport.app, client=(address, 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c


async def test_hits_are_counted_atomically_across_concurrent_callers_and_the_window_expires():
    counter = key("test-rate", secrets.token_hex(4))
    results = await asyncio.gather(*(hit(counter, 30) for _ in range(50)))
    assert sorted(count for count, _reset in results) == list(range(1, 51))
    assert all(0 < reset <= 30 for _count, reset in results)
    assert 0 < await redis().ttl(counter) <= 30  # the window was set once and not extended


async def test_past_the_limit_an_address_gets_429_with_retry_after_in_its_language(
        client, world, monkeypatch):
    monkeypatch.setattr(get_settings(), "rate_limit_per_minute", 3)
    async with from_address(client) as c:
        answers = [await c.get("/api/v1/me", headers={"Accept-Language": "en"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["RateLimit-Limit"] == "3" for a in answers)
    refused = answers[-1]
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    body = refused.json()
    assert body["status"] == 429 and body["title"] == "Too many requests"
    assert body["detail"].startswith("Too many requests from this address")
    async with from_address(client) as c:  # another address is not affected, and is told in Chinese
        ok = await c.get("/health")
        first = await c.get("/api/v1/me")
        assert ok.status_code == 200 and "RateLimit-Limit" not in ok.headers
        assert first.status_code == 401 and first.headers["RateLimit-Remaining"] == "2"
        for _ in range(3):
            last = await c.get("/api/v1/me")
        assert last.status_code == 429 and last.json()["title"] == "请求过于频繁"
        assert "秒后再试" in last.json()["detail"]


async def test_a_write_refused_by_the_limit_changes_nothing(
        client, world, monkeypatch):
    h = await login(client, world.a1.users["bureau:admin"])
    monkeypatch.setattr(get_settings(), "rate_limit_per_minute", 1)
    code = f"rl-{secrets.token_hex(4)}"
    async with from_address(client) as c:
        statuses = [(await c.post("/api/v1/streets", headers=h,
                                  json={"name": f"限流街道 {code}-{i}", "code": f"{code}-{i}"})
                     ).status_code for i in range(3)]
    assert statuses == [201, 429, 429]
    rows = await fetch("SELECT code FROM street WHERE code LIKE $1", f"{code}%")
    assert [r["code"] for r in rows] == [f"{code}-0"]
