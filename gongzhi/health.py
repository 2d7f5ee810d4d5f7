"""/health: database, Redis and queue status (503 when any is down)."""
from __future__ import annotations

import asyncio
import time

from litestar import get
from litestar.response import Response

from core.db import fetch
from core.queue import queue
from core.redis import redis


async def _check(name: str, probe) -> tuple[str, dict]:
    start = time.perf_counter()
    try:
        detail = await asyncio.wait_for(probe(), timeout=3)
        return name, {"status": "up", "ms": round((time.perf_counter() - start) * 1000, 1), **(detail or {})}
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return name, {"status": "down", "error": type(exc).__name__}


async def _database() -> dict:
    await fetch("SELECT 1")
    return {}


async def _redis() -> dict:
    await redis().ping()
    return {}


async def _queue() -> dict:
    info = await queue().info()
    return {"workers": len(info.get("workers", {})), "queued": info.get("queued", 0),
            "active": info.get("active", 0)}


@get("/health", tags=["operations"], summary="Component health")
async def health() -> Response:
    checks = dict(await asyncio.gather(_check("database", _database), _check("redis", _redis),
                                       _check("queue", _queue)))
    ok = all(c["status"] == "up" for c in checks.values())
    return Response({"status": "ok" if ok else "down", "checks": checks},
                    status_code=200 if ok else 503)
