"""The demo district comes with last quarter's closed campaign (every evaluator submitted, now
locked) and this quarter's open one with a little progress."""
from __future__ import annotations

from core.db import fetch
from gongzhi.demo import seed_demo


async def test_the_demo_has_a_closed_and_an_open_campaign(client):
    await seed_demo()
    tenant = (await fetch("SELECT id FROM tenant WHERE code = 'demo'"))[0]["id"]
    campaigns = await fetch("SELECT id, status FROM evaluation_campaign WHERE tenant = $1"
                            " ORDER BY period_start", tenant)
    assert [c["status"] for c in campaigns] == ["closed", "open"]
    contracts = await fetch("SELECT count(*) AS n FROM service_contract WHERE tenant = $1"
                            " AND status <> 'draft'", tenant)
    for c in campaigns:
        rows = await fetch("SELECT s.status, s.score FROM evaluation_submission s JOIN"
                           " evaluation_assessment a ON a.id = s.assessment WHERE a.campaign = $1",
                           c["id"])
        n = await fetch("SELECT count(*) AS n FROM evaluation_assessment WHERE campaign = $1",
                        c["id"])
        assert n[0]["n"] == contracts[0]["n"] == 6
        statuses = sorted(r["status"] for r in rows)
        if c["status"] == "closed":
            assert set(statuses) == {"locked"} and all(70 <= r["score"] <= 98 for r in rows)
        else:
            assert statuses.count("submitted") == 1 and "locked" not in statuses
            assert sum(1 for r in rows if r["status"] == "draft" and r["score"] is None) == \
                len(rows) - 1  # the half-done draft has no total yet
