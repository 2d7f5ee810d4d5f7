"""Every meetings route refuses another tenant's user and unrelated organisations' users: the
route walker's machinery run over this package's routes only (the app-wide walker in
tests/gongzhi covers them too), plus explicit checks on the main resources."""
from __future__ import annotations

import uuid

from tests.factories import login
from tests.gongzhi.test_route_walker import (
    attackers,
    csrf,
    endpoints,
    leaks,
    make_client,
    probes,
    refused_like_a_ghost,
    send,
    signature,
    still_logged_in,
    api_login,
    web_login,
)

MEETING_PREFIXES = ("/api/v1/meeting", "/api/v1/resolutions", "/api/v1/action-items",
                    "/api/v1/minutes-amendments", "/meetings", "/notices", "/vote")


def ours(path: str) -> bool:
    return path.startswith(MEETING_PREFIXES) or path.endswith("/meeting-feeds")


async def test_attackers_get_403_or_404_on_every_meetings_route(app, client, world):
    eps = [e for e in endpoints(app)[0] if ours(e.path)]
    assert len(eps) >= 35, [str(e) for e in eps]
    needles = [world.a1.marker, "13811112222", "138****2222"]
    failures: list[str] = []
    for a in attackers(world):
        a.api, a.web = make_client(app), make_client(app)
        a.bearer = await api_login(a.api, a.username)
        await web_login(a.web, a.username)
        marker = "ATK" + uuid.uuid4().hex[:6]
        try:
            for ep in eps:
                media_type = signature(ep).media_type
                for p in probes(ep, a.victim, a.own, marker):
                    c = a.api if ep.is_api else a.web
                    headers = a.bearer if ep.is_api else csrf(c)
                    r = await send(c, p, media_type, headers)
                    what = f"[{a.label}] {ep.method} {p.url} {p.params or ''} body={p.body!r}"
                    if r.status_code >= 500:
                        failures.append(f"{what} -> {r.status_code}: {r.text[:300]}")
                    elif p.names_victim and r.status_code not in (403, 404):
                        if not (p.body_names_victim and not p.path_names_victim
                                and await refused_like_a_ghost(c, p, r, media_type, headers)):
                            failures.append(f"{what} names a victim resource but got "
                                            f"{r.status_code}: {r.text[:300]}")
                    if found := leaks(r, needles):
                        failures.append(f"{what} -> {r.status_code} shows {found}: {r.text[:200]}")
                    if ep.method != "GET":
                        await still_logged_in(a)
        finally:
            await a.api.aclose()
            await a.web.aclose()
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:60])


async def test_victims_own_people_read_the_meeting_and_outsiders_do_not(client, world):
    a1, a2, b = world.a1, world.a2, world.b
    meeting = a1.extra["meeting"]
    for persona in ("residents_committee:admin", "owners_committee:member",
                    "property_company:handler", "street_office:staff", "bureau:staff"):
        r = await client.get(f"/api/v1/meetings/{meeting}",
                             headers=await login(client, a1.users[persona]))
        assert r.status_code == 200, (persona, r.text)
        assert r.headers["etag"]
    for username in (a2.users["residents_committee:admin"], a2.users["owners_committee:chair"],
                     b.users["bureau:admin"], a1.users["resident"]):
        h = await login(client, username)
        for url in (f"/api/v1/meetings/{meeting}", f"/api/v1/meetings/{meeting}/attendance",
                    f"/api/v1/meetings/{meeting}/minutes",
                    f"/api/v1/resolutions/{a1.extra['resolution']}",
                    f"/api/v1/meetings/{meeting}/invitation.ics"):
            r = await client.get(url, headers=h)
            assert r.status_code == 404, (username, url, r.status_code)
        listed = await client.get("/api/v1/meetings", headers=h)
        assert meeting not in [m["id"] for m in listed.json()]
    # the public notice: the estate's owner reads it, the other street's owner does not
    notice = a1.extra["notice"]
    r = await client.get(f"/api/v1/meeting-notices/{notice}",
                         headers=await login(client, a1.users["resident"]))
    assert r.status_code == 200
    for username in (a2.users["resident"], b.users["resident"], a2.users["bureau:admin"]
                     if "bureau:admin" in a2.users else b.users["bureau:admin"]):
        r = await client.get(f"/api/v1/meeting-notices/{notice}",
                             headers=await login(client, username))
        assert r.status_code == 404, username


async def test_unrelated_secretaries_cannot_act_on_the_meeting(client, world):
    a1, a2 = world.a1, world.a2
    meeting, resolution = a1.extra["meeting"], a1.extra["resolution"]
    outsider = await login(client, a2.users["residents_committee:admin"])
    assert (await client.post(f"/api/v1/meetings/{meeting}/end", headers=outsider)).status_code == 404
    assert (await client.post(f"/api/v1/resolutions/{resolution}/close",
                              headers=outsider)).status_code == 404
    # an invited organisation reads the meeting but is not its secretary
    invited = await login(client, a1.users["property_company:admin"])
    r = await client.post(f"/api/v1/resolutions/{resolution}/close", headers=invited)
    assert r.status_code == 403
    r = await client.post(f"/api/v1/meetings/{meeting}/attendance", headers=invited,
                          json={"user_id": a1.user_ids["owners_committee:chair"]})
    assert r.status_code == 403
