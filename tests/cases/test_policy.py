"""The tenant's case policy (/api/v1/cases/sla-policy): read by everyone of the tenant, changed
by the housing bureau's administrators with If-Match; new cases without contract targets run
on it, and unrated cases close after its number of days. Tenant A's policy is removed again at
the end of each test (the test world is shared)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cases import supervision
from core.db import db, fetch
from tests.cases.helpers import act, headers, report
from tests.factories import login

URL = "/api/v1/cases/sla-policy"


def policy(urgent_resolve_hours: float = 10.0, days: int = 2) -> dict:
    hours = lambda n: {"amount": n, "unit": "natural_hours"}  # noqa: E731
    days_ = lambda n: {"amount": n, "unit": "working_days"}  # noqa: E731
    return {"sla_targets": {
        "emergency": {"acknowledge": hours(0.5), "resolve": hours(12)},
        "urgent": {"acknowledge": hours(1), "resolve": hours(urgent_resolve_hours)},
        "normal": {"acknowledge": days_(1), "resolve": days_(3)},
        "return_window": days_(2)}, "auto_close_days": days}


@pytest.fixture
async def restore(world):
    yield
    async with db().transaction():
        await fetch("DELETE FROM case_policy WHERE tenant = ANY($1::int[])",
                    [world.tenant_a, world.tenant_b])


async def test_everyone_reads_the_defaults_and_only_the_bureau_admin_changes_them(
        client, world, restore):
    for persona in ("resident", "property_company:handler", "owners_committee:member"):
        r = await client.get(URL, headers=await headers(client, world, persona))
        assert r.status_code == 200 and r.json()["source"] == "default"
        assert r.headers["etag"] == '"v0"' and r.json()["auto_close_days"] == 7
    for persona in ("property_company:manager", "residents_committee:admin", "street_office:admin",
                    "bureau:staff", "resident"):
        r = await client.put(URL, json=policy(), headers=await headers(client, world, persona))
        assert r.status_code == 403, persona
    admin = await headers(client, world, "bureau:admin")
    r = await client.put(URL, json=policy(), headers={**admin, "If-Match": '"v0"'})
    assert r.status_code == 200 and r.json()["source"] == "tenant" and r.headers["etag"] == '"v1"'
    stale = await client.put(URL, json=policy(days=3), headers={**admin, "If-Match": '"v0"'})
    assert stale.status_code == 412
    bad = dict(policy(), auto_close_days=0)
    assert (await client.put(URL, json=bad, headers=admin)).status_code in (400, 422)
    # another tenant's administrator changes their own tenant only
    other = await login(client, world.users["b/bureau:admin"])
    assert (await client.put(URL, json=policy(days=30), headers=other)).status_code == 200
    mine = (await client.get(URL, headers=admin)).json()
    assert mine["auto_close_days"] == 2 and mine["version"] == 1
    audit = await fetch("SELECT count(*) AS n FROM audit_entry WHERE tenant_id = $1"
                        " AND action = 'case_policy.updated'", world.tenant_a)
    assert audit[0]["n"] >= 1


async def test_new_cases_without_contract_targets_run_on_the_tenant_policy(client, world, restore):
    admin = await headers(client, world, "bureau:admin")
    assert (await client.put(URL, json=policy(urgent_resolve_hours=10), headers=admin)).status_code == 200
    case = await report(client, world, priority="urgent", description="政策：10 小时办结")
    created = datetime.fromisoformat(case["created_at"])
    due = datetime.fromisoformat(case["resolve_due_at"])
    assert case["sla_source"] == "tenant"
    assert abs((due - created) - timedelta(hours=10)) < timedelta(minutes=1)


async def test_unrated_cases_close_after_the_tenant_policy_days(client, world, restore):
    admin = await headers(client, world, "bureau:admin")
    assert (await client.put(URL, json=policy(days=2), headers=admin)).status_code == 200
    cases = []
    for age in (3, 1):
        case = await report(client, world, description=f"政策：{age} 天前办结")
        await act(client, world, "property_company:manager", case["id"], "accept")
        await act(client, world, "property_company:manager", case["id"], "assign",
                  assignee_user_id=world.a1.user_ids["property_company:handler"])
        for step in ("acknowledge", "start"):
            await act(client, world, "property_company:handler", case["id"], step)
        await act(client, world, "property_company:handler", case["id"], "resolve", comment="已修")
        async with db().transaction():
            await fetch("UPDATE case_record SET resolved_at = now() - make_interval(days => $2)"
                        " WHERE id = $1", case["id"], age)
        cases.append(case["id"])
    await supervision.close_tenant(world.tenant_a)
    rows = {r["id"]: r["status"] for r in await fetch(
        "SELECT id, status FROM case_record WHERE id = ANY($1::int[])", cases)}
    assert rows == {cases[0]: "closed", cases[1]: "resolved"}
