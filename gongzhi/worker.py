"""SAQ worker: every domain's jobs, run outside the web event loop."""
from __future__ import annotations

import asyncio
import gc
import logging

from saq import Worker

from cases import jobs as case_jobs
from contracts import jobs as contract_jobs
from core import jobs as core_jobs
from core.db import close_pool, start_pool
from core.queue import outage, queue
from core.redis import UNAVAILABLE
from core.settings import get_settings
from documents import jobs as document_jobs
from evaluations import jobs as evaluation_jobs
from meetings import jobs as meeting_jobs
from tenancy import jobs as tenancy_jobs

log = logging.getLogger("gongzhi.worker")

FUNCTIONS = [*core_jobs.FUNCTIONS, *tenancy_jobs.FUNCTIONS, *contract_jobs.FUNCTIONS,
             *case_jobs.FUNCTIONS, *evaluation_jobs.FUNCTIONS, *document_jobs.FUNCTIONS,
             *meeting_jobs.FUNCTIONS]
CRON_JOBS = [*core_jobs.CRON_JOBS, *tenancy_jobs.CRON_JOBS, *contract_jobs.CRON_JOBS,
             *case_jobs.CRON_JOBS, *evaluation_jobs.CRON_JOBS, *document_jobs.CRON_JOBS,
             *meeting_jobs.CRON_JOBS]


def freeze_long_lived() -> int:
    """Move every object alive now into the garbage collector's permanent generation; returns
    how many. A worker's modules, templates, fonts and caches live as long as it does, yet each
    full collection would walk all of them (~200,000 objects once WeasyPrint and pyHanko are
    loaded) several times per report: ~0.1 s of a signed annual report, measured in
    bench/bench_documents.py. Objects made later are collected as usual."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


async def _startup(ctx) -> None:
    await start_pool()
    await asyncio.to_thread(document_jobs.warm_up)
    log.info("warmed up; %d long-lived objects frozen out of the collector", freeze_long_lived())


async def _shutdown(ctx) -> None:
    await close_pool()


# A job whose worker dies (SIGKILL, lost machine) stays "active" until it is past its timeout;
# the next sweep of any worker then retries it, as long as it has attempts left. Every job is
# written to be safe to run again (one transaction, idempotent effects), so retrying is right.
JOB_RETRIES = 3
for _cron in CRON_JOBS:
    _cron.retries = max(_cron.retries or 1, JOB_RETRIES)


class GongzhiWorker(Worker):
    """SAQ's worker whose upkeep (cron scheduling, aborts, worker info) waits out a Redis outage
    quietly instead of logging a traceback every second; see core.queue.ResilientRedisQueue for
    dequeues and sweeps."""

    async def schedule(self, lock: int = 1) -> None:
        try:
            await super().schedule(lock)
        except UNAVAILABLE as exc:
            outage(exc)

    async def abort(self, abort_threshold: float) -> None:
        try:
            await super().abort(abort_threshold)
        except UNAVAILABLE as exc:
            outage(exc)

    async def worker_info(self, ttl: int = 60):
        try:
            return await super().worker_info(ttl)
        except UNAVAILABLE as exc:
            outage(exc)
            return None


def build_worker(*, manage_pool: bool = True, burst: bool = False) -> Worker:
    """A worker for every domain's jobs; `burst` drains the queue and stops (tests, one-offs)."""
    return GongzhiWorker(queue(), functions=FUNCTIONS, cron_jobs=[] if burst else CRON_JOBS,
                  timers={"sweep": get_settings().worker_sweep_seconds},
                  concurrency=get_settings().worker_concurrency,
                  startup=_startup if manage_pool else None,
                  shutdown=_shutdown if manage_pool else None,
                  burst=burst, dequeue_timeout=1.0 if burst else 0.0)


def run_worker() -> None:
    worker = build_worker()
    log.info("worker started on queue %s", worker.queue.name)
    asyncio.run(worker.start())
