"""Test session: a fresh PostgreSQL database and Redis namespace per run, real servers only.

DATABASE_URL / REDIS_URL (as CI sets them) point at running servers; without them the
embedded servers start under var/test. Each run creates its own database and drops it, and
deletes its Redis keys, at the end.
"""
from __future__ import annotations

import asyncio
import os
import secrets
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"
TEST_DB = f"gongzhi_test_{RUN_ID}"


def _prepare_environment() -> tuple[str, str]:
    os.environ.setdefault("DATA_DIR", str(ROOT / "var" / "test"))
    os.environ["REDIS_NAMESPACE"] = f"gongzhi-test-{RUN_ID}"
    os.environ["LOG_LEVEL"] = os.environ.get("TEST_LOG_LEVEL", "WARNING")
    os.environ["RATE_LIMIT_PER_MINUTE"] = "100000"
    os.environ["LOGIN_ATTEMPTS_PER_MINUTE_PER_IP"] = "100000"
    from core.embedded import ensure_services
    from core.settings import reset_settings

    reset_settings()
    ensure_services()
    admin_url = os.environ["DATABASE_URL"]
    return admin_url, _with_database(admin_url, TEST_DB)


def _with_database(url: str, name: str) -> str:
    from urllib.parse import urlparse, urlunparse

    parsed = urlparse(url)
    return urlunparse(parsed._replace(path="/" + name))


async def _admin(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


ADMIN_URL, TEST_URL = _prepare_environment()


def pytest_sessionstart(session) -> None:
    asyncio.run(_admin(ADMIN_URL, f'CREATE DATABASE "{TEST_DB}"'))
    os.environ["DATABASE_URL"] = TEST_URL
    from core.settings import reset_settings

    reset_settings()
    from gongzhi.migrate import migrate_sync

    migrate_sync()


def pytest_sessionfinish(session, exitstatus) -> None:
    async def cleanup() -> None:
        await _admin(ADMIN_URL, f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')
        from redis.asyncio import Redis

        from core.settings import get_settings

        r = Redis.from_url(get_settings().redis_url)
        async for key in r.scan_iter(match=f"{get_settings().redis_namespace}*", count=1000):
            await r.delete(key)
        await r.aclose()

    asyncio.run(cleanup())


@pytest.fixture(scope="session")
def app():
    from gongzhi.app import create_app

    return create_app()


@pytest.fixture(scope="session")
async def client(app):
    """An HTTP client calling the app in-process, on the test's own event loop.

    (Litestar's AsyncTestClient runs the lifespan in a separate thread and loop, which the
    asyncpg pool cannot cross, so the app's start-up and shut-down are run here instead.)
    """
    import httpx

    from core.db import close_pool, start_pool
    from core.queue import close_queue
    from core.redis import close_redis

    await start_pool()
    transport = httpx.ASGITransport(app=app, client=("10.9.8.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c
    await close_queue()
    await close_redis()
    await close_pool()


@pytest.fixture(scope="session")
async def world(client):
    """Two tenants with a full hierarchy, organisations of every kind and a user per role."""
    from tests.factories import build_world

    return await build_world()
