"""A campaign's results from computation to final: hand-computed totals from real submissions,
survey answers and cases; publication; who reads what when; recomputation; immutability."""
from __future__ import annotations

import pytest

from core.db import db, fetch
from tests.evaluations import results_world


@pytest.fixture(scope="module")
async def r(client):
    return await results_world.build()


def url(r, tail: str) -> str:
    return f"/api/v1/evaluation-campaigns/{r.campaign}/{tail}"


async def results_by_estate(client, r, persona: str = "bureau") -> dict:
    resp = await client.get(url(r, "results"), headers=await r.h(client, persona))
    assert resp.status_code == 200, resp.text
    return {x["estate_id"]: x for x in resp.json()}


async def test_only_bureau_admins_compute(client, r):
    for persona, status in (("bureau_staff", 403), ("p1", 403), ("oc1", 403), ("p9", 403)):
        resp = await client.post(url(r, "results/compute"), headers=await r.h(client, persona))
        assert resp.status_code == status, (persona, resp.text)


async def test_compute_matches_hand_computed_scores(client, r):
    resp = await client.post(url(r, "results/compute"), headers=await r.h(client, "bureau"))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"campaign_id": r.campaign, "queued": False, "assessments": 3,
                           "scored": 3, "held": 0, "companies": 2}
    got = await results_by_estate(client, r)
    a1, a2, a3 = (got[r.estates[e]] for e in ("E1", "E2", "E3"))
    # A1: survey (4.5 − 1)·25 = 87.5, oc 90, rc 80, street 70, metrics 100 (all on time, rated 5)
    #     (87.5·30 + 90·20 + 80·20 + 70·15 + 100·15) / 100 = 85.75; the bureau's draft is ignored
    assert (a1["total_score"], a1["grade"], a1["rank"], a1["status"]) == (85.75, "good", 1, "scored")
    kinds = a1["components"]["kinds"]
    assert kinds["owners_survey"]["score"] == 87.5 and kinds["owners_survey"]["households"] == 3
    assert kinds["owners_survey"]["response_rate"] == pytest.approx(0.6667, abs=1e-4)
    assert kinds["bureau_inspection"]["state"] == "missing"
    assert kinds["objective_metrics"]["score"] == 100.0
    assert kinds["objective_metrics"]["metrics"]["case_count"] == 1
    # A2: no survey answer, no street office, no case: oc 80 and rc 80 re-weighted → 80
    assert (a2["total_score"], a2["grade"], a2["rank"]) == (80.0, "good", 2)
    assert a2["components"]["kinds"]["owners_committee"]["effective_weight"] == 50.0
    # A3: survey (2 − 1)·25 = 25 (1 of 2 households: exactly the minimum), metrics: nothing
    #     acknowledged or resolved, no transfers or returns: (7.5·100 + 7.5·100) / 75 = 20
    #     (25·30 + 60·20 + 70·20 + 65·15 + 20·15) / 100 = 46.25
    assert a3["components"]["kinds"]["objective_metrics"]["score"] == 20.0
    assert (a3["total_score"], a3["grade"], a3["rank"]) == (46.25, "fail", 3)
    resp = await client.get(url(r, "company-results"), headers=await r.h(client, "bureau"))
    companies = {c["property_company_id"]: c for c in resp.json()}
    # p1: (85.75·3 households + 80·1) / 4 = 84.3125
    assert (companies[r.orgs["p1"]]["score"], companies[r.orgs["p1"]]["rank"]) == (84.31, 1)
    assert companies[r.orgs["p1"]]["households"] == 4 and companies[r.orgs["p1"]]["grade"] == "good"
    assert (companies[r.orgs["p2"]]["score"], companies[r.orgs["p2"]]["rank"]) == (46.25, 2)


async def test_unpublished_results_are_the_bureaus_alone(client, r):
    for persona in ("p1", "oc1", "rc", "p9"):
        resp = await client.get(url(r, "results"), headers=await r.h(client, persona))
        assert resp.status_code == 404, persona
        resp = await client.get(f"/api/v1/evaluation-assessments/{r.assessments['A1']}/result",
                                headers=await r.h(client, persona))
        assert resp.status_code == 404, persona
    resp = await client.get(url(r, "results"), headers=await r.h(client, "bureau_staff"))
    assert resp.status_code == 200 and len(resp.json()) == 3


async def test_filters_of_the_results_table(client, r):
    h = await r.h(client, "bureau")
    for query, estates in (({"company_id": r.orgs["p1"]}, {"E1", "E2"}), ({"grade": "fail"}, {"E3"}),
                           ({"estate_id": r.estates["E2"]}, {"E2"}), ({"q": "E3 花园"}, {"E3"}),
                           ({"status": "published"}, set())):
        resp = await client.get(url(r, "results"), headers=h, params=query)
        assert resp.status_code == 200, resp.text
        assert {x["estate_id"] for x in resp.json()} == {r.estates[e] for e in estates}, query


async def test_recomputing_is_idempotent_and_audited(client, r):
    before = await results_by_estate(client, r)
    resp = await client.post(url(r, "results/compute"), headers=await r.h(client, "bureau"))
    assert resp.status_code == 200
    after = await results_by_estate(client, r)
    strip = lambda d: {k: (v["total_score"], v["grade"], v["rank"]) for k, v in d.items()}  # noqa: E731
    assert strip(before) == strip(after)
    rows = await fetch("SELECT count(*) AS n FROM audit_entry WHERE tenant_id = $1 AND action ="
                       " 'evaluation.results_computed'", r.tenant)
    assert rows[0]["n"] == 2


async def test_publish_tells_the_company_and_committees(client, r):
    for persona in ("bureau_staff", "p1"):
        resp = await client.post(url(r, "results/publish"), headers=await r.h(client, persona))
        assert resp.status_code == 403
    resp = await client.post(url(r, "results/publish"), headers=await r.h(client, "bureau"))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"campaign_id": r.campaign, "status": "published", "assessments": 3}
    events = await fetch("SELECT organization_ids, payload FROM outbox_event WHERE tenant_id = $1"
                         " AND topic = 'evaluation.published' ORDER BY id", r.tenant)
    assert len(events) == 3
    first = next(e for e in events if r.orgs["p1"] in e["organization_ids"]
                 and r.orgs["oc1"] in e["organization_ids"])
    assert {r.orgs["rc"], r.orgs["so"], r.orgs["bureau"]} <= set(first["organization_ids"])
    # published: the company reads its own results, the committees those of their estates
    assert set(await results_by_estate(client, r, "p1")) == {r.estates["E1"], r.estates["E2"]}
    assert set(await results_by_estate(client, r, "oc1")) == {r.estates["E1"]}
    assert set(await results_by_estate(client, r, "rc")) == set(r.estates.values())
    resp = await client.get(url(r, "results"), headers=await r.h(client, "p9"))
    assert resp.status_code == 404
    resp = await client.post(url(r, "results/compute"), headers=await r.h(client, "bureau"))
    assert resp.status_code == 409  # published results are not recomputed
    status = await fetch("SELECT status FROM evaluation_campaign WHERE id = $1", r.campaign)
    assert status[0]["status"] == "published"


async def test_finalising_waits_for_the_window_then_freezes_everything(client, r):
    h = await r.h(client, "bureau")
    resp = await client.post(url(r, "results/finalize"), headers=h)
    assert resp.status_code == 409 and "objection window" in resp.json()["detail"]
    async with db().transaction():
        await fetch("UPDATE evaluation_assessment SET objection_deadline = now() - interval '1 day',"
                    " published_at = now() - interval '10 days' WHERE campaign = $1", r.campaign)
    resp = await client.post(url(r, "results/finalize"), headers=await r.h(client, "p1"))
    assert resp.status_code == 403
    resp = await client.post(url(r, "results/finalize"), headers=h)
    assert resp.status_code == 200, resp.text
    got = await results_by_estate(client, r, "p1")
    assert {x["status"] for x in got.values()} == {"final"}
    assert all(x["finalized_at"] for x in got.values())
    for tail in ("results/compute", "results/publish", "results/finalize"):
        resp = await client.post(url(r, tail), headers=h)
        assert resp.status_code == 409, tail
    resp = await client.post(f"/api/v1/evaluation-assessments/{r.assessments['A1']}/objections",
                             headers=await r.h(client, "p1"), json={"reasons": "太晚了"})
    assert resp.status_code == 409
    actions = {x["action"] for x in await fetch(
        "SELECT action FROM audit_entry WHERE tenant_id = $1 AND action LIKE 'evaluation.%'",
        r.tenant)}
    assert {"evaluation.results_computed", "evaluation.results_published",
            "evaluation.results_finalized"} <= actions


async def test_a_large_campaign_is_computed_by_the_queue_job(client, monkeypatch):
    import asyncio

    from evaluations import results_service
    from gongzhi.worker import FUNCTIONS, build_worker

    assert "compute_campaign_results" in [f.__name__ for f in FUNCTIONS]
    big = await results_world.build()
    monkeypatch.setattr(results_service, "INLINE_LIMIT", 2)  # 3 assessments count as "large"
    resp = await client.post(url(big, "results/compute"), headers=await big.h(client, "bureau"))
    assert resp.status_code == 200 and resp.json()["queued"] is True
    assert (await results_by_estate(client, big))[big.estates["E1"]]["total_score"] is None
    worker = build_worker(manage_pool=False, burst=True)
    await asyncio.wait_for(worker.start(), timeout=60)
    got = await results_by_estate(client, big)
    assert {k: v["total_score"] for k, v in got.items()} == {
        big.estates["E1"]: 85.75, big.estates["E2"]: 80.0, big.estates["E3"]: 46.25}


async def test_the_next_campaign_shows_the_trend_against_this_one(client, r):
    """Runs after finalisation: this campaign is now the previous one."""
    campaign, ids = await results_world.next_campaign(r, {"A1": 90, "A2": 70, "A3": 50})
    h = await r.h(client, "bureau")
    resp = await client.post(f"/api/v1/evaluation-campaigns/{campaign}/results/compute", headers=h)
    assert resp.status_code == 200, resp.text
    resp = await client.get(f"/api/v1/evaluation-campaigns/{campaign}/results", headers=h)
    got = {x["estate_id"]: x for x in resp.json()}
    a1, a2, a3 = (got[r.estates[e]] for e in ("E1", "E2", "E3"))
    # only the owners' committee scored (no survey answer, no case this quarter): total = its score
    assert (a1["total_score"], a1["previous_score"], a1["trend"]) == (90.0, 85.75, 4.25)
    assert (a2["total_score"], a2["previous_score"], a2["trend"]) == (70.0, 80.0, -10.0)
    assert (a3["previous_grade"], a3["trend"]) == ("fail", 3.75)
    companies = (await client.get(f"/api/v1/evaluation-campaigns/{campaign}/company-results",
                                  headers=h)).json()
    p1 = next(c for c in companies if c["property_company_id"] == r.orgs["p1"])
    # (90·3 + 70·1) / 4 = 85 against 84.31
    assert (p1["score"], p1["previous_score"], p1["trend"]) == (85.0, 84.31, 0.69)
