"""Every results endpoint refuses another tenant's users and an unrelated organisation's users
(the victim: side a1's published result with an open objection, tests/evaluations/results_world.py),
while the victim's own company and bureau get through."""
from __future__ import annotations

import pytest

from tests.factories import login

ATTACKERS = [("b", "bureau:admin"), ("b", "property_company:admin"),
             ("a2", "property_company:admin"), ("a2", "owners_committee:admin"),
             ("a2", "residents_committee:admin"), ("a2", "street_office:admin"),
             ("a2", "resident")]


def endpoints(w) -> list[tuple[str, str, dict | None]]:
    x = w.a1.extra
    c, a, o = x["evaluation_result_campaign"], x["evaluation_result_assessment"], x["evaluation_objection"]
    return [
        ("GET", f"/api/v1/evaluation-campaigns/{c}/results", None),
        ("GET", f"/api/v1/evaluation-campaigns/{c}/company-results", None),
        ("GET", f"/api/v1/evaluation-campaigns/{c}/results/export?format=json", None),
        ("POST", f"/api/v1/evaluation-campaigns/{c}/results/compute", None),
        ("POST", f"/api/v1/evaluation-campaigns/{c}/results/publish", None),
        ("POST", f"/api/v1/evaluation-campaigns/{c}/results/finalize", None),
        ("GET", f"/api/v1/evaluation-assessments/{a}/result", None),
        ("GET", f"/api/v1/evaluation-assessments/{a}/objections", None),
        ("POST", f"/api/v1/evaluation-assessments/{a}/objections", {"reasons": "x"}),
        ("GET", f"/api/v1/evaluation-objections/{o}", None),
        ("POST", f"/api/v1/evaluation-objections/{o}/resolve", {"decision": "uphold", "reason": "x"}),
        ("GET", f"/api/v1/evaluation-objections?campaign_id={c}", None),
    ]


@pytest.mark.parametrize("side,persona", ATTACKERS)
async def test_other_tenants_and_unrelated_organisations_are_refused(client, world, side, persona):
    h = await login(client, getattr(world, side).users[persona])
    marker = world.a1.marker
    for method, path, body in endpoints(world):
        r = await client.request(method, path, headers=h, json=body)
        if path.startswith("/api/v1/evaluation-objections?"):
            assert r.status_code in (200, 404), (persona, path, r.status_code)
            assert r.status_code == 404 or r.json() == [], (persona, path, r.text)
        else:
            assert r.status_code in (403, 404), (side, persona, method, path, r.status_code)
        assert marker not in r.text, (persona, path)


async def test_the_victims_own_company_and_bureau_read_it(client, world):
    x = world.a1.extra
    company = await login(client, world.a1.users["property_company:admin"])
    r = await client.get(f"/api/v1/evaluation-assessments/{x['evaluation_result_assessment']}/result",
                         headers=company)
    assert r.status_code == 200 and r.json()["total_score"] == 85.0
    r = await client.get(f"/api/v1/evaluation-objections/{x['evaluation_objection']}", headers=company)
    assert r.status_code == 200 and world.a1.marker in r.json()["reasons"]
    bureau = await login(client, world.a1.users["bureau:admin"])
    r = await client.get(f"/api/v1/evaluation-campaigns/{x['evaluation_result_campaign']}/results",
                         headers=bureau)
    assert r.status_code == 200 and len(r.json()) == 1
