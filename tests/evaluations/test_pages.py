"""The evaluation web pages through a browser session (cookie + CSRF): the bureau starts and
opens a campaign, an evaluator saves and submits the scoring form (a stale form is refused), a
resident answers the survey once, and strangers get 404."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import httpx

from tests.evaluations.campaign_world import Mini, assessment_of, build, open_campaign, quarter_start
from tests.factories import PASSWORD
from tests.gongzhi.test_route_walker import csrf, make_client

KEYS = ["general_management", "buildings", "facilities", "order_safety", "cleaning", "greening",
        "customer_service"]


async def browser(app, m: Mini, persona: str) -> httpx.AsyncClient:
    c = make_client(app)
    await c.get("/login")
    r = await c.post("/login", data={"username": m.users[persona], "password": PASSWORD,
                                     "next": "/"}, headers=csrf(c))
    assert r.status_code in (302, 303), r.text
    return c


async def test_bureau_creates_and_opens_a_campaign_from_the_page(app, client):
    m = await build()
    c = await browser(app, m, "bureau")
    r = await c.get("/evaluations")
    assert r.status_code == 200 and 'id="campaign-form"' in r.text
    deadline = (datetime.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    r = await c.post("/evaluations/campaigns", headers=csrf(c), data={
        "name": "第四季度评价", "period_kind": "quarter",
        "period_start": quarter_start(date.today()).isoformat(), "deadline": deadline})
    assert r.status_code in (302, 303), r.text
    url = r.headers["location"]
    r = await c.post(f"{url}/open", headers=csrf(c))
    assert r.status_code in (302, 303)
    r = await c.get(url)
    assert "E1 小区" in r.text and "E2 小区" in r.text and 'id="campaign-status"' in r.text
    r = await c.post("/evaluations/campaigns", headers=csrf(c), data={
        "name": "x", "period_kind": "quarter", "period_start": "2026-11-05", "deadline": deadline})
    assert r.status_code == 422
    oc = await browser(app, m, "oc1")
    r = await oc.post(f"{url}/close", headers=csrf(oc))
    assert r.status_code == 403


async def test_evaluator_saves_then_submits_and_a_stale_form_is_refused(app, client):
    m = await build()
    campaign = await open_campaign(client, m)
    c = await browser(app, m, "oc1")
    r = await c.get("/evaluations")
    sub_id = int(re.search(r'data-submission-id="(\d+)"', r.text).group(1))
    page = f"/evaluations/submissions/{sub_id}"
    r = await c.get(page)
    assert r.status_code == 200 and r.text.count('class="criterion') == 7
    form = {"version": "1", "action": "save", "score_cleaning": "75", "comment_cleaning": "尚可"}
    r = await c.post(page, headers=csrf(c), data=form)
    assert r.status_code in (302, 303), r.text
    r = await c.post(page, headers=csrf(c), data={**form, "score_cleaning": "10"})  # stale v1
    assert r.status_code == 412 and "请刷新后重试" in r.text
    full = {"version": "2", "action": "submit", **{f"score_{k}": "80" for k in KEYS}}
    r = await c.post(page, headers=csrf(c), data=full)
    assert r.status_code in (302, 303), r.text
    r = await c.get(page)
    assert 'id="weighted-score">80.00' in r.text
    stranger = await browser(app, m, "oc2")
    assert (await stranger.get(page)).status_code == 404
    dual = await browser(app, m, "dual")
    assert (await dual.get(page)).status_code == 403
    a1 = await assessment_of(client, m, campaign["id"], "E1")
    assert a1["progress"]["submitted"] == 1


async def test_resident_answers_the_survey_once_from_the_phone_form(app, client):
    m = await build()
    campaign = await open_campaign(client, m)
    e1 = await assessment_of(client, m, campaign["id"], "E1")
    c = await browser(app, m, "owner1")
    r = await c.get("/evaluations")
    assert f'href="/evaluations/surveys/{e1["id"]}"' in r.text
    url = f"/evaluations/surveys/{e1['id']}"
    r = await c.get(url)
    assert 'id="survey-form"' in r.text and 'name="q_cleaning"' in r.text
    r = await c.post(url, headers=csrf(c), data={"unit_id": str(m.units["u1"]), "overall": "4",
                                                 "q_cleaning": "3", "comment": "楼道干净"})
    assert r.status_code in (302, 303), r.text
    co_owner = await browser(app, m, "owner2")
    r = await co_owner.get(url)
    assert 'id="survey-done"' in r.text
    r = await co_owner.post(url, headers=csrf(co_owner), data={"unit_id": str(m.units["u1"]),
                                                               "overall": "1"})
    assert r.status_code == 409 and "该户已填写过本次调查" in r.text
    r = await (await browser(app, m, "owner5")).get(url)
    assert r.status_code == 404


async def test_bureau_staff_starts_an_inspection_from_the_campaign_page(app, client):
    m = await build()
    campaign = await open_campaign(client, m)
    c = await browser(app, m, "bureau_staff")
    r = await c.get(f"/evaluations/campaigns/{campaign['id']}")
    e2 = await assessment_of(client, m, campaign["id"], "E2")
    assert f'/evaluations/assessments/{e2["id"]}/inspect' in r.text
    r = await c.post(f"/evaluations/assessments/{e2['id']}/inspect", headers=csrf(c))
    assert r.status_code in (302, 303), r.text
    r = await c.get(r.headers["location"])
    assert r.status_code == 200 and 'id="scoring-form"' in r.text
    oc = await browser(app, m, "oc2")
    r = await oc.post(f"/evaluations/assessments/{e2['id']}/inspect", headers=csrf(oc))
    assert r.status_code in (302, 303)  # the owners' committee simply gets its own form
    assert "/evaluations/submissions/" in r.headers["location"]
