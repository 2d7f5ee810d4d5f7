"""Places as the case forms need them (names, buildings, units and their owners), read by
explicit tenant and estate. They answer facts: the pages check first that the caller may
report or record cases for the estate."""
from __future__ import annotations

from core.db import fetch

MAX_OPTIONS = 1000


async def estate_names(tenant_id: int, ids: list[int] | None) -> dict[int, str]:
    """Names of these estates (None: every estate of the tenant, at most MAX_OPTIONS)."""
    if ids is not None and not ids:
        return {}
    rows = await fetch("SELECT id, name FROM estate WHERE tenant = $1"
                       " AND ($2::int[] IS NULL OR id = ANY($2::int[])) ORDER BY name, id"
                       f" LIMIT {MAX_OPTIONS}", tenant_id, None if ids is None else list(ids))
    return {r["id"]: r["name"] for r in rows}


async def buildings(tenant_id: int, estate_id: int) -> list[dict]:
    return await fetch("SELECT id, name FROM building WHERE tenant = $1 AND estate = $2"
                       f" ORDER BY name, id LIMIT {MAX_OPTIONS}", tenant_id, estate_id)


async def units(tenant_id: int, estate_id: int, building_id: int) -> list[dict]:
    return await fetch("SELECT id, number FROM unit WHERE tenant = $1 AND estate = $2"
                       f" AND building = $3 ORDER BY number, id LIMIT {MAX_OPTIONS}",
                       tenant_id, estate_id, building_id)


async def unit_owners(tenant_id: int, estate_id: int, unit_id: int) -> list[dict]:
    """{id, name} of the people owning the unit."""
    return await fetch("SELECT p.id, p.name FROM ownership o JOIN person p ON p.id = o.person"
                       " WHERE o.tenant = $1 AND o.estate = $2 AND o.unit = $3"
                       " ORDER BY p.name, p.id", tenant_id, estate_id, unit_id)


async def owned_units(tenant_id: int, person_id: int, estate_id: int) -> list[dict]:
    """{id, number, building, building_name} of the units the person owns in the estate."""
    return await fetch("SELECT u.id, u.number, u.building, b.name AS building_name"
                       " FROM ownership o JOIN unit u ON u.id = o.unit"
                       " JOIN building b ON b.id = u.building"
                       " WHERE o.tenant = $1 AND o.person = $2 AND o.estate = $3"
                       " ORDER BY b.name, u.number", tenant_id, person_id, estate_id)


async def estate_of(tenant_id: int, table: str, row_id: int) -> int | None:
    """The estate of a building or unit (`table`) of the tenant, None when there is none."""
    assert table in ("building", "unit")
    rows = await fetch(f"SELECT estate FROM {table} WHERE tenant = $1 AND id = $2",
                       tenant_id, row_id)
    return rows[0]["estate"] if rows else None


async def person_estates(tenant_id: int, person_id: int) -> set[int]:
    """Estates where the person (of the tenant) owns a unit."""
    rows = await fetch("SELECT DISTINCT estate FROM ownership WHERE tenant = $1 AND person = $2",
                       tenant_id, person_id)
    return {r["estate"] for r in rows}
