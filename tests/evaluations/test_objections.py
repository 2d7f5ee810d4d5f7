"""Objections: who may raise one, when and with what evidence; the bureau upholds or adjusts
(grade, ranks and roll-ups follow); stale resolutions are refused; final results are frozen."""
from __future__ import annotations

import pytest

from core.db import db, fetch
from tests.evaluations import results_world


@pytest.fixture(scope="module")
async def r(client):
    r = await results_world.build()
    h = await r.h(client, "bureau")
    for tail in ("compute", "publish"):
        resp = await client.post(f"/api/v1/evaluation-campaigns/{r.campaign}/results/{tail}",
                                 headers=h)
        assert resp.status_code == 200, resp.text
    return r


def objections_url(r, key: str = "A1") -> str:
    return f"/api/v1/evaluation-assessments/{r.assessments[key]}/objections"


async def test_only_the_companys_managers_object_to_their_own_result(client, r):
    body = {"reasons": "客观指标统计有误"}
    for persona, key, status in (("p1_handler", "A1", 403), ("oc1", "A1", 403), ("bureau", "A1", 403),
                                 ("p2", "A1", 404), ("p9", "A1", 404), ("p1", "A3", 404)):
        resp = await client.post(objections_url(r, key), headers=await r.h(client, persona), json=body)
        assert resp.status_code == status, (persona, key, resp.text)


async def test_evidence_must_be_cases_of_the_estate(client, r):
    resp = await client.post(objections_url(r), headers=await r.h(client, "p1"),
                             json={"reasons": "x", "evidence_case_ids": [r.cases["E3"]]})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "evidence_case_ids"


async def test_objection_then_adjustment_moves_grade_and_rollup(client, r):
    p1, bureau = await r.h(client, "p1"), await r.h(client, "bureau")
    resp = await client.post(objections_url(r), headers=p1, json={
        "reasons": "业委会评分依据的问题已在期内整改", "evidence_case_ids": [r.cases["E1"]],
        "evidence_note": "整改照片见工单"})
    assert resp.status_code == 201, resp.text
    objection = resp.json()
    assert (objection["status"], objection["original_score"]) == ("open", 85.75)
    assert objection["evidence_case_ids"] == [r.cases["E1"]]
    again = await client.post(objections_url(r), headers=p1, json={"reasons": "再次"})
    assert again.status_code == 409
    result = await client.get(f"/api/v1/evaluation-assessments/{r.assessments['A1']}/result",
                              headers=p1)
    assert result.json()["status"] == "objection" and result.json()["open_objections"] == 1
    raised = await fetch("SELECT organization_ids FROM outbox_event WHERE tenant_id = $1 AND"
                         " topic = 'evaluation.objection_raised'", r.tenant)
    assert r.orgs["bureau"] in raised[0]["organization_ids"]

    one = f"/api/v1/evaluation-objections/{objection['id']}"
    got = await client.get(one, headers=bureau)
    assert got.status_code == 200 and got.headers["etag"] == '"o1"'
    resolve = f"{one}/resolve"
    resp = await client.post(resolve, headers=p1, json={"decision": "uphold", "reason": "x"})
    assert resp.status_code == 403
    resp = await client.post(resolve, headers=bureau, json={"decision": "adjust", "reason": "x"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "adjusted_score"
    resp = await client.post(resolve, headers={**bureau, "If-Match": '"o7"'},
                             json={"decision": "uphold", "reason": "x"})
    assert resp.status_code == 412
    resp = await client.post(resolve, headers={**bureau, "If-Match": '"o1"'}, json={
        "decision": "adjust", "reason": "整改证据属实，业委会分项上调", "adjusted_score": 91})
    assert resp.status_code == 200, resp.text
    assert (resp.json()["status"], resp.json()["adjusted_score"]) == ("adjusted", 91.0)
    resp = await client.post(resolve, headers=bureau, json={"decision": "uphold", "reason": "x"})
    assert resp.status_code == 409
    result = (await client.get(f"/api/v1/evaluation-assessments/{r.assessments['A1']}/result",
                               headers=p1)).json()
    assert (result["total_score"], result["grade"], result["status"]) == (91.0, "excellent", "published")
    assert result["components"]["adjustment"]["from"] == 85.75
    companies = (await client.get(f"/api/v1/evaluation-campaigns/{r.campaign}/company-results",
                                  headers=p1)).json()
    # (91·3 + 80·1) / 4 = 88.25
    assert next(c for c in companies if c["property_company_id"] == r.orgs["p1"])["score"] == 88.25
    listed = await client.get("/api/v1/evaluation-objections", headers=bureau,
                              params={"campaign_id": r.campaign, "status": "adjusted"})
    assert [o["id"] for o in listed.json()] == [objection["id"]]
    resolved = await fetch("SELECT organization_ids FROM outbox_event WHERE tenant_id = $1 AND"
                           " topic = 'evaluation.objection_resolved'", r.tenant)
    assert r.orgs["p1"] in resolved[0]["organization_ids"]
    audit = await fetch("SELECT data FROM audit_entry WHERE tenant_id = $1 AND action ="
                        " 'evaluation.objection_resolved'", r.tenant)
    assert len(audit) == 1


async def test_upheld_objection_keeps_the_result(client, r):
    p2, bureau = await r.h(client, "p2"), await r.h(client, "bureau")
    resp = await client.post(objections_url(r, "A3"), headers=p2, json={"reasons": "不服"})
    assert resp.status_code == 201
    oid = resp.json()["id"]
    resp = await client.post(f"/api/v1/evaluation-objections/{oid}/resolve", headers=bureau,
                             json={"decision": "uphold", "reason": "证据不足，维持原评分"})
    assert resp.status_code == 200 and resp.json()["status"] == "upheld"
    result = (await client.get(f"/api/v1/evaluation-assessments/{r.assessments['A3']}/result",
                               headers=p2)).json()
    assert (result["total_score"], result["grade"], result["status"]) == (46.25, "fail", "published")
    # p2 sees its own objections, not p1's
    mine = await client.get("/api/v1/evaluation-objections", headers=p2)
    assert {o["assessment_id"] for o in mine.json()} == {r.assessments["A3"]}


async def test_after_the_window_objections_are_refused(client, r):
    async with db().transaction():
        await fetch("UPDATE evaluation_assessment SET objection_deadline = now() - interval '1 minute'"
                    " WHERE id = $1", r.assessments["A2"])
    resp = await client.post(objections_url(r, "A2"), headers=await r.h(client, "p1"),
                             json={"reasons": "晚了"})
    assert resp.status_code == 409 and "window" in resp.json()["detail"]


async def test_no_finalising_while_an_objection_is_open_and_nothing_moves_after(client, r):
    p2, bureau = await r.h(client, "p2"), await r.h(client, "bureau")
    resp = await client.post(objections_url(r, "A3"), headers=p2, json={"reasons": "再次申诉"})
    assert resp.status_code == 201
    oid = resp.json()["id"]
    async with db().transaction():
        await fetch("UPDATE evaluation_assessment SET objection_deadline = now() - interval '1 hour',"
                    " published_at = now() - interval '10 days' WHERE campaign = $1", r.campaign)
    final = f"/api/v1/evaluation-campaigns/{r.campaign}/results/finalize"
    resp = await client.post(final, headers=bureau)
    assert resp.status_code == 409 and "still open" in resp.json()["detail"]
    resp = await client.post(f"/api/v1/evaluation-objections/{oid}/resolve", headers=bureau,
                             json={"decision": "uphold", "reason": "维持"})
    assert resp.status_code == 200
    assert (await client.post(final, headers=bureau)).status_code == 200
    resp = await client.post(f"/api/v1/evaluation-objections/{oid}/resolve", headers=bureau,
                             json={"decision": "adjust", "reason": "x", "adjusted_score": 99})
    assert resp.status_code == 409
    result = (await client.get(f"/api/v1/evaluation-assessments/{r.assessments['A3']}/result",
                               headers=p2)).json()
    assert (result["total_score"], result["status"]) == (46.25, "final")
