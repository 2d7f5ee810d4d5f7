"""Operator CLI: `gongzhi serve | worker | migrate | demo | create-tenant | create-user | audit verify
| backup | restore`."""
from __future__ import annotations

import asyncio
import os
import sys

import click

from core.embedded import ensure_services
from core.settings import get_settings


def _services() -> None:
    ensure_services()


async def _with_db(coro_fn):
    from core.db import close_pool, start_pool

    await start_pool()
    try:
        return await coro_fn()
    finally:
        await close_pool()


@click.group()
def main() -> None:
    """Gongzhi (共治) operations."""


@main.command()
def migrate() -> None:
    """Apply all database migrations."""
    _services()
    from gongzhi.migrate import migrate_sync

    migrate_sync()
    click.echo("migrations applied")


@main.command()
@click.option("--host", default=None, help="Bind address (default: HOST)")
@click.option("--port", default=None, type=int, help="Port (default: PORT)")
@click.option("--workers", default=None, type=int, help="Web worker processes (default: WEB_WORKERS)")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web app and API."""
    _services()
    _serve(host, port, workers)


def _serve(host: str | None, port: int | None, workers: int | None) -> None:
    import uvicorn

    settings = get_settings()
    uvicorn.run("gongzhi.asgi:app", host=host or settings.host, port=port or settings.port,
                workers=workers or settings.web_workers, proxy_headers=settings.trusted_proxies,
                log_level=settings.log_level.lower(), access_log=False)


@main.command()
def worker() -> None:
    """Run a queue worker (PDF rendering, SLA sweeps, webhooks, housekeeping)."""
    _services()
    from gongzhi.worker import run_worker

    run_worker()


@main.command()
@click.option("--no-serve", is_flag=True, help="Seed the demo data and exit")
def demo(no_serve: bool) -> None:
    """Start embedded services if needed, migrate, seed the demo district and serve it."""
    _services()
    from gongzhi.demo import DEMO_PASSWORD, LOGINS, seed_demo
    from gongzhi.migrate import migrate_sync

    migrate_sync()
    summary = asyncio.run(_with_db(seed_demo))
    settings = get_settings()
    url = f"http://{settings.host}:{settings.port}/"
    click.echo(f"\nGongzhi demo: {summary}")
    click.echo(f"Open {url}  (API docs: {url}schema/swagger)")
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for username, description in LOGINS:
        click.echo(f"  {username:<16} {description}")
    sys.stdout.flush()
    if not no_serve:
        os.environ.setdefault("WORKER_IN_PROCESS", "true")
        from core.settings import reset_settings

        reset_settings()
        _serve(None, None, 1)


@main.command("create-tenant")
@click.option("--code", required=True, help="Short unique code, e.g. sh-xuhui")
@click.option("--name", required=True, help="Display name, e.g. 徐汇区住房保障和房屋管理局")
@click.option("--admin-username", required=True)
@click.option("--admin-password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--bureau-name", default=None, help="Name of the housing bureau organisation")
def create_tenant(code: str, name: str, admin_username: str, admin_password: str,
                  bureau_name: str | None) -> None:
    """Create a tenant with its housing bureau and a first administrator."""
    _services()
    from tenancy.bootstrap import create_tenant as create

    tenant_id = asyncio.run(_with_db(lambda: create(code, name, admin_username, admin_password,
                                                    bureau_name or name)))
    click.echo(f"tenant {code} created (id {tenant_id}); administrator: {admin_username}")


@main.command("create-user")
@click.option("--tenant", "tenant_code", required=True, help="Tenant code")
@click.option("--username", required=True)
@click.option("--display-name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--organization-id", type=int, default=None)
@click.option("--role", default=None)
def create_user(tenant_code: str, username: str, display_name: str, password: str,
                organization_id: int | None, role: str | None) -> None:
    """Create a user, optionally with a membership."""
    _services()
    from tenancy.bootstrap import create_user as create

    user_id = asyncio.run(_with_db(lambda: create(tenant_code, username, display_name, password,
                                                  organization_id, role)))
    click.echo(f"user {username} created (id {user_id})")


@main.group()
def audit() -> None:
    """Audit log tools."""


@audit.command("verify")
@click.option("--tenant-id", type=int, default=None, help="Only this tenant")
def audit_verify(tenant_id: int | None) -> None:
    """Verify every tenant's hash chain; report the first broken link."""
    _services()
    from core import audit as audit_log

    async def run():
        ids = [tenant_id] if tenant_id else await audit_log.tenants_with_entries()
        return [await audit_log.verify(t) for t in ids]

    reports = asyncio.run(_with_db(run))
    failed = False
    for r in reports:
        if r.ok:
            click.echo(f"tenant {r.tenant_id}: {r.entries} entries, chain intact")
        else:
            failed = True
            click.echo(f"tenant {r.tenant_id}: BROKEN at entry {r.broken_at_seq} ({r.reason}); "
                       f"{r.entries} entries verified before it", err=True)
    if not reports:
        click.echo("no audit entries")
    sys.exit(1 if failed else 0)


def _file_store_root():
    from core.storage import storage

    root = getattr(storage(), "root", None)
    if root is None:
        raise click.ClickException("backup and restore handle the local file store only")
    return root


@main.command()
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="Archive to write (default: DATA_DIR/backups/gongzhi-<UTC time>.tar)")
def backup(output: str | None) -> None:
    """Back up the database (pg_dump) and the stored files into one verified archive."""
    import datetime as dt
    from pathlib import Path

    from gongzhi import backup as backups

    _services()
    settings = get_settings()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = Path(output) if output else settings.data_dir / "backups" / f"gongzhi-{stamp}.tar"
    async def run():
        chains = await backups.audit_status()
        return await backups.backup(target, settings.database_url, _file_store_root(), chains)

    try:
        manifest = asyncio.run(_with_db(run))
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    files = sum(1 for name in manifest["members"] if name.startswith(backups.FILES))
    rows = sum(manifest["row_counts"].values())
    click.echo(f"backup written to {target}: {len(manifest['row_counts'])} tables, {rows:,} rows, "
               f"{files:,} stored files")


@main.command()
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
def restore(archive: str) -> None:
    """Restore a backup into an empty database and file store, then verify it."""
    from pathlib import Path

    from gongzhi import backup as backups

    _services()
    settings = get_settings()
    try:
        manifest = backups.check_archive(Path(archive))
        report = asyncio.run(backups.restore(Path(archive), settings.database_url,
                                             _file_store_root()))
        chains = asyncio.run(_with_db(lambda: backups.verify_audit(manifest.get("audit", {}))))
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored {report.tables} tables, {report.rows:,} rows (counts match the "
               f"manifest), {report.files:,} files ({report.files_skipped} already present)")
    for line in chains:
        click.echo(line)


# `gongzhi verify FILE`: a PDF's signature report, offline (documents/verify_cli.py).
from documents.verify_cli import verify as _verify_pdf  # noqa: E402

main.add_command(_verify_pdf)

if __name__ == "__main__":
    main()
