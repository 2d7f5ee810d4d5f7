"""Scheduling through the API: who convenes what, automatic invitations, agenda links checked
against what the convener sees, notice-period flags per kind and per tenant setting,
rescheduling with If-Match, and iCalendar invitations and per-organisation feeds."""
from __future__ import annotations

from icalendar import Calendar

from tests.factories import login
from tests.meetings.helpers import at, committee_estate, post, schedule


def joint(world, **extra) -> dict:
    a1 = world.a1
    return {"kind": "joint", "estate_id": a1.estate,
            "convener_organization_id": a1.orgs["residents_committee"], "title": "三方联席会议",
            "starts_at": at(days=5), "ends_at": at(days=5, hours=2), "location": "社区会议室",
            **extra}


async def test_joint_meeting_invites_the_committee_and_the_company_and_links_the_case(client, world):
    a1 = world.a1
    m = await schedule(client, a1.users["residents_committee:admin"], **joint(
        world, agenda=[{"title": "楼道漏水", "case_id": a1.case},
                       {"title": "合同续签", "contract_id": a1.contract}]))
    invited = {i["organization_id"] for i in m["invitees"]}
    assert {a1.orgs["owners_committee"], a1.orgs["property_company"]} <= invited
    assert [i["case_id"] for i in m["agenda"]] == [a1.case, None]
    assert m["notice_short"] is False and m["notice_days_required"] == 3
    assert m["can_manage"] is True
    # the invited company sees it in its calendar, but is not the secretary
    h = await login(client, a1.users["property_company:manager"])
    listed = await client.get("/api/v1/meetings", headers=h)
    assert m["id"] in [x["id"] for x in listed.json()]
    assert (await client.get(f"/api/v1/meetings/{m['id']}", headers=h)).json()["can_manage"] is False


async def test_only_the_right_bodies_convene_each_kind(client, world):
    a1 = world.a1
    r = await client.post("/api/v1/meetings", json=joint(
        world, convener_organization_id=a1.orgs["property_company"]),
        headers=await login(client, a1.users["property_company:admin"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "convener_organization_id"
    r = await client.post("/api/v1/meetings", json={**joint(world), "kind": "committee"},
                          headers=await login(client, a1.users["residents_committee:admin"]))
    assert r.status_code == 422
    r = await client.post("/api/v1/meetings", json=joint(world),
                          headers=await login(client, a1.users["residents_committee:grid_worker"]))
    assert r.status_code == 403  # a grid worker does not convene
    # an agenda link to a case of another street's estate is refused
    r = await client.post("/api/v1/meetings", json=joint(world, agenda=[
        {"title": "x", "case_id": world.a2.case}]),
        headers=await login(client, a1.users["residents_committee:admin"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "agenda[0].case_id"


async def test_short_notice_is_flagged_per_kind_and_needs_a_reason(client, world):
    e = await committee_estate(world)
    base = {"estate_id": e.id, "convener_organization_id": e.committee, "title": "例会",
            "location": "业委会办公室"}
    for kind, enough, short in (("committee", 7.1, 6.9), ("assembly", 15.1, 14.9)):
        ok = await schedule(client, e.chair, kind=kind, starts_at=at(days=enough),
                            ends_at=at(days=enough, hours=2), **base)
        assert ok["notice_short"] is False and ok["notice_days_required"] == (7 if kind == "committee" else 15)
        r = await client.post("/api/v1/meetings", json={
            **base, "kind": kind, "starts_at": at(days=short), "ends_at": at(days=short, hours=2)},
            headers=await login(client, e.chair))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "short_notice_reason"
        flagged = await schedule(client, e.chair, kind=kind, starts_at=at(days=short),
                                 ends_at=at(days=short, hours=2),
                                 short_notice_reason="电梯停运，需紧急议定维修方案", **base)
        assert flagged["notice_short"] is True
        assert flagged["short_notice_reason"] == "电梯停运，需紧急议定维修方案"


async def test_notice_periods_are_tenant_settings(client, world):
    e = await committee_estate(world)
    admin = world.b.users["bureau:admin"]  # tenant B's rules, so other tests keep the defaults
    r = await client.patch("/api/v1/meeting-settings", json={"committee_notice_days": 10},
                           headers=await login(client, admin))
    assert r.status_code == 200 and r.json()["committee_notice_days"] == 10
    r = await client.patch("/api/v1/meeting-settings", json={"committee_notice_days": 10},
                           headers=await login(client, world.b.users["owners_committee:chair"]))
    assert r.status_code == 403
    bad = await client.patch("/api/v1/meeting-settings", json={"special": "1/3"},
                             headers=await login(client, admin))
    assert bad.status_code == 422
    # tenant A is untouched: 8 days is enough there
    ok = await schedule(client, e.chair, kind="committee", estate_id=e.id,
                        convener_organization_id=e.committee, title="例会",
                        starts_at=at(days=8), ends_at=at(days=8, hours=1))
    assert ok["notice_short"] is False
    settings = await client.get("/api/v1/meeting-settings", headers=await login(client, e.chair))
    assert settings.json()["participation"] == "2/3" and settings.json()["special"] == "3/4"


async def test_rescheduling_needs_the_current_etag_and_rechecks_the_notice(client, world):
    a1 = world.a1
    rc = a1.users["residents_committee:admin"]
    m = await schedule(client, rc, **joint(world))
    h = await login(client, rc)
    got = await client.get(f"/api/v1/meetings/{m['id']}", headers=h)
    etag = got.headers["etag"]
    r = await client.patch(f"/api/v1/meetings/{m['id']}", json={"starts_at": at(days=1),
                                                                "ends_at": at(days=1, hours=1)},
                           headers={**h, "If-Match": etag})
    assert r.status_code == 422  # now too soon, and no reason given
    r = await client.patch(f"/api/v1/meetings/{m['id']}", json={
        "starts_at": at(days=1), "ends_at": at(days=1, hours=1),
        "short_notice_reason": "街道临时安排"}, headers={**h, "If-Match": etag})
    assert r.status_code == 200 and r.json()["notice_short"] is True
    stale = await client.patch(f"/api/v1/meetings/{m['id']}", json={"title": "改名"},
                               headers={**h, "If-Match": etag})
    assert stale.status_code == 412


async def test_ics_invitation_and_a_revocable_organisation_feed(client, world):
    a1 = world.a1
    rc = a1.users["residents_committee:admin"]
    m = await schedule(client, rc, **joint(world, title="日历测试会议"))
    h = await login(client, a1.users["owners_committee:member"])
    r = await client.get(f"/api/v1/meetings/{m['id']}/invitation.ics", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    event = next(c for c in Calendar.from_ical(r.content).walk("VEVENT"))
    assert "日历测试会议" in str(event["SUMMARY"]) and str(event["LOCATION"]) == "社区会议室"
    # the owners' committee's feed: only its administrators create it; the URL needs no login
    oc = a1.orgs["owners_committee"]
    assert (await client.post(f"/api/v1/organizations/{oc}/meeting-feeds", json={},
                              headers=h)).status_code == 403
    feed = await post(client, a1.users["owners_committee:admin"],
                      f"/api/v1/organizations/{oc}/meeting-feeds", {"label": "手机日历"}, 201)
    path = feed["url"].split("testserver.local", 1)[1]
    anonymous = await client.get(path)
    assert anonymous.status_code == 200
    uids = [str(e["UID"]) for e in Calendar.from_ical(anonymous.content).walk("VEVENT")]
    assert len(uids) >= 1 and "日历测试会议" in anonymous.content.decode()
    listed = await client.get(f"/api/v1/organizations/{oc}/meeting-feeds",
                              headers=await login(client, a1.users["owners_committee:admin"]))
    assert all("url" not in f or f["url"] is None for f in listed.json())
    r = await client.delete(f"/api/v1/meeting-feeds/{feed['id']}",
                            headers=await login(client, a1.users["owners_committee:admin"]))
    assert r.status_code == 204
    assert (await client.get(path)).status_code == 401
    assert (await client.get("/meetings/feed/" + "x" * 43 + ".ics")).status_code == 401
