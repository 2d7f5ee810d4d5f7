"""Tenant-wide case settings: the working calendar and the case policy; every query names its
tenant."""
from __future__ import annotations

import json
from datetime import date
from typing import Any

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


async def policy(tenant_id: int) -> dict | None:
    rows = await fetch("SELECT sla_targets, auto_close_days, version, updated_at FROM case_policy"
                       " WHERE tenant = $1", tenant_id)
    if not rows:
        return None
    row = rows[0]
    if isinstance(row["sla_targets"], str):
        row["sla_targets"] = json.loads(row["sla_targets"])
    return row


async def policy_version(tenant_id: int) -> int:
    """The stored policy's version, its row locked until the transaction ends (0: none)."""
    require_transaction()
    rows = await fetch("SELECT version FROM case_policy WHERE tenant = $1 FOR UPDATE", tenant_id)
    return rows[0]["version"] if rows else 0


async def save_policy(tenant_id: int, sla_targets: dict[str, Any], auto_close_days: int,
                      user_id: int) -> None:
    require_transaction()
    await fetch("INSERT INTO case_policy (tenant, sla_targets, auto_close_days, version,"
                " updated_by, updated_at) VALUES ($1, $2::jsonb, $3, 1, $4, now())"
                " ON CONFLICT (tenant) DO UPDATE SET sla_targets = EXCLUDED.sla_targets,"
                " auto_close_days = EXCLUDED.auto_close_days, updated_by = EXCLUDED.updated_by,"
                " version = case_policy.version + 1, updated_at = now()",
                tenant_id, json.dumps(sla_targets), auto_close_days, user_id)
