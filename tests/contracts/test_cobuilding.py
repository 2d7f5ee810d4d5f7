"""Co-building agreements (共建协议): who records them, who sees them, partners in the area."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.db import fetch
from tests.contracts.helpers import headers

URL = "/api/v1/co-building-agreements"


def _body(world, **extra) -> dict:
    return {"residents_committee_id": world.a1.orgs["residents_committee"], "title": "物业党建共建",
            "partner_organization_id": world.a1.orgs["property_company"],
            "items": ["志愿服务", "共管楼道"], "starts_on": date.today().isoformat(), **extra}


@pytest.mark.parametrize("persona,status", [
    ("residents_committee:admin", 201), ("street_office:admin", 201), ("bureau:admin", 201),
    ("residents_committee:grid_worker", 403), ("owners_committee:chair", 403),
    ("property_company:admin", 403)])
async def test_who_may_record_an_agreement(client, world, persona, status):
    r = await client.post(URL, json=_body(world), headers=await headers(client, world, persona))
    assert r.status_code == status, r.text


async def test_the_partner_is_in_the_committees_area_or_named(client, world):
    h = await headers(client, world, "bureau:admin")
    r = await client.post(URL, headers=h, json=_body(
        world, partner_organization_id=world.a2.orgs["property_company"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "partner_organization_id"
    r = await client.post(URL, headers=h, json=_body(world, partner_organization_id=None))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "partner_name"
    r = await client.post(URL, headers=h, json=_body(world, partner_organization_id=None,
                                                     partner_name="青莲小学"))
    assert r.status_code == 201 and r.json()["partner_name"] == "青莲小学"
    r = await client.post(URL, headers=h, json=_body(
        world, residents_committee_id=world.a1.orgs["street_office"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "residents_committee_id"


@pytest.mark.parametrize("side,persona,visible", [
    ("a1", "residents_committee:grid_worker", True), ("a1", "street_office:staff", True),
    ("a1", "property_company:handler", True), ("a1", "bureau:staff", True),
    ("a1", "owners_committee:member", False), ("a2", "street_office:admin", False),
    ("a2", "residents_committee:admin", False), ("b", "bureau:admin", False)])
async def test_who_sees_an_agreement(client, world, side, persona, visible):
    h = await headers(client, world, persona, side)
    r = await client.get(f"{URL}/{world.a1.agreement}", headers=h)
    assert r.status_code == (200 if visible else 404), r.text
    listed = [a["id"] for a in (await client.get(URL, headers=h)).json()]
    assert (world.a1.agreement in listed) is visible


async def test_an_agreement_is_edited_then_ended_and_every_change_audited(client, world):
    h = await headers(client, world, "residents_committee:admin")
    created = (await client.post(URL, headers=h, json=_body(world))).json()
    url = f"{URL}/{created['id']}"
    r = await client.patch(url, headers=h, json={"items": ["应急演练"],
                                                "ends_on": date.today().isoformat()})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ends_on"
    r = await client.patch(url, headers=h, json={"items": ["应急演练"]})
    assert r.status_code == 200 and (r.json()["items"], r.json()["version"]) == (["应急演练"], 2)
    before_start = (date.today() - timedelta(days=1)).isoformat()
    r = await client.post(f"{url}/end", headers=h, json={"ended_on": before_start})
    assert r.status_code == 422
    r = await client.post(f"{url}/end", headers=h, json={"ended_on": date.today().isoformat()})
    assert r.status_code == 200 and r.json()["status"] == "ended", r.text
    assert (await client.patch(url, headers=h, json={"title": "x"})).status_code == 409
    actions = [r["action"] for r in await fetch(
        "SELECT action FROM audit_entry WHERE tenant_id = $1 AND subject_type ="
        " 'co_building_agreement' AND subject_id = $2 ORDER BY seq", world.tenant_a,
        str(created["id"]))]
    assert actions == ["co_building_agreement.created", "co_building_agreement.updated",
                       "co_building_agreement.ended"]
