"""Meeting queries. Every principal-facing query is scoped by a `Scope`: the caller's tenant
and what their seats let them read — the housing bureau the whole tenant; the convener and
every invited organisation or person their meetings; the owners' committee, residents'
committee and street office covering an estate every meeting there; the estate's owners its
owners' assemblies.

The owners' register and committee membership are read here too (read-only, tenant-scoped):
vote counting needs the register's units, areas and titles as they stand at counting time.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.db import fetch, require_transaction

ESTATE_READERS = ("owners_committee", "residents_committee", "street_office")
COMMITTEE_MEMBER_ROLES = ("chair", "vice_chair", "secretary", "member")


@dataclass(frozen=True)
class Scope:
    tenant: int
    tenant_wide: bool
    user: int
    orgs: tuple[int, ...]
    estates: tuple[int, ...]  # covered by the caller's committees and street offices
    owned: tuple[int, ...]  # estates where the caller owns a unit


_VISIBLE = """m.tenant = $1 AND ($2::bool OR m.convener = ANY($3::int[]) OR m.estate = ANY($4::int[])
 OR EXISTS (SELECT 1 FROM meeting_invitee i WHERE i.meeting = m.id
            AND (i.organization = ANY($3::int[]) OR i."user" = $5))
 OR (m.kind = 'assembly' AND m.estate = ANY($6::int[])))"""


def _args(s: Scope) -> list[Any]:
    return [s.tenant, s.tenant_wide, list(s.orgs), list(s.estates), s.user, list(s.owned)]


async def _one(sql: str, *args: Any) -> dict | None:
    rows = await fetch(sql, *args)
    return rows[0] if rows else None


async def _insert(table: str, values: dict[str, Any]) -> dict:
    require_transaction()
    cols = list(values)
    quoted = ", ".join(f'"{c}"' for c in cols)
    params = ", ".join(f"${i + 1}" for i in range(len(cols)))
    rows = await fetch(f"INSERT INTO {table} ({quoted}) VALUES ({params}) RETURNING *",
                       *(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                         for v in values.values()))
    return rows[0]


async def _update(table: str, tenant: int, row_id: int, values: dict[str, Any],
                  bump: bool = False) -> dict:
    require_transaction()
    cols = list(values)
    sets = [f'"{c}" = ${i + 3}' for i, c in enumerate(cols)]
    if bump:
        sets.append("version = version + 1")
    rows = await fetch(f"UPDATE {table} SET {', '.join(sets)} WHERE tenant = $1 AND id = $2"
                       f" RETURNING *", tenant, row_id,
                       *(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                         for v in values.values()))
    return rows[0]


insert = _insert
update = _update


def decoded(row: dict | None, *fields: str) -> dict | None:
    """JSONB columns come back as text from raw queries."""
    if row is not None:
        for f in fields:
            if isinstance(row.get(f), str):
                row[f] = json.loads(row[f])
    return row


# --- settings ------------------------------------------------------------------------------------
async def settings(tenant: int) -> dict:
    row = await _one("SELECT * FROM meeting_settings WHERE tenant = $1", tenant)
    if row is None:
        row = await _one("INSERT INTO meeting_settings (tenant) VALUES ($1) ON CONFLICT (tenant)"
                         " DO UPDATE SET tenant = EXCLUDED.tenant RETURNING *", tenant)
    return row  # type: ignore[return-value]


async def update_settings(tenant: int, values: dict[str, Any]) -> dict:
    await settings(tenant)
    require_transaction()
    cols = list(values)
    sets = [f'"{c}" = ${i + 2}' for i, c in enumerate(cols)]
    sets += ["version = version + 1", "updated_at = now()"]
    return (await fetch(f"UPDATE meeting_settings SET {', '.join(sets)} WHERE tenant = $1"
                        " RETURNING *", tenant, *values.values()))[0]


# --- meetings ------------------------------------------------------------------------------------
async def meeting(s: Scope, meeting_id: int, *, lock: bool = False) -> dict | None:
    return await _one(f"SELECT m.* FROM meeting m WHERE {_VISIBLE} AND m.id = $7"
                      f"{' FOR NO KEY UPDATE' if lock else ''}", *_args(s), meeting_id)


async def meetings(s: Scope, *, starts_from: datetime | None, starts_to: datetime | None,
                   estate_id: int | None, kind: str | None, limit: int, offset: int) -> list[dict]:
    return await fetch(
        f"SELECT m.* FROM meeting m WHERE {_VISIBLE}"
        " AND ($7::timestamptz IS NULL OR m.starts_at >= $7)"
        " AND ($8::timestamptz IS NULL OR m.starts_at < $8)"
        " AND ($9::int IS NULL OR m.estate = $9) AND ($10::text IS NULL OR m.kind = $10)"
        " ORDER BY m.starts_at, m.id LIMIT $11 OFFSET $12",
        *_args(s), starts_from, starts_to, estate_id, kind, limit, offset)


async def invitees(tenant: int, meeting_ids: list[int]) -> list[dict]:
    return await fetch(
        "SELECT i.*, o.name AS organization_name, COALESCE(u.display_name, i.guest_name) AS name"
        " FROM meeting_invitee i LEFT JOIN organization o ON o.id = i.organization"
        " LEFT JOIN app_user u ON u.id = i.\"user\""
        " WHERE i.tenant = $1 AND i.meeting = ANY($2::int[]) ORDER BY i.id", tenant, meeting_ids)


async def agenda(tenant: int, meeting_id: int) -> list[dict]:
    return await fetch("SELECT * FROM meeting_agenda_item WHERE tenant = $1 AND meeting = $2"
                       " ORDER BY position, id", tenant, meeting_id)


async def organization_meetings(tenant: int, org_id: int, since: datetime) -> list[dict]:
    """An organisation's meetings (convened or invited to) from `since` on, for its feed."""
    return await fetch(
        "SELECT m.* FROM meeting m WHERE m.tenant = $1 AND m.ends_at >= $3 AND (m.convener = $2"
        " OR EXISTS (SELECT 1 FROM meeting_invitee i WHERE i.meeting = m.id AND i.organization = $2))"
        " ORDER BY m.starts_at LIMIT 1000", tenant, org_id, since)


# --- people and the register ---------------------------------------------------------------------
async def organization(tenant: int, org_id: int) -> dict | None:
    return await _one("SELECT id, kind, name FROM organization WHERE tenant = $1 AND id = $2",
                      tenant, org_id)


async def user_names(tenant: int, user_ids: list[int]) -> dict[int, dict]:
    rows = await fetch("SELECT u.id, u.display_name, u.person, p.name AS person_name, p.phone"
                       " FROM app_user u LEFT JOIN person p ON p.id = u.person"
                       " WHERE u.tenant = $1 AND u.id = ANY($2::int[])", tenant, user_ids)
    return {r["id"]: r for r in rows}


async def user_orgs(tenant: int, user_id: int) -> list[dict]:
    return await fetch("SELECT m.organization, m.role, o.kind FROM membership m"
                       " JOIN organization o ON o.id = m.organization JOIN app_user u ON u.id = m.user"
                       " WHERE m.tenant = $1 AND m.user = $2 AND u.is_active", tenant, user_id)


async def committee_members(tenant: int, org_id: int) -> list[int]:
    """The voting members of an owners' committee (chair, vice-chairs, secretary, members)."""
    rows = await fetch(
        "SELECT DISTINCT m.user FROM membership m JOIN app_user u ON u.id = m.user"
        " WHERE m.tenant = $1 AND m.organization = $2 AND u.is_active AND m.role = ANY($3::text[])"
        " ORDER BY 1", tenant, org_id, list(COMMITTEE_MEMBER_ROLES))
    return [r["user"] for r in rows]


async def committee_roles(tenant: int, org_id: int) -> dict[int, str]:
    """Voting member -> their highest committee role."""
    rows_ = await fetch(
        "SELECT m.user, m.role FROM membership m JOIN app_user u ON u.id = m.user"
        " WHERE m.tenant = $1 AND m.organization = $2 AND u.is_active AND m.role = ANY($3::text[])",
        tenant, org_id, list(COMMITTEE_MEMBER_ROLES))
    out: dict[int, str] = {}
    for r in rows_:
        if r["user"] not in out or COMMITTEE_MEMBER_ROLES.index(r["role"]) < \
                COMMITTEE_MEMBER_ROLES.index(out[r["user"]]):
            out[r["user"]] = r["role"]
    return out


async def estate_owners_committee(tenant: int, estate_id: int) -> int | None:
    row = await _one("SELECT o.id FROM organization o JOIN organization_coverage c"
                     " ON c.organization = o.id WHERE o.tenant = $1 AND o.kind = 'owners_committee'"
                     " AND c.estate = $2 ORDER BY o.id LIMIT 1", tenant, estate_id)
    return row["id"] if row else None


async def register(tenant: int, estate_id: int) -> list[dict]:
    """Every unit of the estate with its area, the developer flag and the persons on its title."""
    return await fetch(
        "SELECT u.id, u.exclusive_area, u.developer_unsold,"
        " COALESCE(array_agg(o.person) FILTER (WHERE o.person IS NOT NULL), '{}') AS owners"
        " FROM unit u LEFT JOIN ownership o ON o.unit = u.id AND o.tenant = u.tenant"
        " WHERE u.tenant = $1 AND u.estate = $2 GROUP BY u.id ORDER BY u.id", tenant, estate_id)


async def person_names(tenant: int, person_ids: list[int]) -> dict[int, dict]:
    rows = await fetch("SELECT id, name, phone FROM person WHERE tenant = $1"
                       " AND id = ANY($2::int[])", tenant, person_ids)
    return {r["id"]: r for r in rows}


async def people_named_in(tenant: int, text: str) -> list[dict]:
    """Every person of the tenant's register, and every user's display name, that occurs in
    `text` (names of two characters or more): for masking a public notice. One scan of the
    tenant's register, done once when a notice is posted."""
    return await fetch(
        "SELECT name, phone FROM person WHERE tenant = $1 AND char_length(name) >= 2"
        " AND strpos($2, name) > 0"
        " UNION SELECT u.display_name AS name, u.phone FROM app_user u"
        " WHERE u.tenant = $1 AND char_length(u.display_name) >= 2"
        " AND strpos($2, u.display_name) > 0", tenant, text)


async def estate_name(tenant: int, estate_id: int) -> str:
    row = await _one("SELECT name FROM estate WHERE tenant = $1 AND id = $2", tenant, estate_id)
    return row["name"] if row else ""


# --- rows of a meeting ----------------------------------------------------------------------------
async def rows(table: str, tenant: int, meeting_id: int, order: str = "id") -> list[dict]:
    return await fetch(f"SELECT * FROM {table} WHERE tenant = $1 AND meeting = $2 ORDER BY {order}",
                       tenant, meeting_id)


async def row(table: str, tenant: int, row_id: int, *, lock: bool = False) -> dict | None:
    return await _one(f"SELECT * FROM {table} WHERE tenant = $1 AND id = $2"
                      f"{' FOR NO KEY UPDATE' if lock else ''}", tenant, row_id)


async def attendance(tenant: int, meeting_id: int) -> list[dict]:
    return await fetch("SELECT a.*, u.display_name FROM meeting_attendance a"
                       " JOIN app_user u ON u.id = a.user WHERE a.tenant = $1 AND a.meeting = $2"
                       " ORDER BY a.signed_in_at, a.id", tenant, meeting_id)


async def add_attendance(values: dict[str, Any]) -> dict | None:
    """None when the person is already signed in."""
    require_transaction()
    cols = list(values)
    return await _one(
        f"INSERT INTO meeting_attendance ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in cols)})"
        f" VALUES ({', '.join(f'${i + 1}' for i in range(len(cols)))})"
        " ON CONFLICT (meeting, \"user\") DO NOTHING RETURNING *", *values.values())


async def votes(tenant: int, resolution_id: int) -> list[dict]:
    return await fetch("SELECT * FROM meeting_vote WHERE tenant = $1 AND resolution = $2"
                       " ORDER BY id", tenant, resolution_id)


async def vote_counts(tenant: int, resolution_ids: list[int]) -> dict[int, int]:
    rows_ = await fetch("SELECT resolution, count(*) AS n FROM meeting_vote WHERE tenant = $1"
                        " AND resolution = ANY($2::int[]) GROUP BY resolution", tenant, resolution_ids)
    return {r["resolution"]: r["n"] for r in rows_}


async def add_vote(values: dict[str, Any]) -> dict | None:
    """None when this voter has already voted on the resolution."""
    require_transaction()
    cols = list(values)
    return await _one(
        f"INSERT INTO meeting_vote ({', '.join(cols)})"
        f" VALUES ({', '.join(f'${i + 1}' for i in range(len(cols)))})"
        " ON CONFLICT (resolution, voter_key) DO NOTHING RETURNING *", *values.values())


async def due_resolutions(at: datetime) -> list[dict]:
    """Open resolutions whose voting period has ended, locked (skipped if another job has one)."""
    require_transaction()
    return await fetch("SELECT * FROM meeting_resolution WHERE status = 'open'"
                       " AND closes_at IS NOT NULL AND closes_at <= $1 ORDER BY id"
                       " FOR NO KEY UPDATE SKIP LOCKED", at)


async def minutes(tenant: int, meeting_id: int, *, lock: bool = False) -> dict | None:
    return decoded(await _one("SELECT * FROM meeting_minutes WHERE tenant = $1 AND meeting = $2"
                              f"{' FOR NO KEY UPDATE' if lock else ''}", tenant, meeting_id),
                   "content")


async def minutes_with_documents(tenant: int | None) -> list[dict]:
    """Final minutes that went to the documents pipeline (of one tenant, or all: jobs)."""
    return await fetch("SELECT id, tenant, meeting, document FROM meeting_minutes"
                       " WHERE document IS NOT NULL AND ($1::int IS NULL OR tenant = $1)"
                       " ORDER BY id", tenant)


async def amendments(tenant: int, minutes_id: int) -> list[dict]:
    return await fetch("SELECT * FROM meeting_minutes_amendment WHERE tenant = $1 AND minutes = $2"
                       " ORDER BY id", tenant, minutes_id)


# --- public notices -------------------------------------------------------------------------------
async def notices(tenant: int, estates: list[int] | None, *, current_only: bool) -> list[dict]:
    """Notices of `estates` (None: every estate of the tenant), newest first."""
    out = await fetch(
        "SELECT * FROM meeting_notice WHERE tenant = $1"
        " AND ($2::int[] IS NULL OR estate = ANY($2::int[]))"
        " AND (NOT $3::bool OR (status = 'posted' AND posted_until > now()))"
        " ORDER BY posted_at DESC, id DESC LIMIT 200", tenant, estates, current_only)
    return [decoded(r, "content") for r in out]  # type: ignore[misc]


async def notice(tenant: int, notice_id: int) -> dict | None:
    return decoded(await _one("SELECT * FROM meeting_notice WHERE tenant = $1 AND id = $2",
                              tenant, notice_id), "content")


async def expire_notices(at: datetime) -> list[dict]:
    """System level (job): mark every notice whose period ended as expired."""
    require_transaction()
    return await fetch("UPDATE meeting_notice SET status = 'expired' WHERE status = 'posted'"
                       " AND posted_until <= $1 RETURNING id, tenant, meeting", at)


# --- calendar feeds -------------------------------------------------------------------------------
async def feeds(tenant: int, org_id: int) -> list[dict]:
    return await fetch("SELECT * FROM meeting_calendar_feed WHERE tenant = $1 AND organization = $2"
                       " ORDER BY id", tenant, org_id)


async def feed_by_hash(token_hash: str) -> dict | None:
    return await _one("SELECT * FROM meeting_calendar_feed WHERE token_hash = $1"
                      " AND revoked_at IS NULL", token_hash)
