"""Contract rules: one active contract per estate, edits only while draft, the 60-day
dismissal notice, and the system-level lookups other packages use."""
from __future__ import annotations

from datetime import date, timedelta

from contracts import service
from core import audit
from core.db import fetch
from tests.contracts.helpers import SLA, create, create_active, fresh_estate, headers


async def test_one_active_contract_per_estate(client, world):
    h = await headers(client, world, "bureau:admin")
    first = await create_active(client, world, h)
    assert first["status"] == "active"
    second = await create(client, world, first["estate_id"], h)
    r = await client.post(f"/api/v1/contracts/{second['id']}/activate", headers=h)
    assert r.status_code == 409, r.text
    assert "already has an active contract" in r.json()["detail"]
    # once the current one ends, the successor may be put in force
    today = date.today()
    r = await client.post(f"/api/v1/contracts/{first['id']}/terminate", headers=h, json={
        "terminated_on": (today + timedelta(days=60)).isoformat(),
        "notice_given_on": today.isoformat(), "reason": "业主大会决定解聘"})
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/contracts/{second['id']}/activate", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    assert (await client.post(f"/api/v1/contracts/{second['id']}/activate",
                              headers=h)).status_code == 409


async def test_a_successor_may_be_activated_while_the_current_contract_is_expiring(client, world):
    h = await headers(client, world, "bureau:admin")
    soon = (date.today() + timedelta(days=40)).isoformat()
    current = await create_active(client, world, h, ends_on=soon)
    assert current["status"] == "expiring"
    successor = await create(client, world, current["estate_id"], h,
                             starts_on=soon, ends_on=(date.today() + timedelta(days=800)).isoformat())
    r = await client.post(f"/api/v1/contracts/{successor['id']}/activate", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    # the one in force today is still the expiring contract
    assert await service.active_property_company(world.tenant_a, current["estate_id"]) \
        == current["property_company_id"]


async def test_termination_respects_the_sixty_day_dismissal_notice(client, world):
    h = await headers(client, world, "bureau:admin")
    contract = await create_active(client, world, h)
    notice = date.today() - timedelta(days=10)
    url = f"/api/v1/contracts/{contract['id']}/terminate"
    r = await client.post(url, headers=h, json={
        "terminated_on": (notice + timedelta(days=59)).isoformat(),
        "notice_given_on": notice.isoformat(), "reason": "服务质量差"})
    assert r.status_code == 422, r.text
    earliest = (notice + timedelta(days=60)).isoformat()
    assert earliest in r.json()["detail"] and r.json()["errors"][0]["field"] == "terminated_on"
    r = await client.post(url, headers=h, json={
        "terminated_on": earliest, "notice_given_on": notice.isoformat(), "reason": "服务质量差"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["status"], out["terminated_on"], out["notice_given_on"], out["termination_reason"]) \
        == ("terminated", earliest, notice.isoformat(), "服务质量差")
    assert (await client.post(url, headers=h, json={
        "terminated_on": earliest, "notice_given_on": notice.isoformat(),
        "reason": "again"})).status_code == 409
    actions = [r["action"] for r in await fetch(
        "SELECT action FROM audit_entry WHERE tenant_id = $1 AND subject_type = 'service_contract'"
        " AND subject_id = $2 ORDER BY seq", world.tenant_a, str(contract["id"]))]
    assert actions == ["contract.created", "contract.activated", "contract.terminated"]
    events = await fetch("SELECT topic, organization_ids FROM outbox_event WHERE topic LIKE"
                         " 'contract.%' AND payload->>'contract_id' = $1 ORDER BY id",
                         str(contract["id"]))
    assert [e["topic"] for e in events] == ["contract.activated", "contract.terminated"]
    assert contract["property_company_id"] in events[1]["organization_ids"]
    assert world.a1.orgs["residents_committee"] in events[1]["organization_ids"]
    assert (await audit.verify(world.tenant_a)).ok


async def test_only_drafts_can_be_edited_and_each_edit_bumps_the_version(client, world):
    h = await headers(client, world, "bureau:admin")
    estate, oc = await fresh_estate(world)
    draft = await create(client, world, estate, h, counterparty=oc)
    url = f"/api/v1/contracts/{draft['id']}"
    r = await client.patch(url, headers=h, json={"fee_per_m2_month": "3.15", "sla": None,
                                                "scope_items": ["保洁"]})
    assert r.status_code == 200, r.text
    assert (r.json()["fee_per_m2_month"], r.json()["sla"], r.json()["version"]) == ("3.15", None, 2)
    bad = await client.patch(url, headers=h, json={"ends_on": "2000-01-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "ends_on"
    bad = await client.patch(url, headers=h, json={"fee_per_m2_month": "1.234"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "fee_per_m2_month"
    await client.post(f"{url}/activate", headers=h)
    r = await client.patch(url, headers=h, json={"number": "X"})
    assert r.status_code == 409, r.text


async def test_public_lookups_return_the_contract_in_force(client, world):
    h = await headers(client, world, "bureau:admin")
    estate, oc = await fresh_estate(world)
    assert await service.active_sla_targets(world.tenant_a, estate) is None
    assert await service.active_property_company(world.tenant_a, estate) is None
    draft = await create(client, world, estate, h, counterparty=oc)
    assert await service.active_property_company(world.tenant_a, estate) is None
    await client.post(f"/api/v1/contracts/{draft['id']}/activate", headers=h)
    targets = await service.active_sla_targets(world.tenant_a, estate)
    assert targets == {**SLA, "return_window": {"amount": 2.0, "unit": "working_days"}}
    assert await service.active_property_company(world.tenant_a, estate) \
        == world.a1.orgs["property_company"]
    # another tenant's estate id never answers for this one
    assert await service.active_property_company(world.tenant_b, estate) is None


async def test_a_contract_without_sla_clauses_leaves_the_tenant_default(client, world):
    contract = await create_active(client, world, sla=None)
    assert await service.active_sla_targets(world.tenant_a, contract["estate_id"]) is None
    assert await service.active_property_company(world.tenant_a, contract["estate_id"]) \
        == contract["property_company_id"]


async def test_a_drafts_parties_can_be_corrected_but_never_left_without_a_counterparty(client, world):
    h = await headers(client, world, "bureau:admin")
    estate, oc = await fresh_estate(world)
    draft = await create(client, world, estate, h)  # preliminary: the developer is named
    url = f"/api/v1/contracts/{draft['id']}"
    r = await client.patch(url, headers=h, json={"counterparty_name": None})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "counterparty_id"
    r = await client.patch(url, headers=h, json={"counterparty_id": world.a1.orgs["owners_committee"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "counterparty_id"
    r = await client.patch(url, headers=h, json={"property_company_id": world.a1.orgs["street_office"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "property_company_id"
    company = world.a2.orgs["property_company"]
    r = await client.patch(url, headers=h, json={"property_company_id": company,
                                                "counterparty_id": oc, "kind": "service"})
    assert r.status_code == 400  # the kind is fixed once drafted: an unknown field
    r = await client.patch(url, headers=h, json={"property_company_id": company,
                                                "counterparty_id": oc})
    assert r.status_code == 200, r.text
    assert (r.json()["property_company_id"], r.json()["counterparty_id"]) == (company, oc)
