"""Results pages: the bureau computes and publishes from the results table (filters, exports),
the company reads its result and objects through the form, the bureau adjusts it there; other
companies get 404."""
from __future__ import annotations

import re

import httpx
import pytest

from tests.evaluations import results_world
from tests.factories import PASSWORD


@pytest.fixture(scope="module")
async def r(client):
    return await results_world.build()


async def browser(app, username: str) -> httpx.AsyncClient:
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.9.8.11", 42000)),
                          base_url="http://testserver.local", headers={"Accept-Language": "en"})
    page = await c.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    resp = await c.post("/login", data={"username": username, "password": PASSWORD,
                                        "_csrf_token": token})
    assert resp.status_code in (302, 303), resp.text
    return c


def csrf(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


async def test_the_results_journey_through_the_pages(app, client, r):
    bureau = await browser(app, r.users["bureau"])
    company = await browser(app, r.users["p1"])
    other = await browser(app, r.users["p2"])
    try:
        results = f"/evaluations/campaigns/{r.campaign}/results"
        page = await bureau.get(results)
        assert page.status_code == 200 and 'id="compute"' in page.text
        resp = await bureau.post(f"{results}/compute", data={"_csrf_token": csrf(page.text)})
        assert resp.status_code in (302, 303) and resp.headers["location"] == results
        page = await bureau.get(results)
        assert "85.75" in page.text and "46.25" in page.text and "84.31" in page.text
        filtered = await bureau.get(results, params={"grade": "fail"})
        assert "46.25" in filtered.text and "85.75" not in filtered.text
        download = await bureau.get(f"{results}/download", params={"format": "csv"})
        assert download.status_code == 200 and download.content.startswith(b"\xef\xbb\xbf")
        assert (await company.get(results)).status_code == 404  # not published yet
        resp = await bureau.post(f"{results}/publish", data={"_csrf_token": csrf(page.text)})
        assert resp.status_code in (302, 303)

        listing = await company.get("/evaluations/results")
        assert f"/evaluations/campaigns/{r.campaign}/results" in listing.text
        mine = f"/evaluations/assessments/{r.assessments['A1']}/result"
        page = await company.get(mine)
        assert page.status_code == 200 and 'id="objection-form"' in page.text
        assert "87.50" in page.text  # the survey component
        resp = await company.post(f"/evaluations/assessments/{r.assessments['A1']}/objections",
                                  data={"_csrf_token": csrf(page.text), "reasons": "业委会评分有误",
                                        "evidence_case_ids": f"{r.cases['E1']}",
                                        "evidence_note": ""})
        assert resp.status_code in (302, 303) and "error" not in resp.headers["location"]
        page = await company.get(mine)
        assert "业委会评分有误" in page.text and 'id="objection-form"' not in page.text
        assert (await other.get(mine)).status_code == 404

        page = await bureau.get(mine)
        oid = re.search(r'action="/evaluations/objections/(\d+)/resolve"', page.text).group(1)
        resp = await bureau.post(f"/evaluations/objections/{oid}/resolve", data={
            "_csrf_token": csrf(page.text), "decision": "adjust", "adjusted_score": "90",
            "reason": "证据属实", "version": "1"})
        assert resp.status_code in (302, 303) and "error" not in resp.headers["location"]
        page = await company.get(mine)
        assert '<dd id="total-score">90.00</dd>' in page.text and "优秀" in page.text
    finally:
        for c in (bureau, company, other):
            await c.aclose()


async def test_the_results_page_in_chinese(app, client, r):
    bureau = await browser(app, r.users["bureau_staff"])
    try:
        page = await bureau.get(f"/evaluations/campaigns/{r.campaign}/results?lang=zh-CN")
        assert page.status_code == 200
        assert "物业服务企业" in page.text and "导出" in page.text
        assert 'id="compute"' not in page.text  # staff read, administrators act
    finally:
        await bureau.aclose()
