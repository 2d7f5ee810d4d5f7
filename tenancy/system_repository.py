"""Queries with no signed-in caller to scope by, and set-based bulk writes.

Operator actions (CLI), demo seeding and ledger imports write many rows at once; each
statement still names its tenant (and estate) explicitly. Callers check permissions first.
"""
from __future__ import annotations

from typing import Any

from piccolo.table import Table

from core.db import fetch, require_transaction
from tenancy.tables import Organization, Tenant

# --- operator (system) writes: CLI and demo seeding, no caller to scope by ------------------------
async def insert(table: type[Table], **values: Any) -> dict:
    require_transaction()
    rows = await table.insert(table(**values)).returning(*table.all_columns())
    return rows[0]


async def tenant_by_code(code: str) -> dict | None:
    return await Tenant.select().where(Tenant.code == code).first()


async def organization_in_tenant(tenant_id: int, org_id: int) -> dict | None:
    return await Organization.select().where(Organization.id == org_id,
                                             Organization.tenant == tenant_id).first()


# --- ledger import (tenancy.ledger_import): set-based reads and writes for one estate ----------
# The caller has already been checked as a manager of the estate; every statement is still
# limited to its tenant and estate.
_LEDGER_LOCK_CLASS = 7302  # advisory-lock namespace: one ledger import per estate at a time


async def ledger_lock(estate_id: int) -> None:
    require_transaction()
    await fetch("SELECT pg_advisory_xact_lock($1, $2)", _LEDGER_LOCK_CLASS, int(estate_id))


async def ledger_buildings(tenant_id: int, estate_id: int) -> dict[str, int]:
    rows = await fetch("SELECT id, name FROM building WHERE tenant = $1 AND estate = $2",
                       tenant_id, estate_id)
    return {r["name"]: r["id"] for r in rows}


async def ledger_units(tenant_id: int, estate_id: int) -> dict[tuple[int, str], dict]:
    """(building id, unit number) -> the unit, with `owned` telling whether it has owners."""
    rows = await fetch(
        "SELECT u.id, u.building, u.number, u.floor, u.exclusive_area, u.developer_unsold,"
        " EXISTS (SELECT 1 FROM ownership o WHERE o.unit = u.id) AS owned"
        " FROM unit u WHERE u.tenant = $1 AND u.estate = $2", tenant_id, estate_id)
    return {(r["building"], r["number"]): r for r in rows}


async def ledger_ownerships(tenant_id: int, estate_id: int) -> set[tuple[int, int]]:
    rows = await fetch("SELECT person, unit FROM ownership WHERE tenant = $1 AND estate = $2",
                       tenant_id, estate_id)
    return {(r["person"], r["unit"]) for r in rows}


async def ledger_people(tenant_id: int, estate_id: int, keys: list[tuple[str, str | None]],
                        visible_estates: list[int] | None = None) -> dict[tuple[str, str | None], int]:
    """Existing persons for (name, phone) keys: by name and phone among owners in
    `visible_estates` (None: the whole tenant); a name without a phone only matches a
    phoneless owner in this estate (names are not unique)."""
    with_phone = [k for k in keys if k[1] is not None]
    rows = await fetch(
        "SELECT DISTINCT ON (p.name, p.phone) p.id, p.name, p.phone FROM person p"
        " JOIN unnest($2::text[], $3::text[]) AS k(name, phone)"
        " ON p.name = k.name AND p.phone = k.phone"
        " WHERE p.tenant = $1 AND ($4::int[] IS NULL OR p.id IN"
        " (SELECT person FROM ownership WHERE tenant = $1 AND estate = ANY($4::int[])))"
        " ORDER BY p.name, p.phone, p.id",
        tenant_id, [k[0] for k in with_phone], [k[1] for k in with_phone], visible_estates)
    rows += await fetch(
        "SELECT DISTINCT ON (p.name) p.id, p.name, p.phone FROM person p"
        " WHERE p.tenant = $1 AND p.phone IS NULL AND p.name = ANY($3::text[]) AND p.id IN"
        " (SELECT person FROM ownership WHERE tenant = $1 AND estate = $2) ORDER BY p.name, p.id",
        tenant_id, estate_id, [k[0] for k in keys if k[1] is None])
    return {(r["name"], r["phone"]): r["id"] for r in rows}


async def ledger_insert_buildings(tenant_id: int, estate_id: int, names: list[str]) -> dict[str, int]:
    require_transaction()
    if not names:
        return {}
    rows = await fetch("INSERT INTO building (tenant, estate, name, floors)"
                       " SELECT $1, $2, n, NULL FROM unnest($3::text[]) AS n RETURNING id, name",
                       tenant_id, estate_id, names)
    return {r["name"]: r["id"] for r in rows}


async def ledger_insert_units(tenant_id: int, estate_id: int, units: list[tuple]) -> dict[tuple[int, str], int]:
    """`units`: (building id, number, floor, exclusive area, developer unsold) tuples."""
    require_transaction()
    if not units:
        return {}
    building, number, floor, area, unsold = (list(c) for c in zip(*units))
    rows = await fetch(
        "INSERT INTO unit (tenant, estate, building, number, floor, exclusive_area, developer_unsold)"
        " SELECT $1, $2, v.building, v.number, v.floor, v.area, v.unsold FROM unnest("
        "$3::int[], $4::text[], $5::int[], $6::numeric[], $7::bool[])"
        " AS v(building, number, floor, area, unsold) RETURNING id, building, number",
        tenant_id, estate_id, building, number, floor, area, unsold)
    return {(r["building"], r["number"]): r["id"] for r in rows}


async def ledger_update_units(tenant_id: int, units: list[tuple]) -> None:
    """`units`: (unit id, floor, exclusive area, developer unsold) tuples."""
    require_transaction()
    if not units:
        return
    ids, floor, area, unsold = (list(c) for c in zip(*units))
    await fetch(
        "UPDATE unit AS u SET floor = v.floor, exclusive_area = v.area, developer_unsold = v.unsold"
        " FROM unnest($2::int[], $3::int[], $4::numeric[], $5::bool[]) AS v(id, floor, area, unsold)"
        " WHERE u.id = v.id AND u.tenant = $1", tenant_id, ids, floor, area, unsold)


async def ledger_insert_people(tenant_id: int,
                               keys: list[tuple[str, str | None]]) -> dict[tuple[str, str | None], int]:
    require_transaction()
    if not keys:
        return {}
    rows = await fetch(
        "INSERT INTO person (tenant, name, phone, created_at)"
        " SELECT $1, v.name, v.phone, now() FROM unnest($2::text[], $3::text[]) AS v(name, phone)"
        " RETURNING id, name, phone", tenant_id, [k[0] for k in keys], [k[1] for k in keys])
    return {(r["name"], r["phone"]): r["id"] for r in rows}


async def ledger_insert_ownerships(tenant_id: int, estate_id: int,
                                   pairs: list[tuple[int, int]]) -> int:
    """`pairs`: (person id, unit id); pairs that already exist are skipped. Returns the count added."""
    require_transaction()
    if not pairs:
        return 0
    rows = await fetch(
        "INSERT INTO ownership (tenant, person, unit, estate)"
        " SELECT $1, v.person, v.unit, $2 FROM unnest($3::int[], $4::int[]) AS v(person, unit)"
        " ON CONFLICT (person, unit) DO NOTHING RETURNING id",
        tenant_id, estate_id, [p[0] for p in pairs], [p[1] for p in pairs])
    return len(rows)


# --- demo seeding (gongzhi.demo): id reservation and bulk inserts for a whole district --------
# Operator writes with no caller to scope by; the rows carry their tenant explicitly.
_DEMO_ARRAY_TYPES = {"Serial": "int", "Integer": "int", "ForeignKey": "int", "Varchar": "text",
                     "Numeric": "numeric", "Boolean": "bool", "Timestamptz": "timestamptz"}


async def demo_reserve_ids(table: type[Table], count: int) -> list[int]:
    """`count` fresh ids from the table's sequence, so rows can refer to each other before insert."""
    require_transaction()
    if count <= 0:
        return []
    rows = await fetch("SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id"
                       " FROM generate_series(1, $2)", table._meta.tablename, count)
    return [r["id"] for r in rows]


async def demo_bulk_insert(table: type[Table], rows: list[dict[str, Any]]) -> int:
    """All `rows` (same keys each, ids included) in one INSERT ... SELECT FROM unnest(arrays)."""
    require_transaction()
    if not rows:
        return 0
    names = list(rows[0])
    types = [_DEMO_ARRAY_TYPES[type(table._meta.get_column_by_name(n)).__name__] for n in names]
    columns = ", ".join(f'"{n}"' for n in names)
    arrays = ", ".join(f"${i}::{t}[]" for i, t in enumerate(types, 1))
    await fetch(f'INSERT INTO "{table._meta.tablename}" ({columns}) SELECT * FROM unnest({arrays})',
                *([row[n] for row in rows] for n in names))
    return len(rows)


async def demo_tenant_counts(tenant_id: int) -> dict[str, int]:
    rows = await fetch(
        "SELECT (SELECT count(*) FROM estate WHERE tenant = $1) AS estates,"
        " (SELECT count(*) FROM unit WHERE tenant = $1) AS units,"
        " (SELECT count(*) FROM person WHERE tenant = $1) AS persons,"
        " (SELECT count(*) FROM app_user WHERE tenant = $1) AS users", tenant_id)
    return dict(rows[0])
