"""Render jobs: a report rendered by the queue worker is registered once; a worker killed in the
middle of rendering (a real `gongzhi worker` process, SIGKILL) leaves nothing registered and the
retried job makes exactly one version; a job that dies after storing the PDF but before its
transaction commits leaves no rows, and its retry registers exactly one version."""
from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.db import db, fetch
from core.storage import storage
from documents import jobs, service
from documents.reports import produce_contract_report
from gongzhi.worker import build_worker
from tests.documents.world import tiny_pdf

ROOT = Path(__file__).resolve().parents[2]


_YEARS = itertools.count(1950)  # each test run has its own database


def fresh_period() -> tuple[str, str]:
    """A calendar year nobody else renders for, so every test has its own report subject: one
    of its own per call, long before any year the worlds use (tests/documents/world.py
    registers a 2025 report for the same contract; a random year could hit it, or repeat)."""
    year = next(_YEARS)
    return f"{year}-01-01", f"{year}-12-31"


async def versions_for(job_key: str) -> list[dict]:
    return await fetch("SELECT id, document, version, sha256, storage_key FROM document_version"
                       " WHERE job_key = $1", job_key)


async def documents_for(world, period: str) -> list[dict]:
    return await fetch("SELECT id, current_version FROM document WHERE tenant = $1 AND"
                       " subject_type = 'service_contract' AND subject_id = $2 AND period = $3",
                       world.tenant_a, world.a1.contract, period)


async def drain() -> None:
    worker = build_worker(manage_pool=False, burst=True)
    await asyncio.wait_for(worker.start(), timeout=120)


async def test_the_worker_renders_and_registers_a_report_once(client, world):
    start, end = fresh_period()
    key = f"test:{secrets.token_hex(6)}"
    args = dict(tenant_id=world.tenant_a, contract_id=world.a1.contract, start=start, end=end)
    await jobs.enqueue_render("render_contract_report", job_key=key, **args)
    await jobs.enqueue_render("render_contract_report", job_key=key, **args)  # ignored: same key
    await drain()
    [version] = await versions_for(key)
    assert await jobs.render_stage(key) == "registered"
    assert version["version"] == 1
    pdf = await storage().get(version["storage_key"])
    assert pdf.startswith(b"%PDF-") and hashlib.sha256(pdf).hexdigest() == version["sha256"]
    [event] = await fetch("SELECT topic, organization_ids FROM outbox_event WHERE topic ="
                          " 'document.rendered' AND payload->>'document_id' = $1",
                          str(version["document"]))
    assert world.a1.orgs["property_company"] in event["organization_ids"]


async def test_a_worker_killed_mid_render_leaves_nothing_and_the_retry_makes_one_version(
        client, world):
    start, end = fresh_period()
    key = f"crash:{secrets.token_hex(6)}"
    await jobs.enqueue_render("render_contract_report", job_key=key, timeout=4,
                              tenant_id=world.tenant_a, contract_id=world.a1.contract,
                              start=start, end=end)
    proc = subprocess.Popen([sys.executable, "-m", "gongzhi.cli", "worker"], cwd=ROOT,
                            env={**os.environ, "WORKER_CONCURRENCY": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while await jobs.render_stage(key) != "rendering":
            assert proc.poll() is None, "the worker process died on its own"
            assert time.monotonic() < deadline, "the worker never started rendering"
            await asyncio.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # like a lost machine: no cleanup, no rollback hook
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    # nothing half-registered: no version, no document, no audit entry for the subject
    assert await versions_for(key) == []
    assert await documents_for(world, start[:4]) == []
    job = await jobs.queue().job(key)
    assert job is not None and job.status == "active"  # the queue still thinks it runs
    await asyncio.sleep(4.5)  # past its timeout: any worker's sweep now retries it
    q = jobs.queue()
    await q.redis.delete(q._sweep)  # the killed worker's sweep lock (60 s) would delay this one
    swept = await q.sweep(lock=1)
    assert job.id in swept
    await drain()
    [version] = await versions_for(key)
    [doc] = await documents_for(world, start[:4])
    assert doc["current_version"] == 1 and version["document"] == doc["id"]
    files = await fetch("SELECT revision FROM document_file WHERE version = $1", version["id"])
    assert files == [{"revision": 0}]
    assert await jobs.render_stage(key) == "registered"


async def test_a_job_dying_after_storing_the_pdf_commits_nothing_and_its_retry_one_version(
        client, world):
    start, end = fresh_period()
    key = f"late-crash:{secrets.token_hex(6)}"
    pdf = tiny_pdf(key)

    class Died(Exception):
        pass

    try:
        async with db().transaction():
            version = await service.register_version(
                tenant_id=world.tenant_a, kind="annual_report", subject_type="service_contract",
                subject_id=world.a1.contract, period=start[:4], title="报告", pdf=pdf,
                owner_organization_id=world.bureau_a, estate_id=world.a1.estate,
                organizations=[], page_count=1, signers=[], source={}, template="t",
                job_key=key)
            raise Died  # the process dies before COMMIT
    except Died:
        pass
    assert await storage().exists(version["storage_key"])  # the blob is there ...
    assert await versions_for(key) == [] and await documents_for(world, start[:4]) == []  # ... no rows
    from datetime import date

    again = await produce_contract_report(world.tenant_a, world.a1.contract,
                                          date.fromisoformat(start), date.fromisoformat(end),
                                          job_key=key)
    assert [v["id"] for v in await versions_for(key)] == [again["id"]]
    assert (await produce_contract_report(world.tenant_a, world.a1.contract,
                                          date.fromisoformat(start), date.fromisoformat(end),
                                          job_key=key))["id"] == again["id"]
    [doc] = await documents_for(world, start[:4])
    assert doc["current_version"] == 1
