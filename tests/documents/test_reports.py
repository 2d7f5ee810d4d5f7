"""Annual assessment reports: published evaluation results, criterion scores per evaluator, the
survey, objections and case statistics reach the PDF and its attached JSON; unpublished results
print "尚未评价"; the API queues renders (bureau, street office) and refuses everyone else;
the company roll-up carries the bureau's seal; downloads name the version."""
from __future__ import annotations

import asyncio
import json
from datetime import date

from core.db import db, fetch
from documents import pdfa, reports
from documents.report_gather import gather_contract_report
from documents.rendering import Header, render_pdf
from gongzhi.worker import build_worker
from tests.documents.test_rendering import pdftotext
from tests.evaluations.campaign_world import assessment_of, build, open_campaign
from tests.factories import login

KEYS = ["general_management", "buildings", "facilities", "order_safety", "cleaning", "greening",
        "customer_service"]


async def drain() -> None:
    for _ in range(5):
        worker = build_worker(manage_pool=False, burst=True)
        await asyncio.wait_for(worker.start(), timeout=240)
        if not await worker.queue.count("queued"):
            return


async def publish_results(m, assessment_id: int) -> None:
    """What evaluations' scoring and publication leave behind, written directly: two submitted
    evaluations, survey answers, a published total with its components, an upheld objection."""
    t = m.tenant
    async with db().transaction():
        for org, kind, base in (("oc1", "owners_committee", 90), ("rc", "residents_committee", 80)):
            [sub] = await fetch(
                "INSERT INTO evaluation_submission (tenant, assessment, organization,"
                " evaluator_kind, status, score, version, submitted_at, created_at, updated_at)"
                " VALUES ($1, $2, $3, $4, 'submitted', $5, 1, now(), now(), now())"
                " ON CONFLICT (assessment, organization) DO UPDATE SET status = 'submitted',"
                " score = EXCLUDED.score, submitted_at = now() RETURNING id",
                t, assessment_id, m.orgs[org], kind, base + 0.5)
            for i, key in enumerate(KEYS):
                await fetch("INSERT INTO evaluation_submission_score (tenant, submission,"
                            " criterion_key, score, comment, evidence) VALUES ($1, $2, $3, $4,"
                            " '', '{}'::jsonb)", t, sub["id"], key, base + i)
        for unit, overall in (("u1", 5), ("u2", 4)):
            await fetch("INSERT INTO evaluation_survey_response (tenant, assessment, unit,"
                        " overall, answers, comment, submitted_at) VALUES ($1, $2, $3, $4,"
                        " '{}'::jsonb, '', now())", t, assessment_id, m.units[unit], overall)
        components = {"kinds": {
            "owners_survey": {"weight": 30, "score": 87.5, "state": "ok", "effective_weight": 40},
            "owners_committee": {"weight": 20, "score": 90.5, "state": "ok", "effective_weight": 26.67},
            "residents_committee": {"weight": 20, "score": 80.5, "state": "ok", "effective_weight": 26.67},
            "street_office": {"weight": 7.5, "score": None, "state": "missing", "effective_weight": 0}},
            "held": False}
        await fetch("UPDATE evaluation_assessment SET status = 'published', total_score = 91.25,"
                    " grade = 'excellent', rank = 1, components = $2::jsonb, published_at = now()"
                    " WHERE id = $1", assessment_id, json.dumps(components))
        await fetch("INSERT INTO evaluation_objection (tenant, assessment, raised_by_org, reasons,"
                    " evidence, status, original_score, resolution_reason, resolved_at, version,"
                    " created_at) VALUES ($1, $2, $3, '保洁评分依据不足', '{}'::jsonb, 'upheld',"
                    " 91.25, '现场检查记录齐全', now(), 1, now())",
                    t, assessment_id, m.orgs["p1"])


async def test_published_results_reach_the_pdf_and_its_attached_json(client):
    m = await build()
    campaign = await open_campaign(client, m)
    a = await assessment_of(client, m, campaign["id"], "E1")
    await publish_results(m, a["id"])
    start = date.fromisoformat(campaign["period_start"])
    end = date.fromisoformat(campaign["period_end"])
    data = await gather_contract_report(m.tenant, m.contracts["E1"], start, end)
    assert data.assessment.total_score == 91.25 and data.assessment.grade == "excellent"
    assert [c.kind for c in data.assessment.components][:3] == [
        "owners_survey", "owners_committee", "residents_committee"]
    cleaning = next(r for r in data.assessment.criteria if r.key == "cleaning")
    assert cleaning.name == "保洁" and sorted(cleaning.scores.values()) == [84.0, 94.0]
    assert (data.survey.responses, data.survey.average, data.survey.households) == (2, 4.5, 3)
    assert data.survey.response_rate == 66.7
    [objection] = data.objections
    assert objection.status == "upheld" and objection.reasons == "保洁评分依据不足"
    signers = await reports.contract_report_signers(m.tenant, data)
    assert [s.field_name for s in signers] == ["sig_owners_committee", "sig_residents_committee",
                                              "sig_street_office", "seal_bureau"]
    header = Header(title=reports.report_title(data.period), number="T-1", version=1,
                    issuer=data.bureau.name, issued_on=date.today(), verify_code="x")
    out = render_pdf(reports.TEMPLATE_CONTRACT, {"data": data, "header": header,
                                                 "charts": reports.case_charts(data.cases),
                                                 "labels": reports.labels()},
                     signers=signers, attachments=reports.contract_attachments(data))
    text = pdftotext(out.pdf).replace(" ", "")
    for expected in ("物业服务评价报告", "91.25", "优秀", "保洁", "94.0", "业主满意度调查", "4.50",
                     "保洁评分依据不足", "维持原结果", "现场检查记录齐全", "出具单位盖章"):
        assert expected in text, expected
    assert "尚未评价" not in text.split("五、工单统计")[0]
    attached = json.loads(pdfa.read_attachments(out.pdf)["source.json"])
    assert attached["assessment"]["total_score"] == 91.25
    assert attached["survey"]["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    criteria_csv = pdfa.read_attachments(out.pdf)["criterion_scores.csv"].decode("utf-8-sig")
    assert criteria_csv.splitlines()[0].startswith("criterion,weight,")


async def test_unpublished_results_print_not_yet_assessed(client):
    m = await build()
    campaign = await open_campaign(client, m)
    start = date.fromisoformat(campaign["period_start"])
    end = date.fromisoformat(campaign["period_end"])
    data = await gather_contract_report(m.tenant, m.contracts["E2"], start, end)
    assert data.assessment is not None and data.assessment.status == "open"
    assert data.assessment.total_score is None and data.survey is None and data.objections is None
    assert data.assessment.components == [] and data.assessment.criteria == []


async def test_the_bureau_requests_a_report_and_downloads_it_with_its_version(client):
    m = await build()
    h = await m.h(client, "bureau")
    r = await client.post("/api/v1/documents/annual-reports", headers=h,
                          json={"contract_id": m.contracts["E1"], "year": 2025})
    assert r.status_code == 202, r.text
    status_url = r.json()["status_url"]
    await drain()
    status = (await client.get(status_url, headers=h)).json()
    assert status["stage"] == "registered" and status["version"] == 1, status
    doc = (await client.get(f"/api/v1/documents/{status['document_id']}", headers=h)).json()
    assert doc["kind"] == "annual_report" and doc["period"] == "2025"
    assert doc["title"] == "2025 年度物业服务评价报告"
    latest = doc["latest"]
    assert latest["state"] == "awaiting_signatures" and len(latest["signers"]) == 4
    r = await client.get(latest["download_url"], headers=h)
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")
    assert r.headers["x-document-version"] == "1" and r.headers["etag"] == f'"{latest["sha256"]}"'
    assert "filename*=UTF-8''GZ-PJ-2025-SC" in r.headers["content-disposition"]
    # the evaluated company reads it; someone else's status URL is not theirs to read
    p1 = await m.h(client, "p1")
    assert (await client.get(f"/api/v1/documents/{doc['id']}/pdf", headers=p1)).status_code == 200
    assert (await client.get(status_url, headers=p1)).status_code == 404
    listing = (await client.get("/api/v1/documents", headers=p1)).json()
    assert [d["id"] for d in listing["items"]] == [doc["id"]]


async def test_the_company_roll_up_carries_the_bureau_seal_only(client):
    m = await build()
    h = await m.h(client, "bureau")
    r = await client.post("/api/v1/documents/company-reports", headers=h,
                          json={"company_id": m.orgs["p1"], "year": date.today().year})
    assert r.status_code == 202, r.text
    await drain()
    status = (await client.get(r.json()["status_url"], headers=h)).json()
    doc = (await client.get(f"/api/v1/documents/{status['document_id']}", headers=h)).json()
    assert doc["kind"] == "company_report"
    assert [s["kind"] for s in doc["latest"]["signers"]] == ["seal"]
    pdf = (await client.get(doc["latest"]["download_url"], headers=h)).content
    text = pdftotext(pdf).replace(" ", "")
    assert "服务项目" in text and "E1小区" in text


async def test_report_requests_are_refused_to_everyone_but_the_bureau_and_street_office(
        client, world):
    a1 = world.a1
    body = {"contract_id": a1.contract, "year": 2024}
    for persona, side, status in (("property_company:admin", "a1", 403),
                                  ("owners_committee:chair", "a1", 403),
                                  ("street_office:staff", "a1", 403),
                                  ("street_office:admin", "a2", 404),
                                  ("bureau:admin", "b", 404)):
        h = await login(client, getattr(world, side).users[persona])
        r = await client.post("/api/v1/documents/annual-reports", headers=h, json=body)
        assert r.status_code == status, (persona, side, r.text)
    h = await login(client, a1.users["street_office:admin"])
    assert (await client.post("/api/v1/documents/annual-reports", headers=h,
                              json=body)).status_code == 202
    r = await client.post("/api/v1/documents/company-reports", headers=h,
                          json={"company_id": a1.orgs["property_company"], "year": 2024})
    assert r.status_code == 403
    doc = a1.extra["registered_document"]
    for persona, side in (("street_office:admin", "a2"), ("property_company:admin", "a2"),
                          ("bureau:admin", "b"), ("resident", "a1")):
        h = await login(client, getattr(world, side).users[persona])
        for url in (f"/api/v1/documents/{doc}", f"/api/v1/documents/{doc}/pdf",
                    f"/api/v1/documents/{doc}/versions", f"/api/v1/documents/{doc}/events",
                    f"/api/v1/documents/{doc}/versions/1/files"):
            assert (await client.get(url, headers=h)).status_code == 404, (persona, url)


async def test_the_bureau_issues_a_report_from_the_documents_page(app, client):
    from tests.factories import PASSWORD
    from tests.gongzhi.test_route_walker import csrf, make_client

    m = await build()
    c = make_client(app)
    await c.get("/login")
    await c.post("/login", data={"username": m.users["bureau"], "password": PASSWORD,
                                 "next": "/"}, headers=csrf(c))
    page = await c.get("/documents")
    assert 'id="issue-report"' in page.text and "E1 小区" in page.text
    year = date.today().year - 1
    r = await c.post("/documents/annual-reports", headers=csrf(c),
                     data={"contract_id": str(m.contracts["E2"]), "year": str(year)})
    assert r.status_code in (302, 303) and r.headers["location"] == "/documents?queued=1"
    await drain()
    page = await c.get("/documents")
    assert f"{year} 年度物业服务评价报告" in page.text
    # a property company's manager gets no form and cannot post one
    p1 = make_client(app)
    await p1.get("/login")
    await p1.post("/login", data={"username": m.users["p1"], "password": PASSWORD, "next": "/"},
                  headers=csrf(p1))
    assert 'id="issue-report"' not in (await p1.get("/documents")).text
    r = await p1.post("/documents/annual-reports", headers=csrf(p1),
                      data={"contract_id": str(m.contracts["E1"]), "year": str(year)})
    assert r.status_code == 403
    await c.aclose()
    await p1.aclose()
