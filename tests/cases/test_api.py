"""Case intake, routing, reading, masking and access across tenants and organisations."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from core.db import db, fetch
from tests.cases.helpers import act, headers, report


async def test_a_resident_reports_for_their_own_estate_only(client, world):
    case = await report(client, world, priority="urgent", building_id=world.a1.building,
                        unit_id=world.a1.unit)
    assert case["status"] == "submitted" and case["channel"] == "app"
    assert case["responsible_organization_id"] == world.a1.orgs["property_company"]
    assert case["reporter"] == {"name": f"{world.a1.marker}业主", "phone": "13811112222",
                                "masked": False}
    assert case["allowed_actions"] == ["withdraw"] and case["ack_due_at"] < case["resolve_due_at"]
    h = await headers(client, world, "resident")
    body = {"estate_id": world.a2.estate, "category": "repair", "description": "x"}
    r = await client.post("/api/v1/cases", json=body, headers=h)
    assert r.status_code == 403, r.text
    r = await client.post("/api/v1/cases", headers=h, json={
        **body, "estate_id": world.a1.estate, "channel": "phone", "reporter_name": "李四"})
    assert r.status_code == 403, r.text
    r = await client.post("/api/v1/cases", headers=h, json={
        **body, "estate_id": world.a1.estate, "unit_id": world.a2.unit})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unit_id"


async def test_staff_record_phone_intake_for_someone_else(client, world):
    h = await headers(client, world, "residents_committee:grid_worker")
    r = await client.post("/api/v1/cases", headers=h, json={
        "estate_id": world.a1.estate, "category": "neighbour_dispute", "description": "噪音",
        "channel": "phone", "reporter_name": "王小明", "reporter_phone": "13700001234"})
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["responsible_organization_id"] == world.a1.orgs["residents_committee"]
    assert case["reporter"]["masked"] is False  # the residents' committee now handles it
    other = await headers(client, world, "owners_committee:member")
    seen = (await client.get(f"/api/v1/cases/{case['id']}", headers=other)).json()
    assert seen["reporter"] == {"name": "王**", "phone": "137****1234", "masked": True}


async def test_routing_rules_and_defaults(client, world):
    assert (await report(client, world, category="complaint"))["responsible_organization_id"] \
        == world.a1.orgs["residents_committee"]
    async with db().transaction():
        await fetch("INSERT INTO routing_rule (tenant, category, estate, target_kind)"
                    " VALUES ($1, 'greening', $2, 'owners_committee')", world.tenant_a, world.a1.estate)
    assert (await report(client, world, category="greening"))["responsible_organization_id"] \
        == world.a1.orgs["owners_committee"]
    fees = await report(client, world, category="fees")
    assert fees["responsible_organization_id"] == world.a1.orgs["property_company"]
    rows = await fetch("SELECT organization_ids FROM outbox_event WHERE topic = 'case.create'"
                       " AND (payload->>'case_id')::int = $1", fees["id"])
    assert set(rows[0]["organization_ids"]) == {world.a1.orgs[k] for k in (
        "property_company", "residents_committee", "owners_committee")}


async def test_reporter_contact_is_masked_except_for_those_who_need_it(client, world):
    case = await report(client, world)
    url = f"/api/v1/cases/{case['id']}"
    for persona, masked in (("property_company:manager", False), ("owners_committee:chair", True),
                            ("residents_committee:grid_worker", True), ("bureau:staff", True),
                            ("street_office:staff", True)):
        r = await client.get(url, headers=await headers(client, world, persona))
        assert r.status_code == 200, (persona, r.text)
        assert r.json()["reporter"]["masked"] is masked, persona
        assert ("13811112222" in r.text) is not masked, persona
    views = await fetch("SELECT actor_user_id FROM audit_entry WHERE tenant_id = $1 AND"
                        " action = 'case.contact_viewed' AND subject_id = $2",
                        world.tenant_a, str(case["id"]))
    assert [v["actor_user_id"] for v in views] == [world.a1.user_ids["property_company:manager"]]
    listed = await client.get("/api/v1/cases", headers=await headers(
        client, world, "property_company:manager"))
    assert "13811112222" not in listed.text


async def test_other_tenants_and_unrelated_organisations_see_nothing(client, world):
    case = await report(client, world)
    for side, persona in (("b", "bureau:admin"), ("a2", "property_company:admin"),
                          ("a2", "residents_committee:admin"), ("a2", "resident")):
        h = await headers(client, world, persona, side)
        for url in (f"/api/v1/cases/{case['id']}", f"/api/v1/cases/{case['id']}/events"):
            assert (await client.get(url, headers=h)).status_code == 404, (side, persona, url)
        r = await client.post(f"/api/v1/cases/{case['id']}/actions/accept", json={}, headers=h)
        assert r.status_code == 404
        listed = (await client.get("/api/v1/cases?limit=100", headers=h)).json()["items"]
        assert case["id"] not in [c["id"] for c in listed]


async def test_list_filters_and_keyset_pages(client, world):
    first, second = await report(client, world), await report(client, world, priority="urgent")
    h = await headers(client, world, "property_company:manager")
    await act(client, world, "property_company:manager", second["id"], "accept")
    page = (await client.get("/api/v1/cases?limit=1", headers=h)).json()
    assert len(page["items"]) == 1 and page["next_cursor"]  # opaque: the sort key and id
    nxt = (await client.get(f"/api/v1/cases?limit=1&cursor={page['next_cursor']}", headers=h)).json()
    assert nxt["items"][0]["id"] < page["items"][0]["id"]
    ids = lambda r: [c["id"] for c in r.json()["items"]]  # noqa: E731
    accepted = await client.get("/api/v1/cases?status=accepted&priority=urgent", headers=h)
    assert second["id"] in ids(accepted) and first["id"] not in ids(accepted)
    estate = await client.get(f"/api/v1/cases?estate_id={world.a2.estate}", headers=h)
    assert ids(estate) == []
    async with db().transaction():
        await fetch("UPDATE case_record SET ack_due_at = now() - interval '1 hour' WHERE id = $1",
                    first["id"])
    overdue = await client.get("/api/v1/cases?overdue=true&limit=100", headers=h)
    assert first["id"] in ids(overdue) and second["id"] not in ids(overdue)
    await act(client, world, "property_company:manager", second["id"], "assign")
    mine = await client.get("/api/v1/cases?assigned_to_me=true&limit=100",
                            headers=await headers(client, world, "property_company:handler"))
    assert second["id"] in ids(mine) and first["id"] not in ids(mine)


async def test_internal_comments_are_hidden_from_the_reporter(client, world):
    case = await report(client, world)
    manager = await headers(client, world, "property_company:manager")
    resident = await headers(client, world, "resident")
    url = f"/api/v1/cases/{case['id']}/comments"
    assert (await client.post(url, json={"text": "需要换阀门", "visibility": "internal"},
                              headers=manager)).status_code == 201
    assert (await client.post(url, json={"text": "明天上门"}, headers=manager)).status_code == 201
    r = await client.post(url, json={"text": "x", "visibility": "internal"}, headers=resident)
    assert r.status_code == 403
    mine = (await client.get(f"/api/v1/cases/{case['id']}/events", headers=resident)).json()
    assert [(e["seq"], e["action"]) for e in mine] == [(1, "create"), (3, "comment")]
    theirs = (await client.get(f"/api/v1/cases/{case['id']}/events", headers=manager)).json()
    assert [e["seq"] for e in theirs] == [1, 2, 3] and theirs[1]["visibility"] == "internal"
    rows = await fetch("SELECT user_ids FROM outbox_event WHERE topic = 'case.comment'"
                       " AND (payload->>'case_id')::int = $1 ORDER BY id", case["id"])
    assert world.a1.user_ids["resident"] not in rows[0]["user_ids"]
    assert world.a1.user_ids["resident"] in rows[1]["user_ids"]


async def test_outbox_events_carry_no_personal_data(client, world):
    case = await report(client, world)
    await act(client, world, "property_company:manager", case["id"], "accept")
    rows = await fetch("SELECT topic, payload, organization_ids, user_ids FROM outbox_event"
                       " WHERE (payload->>'case_id')::int = $1 ORDER BY id", case["id"])
    assert [r["topic"] for r in rows] == ["case.create", "case.accept"]
    for r in rows:
        text = r["payload"] if isinstance(r["payload"], str) else json.dumps(r["payload"])
        assert "13811112222" not in text and "138****2222" not in text
        assert world.a1.marker not in text and "业主" not in text
        assert world.a1.orgs["property_company"] in r["organization_ids"]
        assert world.a1.user_ids["resident"] in r["user_ids"]


async def test_case_events_cannot_be_changed(client, world):
    case = await report(client, world)
    import asyncpg
    import pytest

    with pytest.raises(asyncpg.RaiseError):
        async with db().transaction():
            await fetch("UPDATE case_event SET reason = 'x' WHERE \"case\" = $1", case["id"])


async def test_the_estates_contract_sets_the_sla_targets_when_it_has_clauses(client, world):
    from cases.sla import SlaTargets

    clauses = SlaTargets.defaults().to_dict()
    clauses["urgent"] = {"acknowledge": {"amount": 1, "unit": "natural_hours"},
                         "resolve": {"amount": 5, "unit": "natural_hours"}}
    before = (await fetch("SELECT sla::text FROM service_contract WHERE id = $1",
                          world.a2.contract))[0]["sla"]
    async with db().transaction():
        await fetch("UPDATE service_contract SET sla = $2::jsonb WHERE id = $1",
                    world.a2.contract, json.dumps(clauses))
    try:
        h = await headers(client, world, "resident", "a2")
        r = await client.post("/api/v1/cases", headers=h, json={
            "estate_id": world.a2.estate, "category": "repair", "priority": "urgent",
            "description": "电梯困人"})
        assert r.status_code == 201, r.text
        case = r.json()
    finally:
        async with db().transaction():
            await fetch("UPDATE service_contract SET sla = $2::jsonb WHERE id = $1",
                        world.a2.contract, before)
    assert case["sla_source"] == "contract"
    assert case["responsible_organization_id"] == world.a2.orgs["property_company"]
    created = datetime.fromisoformat(case["created_at"])
    assert datetime.fromisoformat(case["resolve_due_at"]) - created == timedelta(hours=5)
    assert datetime.fromisoformat(case["ack_due_at"]) - created == timedelta(hours=1)
    assert (await report(client, world))["sla_source"] == "tenant"


async def test_bureau_admins_set_routing_rules_and_others_read_them(client, world):
    admin = await headers(client, world, "bureau:admin")
    rule = {"category": "inquiry", "estate_id": world.a1.estate, "target_kind": "property_company"}
    manager = await headers(client, world, "property_company:manager")
    assert (await client.put("/api/v1/routing-rules", json=rule, headers=manager)).status_code == 403
    r = await client.put("/api/v1/routing-rules", json={**rule, "estate_id": world.b.estate},
                         headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "estate_id"
    r = await client.put("/api/v1/routing-rules", json=rule, headers=admin)
    assert r.status_code == 200, r.text
    assert {"category": "inquiry", "estate_id": world.a1.estate, "target_kind": "property_company",
            "source": "tenant"} in r.json()
    assert (await report(client, world, category="inquiry"))["responsible_organization_id"] \
        == world.a1.orgs["property_company"]
    listed = (await client.get("/api/v1/routing-rules", headers=manager)).json()
    assert {"category": "inquiry", "estate_id": None, "target_kind": "residents_committee",
            "source": "default"} in listed
    r = await client.put("/api/v1/routing-rules", json={**rule, "target_kind": None}, headers=admin)
    assert r.status_code == 200 and all(x["category"] != "inquiry" or x["source"] == "default"
                                        for x in r.json())
    assert (await report(client, world, category="inquiry"))["responsible_organization_id"] \
        == world.a1.orgs["residents_committee"]
