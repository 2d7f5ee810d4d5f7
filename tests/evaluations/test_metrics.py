"""Objective case metrics: a scripted case history with hand-computed values, and counts that
move exactly as real cases walk through the case API."""
from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from cases.sla import SlaTargets
from core.db import db, fetch
from evaluations import metrics_repository as mrepo
from evaluations.metrics import CaseMetrics, Counts, metrics_from, ratio
from tenancy import repository as trepo
from tenancy import system_repository as sysrepo
from tests.cases.helpers import act, report, walk

CN = ZoneInfo("Asia/Shanghai")
START, END = datetime(2026, 7, 1, tzinfo=CN), datetime(2026, 10, 1, tzinfo=CN)
AS_OF = datetime(2026, 10, 10, 12, tzinfo=CN)


def t(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CN)


async def _scenario() -> dict:
    """A tenant with estate E (company X, company Y, residents' committee R) and estate E2 (X)."""
    tag = secrets.token_hex(3)
    ids: dict = {}
    ids["tenant"] = tenant = (await sysrepo.insert(trepo.Tenant, code=f"m-{tag}", name="M"))["id"]
    street = (await sysrepo.insert(trepo.Street, tenant=tenant, name="街道"))["id"]
    community = (await sysrepo.insert(trepo.Community, tenant=tenant, street=street, name="社区"))["id"]
    for key in ("E", "E2"):
        ids[key] = (await sysrepo.insert(trepo.Estate, tenant=tenant, community=community,
                                         name=f"{key} 小区"))["id"]
    for key, kind in (("X", "property_company"), ("Y", "property_company"),
                      ("R", "residents_committee")):
        ids[key] = (await sysrepo.insert(trepo.Organization, tenant=tenant, kind=kind,
                                         name=f"{key} {tag}"))["id"]
    ids["user"] = (await sysrepo.insert(trepo.User, tenant=tenant, username=f"m_{tag}",
                                        password_hash="x", display_name="M"))["id"]
    return ids


async def _case(ids: dict, created: datetime, *, estate: str = "E", org: str = "X",
                events: list[tuple[str, datetime, str | None, dict]] = (), **values) -> int:
    row = {"tenant": ids["tenant"], "estate": ids[estate], "category": "repair",
           "priority": "normal", "description": "x", "channel": "phone", "created_by": ids["user"],
           "responsible_org": ids[org], "status": "submitted",
           "sla_targets": json.dumps(SlaTargets.defaults().to_dict()),
           "routed_at": created, "created_at": created, "updated_at": created,
           "ack_due_at": created + timedelta(days=1), "resolve_due_at": created + timedelta(days=3),
           **values}
    if isinstance(row.get("pauses"), list):
        row["pauses"] = json.dumps(row["pauses"])
    cols = list(row)
    marks = ", ".join(f"${i}" + ("::jsonb" if c in ("pauses", "sla_targets") else "")
                      for i, c in enumerate(cols, 1))
    case_id = (await fetch(f"INSERT INTO case_record ({', '.join(cols)}) VALUES ({marks})"
                           " RETURNING id", *row.values()))[0]["id"]
    for seq, (action, at, actor, data) in enumerate([("create", created, None, {}), *events], 1):
        await fetch("INSERT INTO case_event (tenant, \"case\", seq, at, actor_org, action,"
                    " to_status, data) VALUES ($1, $2, $3, $4, $5, $6, 'x', $7::jsonb)",
                    ids["tenant"], case_id, seq, at, ids[actor] if actor else None, action,
                    json.dumps({k: ids.get(v, v) for k, v in data.items()}))
    return case_id


@pytest.fixture(scope="module")
async def scripted(client):
    async with db().transaction():
        ids = await _scenario()
        acked = {"status": "closed"}
        # 1: acknowledged and resolved on time, rated 5
        await _case(ids, t(7, 2), **acked, acknowledged_at=t(7, 2, 10), resolved_at=t(7, 4),
                    rating=5)
        # 2: acknowledged late, resolved late, rated 3
        await _case(ids, t(7, 10), **acked, acknowledged_at=t(7, 12), resolved_at=t(7, 15),
                    rating=3)
        # 3: rated 2 -> reopened; its fresh deadline (8-20) passed unresolved
        await _case(ids, t(8, 1), status="in_progress", acknowledged_at=t(8, 1, 10), reopens=1,
                    rating=2, resolve_due_at=t(8, 20))
        # 4: paused before its deadline (10-08) and still paused: not yet due
        await _case(ids, t(9, 28), status="in_progress", acknowledged_at=t(9, 28, 10),
                    resolve_due_at=t(10, 8), paused=True, pause_count=1,
                    pauses=[{"begin": t(10, 5).isoformat(), "end": None, "reason": "等配件"}])
        # 5: neither deadline has come (created late in the period)
        await _case(ids, t(9, 29), status="assigned", ack_due_at=t(10, 20),
                    resolve_due_at=t(10, 25))
        # 6: paused only after its deadline (8-18): late
        await _case(ids, t(8, 15), status="in_progress", acknowledged_at=t(8, 15, 10),
                    resolve_due_at=t(8, 18), paused=True, pause_count=1,
                    pauses=[{"begin": t(8, 20).isoformat(), "end": None, "reason": "x"}])
        # 7: X's dispatcher passed it to the residents' committee (a transfer by X)
        await _case(ids, t(8, 5), org="R", status="accepted", transfers=1,
                    events=[("transfer", t(8, 5, 12), "X", {"from_organization_id": "X",
                                                              "to_organization_id": "R"})])
        # 8: returned (退单) by X, waiting for re-routing
        await _case(ids, t(8, 6), status="returned", returns=1,
                    events=[("return", t(8, 6, 12), "X", {})])
        # 9: a duplicate
        await _case(ids, t(8, 7), status="duplicate")
        # 10, 11: outside the period (the end is exclusive)
        await _case(ids, t(6, 30, 23), **acked, acknowledged_at=t(7, 1), resolved_at=t(7, 1))
        await _case(ids, datetime(2026, 10, 1, tzinfo=CN), status="submitted")
        # 12: company Y's case in the same estate; 13: X's case in another estate
        await _case(ids, t(9, 2), org="Y", status="submitted")
        await _case(ids, t(9, 3), estate="E2", **acked, acknowledged_at=t(9, 3, 10),
                    resolved_at=t(9, 4), rating=4)
        # 14: acknowledged and resolved exactly at their deadlines (on time), not rated
        await _case(ids, t(9, 1), status="resolved", acknowledged_at=t(9, 2),
                    resolved_at=t(9, 4))
        # 15: the residents' committee passed it to X (not X's transfer); never acknowledged
        await _case(ids, t(9, 10), status="accepted", transfers=1,
                    events=[("transfer", t(9, 10, 12), "R", {"from_organization_id": "R",
                                                               "to_organization_id": "X"})])
        # 16: a resolution after the observation moment does not count yet
        await _case(ids, t(9, 30), status="resolved", acknowledged_at=t(9, 30, 10),
                    resolved_at=AS_OF + timedelta(hours=1), resolve_due_at=t(10, 3))
    return ids


async def test_scripted_history_matches_hand_computed_counts(scripted):
    ids = scripted
    pairs = [(ids["E"], ids["X"]), (ids["E"], ids["Y"]), (ids["E2"], ids["X"])]
    got = await mrepo.all_counts(ids["tenant"], pairs, START, END, AS_OF, batch=2)
    # H = {1..9, 14, 15, 16}; A = {1..6, 14, 15, 16}
    assert got[(ids["E"], ids["X"])] == Counts(
        ids["E"], ids["X"], cases=12, accountable=9,
        ack_due=8,  # acknowledged 1 2 3 4 6 14 16, unacknowledged past due 15
        ack_on_time=6,  # all but 2 and 15
        resolve_due=7,  # resolved 1 2 14; past due 3 6 15 16 (4 paused in time, 5 not due)
        resolve_on_time=2,  # 1 and 14
        resolved=3, ever_resolved=4, reopened=1, rated=3, rating_sum=10, satisfied=1,
        transfers=1, returns=1,
        overdue=5)  # 2 3 6 15 16
    assert got[(ids["E"], ids["Y"])] == Counts(ids["E"], ids["Y"], cases=1, accountable=1,
                                               ack_due=1, resolve_due=1, overdue=1)
    assert got[(ids["E2"], ids["X"])] == Counts(
        ids["E2"], ids["X"], cases=1, accountable=1, ack_due=1, ack_on_time=1, resolve_due=1,
        resolve_on_time=1, resolved=1, ever_resolved=1, rated=1, rating_sum=4, satisfied=1)


async def test_rates_from_counts_and_no_data_is_none(scripted):
    ids = scripted
    c = (await mrepo.counts(ids["tenant"], [(ids["E"], ids["X"])], START, END, AS_OF))
    m = metrics_from(c[(ids["E"], ids["X"])])
    assert m.on_time_ack_rate == pytest.approx(6 / 8)
    assert m.on_time_resolution_rate == pytest.approx(2 / 7)
    assert m.resolution_rate == pytest.approx(3 / 9)
    assert m.average_rating == pytest.approx(10 / 3)
    assert m.satisfaction_rate == pytest.approx(1 / 3)
    assert m.reopen_rate == pytest.approx(1 / 4)
    assert (m.transfers, m.returns, m.overdue_count, m.case_count) == (1, 1, 5, 12)
    assert m.transfer_rate == pytest.approx(1 / 12)
    none = metrics_from(Counts(1, 2))
    assert none.case_count == 0 and none.on_time_ack_rate is None and none.average_rating is None
    assert CaseMetrics.from_dict(m.to_dict()) == m
    assert ratio(0, 0) is None and ratio(0, 4) == 0
    # an estate nobody asked about, and an earlier observation moment, see fewer cases
    early = await mrepo.counts(ids["tenant"], [(ids["E"], ids["X"])], START, END, t(7, 3))
    assert early[(ids["E"], ids["X"])].cases == 1
    assert early[(ids["E"], ids["X"])].resolved == 0  # case 1 resolved on 7-04


async def test_counts_follow_real_cases_through_the_case_api(client, world):
    tenant, pair = world.tenant_a, (world.a1.estate, world.a1.orgs["property_company"])
    start = datetime.now(timezone.utc) - timedelta(days=1)
    end = datetime.now(timezone.utc) + timedelta(hours=1)

    async def snapshot() -> Counts:
        return (await mrepo.counts(tenant, [pair], start, end, end))[pair]

    before = await snapshot()
    good = await report(client, world)
    await walk(client, world, good["id"], "accept", "assign", "acknowledge", "start")
    await act(client, world, "property_company:handler", good["id"], "resolve", comment="修好了")
    await act(client, world, "resident", good["id"], "rate", rating=5)
    moved = await report(client, world)
    await walk(client, world, moved["id"], "accept")
    await act(client, world, "property_company:manager", moved["id"], "transfer",
              reason="邻里纠纷", target_organization_id=world.a1.orgs["residents_committee"])
    returned = await report(client, world)
    await walk(client, world, returned["id"], "accept", "assign")
    await act(client, world, "property_company:handler", returned["id"], "return", reason="非本单位")
    after = await snapshot()
    delta = {k: getattr(after, k) - getattr(before, k) for k in
             ("cases", "accountable", "ack_due", "ack_on_time", "resolved", "rated", "satisfied",
              "transfers", "returns")}
    assert delta == {"cases": 3, "accountable": 1, "ack_due": 1, "ack_on_time": 1, "resolved": 1,
                     "rated": 1, "satisfied": 1, "transfers": 1, "returns": 1}
