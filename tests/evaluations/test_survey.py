"""The owners' survey: owners answer for their own household, one answer per household (a
co-owner second gets 409), the developer's unsold units neither answer nor count, and the
summary's response rate, mean and sufficiency follow the scheme's minimum."""
from __future__ import annotations

from core.db import db
from evaluations import survey_service
from tests.evaluations.campaign_world import assessment_of, build, open_campaign


async def test_one_answer_per_household_verified_through_ownership(client):
    m = await build()
    campaign = await open_campaign(client, m)
    e1 = await assessment_of(client, m, campaign["id"], "E1")
    e2 = await assessment_of(client, m, campaign["id"], "E2")
    url = f"/api/v1/evaluation-assessments/{e1['id']}/survey"
    owner1 = await m.h(client, "owner1")
    r = await client.get("/api/v1/evaluation-surveys", headers=owner1)
    assert [(s["assessment_id"], [u["unit_id"] for u in s["units"]], s["answered_units"])
            for s in r.json()] == [(e1["id"], [m.units["u1"]], [])]
    r = await client.post(url, headers=owner1, json={"unit_id": m.units["u1"], "overall": 4,
                                                     "answers": {"cleaning": 3}, "comment": "还行"})
    assert r.status_code == 201, r.text
    # The co-owner of the same household: already answered.
    r = await client.post(url, headers=await m.h(client, "owner2"),
                          json={"unit_id": m.units["u1"], "overall": 1})
    assert r.status_code == 409, r.text
    r = await client.get("/api/v1/evaluation-surveys", headers=await m.h(client, "owner2"))
    assert r.json()[0]["answered_units"] == [m.units["u1"]]
    # Someone else's household, or an estate where one owns nothing.
    r = await client.post(url, headers=await m.h(client, "owner3"),
                          json={"unit_id": m.units["u1"], "overall": 5})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unit_id"
    r = await client.post(f"/api/v1/evaluation-assessments/{e2['id']}/survey",
                          headers=await m.h(client, "owner3"),
                          json={"unit_id": m.units["u2"], "overall": 5})
    assert r.status_code == 404
    # The developer's unsold unit is no household; staff are no owners.
    r = await client.post(url, headers=await m.h(client, "developer"),
                          json={"unit_id": m.units["u4"], "overall": 5})
    assert r.status_code == 403
    r = await client.post(url, headers=await m.h(client, "oc1"),
                          json={"unit_id": m.units["u1"], "overall": 5})
    assert r.status_code == 403
    r = await client.post(url, headers=await m.h(client, "owner3"),
                          json={"unit_id": m.units["u2"], "overall": 2, "answers": {"nope": 1}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "answers"


async def test_summary_rate_mean_and_sufficiency(client):
    m = await build()
    campaign = await open_campaign(client, m)
    e1 = await assessment_of(client, m, campaign["id"], "E1")
    url = f"/api/v1/evaluation-assessments/{e1['id']}/survey"
    assert await survey_service.survey_summary(e1["id"]) == (0, 3, 0.0, None, False)
    await client.post(url, headers=await m.h(client, "owner1"),
                      json={"unit_id": m.units["u1"], "overall": 5})
    # 1 of 3 households (u4 is the developer's unsold unit): 0.3333 ≥ 0.3, sufficient.
    s = await survey_service.survey_summary(e1["id"])
    assert s == (1, 3, 0.3333, 5.0, True)
    await client.post(url, headers=await m.h(client, "owner3"),
                      json={"unit_id": m.units["u2"], "overall": 2})
    s = await survey_service.survey_summary(e1["id"])
    assert (s.responses, s.households, s.rate, s.mean_score, s.sufficient) == (2, 3, 0.6667, 3.5,
                                                                               True)
    assert survey_service.score_100(s.mean_score) == 62.5
    summaries = await survey_service.survey_summaries(campaign["id"])
    e2 = await assessment_of(client, m, campaign["id"], "E2")
    assert summaries[e1["id"]] == s and summaries[e2["id"]] == (0, 1, 0.0, None, False)
    r = await client.get(f"/api/v1/evaluation-assessments/{e1['id']}/survey-summary",
                         headers=await m.h(client, "oc1"))
    assert r.status_code == 200 and r.json()["rate"] == 0.6667 and r.json()["rule"] == "reweight"
    r = await client.get(f"/api/v1/evaluation-assessments/{e1['id']}/survey-summary",
                         headers=await m.h(client, "oc2"))
    assert r.status_code == 404


async def test_below_the_minimum_is_insufficient(client):
    m = await build()
    campaign = await open_campaign(client, m)
    e1 = await assessment_of(client, m, campaign["id"], "E1")
    async with db().transaction():
        # A stricter scheme for this tenant's campaign: the rate must reach 50%.
        from core.db import fetch
        from evaluations import scheme_service
        version = await fetch("SELECT scheme FROM evaluation_scheme_version WHERE id = $1",
                              campaign["scheme_version_id"])
        from evaluations import repository
        strict = await repository.insert_version(
            m.tenant, version[0]["scheme"],
            {**scheme_service.DEFAULT_VERSION, "min_survey_response_rate": 0.5}, None)
        await fetch("UPDATE evaluation_campaign SET scheme_version = $2 WHERE id = $1",
                    campaign["id"], strict["id"])
    await client.post(f"/api/v1/evaluation-assessments/{e1['id']}/survey",
                      headers=await m.h(client, "owner1"), json={"unit_id": m.units["u1"],
                                                                 "overall": 4})
    assert await survey_service.survey_summary(e1["id"]) == (1, 3, 0.3333, 4.0, False)
