"""Concurrency: many people acting on one case at the same moment, through the real API, real
PostgreSQL transactions and row locks. The case must end in a state its history explains, with
every accepted change recorded once, in order, and the audit chain intact."""
from __future__ import annotations

import asyncio
import random
from collections import Counter

from core import audit
from core.db import fetch
from tests.cases.helpers import headers, report

# (weight, persona, action, body): conflicting moves on a freshly reported case — mostly moving
# it forward (so several succeed in turn), some ending it (reject, withdraw), some not allowed
# yet in the state the case will be in.
MOVES = [
    (25, "property_company:manager", "accept", {}),
    (20, "property_company:manager", "assign", {}),
    (20, "property_company:handler", "acknowledge", {}),
    (10, "property_company:handler", "start", {}),
    (10, "property_company:handler", "resolve", {"comment": "已更换灯泡"}),
    (5, "property_company:manager", "close", {}),
    (2, "property_company:manager", "reject", {"reason": "不属于物业服务范围"}),
    (2, "resident", "withdraw", {"reason": "已自行解决"}),
]


async def test_a_hundred_concurrent_conflicting_transitions_leave_a_consistent_case(client, world):
    case = await report(client, world, description="并发测试：楼道灯不亮")
    case_id = case["id"]
    first = await client.get(f"/api/v1/cases/{case_id}",
                             headers=await headers(client, world, "property_company:manager"))
    etag = first.headers["etag"]
    rng = random.Random(2026)
    calls = []
    for i in range(100):
        _w, persona, action, body = rng.choices(MOVES, weights=[m[0] for m in MOVES])[0]
        h = dict(await headers(client, world, persona))
        if i % 2 == 0:
            h["If-Match"] = etag  # half of them insist on the version they saw
        calls.append((persona, action, h, body))

    async def send(persona, action, h, body):
        r = await client.post(f"/api/v1/cases/{case_id}/actions/{action}", json=body, headers=h)
        return persona, action, h.get("If-Match"), r

    results = await asyncio.gather(*(send(*c) for c in calls))

    statuses = [r.status_code for *_rest, r in results]
    assert all(s < 500 for s in statuses), [r.text for *_rest, r in results if r.status_code >= 500]
    for *_rest, r in results:
        if r.status_code != 200:
            assert r.headers["content-type"].startswith("application/problem+json"), r.text
            assert r.status_code in (403, 409, 412, 422), r.text
    accepted = [(action, match) for _p, action, match, r in results if r.status_code == 200]
    # Everyone holding the first ETag raced for one version: at most one of them won.
    assert sum(1 for _a, match in accepted if match == etag) <= 1

    manager = await headers(client, world, "property_company:manager")
    events = (await client.get(f"/api/v1/cases/{case_id}/events", headers=manager)).json()
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), seqs  # no gap, no duplicate
    changes = [e for e in events if e["action"] not in ("create", "comment")]
    assert len(changes) == len(accepted)  # every answered 200 is in the history, once
    for before, after in zip(events, events[1:]):  # each step starts where the last one ended
        if after["from_status"] is not None:
            assert after["from_status"] == before["to_status"], (before, after)
    final = (await client.get(f"/api/v1/cases/{case_id}", headers=manager))
    assert final.json()["status"] == events[-1]["to_status"]
    row = (await fetch('SELECT version FROM case_record WHERE id = $1', case_id))[0]
    assert final.headers["etag"] == f'"v{row["version"]}"' or final.headers["etag"].endswith(
        f'{row["version"]}"')

    # The audit chain took every one of those writes in order.
    chain = await audit.verify(world.tenant_a)
    assert chain.ok, chain
    logged = await fetch("SELECT action FROM audit_entry WHERE subject_type = 'case'"
                         " AND subject_id = $1 AND action <> 'case.contact_viewed' ORDER BY seq",
                         str(case_id))
    assert [r["action"] for r in logged] == [f"case.{e['action']}" for e in events]
    print(f"\n100 concurrent actions on one case: {len(accepted)} applied "
          f"({' -> '.join(e['action'] for e in events)}), answers "
          f"{dict(sorted(Counter(statuses).items()))}")
