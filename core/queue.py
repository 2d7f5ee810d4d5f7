"""The SAQ job queue on Redis. Domain packages declare jobs in their `jobs.py`;
gongzhi/worker.py collects them."""
from __future__ import annotations

from saq import Queue

from core.settings import get_settings

_queue: Queue | None = None


def queue() -> Queue:
    global _queue
    if _queue is None:
        settings = get_settings()
        _queue = Queue.from_url(settings.redis_url, name=f"{settings.redis_namespace}:default")
    return _queue


async def close_queue() -> None:
    global _queue
    if _queue is not None:
        await _queue.disconnect()
        _queue = None
