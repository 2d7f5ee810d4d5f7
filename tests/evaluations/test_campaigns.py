"""Campaigns: opened by the bureau, one assessment per contract in force during the period,
the expected evaluators' drafts, one opened campaign per period, closing at the deadline
locks what was submitted, and daily reminders go once per day to evaluators with drafts."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from core.db import db, fetch
from evaluations import campaign_service
from tests.evaluations.campaign_world import assessment_of, build, open_campaign, quarter_start


def test_period_end_of_quarter_half_year_and_year():
    assert campaign_service.period_end("quarter", date(2026, 10, 1)) == date(2026, 12, 31)
    assert campaign_service.period_end("quarter", date(2026, 1, 1)) == date(2026, 3, 31)
    assert campaign_service.period_end("half_year", date(2026, 7, 1)) == date(2026, 12, 31)
    assert campaign_service.period_end("year", date(2026, 1, 1)) == date(2026, 12, 31)


async def test_open_creates_one_assessment_per_contract_in_force(client):
    m = await build()
    campaign = await open_campaign(client, m)
    assert campaign["status"] == "open" and campaign["assessments"] == 2
    rows = await fetch("SELECT contract, estate, property_company FROM evaluation_assessment"
                       " WHERE campaign = $1 ORDER BY contract", campaign["id"])
    assert [(r["contract"], r["estate"], r["property_company"]) for r in rows] == [
        (m.contracts["E1"], m.estates["E1"], m.orgs["p1"]),
        (m.contracts["E2"], m.estates["E2"], m.orgs["p2"])]  # not the draft, not the expired
    # The expected evaluators of E1 got a draft: its owners' committee, the residents'
    # committee and the street office.
    a1 = await assessment_of(client, m, campaign["id"], "E1")
    subs = await fetch("SELECT organization, evaluator_kind, status FROM evaluation_submission"
                       " WHERE assessment = $1 ORDER BY organization", a1["id"])
    assert {(s["organization"], s["evaluator_kind"]) for s in subs} == {
        (m.orgs["oc1"], "owners_committee"), (m.orgs["rc"], "residents_committee"),
        (m.orgs["so"], "street_office")}
    assert a1["progress"] == {"expected": 3, "draft": 3, "submitted": 0, "survey_responses": 0,
                              "households": 3}
    # A second campaign for the same quarter cannot be opened.
    h = await m.h(client, "bureau")
    r = await client.post("/api/v1/evaluation-campaigns", headers=h, json={
        "name": "again", "period_kind": "quarter",
        "period_start": quarter_start(date.today()).isoformat(),
        "submission_deadline": (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()})
    assert r.status_code == 201
    r = await client.post(f"/api/v1/evaluation-campaigns/{r.json()['id']}/open", headers=h)
    assert r.status_code == 409, r.text


async def test_only_bureau_admins_create_and_open_and_periods_are_checked(client):
    m = await build()
    deadline = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    body = {"name": "x", "period_kind": "quarter", "period_start": "2026-10-01",
            "submission_deadline": deadline}
    for persona in ("bureau_staff", "so", "oc1", "p1", "owner1"):
        r = await client.post("/api/v1/evaluation-campaigns", json=body,
                              headers=await m.h(client, persona))
        assert r.status_code == 403, (persona, r.text)
    h = await m.h(client, "bureau")
    r = await client.post("/api/v1/evaluation-campaigns", json={**body, "period_start": "2026-11-01"},
                          headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "period_start"
    r = await client.post("/api/v1/evaluation-campaigns", headers=h, json={
        **body, "submission_deadline": "2020-01-01T00:00:00+08:00"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "submission_deadline"
    r = await client.post("/api/v1/evaluation-campaigns", json=body, headers=h)
    assert r.status_code == 201 and r.json()["status"] == "draft"
    draft = r.json()["id"]
    # A draft is the bureau's alone.
    r = await client.get(f"/api/v1/evaluation-campaigns/{draft}", headers=await m.h(client, "oc1"))
    assert r.status_code == 404
    r = await client.post(f"/api/v1/evaluation-campaigns/{draft}/open",
                          headers=await m.h(client, "bureau_staff"))
    assert r.status_code == 403


async def test_readers_see_only_assessments_of_their_estates_or_company(client):
    m = await build()
    campaign = await open_campaign(client, m)
    url = f"/api/v1/evaluation-campaigns/{campaign['id']}/assessments"
    seen = {}
    for persona in ("bureau_staff", "so", "rc", "oc1", "oc2", "p1", "owner5"):
        r = await client.get(url, headers=await m.h(client, persona))
        assert r.status_code == 200, r.text
        seen[persona] = sorted(a["estate_id"] for a in r.json())
    e1, e2 = m.estates["E1"], m.estates["E2"]
    assert seen == {"bureau_staff": [e1, e2], "so": [e1, e2], "rc": [e1, e2], "oc1": [e1],
                    "oc2": [e2], "p1": [e1], "owner5": [e2]}


async def test_closing_at_the_deadline_locks_submitted_and_keeps_drafts(client):
    m = await build()
    campaign = await open_campaign(client, m)
    a1 = await assessment_of(client, m, campaign["id"], "E1")
    submitted = await fetch("UPDATE evaluation_submission SET status = 'submitted',"
                            " submitted_at = now() WHERE assessment = $1 AND organization = $2"
                            " RETURNING id", a1["id"], m.orgs["oc1"])
    # Nothing is due yet.
    async with db().transaction():
        assert await campaign_service.close_due_campaigns(tenant_id=m.tenant) == 0
    later = datetime.now(timezone.utc) + timedelta(days=21)
    async with db().transaction():
        closed = await campaign_service.close_due_campaigns(later, tenant_id=m.tenant)
    assert closed == 1
    async with db().transaction():
        assert await campaign_service.close_due_campaigns(later, tenant_id=m.tenant) == 0  # idempotent
    rows = await fetch("SELECT id, status FROM evaluation_submission WHERE assessment = $1",
                       a1["id"])
    assert {r["id"]: r["status"] for r in rows}[submitted[0]["id"]] == "locked"
    assert sorted(r["status"] for r in rows) == ["draft", "draft", "locked"]
    c = await fetch("SELECT status, closed_at FROM evaluation_campaign WHERE id = $1",
                    campaign["id"])
    assert c[0]["status"] == "closed" and c[0]["closed_at"] is not None


async def test_reminders_once_a_day_to_evaluators_with_drafts(client):
    m = await build()
    campaign = await open_campaign(client, m)
    a2 = await assessment_of(client, m, campaign["id"], "E2")
    await fetch("UPDATE evaluation_submission SET status = 'submitted', submitted_at = now()"
                " WHERE assessment = $1 AND organization = $2", a2["id"], m.orgs["oc2"])
    at = datetime.now(timezone.utc)
    async with db().transaction():
        await campaign_service.send_reminders(at, tenant_id=m.tenant)
    async with db().transaction():
        await campaign_service.send_reminders(at + timedelta(minutes=5), tenant_id=m.tenant)  # same day: nothing new

    async def reminders() -> dict[int, list[int]]:
        rows = await fetch("SELECT payload, organization_ids FROM outbox_event WHERE"
                           " topic = 'evaluation.reminder' AND tenant_id = $1", m.tenant)
        out: dict[int, list[int]] = {}
        for r in rows:
            payload = json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]
            assert payload["campaign_id"] == campaign["id"]
            out.setdefault(r["organization_ids"][0], []).append(payload["pending"])
        return out

    # oc2 submitted its only one; the others still have drafts (rc, so: one per estate).
    assert await reminders() == {m.orgs["oc1"]: [1], m.orgs["rc"]: [2], m.orgs["so"]: [2]}
    async with db().transaction():
        await campaign_service.send_reminders(at + timedelta(days=1), tenant_id=m.tenant)
    assert await reminders() == {m.orgs["oc1"]: [1, 1], m.orgs["rc"]: [2, 2],
                                 m.orgs["so"]: [2, 2]}


async def test_bureau_moves_the_deadline_of_an_open_campaign_and_evaluators_hear_of_it(client):
    m = await build()
    campaign = await open_campaign(client, m)
    h = await m.h(client, "bureau")
    url = f"/api/v1/evaluation-campaigns/{campaign['id']}"
    etag = (await client.get(url, headers=h)).headers["etag"]
    later = datetime.now(timezone.utc) + timedelta(days=40)
    r = await client.patch(url, headers={**await m.h(client, "so"), "If-Match": etag},
                           json={"submission_deadline": later.isoformat()})
    assert r.status_code == 403
    r = await client.patch(url, headers={**h, "If-Match": etag}, json={"name": "改名"})
    assert r.status_code == 409  # an open campaign keeps its name
    r = await client.patch(url, headers={**h, "If-Match": etag},
                           json={"submission_deadline": later.isoformat()})
    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.json()["submission_deadline"]) == later
    r = await client.patch(url, headers={**h, "If-Match": etag},
                           json={"submission_deadline": later.isoformat()})
    assert r.status_code == 412  # the ETag moved on
    events = await fetch("SELECT organization_ids FROM outbox_event WHERE tenant_id = $1 AND"
                         " topic = 'evaluation.deadline_changed'", m.tenant)
    assert sorted(events[0]["organization_ids"]) == sorted(
        m.orgs[k] for k in ("so", "rc", "oc1", "oc2"))
