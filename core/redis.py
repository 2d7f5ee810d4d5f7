"""The shared Redis client and namespaced Litestar stores (rate limits, lockouts, idempotency)."""
from __future__ import annotations

from redis.asyncio import Redis
from litestar.stores.redis import RedisStore

from core.settings import get_settings

_client: Redis | None = None


def redis() -> Redis:
    global _client
    if _client is None:
        url = get_settings().redis_url
        if not url:
            raise RuntimeError("REDIS_URL is not set and no embedded server was started")
        _client = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5,
                                 health_check_interval=30)
    return _client


async def close_redis() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None


def store(name: str) -> RedisStore:
    """A Redis-backed Litestar store under this deployment's namespace."""
    return RedisStore(redis(), namespace=f"{get_settings().redis_namespace}:{name}",
                      handle_client_shutdown=False)


def key(*parts: object) -> str:
    return ":".join([get_settings().redis_namespace, *map(str, parts)])
