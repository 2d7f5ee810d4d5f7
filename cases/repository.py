"""Case queries. For now only the working calendar; every query is scoped to one tenant."""
from __future__ import annotations

from datetime import date

from core.db import fetch, require_transaction

_COLUMNS = "date, kind, name, updated_at"


async def calendar_days(tenant_id: int) -> list[dict]:
    """The tenant's own calendar rows (its overrides of the national data), by date."""
    return await fetch(f"SELECT {_COLUMNS} FROM calendar_day WHERE tenant = $1 ORDER BY date",
                       tenant_id)


async def calendar_day(tenant_id: int, day: date) -> dict | None:
    rows = await fetch(f"SELECT {_COLUMNS} FROM calendar_day WHERE tenant = $1 AND date = $2",
                       tenant_id, day)
    return rows[0] if rows else None


async def upsert_calendar_day(tenant_id: int, day: date, kind: str, name: str) -> dict:
    require_transaction()
    rows = await fetch(
        f"INSERT INTO calendar_day (tenant, date, kind, name, updated_at)"
        f" VALUES ($1, $2, $3, $4, now())"
        f" ON CONFLICT (tenant, date) DO UPDATE"
        f" SET kind = EXCLUDED.kind, name = EXCLUDED.name, updated_at = now()"
        f" RETURNING {_COLUMNS}", tenant_id, day, kind, name)
    return rows[0]


async def delete_calendar_day(tenant_id: int, day: date) -> dict | None:
    require_transaction()
    rows = await fetch(f"DELETE FROM calendar_day WHERE tenant = $1 AND date = $2"
                       f" RETURNING {_COLUMNS}", tenant_id, day)
    return rows[0] if rows else None
