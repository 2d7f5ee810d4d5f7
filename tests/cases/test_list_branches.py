"""The list's per-reason branches (cases.search.page_sql) return exactly what the plain OR of
the caller's scope returns, in the same order, page after page, for every sort and filter.

Random cases are written inside a transaction that is rolled back at the end, so the shared
test world is left as it was."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

from cases import search
from cases.case_repository import OPEN_STATUSES, Scope
from core.db import db, fetch

STATUSES = ("submitted", "accepted", "assigned", "acknowledged", "in_progress", "resolved",
            "closed", "returned", "rejected", "duplicate", "withdrawn")


class Rollback(Exception):
    pass


async def _seed(world, rnd: random.Random, n: int) -> dict:
    a1, a2 = world.a1, world.a2
    users = [a1.user_ids["property_company:handler"], a1.user_ids["property_company:manager"],
             a2.user_ids["property_company:handler"], None]
    orgs = [a1.orgs["property_company"], a2.orgs["property_company"],
            a1.orgs["residents_committee"]]
    estates = [a1.estate, a2.estate]
    now = datetime.now(timezone.utc)
    ids = []
    for i in range(n):
        status = rnd.choice(STATUSES)
        created = now - timedelta(hours=n - i)
        due = now + timedelta(hours=rnd.randint(-72, 72))
        row = await fetch(
            "INSERT INTO case_record (tenant, estate, category, priority, description, channel,"
            " reporter_user, created_by, responsible_org, assignee_user, status, paused,"
            " sla_targets, ack_due_at, resolve_due_at, acknowledged_at, resolved_at, created_at,"
            " updated_at, location)"
            " VALUES ($1, $2, 'repair', $3, 'x', 'app', $4, $5, $6, $7, $8, $9, '{}'::jsonb,"
            " $10, $11, $12, $13, $14, $14, 'branch-test') RETURNING id",
            world.tenant_a, rnd.choice(estates), rnd.choice(("emergency", "urgent", "normal")),
            rnd.choice(users), a1.user_ids["property_company:manager"], rnd.choice(orgs),
            rnd.choice(users), status, rnd.random() < 0.1, due - timedelta(hours=rnd.randint(0, 30)),
            due, created if rnd.random() < 0.5 else None,
            created if status in ("resolved", "closed") else None, created)
        ids.append(row[0]["id"])
    follower = a2.user_ids["property_company:handler"]
    for case_id in rnd.sample(ids, 6):
        await fetch('INSERT INTO case_follower (tenant, "case", "user", created_at)'
                    " VALUES ($1, $2, $3, now())", world.tenant_a, case_id, follower)
    return {"users": [u for u in users if u], "orgs": orgs, "estates": estates, "ids": ids}


async def _reference(scope: Scope, f: search.Filters, sort: str) -> list[int]:
    conditions, args = search.where(scope, f)
    rows = await fetch(f"SELECT c.id FROM case_record c WHERE {' AND '.join(conditions)}"
                       f" ORDER BY {search._order_by(sort)}", *args)
    return [r["id"] for r in rows]


async def _paged(scope: Scope, f: search.Filters, sort: str, limit: int) -> list[int]:
    out, after = [], None
    while True:
        rows = await search.page(scope, f, sort=sort, after=after, limit=limit)
        out += [r["id"] for r in rows]
        if len(rows) < limit:
            return out
        # The cursor goes through its text form, as between two requests.
        after = search.decode_cursor(sort, search.encode_cursor(sort, rows[-1]))


async def test_branches_page_like_the_plain_or_for_every_scope_sort_and_filter(world):
    rnd = random.Random(20261121)
    tx = db().transaction()
    try:
        async with tx:
            seeded = await _seed(world, rnd, 90)
            user, other = seeded["users"][0], seeded["users"][2]
            orgs, estates = seeded["orgs"], seeded["estates"]
            many = tuple(sorted({*estates, *range(900_000, 900_000 + search.LATERAL_MAX)}))
            scopes = [Scope(world.tenant_a, user, (orgs[0],)),
                      Scope(world.tenant_a, user, tuple(orgs[:2]), (estates[1],)),
                      Scope(world.tenant_a, other, (), tuple(estates)),
                      Scope(world.tenant_a, other, (orgs[2],), many),
                      Scope(world.tenant_a, other),
                      Scope(world.tenant_a, user, tenant_wide=True)]
            at = datetime.now(timezone.utc)
            mine = "branch-test"  # only the cases written here (q: description or location)
            filters = [search.Filters(q=mine), search.Filters(q=mine, status="in_progress"),
                       search.Filters(q=mine, open_only=True),
                       search.Filters(q=mine, overdue_at=at),
                       search.Filters(q=mine, priority="urgent", estate=estates[0])]
            checked = 0
            for scope in scopes:
                for f in filters:
                    for sort in search.SORTS:
                        want = await _reference(scope, f, sort)
                        for limit in (1, 7, 100):
                            assert await _paged(scope, f, sort, limit) == want, (scope, f, sort)
                        checked += len(want)
            assert checked > 500  # the random world is not trivially empty
            raise Rollback
    except Rollback:
        pass
    rows = await fetch("SELECT count(*) AS n FROM case_record WHERE location = 'branch-test'")
    assert rows[0]["n"] == 0


async def test_open_filter_and_the_open_index_predicate_agree():
    """The partial indexes' predicate is spelled like search.OPEN_SQL; if they drift apart the
    planner silently stops using the indexes."""
    rows = await fetch("SELECT indexdef FROM pg_indexes WHERE indexname = 'case_record_org_open_due'")
    assert rows, "migration missing"
    for status in OPEN_STATUSES:
        assert status in rows[0]["indexdef"]
    assert search.OPEN_SQL == (
        "c.status = ANY('{" + ",".join(OPEN_STATUSES) + "}'::text[])")
    assert json.dumps(sorted(OPEN_STATUSES)) == json.dumps(sorted(
        s for s in STATUSES if s not in ("resolved", "closed", "rejected", "duplicate",
                                         "withdrawn")))
