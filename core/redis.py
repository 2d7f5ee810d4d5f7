"""The shared Redis client, its key namespace, and the one warning a minute about an outage."""
from __future__ import annotations

import logging
import time

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


def key(*parts: object) -> str:
    return ":".join([get_settings().redis_namespace, *map(str, parts)])
