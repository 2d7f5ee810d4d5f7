"""The filtered case list as SQL: filters, sort orders with keyset cursors, per-status counts
and the batches exports read. Every statement starts from the caller's `Scope`.

Text search: PostgreSQL splits no Chinese words, so `q` is a substring match (ILIKE '%q%') on
description and location. Where the pg_trgm extension exists, trigram GIN indexes serve
queries of 3 or more characters; shorter ones (most Chinese words are 2 characters) and
servers without pg_trgm (the embedded pgserver) run the same ILIKE without that index.

Sort orders and their keyset cursors: the cursor is the sort key and id of the last row of
the previous page, base64-encoded, so a page continues exactly where the last one ended.
`-created_at` and `created_at` order by id, which is assigned in creation order and keeps
the (tenant, …, id) indexes usable.
"""
from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from cases.calendar import TZ
from cases.case_repository import OPEN_STATUSES, Scope
from core.db import fetch

SORTS = ("-created_at", "created_at", "resolve_due_at", "priority")
DEFAULT_SORT = "-created_at"
# Spelled exactly like the predicate of the partial indexes on open cases (migration), so the
# planner can use them.
OPEN_SQL = f"c.status = ANY('{{{','.join(OPEN_STATUSES)}}}'::text[])"
PRIORITY_RANK = "(CASE c.priority WHEN 'emergency' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END)"
# sort -> (key expression or None for id only, key order, id order)
_ORDER: dict[str, tuple[str | None, str, str]] = {
    "-created_at": (None, "DESC", "DESC"),
    "created_at": (None, "ASC", "ASC"),
    "resolve_due_at": ("c.resolve_due_at", "ASC", "ASC"),
    "priority": (PRIORITY_RANK, "ASC", "DESC"),  # most urgent first, newest first within
}


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    estate: int | None = None
    category: str | None = None
    priority: str | None = None
    assignee: int | None = None
    overdue_at: datetime | None = None
    created_from: date | None = None  # Asia/Shanghai calendar days, both inclusive
    created_to: date | None = None
    q: str | None = None
    open_only: bool = False  # not yet resolved (cases.case_repository.OPEN_STATUSES)

    def described(self) -> dict[str, Any]:
        """The filters that are set, for the audit log."""
        return {k: (v.isoformat() if isinstance(v, (date, datetime)) else v)
                for k, v in self.__dict__.items() if v is not None and v is not False}


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), TZ)


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def where(scope: Scope, f: Filters) -> tuple[list[str], list[Any]]:
    """WHERE conditions (joined with AND by the caller) and their arguments."""
    sql, args = scope.sql(1)
    return [sql, *filter_conditions(f, args)], args


def filter_conditions(f: Filters, args: list[Any]) -> list[str]:
    """The filters' conditions on `c`, their arguments appended to `args`."""
    conditions: list[str] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    for column, value in (("status", f.status), ("estate", f.estate), ("category", f.category),
                          ("priority", f.priority), ("assignee_user", f.assignee)):
        if value is not None:
            conditions.append(f"c.{column} = {arg(value)}")
    if f.open_only or f.overdue_at is not None:
        conditions.append(OPEN_SQL)
    if f.overdue_at is not None:
        at = arg(f.overdue_at)
        conditions.append(f"NOT c.paused AND (c.resolve_due_at < {at}"
                          f" OR (c.acknowledged_at IS NULL AND c.ack_due_at < {at}))")
    if f.created_from is not None:
        conditions.append(f"c.created_at >= {arg(day_start(f.created_from))}")
    if f.created_to is not None:
        conditions.append(f"c.created_at < {arg(day_start(f.created_to + timedelta(days=1)))}")
    if f.q:
        pattern = arg(like_pattern(f.q))
        conditions.append(f"(c.description ILIKE {pattern} OR c.location ILIKE {pattern})")
    return conditions


# --- cursors ------------------------------------------------------------------------------------
def _key_value(sort: str, row: dict) -> Any:
    if sort == "resolve_due_at":
        return row["resolve_due_at"].isoformat()
    if sort == "priority":
        return {"emergency": 0, "urgent": 1}.get(row["priority"], 2)
    return None


def cursor_key(sort: str, row: dict) -> tuple[Any, int]:
    """What `page(after=…)` takes to continue after `row`."""
    key = row["resolve_due_at"] if sort == "resolve_due_at" else _key_value(sort, row)
    return key, row["id"]


def encode_cursor(sort: str, row: dict) -> str:
    raw = json.dumps([sort, _key_value(sort, row), row["id"]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, key, last_id = json.loads(raw)
        if cursor_sort != sort or not isinstance(last_id, int) or isinstance(last_id, bool):
            raise BadCursor(cursor)
        if sort == "resolve_due_at":
            key = datetime.fromisoformat(key)
            if key.tzinfo is None:
                raise BadCursor(cursor)
        elif sort == "priority" and key not in (0, 1, 2):
            raise BadCursor(cursor)
        return key, last_id
    except (ValueError, TypeError) as exc:
        raise BadCursor(cursor) from exc


def _after(sort: str, cursor: tuple[Any, int], args: list[Any]) -> str:
    key_sql, key_order, id_order = _ORDER[sort]
    key, last_id = cursor
    args.append(last_id)
    id_cmp = f"c.id {'<' if id_order == 'DESC' else '>'} ${len(args)}"
    if key_sql is None:
        return id_cmp
    args.append(key)
    k = f"${len(args)}"
    return f"({key_sql} {'<' if key_order == 'DESC' else '>'} {k} OR ({key_sql} = {k} AND {id_cmp}))"


def _order_by(sort: str) -> str:
    key_sql, key_order, id_order = _ORDER[sort]
    return ", ".join(([f"{key_sql} {key_order}"] if key_sql else []) + [f"c.id {id_order}"])


# --- queries ------------------------------------------------------------------------------------
# What a list row needs (everything but the JSONB pauses and SLA targets, which only the detail
# and the transitions read).
LIST_COLUMNS = ", ".join(f"c.{name}" for name in (
    "id", "tenant", "estate", "building", "unit", "location", "latitude", "longitude", "category",
    "priority", "description", "channel", "reporter_user", "reporter_name", "reporter_phone",
    "reporter_person",
    "created_by", "responsible_org", "assignee_user", "status", "paused", "extension_until",
    "escalated", "duplicate_of", "sla_source", "routed_at", "ack_due_at", "resolve_due_at",
    "acknowledged_at", "resolved_at", "closed_at", "resolution", "transfers", "returns", "reopens",
    "pause_count", "rating", "rating_comment", "version", "created_at", "updated_at"))


LATERAL_MAX = 16  # organisations or estates walked one by one; more are read in one scan


def page_sql(scope: Scope, f: Filters, *, sort: str = DEFAULT_SORT,
             after: tuple[Any, int] | None = None, limit: int = 50) -> tuple[str, list[Any]]:
    """One page of the list as SQL and its arguments.

    A caller sees a case for one of several reasons (reporter, assignee, follower, member of the
    responsible organisation, committee covering the estate). As one OR that condition defeats
    every index: the planner walks the whole tenant newest first and filters. So each reason is
    a branch of its own that walks its own index in the sort order and stops after `limit` rows
    (one walk per organisation or estate, through LATERAL, for up to LATERAL_MAX of them), and the
    page is the best `limit` ids of the branches' union, read back by primary key. The cost is
    about `limit` rows per branch, whatever the table's size."""
    args: list[Any] = [scope.tenant_id]
    conditions = filter_conditions(f, args)
    if after is not None:
        conditions.append(_after(sort, after, args))
    args.append(limit)
    n = f"${len(args)}"
    tail = "".join(f" AND {c}" for c in conditions)
    order = _order_by(sort)
    if scope.tenant_wide:
        return (f"SELECT {LIST_COLUMNS} FROM case_record c WHERE c.tenant = $1{tail}"
                f" ORDER BY {order} LIMIT {n}", args)

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    key_sql = _ORDER[sort][0]
    picked = "c.id" + (f", {key_sql} AS k" if key_sql else "")

    def branch(condition: str, source: str = "case_record c") -> str:
        return (f"(SELECT {picked} FROM {source} WHERE c.tenant = $1 AND {condition}{tail}"
                f" ORDER BY {order} LIMIT {n})")

    user = arg(scope.user_id)
    branches = [branch(f"c.reporter_user = {user}"), branch(f"c.assignee_user = {user}"),
                branch(f'f."user" = {user}',
                       'case_follower f JOIN case_record c ON c.id = f."case"')]
    for column, values in (("responsible_org", scope.orgs), ("estate", scope.estates)):
        if len(values) == 1:
            branches.append(branch(f"c.{column} = {arg(values[0])}"))
        elif len(values) > LATERAL_MAX:  # a street's estates: one scan beats hundreds of walks
            branches.append(branch(f"c.{column} = ANY({arg(list(values))}::int[])"))
        elif values:
            branches.append(f"(SELECT x.* FROM unnest({arg(list(values))}::int[]) AS s(v)"
                            f" CROSS JOIN LATERAL {branch(f'c.{column} = s.v')} AS x)")
    _key, key_order, id_order = _ORDER[sort]
    best = ", ".join(([f"u.k {key_order}"] if key_sql else []) + [f"u.id {id_order}"])
    return (f"SELECT {LIST_COLUMNS} FROM case_record c WHERE c.id IN (SELECT u.id FROM"
            f" ({' UNION '.join(branches)}) AS u ORDER BY {best} LIMIT {n})"
            f" ORDER BY {order}", args)


async def page(scope: Scope, f: Filters, *, sort: str = DEFAULT_SORT,
               after: tuple[Any, int] | None = None, limit: int = 50) -> list[dict]:
    sql, args = page_sql(scope, f, sort=sort, after=after, limit=limit)
    return await fetch(sql, *args)


async def batches(scope: Scope, f: Filters, *, sort: str = DEFAULT_SORT, size: int = 1000,
                  cap: int | None = None) -> AsyncIterator[list[dict]]:
    """Every matching row in keyset batches of `size` (at most `cap` rows in all)."""
    after, seen = None, 0
    while cap is None or seen < cap:
        want = size if cap is None else min(size, cap - seen)
        rows = await page(scope, f, sort=sort, after=after, limit=want)
        if not rows:
            return
        seen += len(rows)
        yield rows
        if len(rows) < want:
            return
        after = cursor_key(sort, rows[-1])


async def counts(scope: Scope, f: Filters, *, at: datetime) -> tuple[dict[str, int], int]:
    """Matching cases per status, and how many of them are overdue at `at`."""
    conditions, args = where(scope, f)
    args.append(at)
    a = f"${len(args)}"
    rows = await fetch(
        f"SELECT c.status, count(*) AS n, count(*) FILTER (WHERE"
        f" c.status = ANY('{{{','.join(OPEN_STATUSES)}}}'::text[]) AND NOT c.paused"
        f" AND (c.resolve_due_at < {a} OR (c.acknowledged_at IS NULL AND c.ack_due_at < {a})))"
        f" AS overdue FROM case_record c WHERE {' AND '.join(conditions)} GROUP BY c.status",
        *args)
    return {r["status"]: r["n"] for r in rows}, sum(r["overdue"] for r in rows)


async def estate_counts(scope: Scope, estates: list[int] | None, *,
                        at: datetime) -> dict[int, dict[str, int]]:
    """Per estate (of `estates`, or all the scope sees): cases per status, and under
    "_overdue" how many are overdue at `at`."""
    conditions, args = where(scope, Filters())
    if estates is not None:
        args.append(list(estates))
        conditions.append(f"c.estate = ANY(${len(args)}::int[])")
    args.append(at)
    a = f"${len(args)}"
    rows = await fetch(
        f"SELECT c.estate, c.status, count(*) AS n, count(*) FILTER (WHERE {OPEN_SQL}"
        f" AND NOT c.paused AND (c.resolve_due_at < {a} OR (c.acknowledged_at IS NULL"
        f" AND c.ack_due_at < {a}))) AS overdue FROM case_record c"
        f" WHERE {' AND '.join(conditions)} GROUP BY c.estate, c.status", *args)
    out: dict[int, dict[str, int]] = {}
    for r in rows:
        estate = out.setdefault(r["estate"], {"_overdue": 0})
        estate[r["status"]] = r["n"]
        estate["_overdue"] += r["overdue"]
    return out


async def count(scope: Scope, f: Filters, *, limit: int) -> int:
    """Matching cases, counted up to `limit` + 1 (enough to tell whether the cap is exceeded)."""
    conditions, args = where(scope, f)
    args.append(limit + 1)
    rows = await fetch(f"SELECT count(*) AS n FROM (SELECT 1 FROM case_record c WHERE"
                       f" {' AND '.join(conditions)} LIMIT ${len(args)}) AS hit", *args)
    return rows[0]["n"]
