"""Every evaluations endpoint refuses another tenant's user and an unrelated organisation's user
(tenant A street 2) when it names the victim's (street 1) campaign, assessment, submission,
photo, scheme version or conflict; and nobody else's answer carries the victim's data."""
from __future__ import annotations

import pytest

from evaluations.scheme_service import DEFAULT_VERSION
from tests.factories import login

ATTACKERS = ["b/bureau:admin", "a2/street_office:admin", "a2/owners_committee:admin",
             "a2/residents_committee:admin", "a2/property_company:admin", "a2/resident"]


def requests(x: dict[str, int], org: int, unit: int) -> list[tuple[str, str, dict | None]]:
    c, a, s = x["evaluation_campaign"], x["evaluation_assessment"], x["evaluation_submission"]
    return [
        ("GET", f"/api/v1/evaluation-campaigns/{c}", None),
        ("GET", f"/api/v1/evaluation-campaigns/{c}/assessments", None),
        ("POST", f"/api/v1/evaluation-campaigns/{c}/open", None),
        ("POST", f"/api/v1/evaluation-campaigns/{c}/close", None),
        ("GET", f"/api/v1/evaluation-assessments/{a}", None),
        ("GET", f"/api/v1/evaluation-assessments/{a}/survey-summary", None),
        ("POST", f"/api/v1/evaluation-assessments/{a}/survey", {"unit_id": unit, "overall": 5}),
        ("POST", f"/api/v1/evaluation-assessments/{a}/submissions", {"organization_id": org}),
        ("GET", f"/api/v1/evaluation-submissions/{s}", None),
        ("PATCH", f"/api/v1/evaluation-submissions/{s}",
         {"scores": [{"criterion_key": "cleaning", "score": 1}]}),
        ("POST", f"/api/v1/evaluation-submissions/{s}/submit", None),
        ("GET", f"/api/v1/evaluation-submissions/{s}/photos", None),
        ("GET", f"/api/v1/evaluation-photos/{x['evaluation_photo']}", None),
        ("GET", f"/api/v1/evaluation-photos/{x['evaluation_photo']}/thumbnail", None),
        ("POST", f"/api/v1/evaluation-schemes/{x['evaluation_scheme']}/versions", None),
        ("GET", f"/api/v1/evaluation-schemes/versions/{x['evaluation_scheme_version']}", None),
        ("DELETE", f"/api/v1/evaluation-conflicts/{x['evaluation_conflict']}", None),
    ]  # the web pages (session cookie) are attacked by the route walker


@pytest.mark.parametrize("attacker", ATTACKERS)
async def test_strangers_are_refused_on_the_victims_evaluation(client, world, attacker):
    side, persona = attacker.split("/")
    h = {**await login(client, getattr(world, side).users[persona]), "If-Match": '"v1"'}
    a1 = world.a1
    for method, url, body in requests(a1.extra, a1.orgs["owners_committee"], a1.unit):
        if method == "POST" and "/versions" in url:
            body = DEFAULT_VERSION
        r = await client.request(method, url, json=body, headers=h)
        assert r.status_code in (403, 404), (attacker, method, url, r.status_code, r.text)
        assert a1.marker not in r.text


async def test_strangers_lists_do_not_show_the_victims_evaluation(client, world):
    a1 = world.a1
    for attacker in ATTACKERS:
        side, persona = attacker.split("/")
        h = await login(client, getattr(world, side).users[persona])
        for url in ("/api/v1/evaluation-campaigns", "/api/v1/evaluation-submissions",
                    "/api/v1/evaluation-surveys", "/api/v1/evaluation-conflicts",
                    "/api/v1/evaluation-schemes"):
            r = await client.get(url, headers=h)
            assert r.status_code in (200, 403), (attacker, url, r.text)
            assert a1.marker not in r.text
            if r.status_code == 200:
                ids = {item.get("id") for item in r.json()}
                assert a1.extra["evaluation_campaign"] not in ids or "campaigns" not in url
                assert a1.extra["evaluation_submission"] not in ids or "submissions" not in url


async def test_the_victims_own_evaluators_do_see_it(client, world):
    """The same requests succeed for the victim side's people (so the refusals above mean
    something)."""
    a1 = world.a1
    h = await login(client, a1.users["owners_committee:chair"])
    r = await client.get(f"/api/v1/evaluation-submissions/{a1.extra['evaluation_submission']}",
                         headers=h)
    assert r.status_code == 200 and a1.marker in r.text
    r = await client.get(f"/api/v1/evaluation-campaigns/{a1.extra['evaluation_campaign']}",
                         headers=h)
    assert r.status_code == 200
    r = await client.get(f"/api/v1/evaluation-photos/{a1.extra['evaluation_photo']}", headers=h)
    assert r.status_code == 200
    h = await login(client, a1.users["bureau:admin"])
    r = await client.get("/api/v1/evaluation-conflicts", headers=h)
    assert a1.extra["evaluation_conflict"] in {c["id"] for c in r.json()}
