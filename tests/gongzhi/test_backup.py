"""`gongzhi backup` / `gongzhi restore`, run as real subprocesses with the real pg_dump and
pg_restore: a restore into a fresh database finds every case, document, stored file and audit
entry, and the audit chains still verify; damaged archives and non-empty targets are refused."""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import asyncpg
import pytest

from core.db import fetch
from core.storage import storage
from tests.gongzhi import faults

ROOT = Path(__file__).resolve().parents[2]


def gongzhi(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gongzhi.cli", *args], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=300)


@pytest.fixture
async def fresh_database():
    async with faults.fresh_database("gongzhi_restore") as url:
        yield url


async def _rows(url: str, sql: str, *args):
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def chain_states(verified: subprocess.CompletedProcess) -> dict[str, str]:
    """tenant -> "intact" or where its chain breaks, from `gongzhi audit verify`'s output."""
    out = {}
    for line in (verified.stdout + verified.stderr).splitlines():
        if line.startswith("tenant "):
            tenant, _, rest = line.partition(":")
            out[tenant] = "intact" if "chain intact" in rest else rest.split(";")[0].strip()
    return out


async def test_restore_into_a_fresh_database_finds_every_case_document_file_and_audit_entry(
        client, world, tmp_path, fresh_database):
    archive = tmp_path / "backup.tar"
    made = gongzhi("backup", "--output", str(archive))
    assert made.returncode == 0, made.stderr
    assert "backup written to" in made.stdout
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "database.dump" in names and "manifest.json" in names

    files = tmp_path / "restored-files"
    done = gongzhi("restore", str(archive), DATABASE_URL=fresh_database, STORAGE_DIR=str(files))
    assert done.returncode == 0, done.stderr
    assert "counts match the manifest" in done.stdout
    assert "chain intact" in done.stdout

    # Every case, event, contract scan, photo and audit entry of the world is there, identical.
    for table, key in (("case_record", "id"), ("case_event", "id"), ("contract_document", "id"),
                       ("case_attachment", "id"), ("audit_entry", "hash")):
        source = {r[key] for r in await fetch(f'SELECT {key} FROM "{table}"')}
        restored = {r[0] for r in await _rows(fresh_database, f'SELECT {key} FROM "{table}"')}
        assert source and source <= restored, table
    victim_case = await _rows(fresh_database, 'SELECT description, status, updated_at FROM case_record WHERE id = $1',
                              world.a1.case)
    original = await fetch('SELECT description, status, updated_at FROM case_record WHERE id = $1', world.a1.case)
    assert [tuple(r.values()) for r in victim_case] == [tuple(r.values()) for r in original]

    # The stored files came back byte for byte under their keys.
    scan_key = (await fetch("SELECT storage_key FROM contract_document WHERE id = $1",
                            world.a1.document))[0]["storage_key"]
    assert (files / scan_key).read_bytes() == await storage().get(scan_key)

    # The restored database verifies on its own, as an operator would check it, exactly as the
    # source does (other tests tamper with some tenants' chains on purpose: those stay broken
    # at the same entry, every other chain stays intact).
    restored_check = gongzhi("audit", "verify", DATABASE_URL=fresh_database)
    source_check = gongzhi("audit", "verify")
    assert "chain intact" in restored_check.stdout
    assert f"tenant {world.tenant_a}:" in restored_check.stdout
    assert chain_states(restored_check) == chain_states(source_check)


async def test_restore_refuses_a_damaged_archive_and_leaves_the_database_empty(
        client, world, tmp_path, fresh_database):
    archive = tmp_path / "backup.tar"
    assert gongzhi("backup", "--output", str(archive)).returncode == 0
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "database.dump":
                data = data[:-1] + bytes([data[-1] ^ 1])  # one changed bit
            import io

            dst.addfile(member, io.BytesIO(data))

    done = gongzhi("restore", str(damaged), DATABASE_URL=fresh_database,
                   STORAGE_DIR=str(tmp_path / "files"))
    assert done.returncode != 0
    assert "database.dump does not match its checksum" in done.stderr
    assert await _rows(fresh_database, "SELECT 1 FROM pg_tables WHERE schemaname = 'public'") == []
    assert not (tmp_path / "files").exists()


async def test_restore_refuses_a_database_that_already_has_tables(client, world, tmp_path):
    archive = tmp_path / "backup.tar"
    assert gongzhi("backup", "--output", str(archive)).returncode == 0
    before = (await fetch('SELECT count(*) AS n FROM case_record'))[0]["n"]
    done = gongzhi("restore", str(archive), STORAGE_DIR=str(tmp_path / "files"))
    assert done.returncode != 0
    assert "already has tables" in done.stderr
    assert (await fetch('SELECT count(*) AS n FROM case_record'))[0]["n"] == before
