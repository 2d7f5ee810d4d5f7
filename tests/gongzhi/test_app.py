"""Assembly-level behaviour: health, metrics, headers, request ids, OpenAPI."""
from redis.asyncio import Redis
from saq import Queue

import core.queue
import core.redis


async def test_health_is_503_and_names_redis_and_queue_when_redis_is_unreachable(client, monkeypatch):
    dead = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    monkeypatch.setattr(core.redis, "_client", Redis.from_url(dead, socket_connect_timeout=0.5))
    monkeypatch.setattr(core.queue, "_queue", Queue.from_url(dead))
    r = await client.get("/health")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "down"
    assert body["checks"]["redis"]["status"] == "down"
    assert body["checks"]["queue"]["status"] == "down"
    assert body["checks"]["database"]["status"] == "up"


async def test_metrics_exposes_prometheus_request_counters(client):
    await client.get("/health")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert 'requests_total{app_name="gongzhi",method="GET",path="/health"' in r.text


async def test_security_headers_on_pages_and_api(client):
    for path in ("/login", "/api/v1/me"):
        r = await client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert (await client.get("/api/v1/me")).headers["cache-control"] == "no-store"


async def test_every_response_carries_a_request_id_and_keeps_a_sane_incoming_one(client):
    r = await client.get("/health")
    assert len(r.headers["x-request-id"]) == 32
    r = await client.get("/health", headers={"X-Request-ID": "lb-0123456789abcdef"})
    assert r.headers["x-request-id"] == "lb-0123456789abcdef"
    r = await client.get("/health", headers={"X-Request-ID": "<script>"})
    assert r.headers["x-request-id"] != "<script>"


async def test_openapi_schema_lists_the_api(client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/v1/auth/login" in paths and "/api/v1/estates/{estate_id}" in paths
    assert "bearer" in r.json()["components"]["securitySchemes"]
