"""The SAQ job queue on Redis. Domain packages declare jobs in their `jobs.py`;
gongzhi/worker.py collects them."""
from __future__ import annotations

from redis.asyncio import Redis
from saq import Queue
from saq.queue.redis import RedisQueue

from core.settings import get_settings

_queue: Queue | None = None


def queue() -> Queue:
    global _queue
    if _queue is None:
        settings = get_settings()
        # Built from a client rather than Queue.from_url, which only accepts redis:// URLs
        # (the embedded server listens on a unix socket).
        _queue = RedisQueue(Redis.from_url(settings.redis_url),
                            name=f"{settings.redis_namespace}:default")
    return _queue


async def close_queue() -> None:
    global _queue
    if _queue is not None:
        await _queue.disconnect()
        _queue = None
