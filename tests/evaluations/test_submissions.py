"""Submissions: drafts until submitted, editable until the deadline with every change audited,
If-Match against lost updates (two evaluators of one organisation), locked after the deadline,
evidence that must belong to the estate, and the conflict-of-interest refusals."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core.db import db, fetch
from evaluations import campaign_service
from tenancy.principal import Principal
from tests.evaluations.campaign_world import Mini, assessment_of, build, open_campaign
from tests.factories import tiny_jpeg

KEYS = ["general_management", "buildings", "facilities", "order_safety", "cleaning", "greening",
        "customer_service"]


async def my_submission(client, m: Mini, persona: str, campaign_id: int, estate: str) -> dict:
    a = await assessment_of(client, m, campaign_id, estate)
    r = await client.get(f"/api/v1/evaluation-submissions?campaign_id={campaign_id}",
                         headers=await m.h(client, persona))
    assert r.status_code == 200, r.text
    return next(s for s in r.json() if s["assessment_id"] == a["id"])


def scores(value: float, keys=KEYS, **extra) -> dict:
    return {"scores": [{"criterion_key": k, "score": value, **extra} for k in keys]}


async def patch(client, m: Mini, persona: str, sub_id: int, body: dict, etag: str | None):
    h = {**await m.h(client, persona), **({"If-Match": etag} if etag else {})}
    return await client.patch(f"/api/v1/evaluation-submissions/{sub_id}", json=body, headers=h)


async def audit_actions(tenant: int, sub_id: int) -> list[str]:
    rows = await fetch("SELECT action FROM audit_entry WHERE tenant_id = $1 AND subject_type ="
                       " 'evaluation_submission' AND subject_id = $2 ORDER BY seq", tenant,
                       str(sub_id))
    return [r["action"] for r in rows]


async def test_draft_save_submit_edit_until_deadline_then_locked(client):
    m = await build()
    campaign = await open_campaign(client, m)
    sub = await my_submission(client, m, "oc1", campaign["id"], "E1")
    assert (sub["status"], sub["evaluator_kind"], sub["missing"]) == ("draft", "owners_committee", KEYS)
    assert [c["key"] for c in sub["criteria"]] == KEYS
    url = f"/api/v1/evaluation-submissions/{sub['id']}"
    r = await client.get(url, headers=await m.h(client, "oc1"))
    etag = r.headers["etag"]
    assert etag == '"v1"'
    r = await patch(client, m, "oc1", sub["id"], scores(80, KEYS[:3]), None)
    assert r.status_code == 428, r.text
    r = await patch(client, m, "oc1", sub["id"], scores(80, KEYS[:3], comment="尚可"), etag)
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"v2"' and r.json()["missing"] == KEYS[3:]
    assert r.json()["score"] is None  # not every criterion scored yet
    r2 = await client.post(f"{url}/submit", headers={**await m.h(client, "oc1"), "If-Match": '"v2"'})
    assert r2.status_code == 422, r2.text  # criteria missing
    r = await patch(client, m, "oc1", sub["id"], scores(90, KEYS[3:]), '"v2"')
    assert r.status_code == 200 and r.json()["missing"] == []
    # 0.15*80*3 + 0.15*90*2 + 0.10*90 + 0.15*90 = 36 + 27 + 9 + 13.5 = 85.5
    assert r.json()["score"] == 85.5
    r = await client.post(f"{url}/submit", headers={**await m.h(client, "oc1"), "If-Match": '"v3"'})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "submitted" and r.json()["submitted_at"]
    # Still editable until the deadline; stays submitted.
    r = await patch(client, m, "oc1", sub["id"], scores(70, ["greening"]), '"v4"')
    assert r.status_code == 200 and r.json()["status"] == "submitted" and r.json()["score"] == 83.5
    assert await audit_actions(m.tenant, sub["id"]) == [
        "evaluation.submission_saved", "evaluation.submission_saved",
        "evaluation.submission_submitted", "evaluation.submission_saved"]
    detail = await fetch("SELECT data FROM audit_entry WHERE tenant_id = $1 AND subject_id = $2"
                         " ORDER BY seq DESC LIMIT 1", m.tenant, str(sub["id"]))
    assert '"before": 90.0' in detail[0]["data"] and '"after": 70.0' in detail[0]["data"]
    # The deadline passes (the job has not run yet): 423.
    await fetch("UPDATE evaluation_campaign SET submission_deadline = now() - interval '1 minute'"
                " WHERE id = $1", campaign["id"])
    r = await patch(client, m, "oc1", sub["id"], scores(10, ["greening"]), '"v5"')
    assert r.status_code == 423, r.text
    async with db().transaction():
        assert await campaign_service.close_due_campaigns(tenant_id=m.tenant) == 1
    r = await client.get(url, headers=await m.h(client, "oc1"))
    assert r.json()["status"] == "locked" and r.json()["editable"] is False
    r = await patch(client, m, "oc1", sub["id"], scores(10, ["greening"]), r.headers["etag"])
    assert r.status_code == 423


async def test_two_evaluators_of_one_organisation_get_412_not_a_lost_update(client):
    m = await build()
    campaign = await open_campaign(client, m)
    sub = await my_submission(client, m, "oc1", campaign["id"], "E1")
    url = f"/api/v1/evaluation-submissions/{sub['id']}"
    chair = (await client.get(url, headers=await m.h(client, "oc1"))).headers["etag"]
    member = (await client.get(url, headers=await m.h(client, "oc1_member"))).headers["etag"]
    assert chair == member
    r = await patch(client, m, "oc1", sub["id"], scores(60, ["cleaning"]), chair)
    assert r.status_code == 200
    r = await patch(client, m, "oc1_member", sub["id"], scores(95, ["cleaning"]), member)
    assert r.status_code == 412, r.text
    assert r.json()["etag"] == '"v2"'
    r = await client.get(url, headers=await m.h(client, "oc1"))
    assert [s["score"] for s in r.json()["scores"]] == [60.0]
    r = await client.post(f"{url}/submit", headers={**await m.h(client, "oc1_member"),
                                                     "If-Match": member})
    assert r.status_code == 412


async def test_member_of_the_evaluated_company_is_refused_everywhere(client):
    m = await build()
    campaign = await open_campaign(client, m)
    sub = await my_submission(client, m, "oc1", campaign["id"], "E1")
    a = await assessment_of(client, m, campaign["id"], "E1")
    h = await m.h(client, "dual")  # member of oc1 and manager at p1
    url = f"/api/v1/evaluation-submissions/{sub['id']}"
    r = await client.get(url, headers=h)
    assert r.status_code == 403 and r.json()["type"] == "/problems/forbidden"
    r = await client.patch(url, json=scores(100), headers={**h, "If-Match": '"v1"'})
    assert r.status_code == 403
    r = await client.post(f"{url}/submit", headers={**h, "If-Match": '"v1"'})
    assert r.status_code == 403
    r = await client.post(f"/api/v1/evaluation-assessments/{a['id']}/submissions", json={},
                          headers=h)
    assert r.status_code == 403
    r = await client.get(f"/api/v1/evaluation-submissions?campaign_id={campaign['id']}", headers=h)
    assert r.status_code == 200 and r.json() == []
    # The company's own manager does not evaluate and does not see drafts either.
    r = await client.get(url, headers=await m.h(client, "p1"))
    assert r.status_code == 404


async def test_declared_conflict_bars_the_organisation_for_that_company_only(client):
    m = await build()
    bureau = await m.h(client, "bureau")
    r = await client.post("/api/v1/evaluation-conflicts", headers=bureau, json={
        "organization_id": m.orgs["oc2"], "conflicted_organization_id": m.orgs["p1"],
        "reason": "业委会主任在该物业公司任职"})
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/evaluation-conflicts", headers=await m.h(client, "so"), json={
        "organization_id": m.orgs["so"], "conflicted_organization_id": m.orgs["p1"], "reason": "x"})
    assert r.status_code == 403
    campaign = await open_campaign(client, m)
    # Declared after opening: the street office already has its drafts; it is barred from E1's.
    r = await client.post("/api/v1/evaluation-conflicts", headers=bureau, json={
        "organization_id": m.orgs["so"], "conflicted_organization_id": m.orgs["p1"],
        "reason": "街道主任亲属任职"})
    assert r.status_code == 201
    so = await m.h(client, "so")
    r = await client.get(f"/api/v1/evaluation-submissions?campaign_id={campaign['id']}", headers=so)
    assert [s["estate_id"] for s in r.json()] == [m.estates["E2"]]
    e1 = await assessment_of(client, m, campaign["id"], "E1")
    row = await fetch("SELECT id FROM evaluation_submission WHERE assessment = $1 AND"
                      " organization = $2", e1["id"], m.orgs["so"])
    r = await client.get(f"/api/v1/evaluation-submissions/{row[0]['id']}", headers=so)
    assert r.status_code == 403
    r = await client.post(f"/api/v1/evaluation-assessments/{e1['id']}/submissions", json={},
                          headers=so)
    assert r.status_code == 403
    r = await client.get("/api/v1/evaluation-conflicts", headers=bureau)
    assert len(r.json()) == 2
    r = await client.delete(f"/api/v1/evaluation-conflicts/{r.json()[1]['id']}", headers=bureau)
    assert r.status_code == 204
    r = await client.get(f"/api/v1/evaluation-submissions/{row[0]['id']}", headers=so)
    assert r.status_code == 200


async def test_bureau_inspection_starts_on_demand_and_bureau_reads_only_submitted(client):
    m = await build()
    campaign = await open_campaign(client, m)
    e2 = await assessment_of(client, m, campaign["id"], "E2")
    staff = await m.h(client, "bureau_staff")
    r = await client.post(f"/api/v1/evaluation-assessments/{e2['id']}/submissions", json={},
                          headers=staff)
    assert r.status_code == 201 and r.json()["evaluator_kind"] == "bureau_inspection"
    r = await client.post(f"/api/v1/evaluation-assessments/{e2['id']}/submissions", json={},
                          headers=staff)
    assert r.status_code == 200  # the same one again
    oc2 = await my_submission(client, m, "oc2", campaign["id"], "E2")
    url = f"/api/v1/evaluation-submissions/{oc2['id']}"
    assert (await client.get(url, headers=staff)).status_code == 404  # a draft
    r = await patch(client, m, "oc2", oc2["id"], scores(88), '"v1"')
    r = await client.post(f"{url}/submit", headers={**await m.h(client, "oc2"), "If-Match": '"v2"'})
    assert r.status_code == 200
    r = await client.get(url, headers=staff)
    assert r.status_code == 200 and r.json()["score"] == 88.0
    # A grid worker of the residents' committee reads but may not score.
    rc = await my_submission(client, m, "rc", campaign["id"], "E2")
    r = await patch(client, m, "grid", rc["id"], scores(50), '"v1"')
    assert r.status_code == 403


async def test_evidence_photos_and_cases_must_belong_to_the_estate(client):
    from cases.case_service import create_case
    from cases.schemas import CaseIn

    m = await build()
    campaign = await open_campaign(client, m)
    sub = await my_submission(client, m, "oc1", campaign["id"], "E1")
    other = await my_submission(client, m, "oc2", campaign["id"], "E2")
    cases = {}
    async with db().transaction():
        for persona, estate in (("owner1", "E1"), ("owner5", "E2")):
            person = (await fetch("SELECT person FROM app_user WHERE id = $1",
                                  m.user_ids[persona]))[0]["person"]
            p = Principal(user_id=m.user_ids[persona], tenant_id=m.tenant, tenant_name="",
                          username=m.users[persona], display_name=persona, language="zh-CN",
                          person_id=person, token_id=0, token_kind="api")
            cases[estate] = (await create_case(p, CaseIn(estate_id=m.estates[estate],
                                                         category="sanitation",
                                                         description="楼道垃圾未清运"))).id
    h = await m.h(client, "oc1")
    r = await client.post(f"/api/v1/evaluation-submissions/{sub['id']}/photos", headers=h,
                          files={"file": ("p.jpg", tiny_jpeg(), "image/jpeg")})
    assert r.status_code == 201, r.text
    photo = r.json()
    r = await client.post(f"/api/v1/evaluation-submissions/{other['id']}/photos",
                          headers=await m.h(client, "oc2"),
                          files={"file": ("p.jpg", tiny_jpeg((0, 0, 200)), "image/jpeg")})
    foreign_photo = r.json()["id"]
    ok = {"criterion_key": "cleaning", "score": 55, "comment": "垃圾清运不及时",
          "evidence": {"photos": [photo["id"]], "cases": [cases["E1"]]}}
    r = await patch(client, m, "oc1", sub["id"], {"scores": [ok]}, '"v1"')
    assert r.status_code == 200, r.text
    assert r.json()["scores"][0]["evidence"] == {"photos": [photo["id"]], "cases": [cases["E1"]]}
    for evidence, field in (({"photos": [foreign_photo], "cases": []}, "scores[0].evidence.photos"),
                            ({"photos": [], "cases": [cases["E2"]]}, "scores[0].evidence.cases"),
                            ({"photos": [], "cases": [2_000_000_000]}, "scores[0].evidence.cases")):
        r = await patch(client, m, "oc1", sub["id"], {"scores": [{**ok, "evidence": evidence}]},
                        '"v2"')
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    r = await client.get(photo["thumbnail_url"], headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    r = await client.get(photo["url"], headers=await m.h(client, "oc2"))
    assert r.status_code == 404
    r = await patch(client, m, "oc1", sub["id"], {"scores": [{**ok, "criterion_key": "nope"}]},
                    '"v2"')
    assert r.status_code == 422
