"""Idempotency keys (core/idempotency.py), at the ASGI level: the answer is recorded before the
client can have all of it, so a retry sent the moment the answer arrives is replayed, never told
"still being processed"; and the record lives in PostgreSQL."""
from __future__ import annotations

import hashlib
import json
import secrets

from core.db import fetch
from tests.factories import login


def _scope(path: str, headers: dict[str, str]) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
            "query_string": b"", "server": ("testserver.local", 80),
            "client": ("10.9.8.11", 41002),
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}


async def test_the_answer_is_recorded_before_its_last_byte_is_sent(app, client, world):
    h = await login(client, world.a1.users["bureau:admin"])
    key = f"street-{secrets.token_hex(4)}"
    body = json.dumps({"name": f"幂等街道 {key}", "code": key}).encode()
    headers = {**h, "content-type": "application/json", "idempotency-key": key,
               "content-length": str(len(body))}
    sent = {"done": False}

    async def receive():
        if sent["done"]:
            return {"type": "http.disconnect"}
        sent["done"] = True
        return {"type": "http.request", "body": body, "more_body": False}

    seen: list = []
    status: list[int] = []

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            rows = await fetch("SELECT state, status FROM idempotency_record WHERE key_hash = $1",
                               hashlib.sha256(key.encode()).hexdigest())
            seen.append(rows[0] if rows else None)

    await app(_scope("/api/v1/streets", headers), receive, send)
    assert status == [201]
    assert seen == [{"state": "done", "status": 201}]

    again = await client.post("/api/v1/streets", content=body, headers={
        **h, "content-type": "application/json", "idempotency-key": key})
    assert again.status_code == 201
    assert again.headers.get("idempotent-replayed") == "true"
