"""Backups: the PostgreSQL database and the stored files in one archive, restorable elsewhere.

An archive is an uncompressed tar (the dump is already compressed; photos and PDFs do not
compress) holding:

- `database.dump`: `pg_dump --format=custom` of the whole database (schema, data, sequences,
  the audit log's append-only trigger, Piccolo's migration table);
- `files/<key>`: every object of the local file store (core/storage.py) under its storage key;
- `manifest.json`: format, creation time, the SHA-256 and size of every member above, and the
  exact row count of every table at dump time (the dump is one snapshot, so the counts are the
  restored database's counts).

`restore` checks every member against the manifest before it touches anything, refuses a
database that already has tables, restores the dump in a single transaction (all or nothing),
writes the files (refusing to overwrite a different file under the same key) and compares the
row counts with the manifest; `gongzhi restore` then verifies every tenant's audit hash chain
against the state the manifest recorded at backup time.

pg_dump/pg_restore are the PostgreSQL tools, not Python: no library replaces them. The tool used
is the first of the bundled embedded server's and the system's whose major version is at least
the server's (pg_dump refuses older servers' dumps only the other way round).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg

FORMAT = 1
DUMP = "database.dump"
MANIFEST = "manifest.json"
FILES = "files/"
CHUNK = 1024 * 1024


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why, for an operator."""


@dataclass
class RestoreReport:
    tables: int = 0
    rows: int = 0
    files: int = 0
    files_skipped: int = 0


# --- PostgreSQL tools ---------------------------------------------------------------------------
def _candidates(tool: str) -> list[str]:
    found = []
    try:
        import pgserver  # the embedded server's own binaries, when installed

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / tool
        if bundled.exists():
            found.append(str(bundled))
    except ImportError:
        pass
    system = shutil.which(tool)
    if system:
        found.append(system)
    return found


def _major(binary: str) -> int:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else 0


def pg_tool(tool: str, server_major: int) -> str:
    for binary in _candidates(tool):
        if _major(binary) >= server_major:
            return binary
    raise BackupError(f"no {tool} of PostgreSQL {server_major} or later found; install the "
                      f"PostgreSQL client tools (Debian: postgresql-client)")


async def _server_major(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SHOW server_version_num")) // 10000
    finally:
        await conn.close()


async def table_counts(url: str) -> dict[str, int]:
    """Exact row counts of every table in the public schema."""
    conn = await asyncpg.connect(url)
    try:
        names = [r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        counts = {}
        for name in names:
            counts[name] = await conn.fetchval(f'SELECT count(*) FROM public."{name}"')
        return counts
    finally:
        await conn.close()


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}")


# --- backup --------------------------------------------------------------------------------------
def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _stored_files(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".tmp"))


async def audit_status() -> dict[str, dict]:
    """Each tenant's audit chain as verified now (core.audit.verify): recorded in the manifest so
    that a restore can tell a chain it damaged from one that was already broken at the source."""
    from core import audit

    out = {}
    for tenant in await audit.tenants_with_entries():
        r = await audit.verify(tenant)
        out[str(tenant)] = {"entries": r.entries, "intact": r.ok, "broken_at": r.broken_at_seq}
    return out


async def backup(output: Path, database_url: str, storage_root: Path,
                 audit: dict[str, dict] | None = None) -> dict:
    """Write an archive of the database and the file store to `output`; returns the manifest.

    Files are copied after the dump: a file written meanwhile is included without a row naming
    it, never the reverse (stored files are content-addressed and never rewritten).
    """
    server_major = await _server_major(database_url)
    pg_dump = pg_tool("pg_dump", server_major)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gongzhi-backup-") as tmp:
        dump = Path(tmp) / DUMP
        counts = await _dump_consistently(pg_dump, database_url, dump)
        members: dict[str, dict] = {DUMP: {"sha256": _sha256_file(dump), "size": dump.stat().st_size}}
        files = _stored_files(storage_root)
        for path in files:
            key = path.relative_to(storage_root).as_posix()
            members[FILES + key] = {"sha256": _sha256_file(path), "size": path.stat().st_size}
        manifest = {"format": FORMAT, "created_at": dt.datetime.now(dt.UTC).isoformat(),
                    "postgres_major": server_major, "members": members, "row_counts": counts,
                    "audit": audit or {}}
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            tar.add(dump, arcname=DUMP)
            for path in files:
                tar.add(path, arcname=FILES + path.relative_to(storage_root).as_posix())
            data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(dt.datetime.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
        os.replace(partial, output)  # a crash leaves a .partial file, never a short archive
    return manifest


async def _dump_consistently(pg_dump: str, url: str, dump: Path) -> dict[str, int]:
    """Count rows and dump from one exported snapshot, so the manifest matches the dump."""
    conn = await asyncpg.connect(url)
    try:
        tx = conn.transaction(isolation="repeatable_read", readonly=True)
        await tx.start()
        try:
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            names = [r["tablename"] for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
            counts = {n: await conn.fetchval(f'SELECT count(*) FROM public."{n}"') for n in names}
            await asyncio.to_thread(_run, [pg_dump, "--format=custom", "--no-owner",
                                           "--no-privileges", f"--snapshot={snapshot}",
                                           f"--file={dump}", f"--dbname={url}"])
        finally:
            await tx.rollback()
    finally:
        await conn.close()
    return counts


# --- restore -------------------------------------------------------------------------------------
def read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        manifest = json.loads(tar.extractfile(MANIFEST).read())  # type: ignore[union-attr]
    except (KeyError, AttributeError, ValueError) as exc:
        raise BackupError("not a Gongzhi backup: manifest.json is missing or unreadable") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unsupported backup format {manifest.get('format')!r}")
    return manifest


def _safe_key(name: str) -> str:
    key = name[len(FILES):]
    parts = Path(key).parts
    if not key or Path(key).is_absolute() or ".." in parts:
        raise BackupError(f"refusing an unsafe file name in the archive: {name!r}")
    return key


def check_archive(archive: Path) -> dict:
    """The manifest, after checking that the archive holds exactly its members, byte for byte."""
    with tarfile.open(archive, "r") as tar:
        manifest = read_manifest(tar)
        expected = manifest["members"]
        seen = set()
        for member in tar.getmembers():
            if member.name == MANIFEST:
                continue
            if not member.isfile() or member.name not in expected:
                raise BackupError(f"unexpected member in the archive: {member.name!r}")
            if member.name.startswith(FILES):
                _safe_key(member.name)
            h = hashlib.sha256()
            fh = tar.extractfile(member)
            for chunk in iter(lambda: fh.read(CHUNK), b""):  # type: ignore[union-attr]
                h.update(chunk)
            if h.hexdigest() != expected[member.name]["sha256"]:
                raise BackupError(f"{member.name} does not match its checksum: the archive is "
                                  f"damaged or was altered")
            seen.add(member.name)
        missing = set(expected) - seen
        if missing:
            raise BackupError(f"the archive lacks {len(missing)} member(s), e.g. {sorted(missing)[0]}")
    return manifest


async def restore(archive: Path, database_url: str, storage_root: Path) -> RestoreReport:
    """Restore `archive` into an empty database and the file store; verify what was restored."""
    manifest = check_archive(archive)
    if any(await table_counts(database_url)):
        raise BackupError("the target database already has tables; restore into a new, empty "
                          "database (createdb) so nothing is mixed or overwritten")
    server_major = await _server_major(database_url)
    pg_restore = pg_tool("pg_restore", max(server_major, manifest.get("postgres_major", 0)))
    report = RestoreReport()
    with tempfile.TemporaryDirectory(prefix="gongzhi-restore-") as tmp, \
            tarfile.open(archive, "r") as tar:
        # Files first, checked for clashes before anything is written.
        file_members = [m for m in tar.getmembers() if m.name.startswith(FILES)]
        for member in file_members:
            target = storage_root / _safe_key(member.name)
            if target.exists() and _sha256_file(target) != manifest["members"][member.name]["sha256"]:
                raise BackupError(f"the file store already holds a different {target.name}; "
                                  f"restore into an empty file store")
        tar.extract(DUMP, tmp, filter="data")
        await asyncio.to_thread(_run, [pg_restore, "--no-owner", "--no-privileges",
                                       "--exit-on-error", "--single-transaction",
                                       f"--dbname={database_url}", str(Path(tmp) / DUMP)])
        for member in file_members:
            target = storage_root / _safe_key(member.name)
            if target.exists():
                report.files_skipped += 1
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".tmp-{target.name}")
            with tar.extractfile(member) as src, partial.open("wb") as dst:  # type: ignore[union-attr]
                shutil.copyfileobj(src, dst, CHUNK)
            os.replace(partial, target)
            report.files += 1
    restored = await table_counts(database_url)
    expected = manifest["row_counts"]
    differing = {t: (n, restored.get(t)) for t, n in expected.items() if restored.get(t) != n}
    if differing:
        raise BackupError(f"restored row counts differ from the manifest: {differing}")
    report.tables, report.rows = len(restored), sum(restored.values())
    return report


async def verify_audit(at_backup: dict[str, dict]) -> list[str]:
    """Every tenant's audit chain in the configured (restored) database (core.audit.verify).

    Raises when a chain that was intact at backup time is broken now; a chain the manifest
    records as already broken at the source is reported, not blamed on the restore."""
    from core import audit

    lines = []
    for tenant in await audit.tenants_with_entries():
        r = await audit.verify(tenant)
        before = at_backup.get(str(tenant))
        if r.ok:
            lines.append(f"tenant {tenant}: {r.entries} audit entries, chain intact")
        elif before is not None and not before["intact"] and before["broken_at"] == r.broken_at_seq:
            lines.append(f"tenant {tenant}: chain broken at entry {r.broken_at_seq}, as it already "
                         f"was in the backed-up database")
        else:
            raise BackupError(f"tenant {tenant}: audit chain broken at entry {r.broken_at_seq} "
                              f"({r.reason}) although it was intact when backed up")
    return lines
