"""Evaluation schemes: the DESIGN §4 defaults, validation of weights and grade bands, the
weighted-score arithmetic, and versions that never change once written."""
from __future__ import annotations

import copy

import msgspec
import pytest
from asyncpg.exceptions import RaiseError

from core.db import db, fetch
from core.problems import Invalid
from evaluations import scheme_service as svc
from evaluations.schemas import SchemeVersionIn
from tests.evaluations.campaign_world import build


def version_in(**changes) -> SchemeVersionIn:
    return msgspec.convert({**copy.deepcopy(svc.DEFAULT_VERSION), **changes}, SchemeVersionIn)


def fields(exc: pytest.ExceptionInfo) -> list[str]:
    return [e["field"] for e in exc.value.errors]


def test_default_scheme_has_the_seven_heads_and_design_weights():
    v = svc.validate(version_in())
    assert [c["name_zh"] for c in v["criteria"]] == [
        "综合管理", "房屋管理", "共用设施设备", "秩序维护", "保洁", "绿化", "客户服务与投诉处理"]
    w = v["evaluator_weights"]
    assert (w["owners_survey"], w["owners_committee"], w["residents_committee"],
            w["street_office"] + w["bureau_inspection"], w["objective_metrics"]) == (30, 20, 20, 15, 15)
    assert [(b["grade"], b["min_score"]) for b in v["grade_bands"]] == [
        ("excellent", 90), ("good", 80), ("pass", 70), ("fail", 0)]
    assert v["objection_window_days"] == 5


def test_weights_of_each_level_must_add_up_to_100():
    criteria = copy.deepcopy(svc.DEFAULT_CRITERIA)
    criteria[0]["weight"] = 20  # heads now add up to 105
    criteria[1]["children"] = [
        {"key": "roofs", "name_zh": "屋面", "name_en": "Roofs", "weight": 50},
        {"key": "walls", "name_zh": "外墙", "name_en": "Walls", "weight": 40}]
    with pytest.raises(Invalid) as exc:
        svc.validate(version_in(criteria=criteria))
    assert fields(exc) == ["criteria", "criteria[1].children"]


def test_evaluator_weights_bands_and_keys_are_checked():
    criteria = copy.deepcopy(svc.DEFAULT_CRITERIA)
    criteria[6]["key"] = "cleaning"  # a duplicate key
    with pytest.raises(Invalid) as exc:
        svc.validate(version_in(
            criteria=criteria, evaluator_weights={"owners_survey": 50, "owners_committee": 40},
            grade_bands=[{"grade": "good", "min_score": 80}, {"grade": "excellent", "min_score": 90},
                         {"grade": "fail", "min_score": 0}]))
    assert fields(exc) == ["criteria[6].key", "evaluator_weights", "grade_bands"]
    with pytest.raises(Invalid) as exc:
        svc.validate(version_in(grade_bands=[{"grade": "pass", "min_score": 60},
                                             {"grade": "fail", "min_score": 10}]))
    assert fields(exc) == ["grade_bands"]  # the last band must start at 0


def test_weighted_score_over_heads_and_children():
    criteria = [{"key": "a", "weight": 60, "children": [
                    {"key": "a1", "weight": 50}, {"key": "a2", "weight": 50}]},
                {"key": "b", "weight": 40, "children": []}]
    # a = (80 + 90) / 2 = 85; total = 0.6 * 85 + 0.4 * 70 = 51 + 28 = 79
    assert svc.weighted_score(criteria, {"a1": 80, "a2": 90, "b": 70}) == 79.0
    assert svc.weighted_score(criteria, {"a1": 80, "b": 70}) is None
    assert svc.leaf_keys(criteria) == ["a1", "a2", "b"]
    bands = svc.DEFAULT_VERSION["grade_bands"]
    assert [svc.grade_for(bands, s) for s in (95, 90, 89.99, 70, 69.99, 0)] == [
        "excellent", "excellent", "good", "pass", "fail", "fail"]


async def test_default_scheme_is_seeded_once_and_versions_are_immutable(client):
    m = await build()
    async with db().transaction():
        first = await svc.ensure_default_scheme(m.tenant)
        again = await svc.ensure_default_scheme(m.tenant)
    assert first["id"] == again["id"] and first["number"] == 1
    with pytest.raises(RaiseError):
        async with db().transaction():
            await fetch("UPDATE evaluation_scheme_version SET survey_rule = 'hold' WHERE id = $1",
                        first["id"])


async def test_bureau_admin_adds_a_version_others_cannot(client):
    m = await build()
    h = await m.h(client, "bureau")
    r = await client.get("/api/v1/evaluation-schemes", headers=h)
    assert r.status_code == 200, r.text
    scheme = r.json()[0]
    assert scheme["latest"]["number"] == 1 and len(scheme["latest"]["criteria"]) == 7
    body = msgspec.to_builtins(version_in(survey_rule="hold", min_survey_response_rate=0.5))
    for persona in ("bureau_staff", "so", "oc1"):
        r = await client.post(f"/api/v1/evaluation-schemes/{scheme['id']}/versions",
                              json=body, headers=await m.h(client, persona))
        assert r.status_code == 403, (persona, r.text)
    r = await client.post(f"/api/v1/evaluation-schemes/{scheme['id']}/versions", json=body,
                          headers=h)
    assert r.status_code == 201, r.text
    assert (r.json()["number"], r.json()["survey_rule"], r.json()["in_use"]) == (2, "hold", False)
    bad = {**body, "grade_bands": [{"grade": "x", "min_score": 50}]}
    r = await client.post(f"/api/v1/evaluation-schemes/{scheme['id']}/versions", json=bad,
                          headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "grade_bands"
    r = await client.get(f"/api/v1/evaluation-schemes/versions/{scheme['latest']['id']}",
                         headers=await m.h(client, "oc1"))
    assert r.status_code == 404
