"""The shared Redis client and namespaced Litestar stores (rate limits, lockouts, idempotency)."""
from __future__ import annotations

import logging
import time

from litestar.stores.redis import RedisStore
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

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


log = logging.getLogger("gongzhi.redis")
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


_warned_at = 0.0


def outage(exc: BaseException, consequence: str) -> None:
    """Note that Redis is unreachable: one warning a minute for the whole process, no traceback
    (the queue's upkeep and every rate-limited request would otherwise log one each time)."""
    global _warned_at
    if time.monotonic() - _warned_at > 60:
        _warned_at = time.monotonic()
        log.warning("Redis unreachable (%s: %s); %s", type(exc).__name__, exc, consequence)


class FailOpenRedisStore(RedisStore):
    """A store whose reads miss and writes are skipped while Redis is unreachable.

    For request rate limits only: when Redis is down, requests are served unthrottled (logged
    once a minute) rather than refused, so an outage of the cache never stops residents and
    staff from working. Login lockouts do not use it: they fail closed (tenancy/auth.py).
    """

    async def get(self, key: str, renew_for=None):  # type: ignore[override]
        try:
            return await super().get(key, renew_for)
        except UNAVAILABLE as exc:
            outage(exc, "rate limits are not enforced until it is back")
            return None

    async def set(self, key: str, value, expires_in=None) -> None:  # type: ignore[override]
        try:
            await super().set(key, value, expires_in)
        except UNAVAILABLE as exc:
            outage(exc, "rate limits are not enforced until it is back")


def fail_open_store(name: str) -> FailOpenRedisStore:
    return FailOpenRedisStore(redis(), namespace=f"{get_settings().redis_namespace}:{name}",
                              handle_client_shutdown=False)


def key(*parts: object) -> str:
    return ":".join([get_settings().redis_namespace, *map(str, parts)])
