"""The world and the user journeys of bench/bench_load.py: residents reporting problems,
property managers working their queues, committee and bureau staff reading dashboards and
downloading reports.

The world (`build_world`): a token for every demo login, extra resident logins (the bureau
creates accounts through the API and links each to an owner of a unit in the estates the demo
property company serves), the registered documents each reader may open, and the evaluation
campaigns whose results export answers (a closed one's results are computed first).

Each journey is a short sequence of real API calls by one persona over the shared keep-alive
client; every call is recorded under a step name ("resident: POST /cases", "manager: POST accept"
…) with its latency and outcome ("ok", "HTTP 500", "ReadTimeout" …). A call counts as an error
when its status is not the one the journey expects. Managers claim the case they act on in a
set shared by all journeys, so two simulated managers never race on one case: a 412 here would
be a real lost-update bug, not a test artefact.
"""
from __future__ import annotations

import asyncio
import io
import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable

import httpx

GROUPS = ("resident", "manager", "reader")
PASSWORD = "Gongzhi-2026"  # every demo login's
READERS = ("bureau", "bureau.staff", "street", "rc", "grid", "oc.chair", "oc.member")
PROPERTY_CATEGORIES = ("repair", "repair", "repair", "sanitation", "greening", "order", "parking")
DESCRIPTIONS = ("楼道灯不亮，晚上回家看不清台阶", "电梯按键失灵，三楼按了没反应",
                "地下车库入口积水，车辆进出困难", "垃圾房没有按时清运，气味很大",
                "小区东门门禁卡刷不开", "绿化带有一棵树倾斜，担心倒下", "单元门闭门器坏了，门关不上",
                "楼顶水箱漏水，墙面发霉", "消防通道被私家车占用", "夜间施工噪音扰民")
# What a dispatcher does next with a case in each status (the handler: the assigned steps).
NEXT_ACTION = {"submitted": "accept", "returned": "accept", "accepted": "assign",
               "assigned": "acknowledge", "acknowledged": "start", "in_progress": "resolve"}
MANAGER_STATUSES = ("submitted", "accepted", "assigned", "acknowledged", "in_progress")
HANDLER_STATUSES = ("assigned", "acknowledged", "in_progress")


@dataclass
class Resident:
    username: str
    headers: dict[str, str]
    estate_id: int
    building_id: int
    unit_id: int


@dataclass
class World:
    """Who can log in and what exists, found out once by bench_load's setup."""

    residents: list[Resident]
    managers: dict[str, dict[str, str]]        # pm, dispatcher: Authorization headers
    handler: dict[str, str]
    handler_id: int
    readers: dict[str, dict[str, str]]         # bureau, street, rc, oc.chair …
    bureau: dict[str, str]
    estates: list[int]                         # the estates the managers' company serves
    documents: dict[str, list[int]]            # reader username -> document ids they may read
    campaigns: list[int]                       # campaigns whose results export works
    photo: bytes
    photo_share: float = 0.25
    claimed: set[int] = field(default_factory=set)


Record = Callable[[str, float, str], None]


class Ctx:
    """One journey's view: the client, the world, a random source and the recorder."""

    def __init__(self, client: httpx.AsyncClient, world: World, rng: random.Random,
                 record: Record, samples: dict[str, str]) -> None:
        self.client, self.world, self.rng, self.record = client, world, rng, record
        self.samples = samples  # first response body seen per error kind
        self.requests = 0

    async def call(self, step: str, method: str, url: str, *, ok: tuple[int, ...] = (200,),
                   **kw: Any) -> httpx.Response | None:
        self.requests += 1
        t = time.perf_counter()
        try:
            r = await self.client.request(method, url, **kw)
        except Exception as e:  # noqa: BLE001 - every failure is a figure of the report
            kind = type(e).__name__
            self.record(step, time.perf_counter() - t, kind)
            self.samples.setdefault(f"{step} {kind}", f"{method} {url}: {e!r}"[:400])
            return None
        latency = time.perf_counter() - t
        if r.status_code in ok:
            self.record(step, latency, "ok")
            return r
        kind = f"HTTP {r.status_code}"
        self.record(step, latency, kind)
        self.samples.setdefault(f"{step} {kind}", f"{method} {url}: {r.text[:400]}")
        return None


def make_photo(width: int = 1280, height: int = 960) -> bytes:
    """A phone-like JPEG (gradient and noise, so it does not compress to nothing)."""
    from PIL import Image

    rng = random.Random(7)
    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    img = Image.blend(img, noise, 0.35)
    for _ in range(40):
        x, y = rng.randrange(width - 100), rng.randrange(height - 100)
        img.paste((rng.randrange(256), rng.randrange(256), rng.randrange(256)),
                  (x, y, x + rng.randrange(20, 100), y + rng.randrange(20, 100)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def case_body(ctx: Ctx, res: Resident) -> dict:
    rng = ctx.rng
    return {"estate_id": res.estate_id, "building_id": res.building_id, "unit_id": res.unit_id,
            "category": rng.choice(PROPERTY_CATEGORIES),
            "priority": rng.choices(("normal", "urgent", "emergency"), (85, 12, 3))[0],
            "description": f"{rng.choice(DESCRIPTIONS)}（负载测试 {secrets.token_hex(3)}）",
            "location": rng.choice(("1单元门口", "地下车库B2", "东门", "3号楼北侧", "")),
            "channel": "app"}


async def resident(ctx: Ctx) -> None:
    """Report a problem (Idempotency-Key; sometimes the app retries it, which must replay the
    same case), sometimes add a photo, sometimes look at one's own cases."""
    w, rng = ctx.world, ctx.rng
    res = rng.choice(w.residents)
    key = secrets.token_urlsafe(16)
    body = case_body(ctx, res)
    headers = {**res.headers, "Idempotency-Key": key}
    r = await ctx.call("resident: POST /cases", "POST", "/api/v1/cases", ok=(201,), json=body,
                       headers=headers)
    if r is None:
        return
    case_id = r.json()["id"]
    if rng.random() < 0.03:  # a flaky network: the app sends the same report again
        await asyncio.sleep(0.5)  # the app's retry back-off
        again = await ctx.call("resident: POST /cases (retry, same key)", "POST", "/api/v1/cases",
                               ok=(201,), json=body, headers=headers)
        if again is not None and again.json()["id"] != case_id:
            ctx.record("resident: POST /cases (retry, same key)", 0.0, "replay gave another case")
    if rng.random() < w.photo_share:
        await ctx.call("resident: POST /cases/{id}/attachments (photo)", "POST",
                       f"/api/v1/cases/{case_id}/attachments", headers=res.headers,
                       ok=(200, 201), files={"file": ("photo.jpg", w.photo, "image/jpeg")},
                       data={"visibility": "public"})
    if rng.random() < 0.3:
        await ctx.call("resident: GET /cases (mine)", "GET", "/api/v1/cases?limit=10",
                       headers=res.headers)


def action_body(action: str, handler_id: int) -> dict:
    if action == "assign":
        return {"assignee_user_id": handler_id}
    if action == "resolve":
        return {"comment": "已上门处理完毕，请业主确认"}
    return {}


async def manager(ctx: Ctx) -> None:
    """Open the queue (a status tab, sometimes one estate, sometimes the next page), open a case
    nobody else is working on, move it on one step with If-Match."""
    w, rng = ctx.world, ctx.rng
    who = rng.choices(("pm", "dispatcher", "handler"), (40, 30, 30))[0]
    if who == "handler":
        headers = w.handler
        query = f"assigned_to_me=true&status={rng.choice(HANDLER_STATUSES)}&limit=20"
    else:
        headers = w.managers[who]
        query = f"status={rng.choice(MANAGER_STATUSES)}&limit=20"
        if rng.random() < 0.3:
            query += f"&estate_id={rng.choice(w.estates)}"
        if rng.random() < 0.3:
            query += "&sort=resolve_due_at"
    r = await ctx.call("manager: GET /cases (queue)", "GET", f"/api/v1/cases?{query}",
                       headers=headers)
    if r is None:
        return
    page = r.json()
    items = page["items"]
    if page.get("next_cursor") and rng.random() < 0.3:
        nxt = await ctx.call("manager: GET /cases (next page)", "GET", "/api/v1/cases",
                             params={**dict(p.split("=") for p in query.split("&")),
                                     "cursor": page["next_cursor"]}, headers=headers)
        if nxt is not None:
            items = items + nxt.json()["items"]
    free = [c["id"] for c in items if c["id"] not in w.claimed]
    if not free:
        return
    case_id = rng.choice(free)
    w.claimed.add(case_id)
    try:
        g = await ctx.call("manager: GET /cases/{id}", "GET", f"/api/v1/cases/{case_id}",
                           headers=headers)
        if g is None:
            return
        action = NEXT_ACTION.get(g.json()["status"])
        if action is None:
            return
        await ctx.call(f"manager: POST /cases/{{id}}/actions/{action}", "POST",
                       f"/api/v1/cases/{case_id}/actions/{action}",
                       json=action_body(action, w.handler_id),
                       headers={**headers, "If-Match": g.headers["etag"]})
    finally:
        w.claimed.discard(case_id)


async def reader(ctx: Ctx) -> None:
    """A committee member or bureau officer opens the dashboard (counts per status), then reads
    the list, downloads the cases CSV, a registered PDF report or the evaluation results."""
    w, rng = ctx.world, ctx.rng
    who = rng.choice(list(w.readers))
    headers = w.readers[who]
    await ctx.call("reader: GET /cases/counts (dashboard)", "GET", "/api/v1/cases/counts",
                   headers=headers)
    pick = rng.random()
    if pick < 0.35:
        await ctx.call("reader: GET /cases", "GET", "/api/v1/cases?limit=50", headers=headers)
    elif pick < 0.65:
        since = (date.today() - timedelta(days=1)).isoformat()
        await ctx.call("reader: GET /cases/export.csv", "GET",
                       f"/api/v1/cases/export.csv?estate_id={rng.choice(w.estates)}"
                       f"&created_from={since}", headers=headers)
    elif pick < 0.85 and w.documents.get(who):
        await ctx.call("reader: GET /documents", "GET", "/api/v1/documents?limit=20",
                       headers=headers)
        await ctx.call("reader: GET /documents/{id}/pdf", "GET",
                       f"/api/v1/documents/{rng.choice(w.documents[who])}/pdf", headers=headers)
    elif w.campaigns:
        await ctx.call("reader: GET /evaluation-campaigns/{id}/results/export", "GET",
                       f"/api/v1/evaluation-campaigns/{rng.choice(w.campaigns)}/results/export"
                       "?format=csv", headers=w.bureau)
    else:
        await ctx.call("reader: GET /evaluation-campaigns", "GET", "/api/v1/evaluation-campaigns",
                       headers=headers)


JOURNEYS = {"resident": resident, "manager": manager, "reader": reader}
# Requests per journey, a first guess the driver replaces with what it observes.
PRIOR_REQUESTS = {"resident": 1.6, "manager": 2.6, "reader": 2.0}


# --- the world: logins and what exists, found through the API ----------------------------------
async def login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def owners_to_link(client: httpx.AsyncClient, bureau: dict, estates: list[int],
                         n: int) -> list[tuple[int, int, int, int]]:
    """(estate, building, unit, person) of owners in the given estates, spread over buildings."""
    found: list[tuple[int, int, int, int]] = []
    seen: set[int] = set()
    per_estate = -(-n // len(estates))
    for estate in estates:
        buildings = (await client.get(f"/api/v1/estates/{estate}/buildings?limit=100",
                                      headers=bureau)).json()
        mine = 0
        for b in buildings:
            units = (await client.get(f"/api/v1/buildings/{b['id']}/units?limit=100",
                                      headers=bureau)).json()
            for u in units[::7]:
                owners = (await client.get(f"/api/v1/units/{u['id']}/owners",
                                           headers=bureau)).json()
                for o in owners[:1]:
                    pid = o["person"]["id"]
                    if pid not in seen:
                        seen.add(pid)
                        found.append((estate, b["id"], u["id"], pid))
                        mine += 1
                if mine >= per_estate:
                    break
            if mine >= per_estate:
                break
    return found[:n]


async def build_world(client: httpx.AsyncClient, n_residents: int) -> World:
    heads = {u: await login(client, u) for u in
             ("pm", "dispatcher", "handler", "resident", *READERS)}
    bureau = heads["bureau"]
    pm_me = (await client.get("/api/v1/me", headers=heads["pm"])).json()
    handler_id = (await client.get("/api/v1/me", headers=heads["handler"])).json()["id"]
    company = next(m["organization_id"] for m in pm_me["memberships"])
    org = (await client.get(f"/api/v1/organizations/{company}", headers=heads["pm"])).json()
    estates = sorted({c["estate_id"] for c in org.get("coverage", []) if c.get("estate_id")})
    if not estates:
        estates = [e["id"] for e in (await client.get("/api/v1/estates",
                                                      headers=heads["pm"])).json()]
    residents: list[Resident] = []
    # The demo resident: an owner in the first estate.
    me = (await client.get("/api/v1/me", headers=heads["resident"])).json()
    for estate, building, unit, person in await owners_to_link(client, bureau, estates,
                                                               n_residents):
        username = f"load.res{len(residents) + 1:03d}"
        r = await client.post("/api/v1/users", headers=bureau, json={
            "username": username, "password": PASSWORD, "display_name": f"负载居民{len(residents)}"})
        r.raise_for_status()
        r = await client.patch(f"/api/v1/users/{r.json()['id']}", headers=bureau,
                               json={"person_id": person})
        r.raise_for_status()
        residents.append(Resident(username, await login(client, username), estate, building,
                                     unit))
    if not residents:
        raise RuntimeError(f"no owner found to link a resident login to (demo resident: {me})")
    documents: dict[str, list[int]] = {}
    for who in READERS:
        page = (await client.get("/api/v1/documents?limit=50", headers=heads[who])).json()
        ids = [d["id"] for d in page.get("items", [])]
        if ids:
            documents[who] = ids
    campaigns: list[int] = []
    for c in (await client.get("/api/v1/evaluation-campaigns", headers=bureau)).json():
        if c.get("status") == "closed":
            await client.post(f"/api/v1/evaluation-campaigns/{c['id']}/results/compute",
                              headers=bureau)
        r = await client.get(f"/api/v1/evaluation-campaigns/{c['id']}/results/export?format=csv",
                             headers=bureau)
        if r.status_code == 200 and r.text.count("\n") > 1:
            campaigns.append(c["id"])
    return World(residents=residents,
                    managers={"pm": heads["pm"], "dispatcher": heads["dispatcher"]},
                    handler=heads["handler"], handler_id=handler_id,
                    readers={u: heads[u] for u in READERS}, bureau=bureau, estates=estates,
                    documents=documents, campaigns=campaigns, photo=make_photo())


async def seed_cases(client: httpx.AsyncClient, world: World, n: int) -> None:
    """Cases already on file before measuring, so queues, lists and exports are not empty."""
    rng = random.Random(3)
    sem = asyncio.Semaphore(6)

    async def one() -> None:
        async with sem:
            res = rng.choice(world.residents)
            ctx = Ctx(client, world, rng, lambda *a: None, {})
            r = await client.post("/api/v1/cases", json=case_body(ctx, res), headers={
                **res.headers, "Idempotency-Key": secrets.token_urlsafe(16)})
            r.raise_for_status()

    await asyncio.gather(*(one() for _ in range(n)))
