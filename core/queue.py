"""The SAQ job queue on Redis. Domain packages declare jobs in their `jobs.py`;
gongzhi/worker.py collects them."""
from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from saq import Queue
from saq.job import Job
from saq.queue.redis import RedisQueue

from core.redis import UNAVAILABLE
from core.redis import outage as redis_outage
from core.settings import get_settings

_queue: Queue | None = None
OUTAGE_PAUSE_SECONDS = 1.0


class ResilientRedisQueue(RedisQueue):
    """SAQ's Redis queue, with a pause when Redis is unreachable.

    SAQ's worker starts the next dequeue as soon as one fails; while Redis is down each fails at
    once, so every worker slot would retry in a tight loop, spinning a CPU and starving the web
    process the demo's in-process worker shares. Here a failed dequeue waits a second and reports
    "no job"; the worker carries on by itself when Redis is back.
    """

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:
        try:
            return await super().dequeue(timeout=timeout, poll_interval=poll_interval)
        except UNAVAILABLE as exc:
            outage(exc)
            await asyncio.sleep(OUTAGE_PAUSE_SECONDS)
            return None

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        try:
            return await super().sweep(lock, abort)
        except UNAVAILABLE as exc:
            outage(exc)
            return []


def outage(exc: BaseException) -> None:
    """A Redis outage seen by the queue or a worker's upkeep (core.redis.outage: one warning a
    minute, no traceback)."""
    redis_outage(exc, "jobs wait until it is back")


def queue() -> Queue:
    global _queue
    if _queue is None:
        settings = get_settings()
        # Built from a client rather than Queue.from_url, which only accepts redis:// URLs
        # (the embedded server listens on a unix socket).
        _queue = ResilientRedisQueue(Redis.from_url(settings.redis_url),
                            name=f"{settings.redis_namespace}:default")
    return _queue


async def close_queue() -> None:
    global _queue
    if _queue is not None:
        await _queue.disconnect()
        _queue = None
