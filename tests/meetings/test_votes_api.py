"""Attendance, quorum, proxies, resolutions and votes through the API, end to end: an owners'
committee meeting (live quorum, no proxies, majority of ALL members), a joint meeting (one vote
per organisation present), and an owners' assembly on a hand-made register (online votes by
owners' own accounts, co-owners voting once, the developer and another owner on paper ballots
with their scans) whose result names each threshold with exact fractions; action items open
cases that name the meeting."""
from __future__ import annotations

from core.db import fetch
from meetings.jobs import count_closed_votes
from tests.factories import login, tiny_jpeg
from tests.meetings.helpers import add_register, at, committee_estate, post, schedule


async def start_committee_meeting(client, world, members: int = 5):
    e = await committee_estate(world, members=members)
    m = await schedule(client, e.chair, kind="committee", estate_id=e.id,
                       convener_organization_id=e.committee, title="业委会例会",
                       starts_at=at(hours=1), ends_at=at(hours=3), short_notice_reason="补开例会")
    await post(client, e.chair, f"/api/v1/meetings/{m['id']}/start")
    return e, m


async def test_quorum_is_live_and_proxies_are_refused(client, world):
    e, m = await start_committee_meeting(client, world)
    url = f"/api/v1/meetings/{m['id']}/attendance"
    out = await post(client, e.chair, url)  # the chair signs in on their phone
    assert out["quorum"] == {"applies": True, "members": 5, "present": 1, "reached": False,
                             "fraction": "1/5"}
    res = await post(client, e.chair, f"/api/v1/meetings/{m['id']}/resolutions",
                     {"title": "同意更换小区门禁系统"}, 201)
    r = await client.post(f"/api/v1/resolutions/{res['id']}/open", json={},
                          headers=await login(client, e.chair))
    assert r.status_code == 409  # no quorum yet
    # a member cannot sign in someone else, nor may the secretary record a proxy
    r = await client.post(url, json={"user_id": e.members[2][0]},
                          headers=await login(client, e.members[1][1]))
    assert r.status_code == 403
    r = await client.post(url, json={"proxy_for_user_id": e.members[4][0]},
                          headers=await login(client, e.members[1][1]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "proxy_for_user_id"
    out = await post(client, e.chair, url, {"user_id": e.members[1][0]})
    assert out["quorum"]["present"] == 2 and out["quorum"]["reached"] is False  # 2/5: not > 1/2
    out = await post(client, e.members[2][1], url)
    assert out["quorum"]["fraction"] == "3/5" and out["quorum"]["reached"] is True
    assert [a["method"] for a in out["attendees"]] == ["self", "secretary", "self"]
    r = await client.post(url, json={}, headers=await login(client, e.members[2][1]))
    assert r.status_code == 409  # signed in once
    # an outsider of the tenant is not invited
    r = await client.post(url, json={}, headers=await login(client, world.a1.users["resident"]))
    assert r.status_code == 404


async def test_committee_decision_needs_more_than_half_of_all_members(client, world):
    e, m = await start_committee_meeting(client, world, members=5)
    url = f"/api/v1/meetings/{m['id']}/attendance"
    for _uid, username in e.members[:4]:
        await post(client, username, url)
    passes = await post(client, e.chair, f"/api/v1/meetings/{m['id']}/resolutions",
                        {"title": "聘请审计机构"}, 201)
    fails = await post(client, e.chair, f"/api/v1/meetings/{m['id']}/resolutions",
                       {"title": "延长门岗时间"}, 201)
    for res in (passes, fails):
        await post(client, e.chair, f"/api/v1/resolutions/{res['id']}/open")
    for (_uid, username), choice in zip(e.members[:4], ("for", "for", "for", "against")):
        await post(client, username, f"/api/v1/resolutions/{passes['id']}/votes",
                   {"choice": choice}, 201)
    # 2 for, 1 against, 1 abstain: a majority of those present, but only 2 of all 5 members
    for (_uid, username), choice in zip(e.members[:4], ("for", "for", "against", "abstain")):
        await post(client, username, f"/api/v1/resolutions/{fails['id']}/votes",
                   {"choice": choice}, 201)
    r = await client.post(f"/api/v1/resolutions/{fails['id']}/votes", json={"choice": "for"},
                          headers=await login(client, e.members[0][1]))
    assert r.status_code == 409  # once per resolution
    absent = await client.post(f"/api/v1/resolutions/{fails['id']}/votes", json={"choice": "for"},
                               headers=await login(client, e.members[4][1]))
    assert absent.status_code == 403  # not present: members vote in person only
    paper = await client.post(f"/api/v1/resolutions/{fails['id']}/paper-ballots",
                              files={"file": ("b.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
                              data={"choice": "for", "person_id": "1"},
                              headers=await login(client, e.chair))
    assert paper.status_code in (409, 422)  # no paper ballots (proxies) in the committee
    ok = await post(client, e.chair, f"/api/v1/resolutions/{passes['id']}/close")
    assert ok["passed"] is True
    assert ok["result"]["checks"][0] == {
        "name": "approval_of_all_members", "numerator": "3", "denominator": "5",
        "fraction": "3/5", "threshold": "> 1/2", "passed": True}
    ko = await post(client, e.chair, f"/api/v1/resolutions/{fails['id']}/close")
    assert ko["passed"] is False and ko["result"]["checks"][0]["fraction"] == "2/5"


async def test_joint_meeting_votes_once_per_organisation_present(client, world):
    a1 = world.a1
    rc = a1.users["residents_committee:admin"]
    m = await schedule(client, rc, kind="joint", estate_id=a1.estate,
                       convener_organization_id=a1.orgs["residents_committee"],
                       title="垃圾分类联席会", starts_at=at(days=4), ends_at=at(days=4, hours=2))
    await post(client, rc, f"/api/v1/meetings/{m['id']}/start")
    for persona in ("residents_committee:admin", "owners_committee:chair",
                    "owners_committee:member", "property_company:manager"):
        await post(client, a1.users[persona], f"/api/v1/meetings/{m['id']}/attendance")
    res = await post(client, rc, f"/api/v1/meetings/{m['id']}/resolutions",
                     {"title": "增设分类投放点"}, 201)
    await post(client, rc, f"/api/v1/resolutions/{res['id']}/open")
    await post(client, a1.users["owners_committee:chair"], f"/api/v1/resolutions/{res['id']}/votes",
               {"choice": "for"}, 201)
    r = await client.post(f"/api/v1/resolutions/{res['id']}/votes", json={"choice": "against"},
                          headers=await login(client, a1.users["owners_committee:member"]))
    assert r.status_code == 409  # the committee has voted
    await post(client, a1.users["property_company:manager"],
               f"/api/v1/resolutions/{res['id']}/votes", {"choice": "against"}, 201)
    await post(client, rc, f"/api/v1/resolutions/{res['id']}/votes", {"choice": "for"}, 201)
    out = await post(client, rc, f"/api/v1/resolutions/{res['id']}/close")
    assert out["passed"] is True and out["result"]["checks"][0]["fraction"] == "2/3"
    assert out["result"]["counts"] == {"for": 2, "against": 1, "abstain": 0}


async def test_owners_assembly_counts_area_and_headcount_per_civil_code(client, world):
    e = await committee_estate(world, members=3)
    await add_register(world, e)
    m = await schedule(client, e.chair, kind="assembly", estate_id=e.id,
                       convener_organization_id=e.committee, title="业主大会：续聘物业",
                       starts_at=at(days=16), ends_at=at(days=30))
    ordinary = await post(client, e.chair, f"/api/v1/meetings/{m['id']}/resolutions",
                          {"title": "续聘物业服务企业"}, 201)
    special = await post(client, e.chair, f"/api/v1/meetings/{m['id']}/resolutions",
                         {"title": "筹集专项维修资金", "matter": "special"}, 201)
    r = await client.post(f"/api/v1/resolutions/{ordinary['id']}/open", json={},
                          headers=await login(client, e.chair))
    assert r.status_code == 422  # an assembly needs the end of its voting period
    for res in (ordinary, special):
        await post(client, e.chair, f"/api/v1/resolutions/{res['id']}/open",
                   {"closes_at": at(days=20)})
    vote = "/api/v1/resolutions/{}/votes"
    # owners vote online with their own accounts; 王大 owns two units and votes once
    v = await post(client, e.owners["wang"], vote.format(ordinary["id"]), {"choice": "for"}, 201)
    assert len(v) == 1 and v[0]["voter_key"] == f"owners:{e.persons['wang']}"
    await post(client, e.owners["li2"], vote.format(ordinary["id"]), {"choice": "for"}, 201)
    r = await client.post(vote.format(ordinary["id"]), json={"choice": "against"},
                          headers=await login(client, e.owners["li3"]))
    assert r.status_code == 409  # the co-owned unit has voted through 李二
    await post(client, e.owners["zhao"], vote.format(ordinary["id"]), {"choice": "abstain"}, 201)
    r = await client.post(vote.format(ordinary["id"]), json={"choice": "for"},
                          headers=await login(client, world.a1.users["resident"]))
    assert r.status_code in (403, 404)  # owns nothing here
    # the developer's unsold units: one owner, on a signed paper ballot with its scan
    ballots = f"/api/v1/resolutions/{ordinary['id']}/paper-ballots"
    chair = await login(client, e.chair)
    bad = await client.post(ballots, data={"choice": "against", "developer": "true"},
                            files={"file": ("b.txt", b"not a scan", "text/plain")}, headers=chair)
    assert bad.status_code == 415
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
    dev = await client.post(ballots, data={"choice": "against", "developer": "true"},
                            files={"file": ("ballot.pdf", pdf, "application/pdf")}, headers=chair)
    assert dev.status_code == 201, dev.text
    assert dev.json()[0]["voter_key"] == "developer" and dev.json()[0]["has_ballot"] is True
    scan = await client.get(f"/api/v1/meeting-votes/{dev.json()[0]['id']}/ballot", headers=chair)
    assert scan.status_code == 200 and scan.content == pdf
    owner_reads = await client.get(f"/api/v1/meeting-votes/{dev.json()[0]['id']}/ballot",
                                   headers=await login(client, e.owners["wang"]))
    assert owner_reads.status_code == 403
    # owners read the assembly and its votes, not its internal record (names of attendees)
    owner = await login(client, e.owners["zhao"])
    assert (await client.get(f"/api/v1/meetings/{m['id']}", headers=owner)).status_code == 200
    assert (await client.get(f"/api/v1/meetings/{m['id']}/minutes", headers=owner)).status_code == 404
    seen = await client.get(f"/api/v1/meetings/{m['id']}/attendance", headers=owner)
    assert seen.status_code == 200 and seen.json()["attendees"] == []
    early = await client.post(f"/api/v1/resolutions/{ordinary['id']}/close", headers=chair)
    assert early.status_code == 409  # the period runs on and one owner has not voted
    # the period ends: the job counts it
    await fetch("UPDATE meeting_resolution SET closes_at = now() - interval '1 second'"
                " WHERE id = $1", ordinary["id"])
    assert await count_closed_votes() >= 1
    result = (await client.get(f"/api/v1/resolutions/{ordinary['id']}",
                               headers=await login(client, e.owners["wang"]))).json()
    assert result["status"] == "closed" and result["my_vote"] == "for"
    late = await client.post(vote.format(ordinary["id"]), json={"choice": "for"},
                             headers=await login(client, e.owners["li3"]))
    assert late.status_code == 409
    checks = {c["name"]: c for c in result["result"]["checks"]}
    assert result["result"]["total_headcount"] == 5 and result["result"]["total_area"] == "700.00"
    assert checks["participation_area"]["fraction"] == "6/7"  # 600 of 700 m²
    assert checks["participation_headcount"]["fraction"] == "4/5"
    assert checks["approval_area"]["fraction"] == "1/2"  # 300 of 600 m²: not MORE than half
    assert checks["approval_headcount"]["fraction"] == "1/2"
    assert result["passed"] is False

    # the special matter: 4 of 5 owners for (≥ 3/4) but only 500 of 700 m² (< 3/4)
    for owner in ("wang", "li3", "zhao"):
        await post(client, e.owners[owner], vote.format(special["id"]), {"choice": "for"}, 201)
    sun = await client.post(f"/api/v1/resolutions/{special['id']}/paper-ballots",
                            data={"choice": "for", "person_id": str(e.persons["sun"])},
                            files={"file": ("sun.jpg", tiny_jpeg(), "image/jpeg")}, headers=chair)
    assert sun.status_code == 201, sun.text
    await client.post(f"/api/v1/resolutions/{special['id']}/paper-ballots",
                      data={"choice": "against", "developer": "true"},
                      files={"file": ("ballot.pdf", pdf, "application/pdf")}, headers=chair)
    # every owner has voted: the secretary may count before the period ends
    out = await post(client, e.chair, f"/api/v1/resolutions/{special['id']}/close")
    checks = {c["name"]: c for c in out["result"]["checks"]}
    assert checks["approval_headcount"]["fraction"] == "4/5" and checks["approval_headcount"]["passed"]
    assert checks["approval_area"]["fraction"] == "5/7" and not checks["approval_area"]["passed"]
    assert checks["approval_area"]["threshold"] == "≥ 3/4"
    assert out["passed"] is False


async def test_action_item_opens_a_case_that_names_the_meeting(client, world):
    a1 = world.a1
    rc = a1.users["residents_committee:admin"]
    m = await schedule(client, rc, kind="joint", estate_id=a1.estate,
                       convener_organization_id=a1.orgs["residents_committee"],
                       title="停车秩序协调会", starts_at=at(days=4), ends_at=at(days=4, hours=1))
    item = await post(client, rc, f"/api/v1/meetings/{m['id']}/action-items", {
        "title": "施划地面停车线", "owner_organization_id": a1.orgs["property_company"],
        "due_on": "2027-01-15"}, 201)
    r = await client.post(f"/api/v1/meetings/{m['id']}/action-items", json={
        "title": "x", "owner_organization_id": world.a2.orgs["property_company"]},
        headers=await login(client, rc))
    assert r.status_code == 422
    out = await post(client, rc, f"/api/v1/action-items/{item['id']}/case",
                     {"category": "parking", "description": "东门口车辆乱停"}, 201)
    assert out["case_id"]
    case = await client.get(f"/api/v1/cases/{out['case_id']}", headers=await login(client, rc))
    assert case.status_code == 200
    assert f"#{m['id']}" in case.json()["description"] and "停车秩序协调会" in case.json()["description"]
    again = await client.post(f"/api/v1/action-items/{item['id']}/case", json={"category": "parking"},
                              headers=await login(client, rc))
    assert again.status_code == 409
    done = await client.patch(f"/api/v1/action-items/{item['id']}", json={"status": "done"},
                              headers=await login(client, rc))
    assert done.json()["status"] == "done"
