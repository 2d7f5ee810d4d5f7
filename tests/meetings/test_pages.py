"""The meetings pages over HTTP (cookie sessions, CSRF): the owner's voting page lists the
owners' assembly votes open to them and takes their vote; anonymous callers go to the login;
the calendar shows the meetings the caller may see; the signatory's inbox is empty for someone
with nothing to sign; the live attendance refresh is on the meeting page in progress."""
from __future__ import annotations

import httpx

from tests.factories import PASSWORD, login
from tests.meetings.helpers import add_register, at, committee_estate, post, schedule


async def web(app, username: str | None) -> httpx.AsyncClient:
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.9.8.9", 40002)),
                          base_url="http://testserver.local")
    await c.get("/login")
    if username:
        r = await c.post("/login", data={"username": username, "password": PASSWORD, "next": "/"},
                         headers={"x-csrftoken": c.cookies.get("gz_csrf") or ""})
        assert r.status_code in (302, 303), r.text
    return c


async def test_owner_votes_from_the_phone_page(app, client, world):
    e = await committee_estate(world, members=3)
    await add_register(world, e)
    m = await schedule(client, e.chair, kind="assembly", estate_id=e.id,
                       convener_organization_id=e.committee, title="业主大会：增设充电桩",
                       starts_at=at(days=16), ends_at=at(days=30))
    res = await post(client, e.chair, f"/api/v1/meetings/{m['id']}/resolutions",
                     {"title": "同意在地下车库增设充电桩"}, 201)
    await post(client, e.chair, f"/api/v1/resolutions/{res['id']}/open", {"closes_at": at(days=20)})
    c = await web(app, e.owners["zhao"])
    try:
        page = await c.get("/vote")
        assert page.status_code == 200 and "同意在地下车库增设充电桩" in page.text
        r = await c.post(f"/meetings/{m['id']}/act", data={
            "action": "vote", "resolution_id": str(res["id"]), "choice": "for", "next": "/vote"},
            headers={"x-csrftoken": c.cookies.get("gz_csrf") or ""})
        assert r.status_code in (302, 303) and r.headers["location"] == "/vote"
        page = await c.get("/vote")
        assert f'id="my-vote-{res["id"]}"' in page.text and "您的表决：同意" in page.text
        again = await c.post(f"/meetings/{m['id']}/act", data={
            "action": "vote", "resolution_id": str(res["id"]), "choice": "against"},
            headers={"x-csrftoken": c.cookies.get("gz_csrf") or ""})
        assert again.status_code == 409 and "每名表决人只能投一次" in again.text
        calendar = await c.get("/meetings")
        assert "业主大会：增设充电桩" in calendar.text
        inbox = await c.get("/meetings/signing")
        assert inbox.status_code == 200 and "暂无待您签署的纪要" in inbox.text
    finally:
        await c.aclose()
    votes = (await client.get(f"/api/v1/resolutions/{res['id']}/votes",
                              headers=await login(client, e.chair))).json()
    assert [v["choice"] for v in votes] == ["for"]


async def test_anonymous_callers_go_to_the_login_page(app, world):
    c = await web(app, None)
    try:
        for url in ("/meetings", "/vote", "/notices", f"/meetings/{world.a1.extra['meeting']}",
                    "/meetings/signing"):
            r = await c.get(url)
            assert r.status_code in (302, 303) and "/login" in r.headers["location"], url
    finally:
        await c.aclose()


async def test_meeting_page_refreshes_attendance_live_while_in_progress(app, world):
    c = await web(app, world.a1.users["residents_committee:admin"])
    try:
        page = await c.get(f"/meetings/{world.a1.extra['meeting']}")
        assert page.status_code == 200
        assert 'hx-trigger="every 15s" hx-select="#attendance"' in page.text
        assert world.a1.marker in page.text
    finally:
        await c.aclose()
