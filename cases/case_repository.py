"""Case, event and routing-rule queries. Every statement names its tenant; reads are scoped by
`Scope` (what a caller may see), built by the service from the caller's seats."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.db import fetch, require_transaction

OPEN_STATUSES = ("submitted", "accepted", "assigned", "acknowledged", "in_progress", "returned")


@dataclass(frozen=True)
class Scope:
    """A case is visible when the caller reported it, follows it or is its assignee, when it belongs to one
    of `orgs` (responsible), when its estate is in `estates`, or everywhere (`tenant_wide`)."""

    tenant_id: int
    user_id: int
    orgs: tuple[int, ...] = ()
    estates: tuple[int, ...] = ()
    tenant_wide: bool = False

    def sql(self, first: int) -> tuple[str, list[Any]]:
        """A WHERE fragment with placeholders from $first on, and its arguments. Built for the
        caller's shape (no always-true parameters, the follower test as an array the planner
        evaluates once), so the planner can combine the reasons' indexes (BitmapOr)."""
        args: list[Any] = [self.tenant_id]
        if self.tenant_wide:
            return f"c.tenant = ${first}", args

        def arg(value: Any) -> str:
            args.append(value)
            return f"${first + len(args) - 1}"

        user = arg(self.user_id)
        reasons = [f"c.reporter_user = {user}", f"c.assignee_user = {user}",
                   f'c.id = ANY(ARRAY(SELECT f."case" FROM case_follower f WHERE f."user" = {user}))']
        if self.orgs:
            reasons.append(f"c.responsible_org = ANY({arg(list(self.orgs))}::int[])")
        if self.estates:
            reasons.append(f"c.estate = ANY({arg(list(self.estates))}::int[])")
        return f"c.tenant = ${first} AND ({' OR '.join(reasons)})", args


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("pauses", "sla_targets", "data"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
    return row


async def insert_case(values: dict[str, Any]) -> dict:
    require_transaction()
    values = {**values, "pauses": json.dumps(values.get("pauses", [])),
              "sla_targets": json.dumps(values["sla_targets"])}
    cols = list(values)
    marks = ", ".join(f"${i}" + ("::jsonb" if c in ("pauses", "sla_targets") else "")
                      for i, c in enumerate(cols, 1))
    rows = await fetch(f"INSERT INTO case_record ({', '.join(cols)}) VALUES ({marks}) RETURNING *",
                       *values.values())
    return _decoded(rows[0])


async def get_case(scope: Scope, case_id: int, *, lock: bool = False) -> dict | None:
    where, args = scope.sql(2)
    rows = await fetch(f"SELECT c.* FROM case_record c WHERE c.id = $1 AND {where}"
                       + (" FOR UPDATE" if lock else ""), case_id, *args)
    return _decoded(rows[0]) if rows else None


async def case_in_tenant(tenant_id: int, case_id: int) -> dict | None:
    rows = await fetch("SELECT id, estate, status FROM case_record WHERE tenant = $1 AND id = $2",
                       tenant_id, case_id)
    return rows[0] if rows else None


async def update_case(tenant_id: int, case_id: int, values: dict[str, Any]) -> dict:
    """Write `values` and bump the version (the ETag) in one statement."""
    require_transaction()
    values = dict(values)
    if "pauses" in values:
        values["pauses"] = json.dumps(values["pauses"])
    sets = ", ".join(f"{c} = ${i}" + ("::jsonb" if c == "pauses" else "")
                     for i, c in enumerate(values, 3))
    rows = await fetch(f"UPDATE case_record SET {sets}{', ' if sets else ''}"
                       f"version = version + 1, updated_at = now()"
                       f" WHERE tenant = $1 AND id = $2 RETURNING *",
                       tenant_id, case_id, *values.values())
    return _decoded(rows[0])


async def open_load(tenant_id: int, user_ids: list[int]) -> dict[int, int]:
    """Open cases assigned to each user (0 for none)."""
    rows = await fetch("SELECT assignee_user AS u, count(*) AS n FROM case_record"
                       " WHERE tenant = $1 AND assignee_user = ANY($2::int[])"
                       " AND status = ANY($3::text[]) GROUP BY assignee_user",
                       tenant_id, user_ids, list(OPEN_STATUSES))
    load = {u: 0 for u in user_ids}
    load.update({r["u"]: r["n"] for r in rows})
    return load


async def append_event(tenant_id: int, case_id: int, values: dict[str, Any]) -> dict:
    """The next event of the case (the caller holds the case row lock, so seq is contiguous)."""
    require_transaction()
    rows = await fetch(
        "INSERT INTO case_event (tenant, \"case\", seq, at, actor_user, actor_org, action,"
        " from_status, to_status, reason, data, visibility)"
        " SELECT $1::int, $2::int, COALESCE(MAX(seq), 0) + 1, now(), $3::int, $4::int, $5::text,"
        " $6::text, $7::text, $8::text, $9::jsonb, $10::text"
        " FROM case_event WHERE \"case\" = $2 RETURNING *",
        tenant_id, case_id, values.get("actor_user"), values.get("actor_org"), values["action"],
        values.get("from_status"), values["to_status"], values.get("reason") or "",
        json.dumps(values.get("data") or {}, ensure_ascii=False, default=str),
        values.get("visibility", "public"))
    return _decoded(rows[0])


async def events(tenant_id: int, case_id: int, *, include_internal: bool) -> list[dict]:
    rows = await fetch("SELECT * FROM case_event WHERE tenant = $1 AND \"case\" = $2"
                       " AND ($3 OR visibility = 'public') ORDER BY seq",
                       tenant_id, case_id, include_internal)
    return [_decoded(r) for r in rows]


async def routing_rule(tenant_id: int, category: str, estate_id: int) -> str | None:
    """The target kind of the tenant's rule for this estate, else for the whole tenant."""
    rows = await fetch("SELECT target_kind FROM routing_rule WHERE tenant = $1 AND category = $2"
                       " AND (estate = $3 OR estate IS NULL) ORDER BY estate NULLS LAST LIMIT 1",
                       tenant_id, category, estate_id)
    return rows[0]["target_kind"] if rows else None


async def routing_rules(tenant_id: int) -> list[dict]:
    return await fetch("SELECT category, estate, target_kind FROM routing_rule WHERE tenant = $1"
                       " ORDER BY category, estate NULLS FIRST", tenant_id)


async def set_routing_rule(tenant_id: int, category: str, estate_id: int | None,
                           target_kind: str | None) -> None:
    """Upsert the rule, or (target_kind None) remove it."""
    require_transaction()
    if target_kind is None:
        await fetch("DELETE FROM routing_rule WHERE tenant = $1 AND category = $2"
                    " AND estate IS NOT DISTINCT FROM $3", tenant_id, category, estate_id)
        return
    await fetch("INSERT INTO routing_rule (tenant, category, estate, target_kind)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (tenant, category, COALESCE(estate, 0))"
                " DO UPDATE SET target_kind = EXCLUDED.target_kind",
                tenant_id, category, estate_id, target_kind)


async def estate_resident(tenant_id: int, estate_id: int, person_id: int) -> dict | None:
    """{id, name, phone} of a person owning a unit in the estate, else None."""
    rows = await fetch("SELECT p.id, p.name, p.phone FROM person p WHERE p.tenant = $1"
                       " AND p.id = $2 AND EXISTS (SELECT 1 FROM ownership o WHERE o.person = p.id"
                       " AND o.estate = $3 AND o.tenant = $1)", tenant_id, person_id, estate_id)
    return rows[0] if rows else None


async def followers(tenant_id: int, case_id: int) -> list[int]:
    """Users following the case (reporters of its merged duplicates)."""
    rows = await fetch("SELECT \"user\" FROM case_follower WHERE tenant = $1 AND \"case\" = $2",
                       tenant_id, case_id)
    return [r["user"] for r in rows]
