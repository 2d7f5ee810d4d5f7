"""Apply every domain's Piccolo migrations (idempotent: applied ones are skipped)."""
from __future__ import annotations

import asyncio

from core.db import configure_engine


async def migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    configure_engine()
    response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migrations failed: {response.message}")


def migrate_sync() -> None:
    asyncio.run(migrate())
