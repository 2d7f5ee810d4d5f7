"""The demo district comes with a service contract for every estate a company serves."""
from __future__ import annotations

from cases.sla import SlaTargets
from contracts import service
from core.db import fetch
from gongzhi.demo import seed_demo


async def test_the_demo_district_has_a_contract_per_served_estate(client):
    await seed_demo()
    tenant = (await fetch("SELECT id FROM tenant WHERE code = 'demo'"))[0]["id"]
    rows = await fetch("SELECT id, estate, status FROM service_contract WHERE tenant = $1"
                       " ORDER BY id", tenant)
    assert len(rows) == 6 and len({r["estate"] for r in rows}) == 6
    assert sorted(r["status"] for r in rows) == ["active"] * 5 + ["expiring"]
    expiring = next(r["id"] for r in rows if r["status"] == "expiring")
    notices = await fetch("SELECT id FROM outbox_event WHERE topic = 'contract.expiring'"
                          " AND payload->>'contract_id' = $1", str(expiring))
    assert len(notices) == 1
    targets = await service.active_sla_targets(tenant, rows[0]["estate"])
    assert SlaTargets.from_dict(targets).normal.resolve.amount == 2.0
