"""The audit log is append-only and its hash chain exposes any later change."""
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from core import audit
from core.db import db, fetch

ROOT = Path(__file__).resolve().parents[2]
LONE_TENANT = 990_001  # audit rows carry tenant ids; this one belongs to no other test


async def _append(tenant_id: int, n: int) -> None:
    async with db().transaction():
        for i in range(n):
            await audit.record(tenant_id, "test.event", subject_type="thing", subject_id=i,
                               actor_user_id=1, data={"i": i, "text": "业主 数据"})


async def test_entries_chain_in_order_and_verify(client):
    await _append(LONE_TENANT, 5)
    report = await audit.verify(LONE_TENANT)
    assert report.ok and report.entries >= 5
    rows = await fetch("SELECT seq, prev_hash, hash FROM audit_entry WHERE tenant_id = $1 ORDER BY seq",
                       LONE_TENANT)
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    for before, after in zip(rows, rows[1:]):
        assert after["prev_hash"] == before["hash"]


async def test_update_and_delete_are_refused_by_the_database(client):
    await _append(LONE_TENANT + 1, 1)
    for sql in ("UPDATE audit_entry SET action = 'x' WHERE tenant_id = $1",
                "DELETE FROM audit_entry WHERE tenant_id = $1"):
        with pytest.raises(asyncpg.exceptions.RaiseError, match="append-only"):
            await fetch(sql, LONE_TENANT + 1)


async def test_writing_outside_a_transaction_is_refused(client):
    with pytest.raises(RuntimeError, match="outside a transaction"):
        await audit.record(LONE_TENANT, "test.event", subject_type="thing")


async def test_concurrent_writers_keep_one_unbroken_chain(client):
    import asyncio

    tenant = LONE_TENANT + 2
    await asyncio.gather(*(_append(tenant, 3) for _ in range(8)))
    report = await audit.verify(tenant)
    assert report.ok and report.entries == 24


async def _tamper(sql: str, *args) -> None:
    """Bypass the append-only trigger the way a DBA with superuser rights could."""
    async with db().transaction():
        await fetch("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_update")
        await fetch(sql, *args)
        await fetch("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_no_update")


async def test_verify_reports_the_first_altered_entry(client):
    tenant = LONE_TENANT + 3
    await _append(tenant, 6)
    await _tamper("UPDATE audit_entry SET data = '{\"i\": 99}' WHERE tenant_id = $1 AND seq = 4", tenant)
    report = await audit.verify(tenant)
    assert not report.ok
    assert report.broken_at_seq == 4 and report.entries == 3


async def test_verify_reports_a_deleted_entry(client):
    tenant = LONE_TENANT + 4
    await _append(tenant, 5)
    await _tamper("DELETE FROM audit_entry WHERE tenant_id = $1 AND seq = 2", tenant)
    report = await audit.verify(tenant)
    assert not report.ok and report.broken_at_seq == 2


async def test_cli_audit_verify_exits_nonzero_and_names_the_broken_link(client):
    tenant = LONE_TENANT + 5
    await _append(tenant, 3)
    cli = [sys.executable, "-m", "gongzhi.cli", "audit", "verify", "--tenant-id", str(tenant)]
    ok = subprocess.run(cli, cwd=ROOT, env=os.environ, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "chain intact" in ok.stdout
    await _tamper("UPDATE audit_entry SET action = 'forged' WHERE tenant_id = $1 AND seq = 2", tenant)
    bad = subprocess.run(cli, cwd=ROOT, env=os.environ, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert "BROKEN at entry 2" in bad.stderr
