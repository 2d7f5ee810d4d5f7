"""Bureau downloads: a campaign's reports as one ZIP with CSV/XLSX summaries, built by queue
jobs with progress, announced through the outbox when ready; existing reports are reused; only
the bureau requests it and only its members read it; the web page polls and listens live."""
from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile

from openpyxl import load_workbook

from core.db import fetch
from gongzhi.worker import build_worker
from tests.documents.world import principal
from tests.evaluations.campaign_world import build, open_campaign
from tests.factories import PASSWORD, login
from tests.gongzhi.test_route_walker import csrf, make_client


async def drain() -> None:
    """Run burst workers until no job is queued (a burst worker stops taking jobs once the queue
    looks empty, even if a job it is still running queues a follow-up)."""
    await asyncio.sleep(0.05)  # the after-commit enqueue runs as a task of this loop
    for _ in range(5):
        worker = build_worker(manage_pool=False, burst=True)
        await asyncio.wait_for(worker.start(), timeout=240)
        if not await worker.queue.count("queued"):
            return


async def report_versions(tenant: int) -> list[dict]:
    return await fetch("SELECT v.id, v.sha256, v.state, d.subject_id FROM document_version v"
                       " JOIN document d ON d.id = v.document WHERE v.tenant = $1"
                       " AND d.kind = 'annual_report' ORDER BY v.id", tenant)


async def test_the_bureau_downloads_a_campaign_as_one_zip_with_summaries(app, client, world):
    m = await build()
    campaign = await open_campaign(client, m)
    h = await m.h(client, "bureau")
    r = await client.post("/api/v1/document-exports", headers=h,
                          json={"campaign_id": campaign["id"]})
    assert r.status_code == 202, r.text
    export = r.json()
    assert (export["state"], export["total"], export["download_url"]) == ("queued", 2, None)
    await drain()
    r = await client.get(f"/api/v1/document-exports/{export['id']}", headers=h)
    done = r.json()
    assert (done["state"], done["done"], done["total"]) == ("ready", 2, 2), done
    r = await client.get(done["download_url"], headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "attachment;" in r.headers["content-disposition"]
    assert hashlib.sha256(r.content).hexdigest() == done["sha256"] == r.headers["x-content-sha256"]
    versions = await report_versions(m.tenant)
    assert len(versions) == 2
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = zf.namelist()
        pdfs = [n for n in names if n.endswith(".pdf")]
        assert len(pdfs) == 2 and {"summary.csv", "summary.xlsx"} <= set(names)
        assert {hashlib.sha256(zf.read(n)).hexdigest() for n in pdfs} == \
            {v["sha256"] for v in versions}
        csv_text = zf.read("summary.csv").decode("utf-8")
        assert csv_text.startswith("\ufeff小区,") and "E1 小区" in csv_text and "\r\n" in csv_text
        sheet = load_workbook(io.BytesIO(zf.read("summary.xlsx"))).active
        assert sheet["A1"].value == "小区" and sheet["A1"].font.bold and sheet.freeze_panes == "A2"
        assert {sheet.cell(row=i, column=1).value for i in (2, 3)} == {"E1 小区", "E2 小区"}
    [event] = await fetch("SELECT organization_ids, user_ids FROM outbox_event WHERE topic ="
                          " 'document.export_ready' AND (payload->>'export_id')::int = $1",
                          export["id"])
    assert event["organization_ids"] == [m.orgs["bureau"]]
    assert event["user_ids"] == [m.user_ids["bureau"]]

    # a second download reuses the registered reports: no new versions
    r = await client.post("/api/v1/document-exports", headers=h,
                          json={"campaign_id": campaign["id"]})
    await drain()
    again = (await client.get(f"/api/v1/document-exports/{r.json()['id']}", headers=h)).json()
    assert again["state"] == "ready" and await report_versions(m.tenant) == versions

    # the web page: progress block that htmx refreshes, the live stream, the download link
    c = make_client(app)
    await c.get("/login")
    r = await c.post("/login", data={"username": m.users["bureau"], "password": PASSWORD,
                                     "next": "/"}, headers=csrf(c))
    assert r.status_code in (302, 303)
    page = await c.get(f"/documents/exports/{export['id']}")
    assert page.status_code == 200
    assert 'id="export-status"' in page.text and 'data-state="ready"' in page.text
    assert f'href="/documents/exports/{export["id"]}/file"' in page.text
    assert 'id="export-expires"' in page.text and "北京时间" in page.text
    assert "<script>" not in page.text and "/documents/static/documents-live.js" in page.text
    assert (await c.get(f"/documents/exports/{export['id']}/file")).content == \
        (await client.get(done["download_url"], headers=h)).content
    listing = await c.get("/documents/exports")
    assert campaign["name"] in listing.text and 'name="campaign_id"' in listing.text
    await c.aclose()


async def test_the_page_hears_the_ready_notice_live(app, client, world):
    m = await build()
    campaign = await open_campaign(client, m)
    c = make_client(app)
    await c.get("/login")
    await c.post("/login", data={"username": m.users["bureau"], "password": PASSWORD,
                                 "next": "/"}, headers=csrf(c))
    r = await c.post("/documents/exports", data={"campaign_id": str(campaign["id"])},
                     headers=csrf(c))
    assert r.status_code in (302, 303), r.text
    export_id = int(r.headers["location"].rsplit("/", 1)[1])
    page = await c.get(f"/documents/exports/{export_id}")
    assert 'hx-trigger="every 2s, export-ready"' in page.text

    async def listen() -> str:
        async with c.stream("GET", f"/documents/exports/{export_id}/events",
                            params={"max_seconds": "200"}) as s:
            text = ""
            async for chunk in s.aiter_text():
                text += chunk
                if "event: export-ready" in text:
                    return text
        return text

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0.3)
    await drain()
    from core.outbox import publish_outbox
    await publish_outbox()
    text = await asyncio.wait_for(listener, timeout=60)
    assert "event: export-ready" in text and f'"export_id": {export_id}' in text
    await c.aclose()


async def test_only_the_bureau_requests_and_only_its_members_read_exports(app, client, world):
    m = await build()
    campaign = await open_campaign(client, m)
    so = await m.h(client, "so")
    r = await client.post("/api/v1/document-exports", headers=so,
                          json={"campaign_id": campaign["id"]})
    assert r.status_code == 403
    other = {**await login(client, world.a1.users["bureau:admin"]), "Accept-Language": "en"}
    r = await client.post("/api/v1/document-exports", headers=other,
                          json={"campaign_id": campaign["id"]})
    assert r.status_code == 404  # another tenant's campaign does not exist for them
    export_id = world.a1.extra["document_export"]
    for persona, side in (("street_office:staff", "a1"), ("street_office:admin", "a2"),
                          ("bureau:admin", "b")):
        hh = await login(client, getattr(world, side).users[persona])
        if persona == "street_office:staff":
            assert (await client.get(f"/api/v1/document-exports/{export_id}",
                                     headers=hh)).status_code == 200  # its own organisation
            continue
        for url in (f"/api/v1/document-exports/{export_id}",
                    f"/api/v1/document-exports/{export_id}/file"):
            assert (await client.get(url, headers=hh)).status_code == 404, (persona, url)
    p = await principal(world.tenant_a, world.a2.user_ids["street_office:admin"])
    from documents import exports
    assert export_id not in [x["id"] for x in await exports.list_exports(p)]


async def test_an_export_whose_report_cannot_be_made_fails_with_the_reason(client, world):
    from core.db import db
    from documents import exports

    m = await build()
    campaign = await open_campaign(client, m)
    async with db().transaction():
        row = await exports.request_export(await principal(m.tenant, m.user_ids["bureau"]),
                                           campaign["id"], lang="zh-CN")
        # one assessment now points at a contract of another tenant: its report cannot be made
        await fetch("UPDATE evaluation_assessment SET contract = $2 WHERE id = (SELECT min(id)"
                    " FROM evaluation_assessment WHERE campaign = $1)", campaign["id"],
                    world.b.contract)
    await exports.start_export(row["id"])
    await drain()
    [x] = await fetch("SELECT state, error FROM document_export WHERE id = $1", row["id"])
    assert x["state"] == "failed" and x["error"].startswith(f"contract {world.b.contract}:")


async def test_an_export_that_stops_making_progress_fails_and_one_that_progresses_does_not(
        client, world):
    from core.db import db
    from documents import exports
    from documents.jobs import fail_stalled_exports

    m = await build()
    campaign = await open_campaign(client, m)
    bureau = await principal(m.tenant, m.user_ids["bureau"])
    async with db().transaction():
        lost = await exports.request_export(bureau, campaign["id"], lang="zh-CN")
        fresh = await exports.request_export(bureau, campaign["id"], lang="zh-CN")
    # `done` ran to the end; its row is then put back as if its last report were still coming.
    async with db().transaction():
        done = await exports.request_export(bureau, campaign["id"], lang="zh-CN")
    await exports.start_export(done["id"])
    await drain()
    long_ago = f"now() - make_interval(secs => {exports.STALLED_AFTER_SECONDS + 60})"
    await fetch(f"UPDATE document_export SET created_at = {long_ago} WHERE id = ANY($1::bigint[])",
                [lost["id"], done["id"]])
    await fetch("UPDATE document_export SET state = 'running', storage_key = NULL WHERE id = $1",
                done["id"])
    registered = await fetch("SELECT count(*) AS n FROM document_version WHERE job_key LIKE $1",
                             f"export:{done['id']}:%")
    assert registered[0]["n"] > 0  # its reports were registered just now: it is progressing

    result = await fail_stalled_exports({})
    assert result == {"failed": [lost["id"]]}
    states = {r["id"]: (r["state"], r["error"]) for r in await fetch(
        "SELECT id, state, error FROM document_export WHERE id = ANY($1::bigint[])",
        [lost["id"], fresh["id"], done["id"]])}
    assert states[lost["id"]][0] == "failed" and "no progress" in states[lost["id"]][1]
    assert states[fresh["id"]] == ("queued", None) and states[done["id"]] == ("running", None)
    audit = await fetch("SELECT subject_id FROM audit_entry WHERE tenant_id = $1 AND action ="
                        " 'document.export_failed'", m.tenant)
    assert [a["subject_id"] for a in audit] == [str(lost["id"])]
    assert await fail_stalled_exports({}) == {"failed": []}  # running it again changes nothing


async def test_a_ready_zip_expires_after_the_retention_and_its_file_goes_once_no_export_offers_it(
        app, client, world):
    from core.settings import get_settings
    from core.storage import ObjectNotFound, storage
    from documents.jobs import expire_exports

    m = await build()
    campaign = await open_campaign(client, m)
    h = await m.h(client, "bureau")
    ids = []
    for _ in range(2):
        r = await client.post("/api/v1/document-exports", headers=h,
                              json={"campaign_id": campaign["id"]})
        ids.append(r.json()["id"])
        await drain()
    old, new = [(await client.get(f"/api/v1/document-exports/{i}", headers=h)).json()
                for i in ids]
    assert old["state"] == new["state"] == "ready"
    days = get_settings().documents_export_retention_days
    finished = {r["id"]: r for r in await fetch(
        "SELECT id, finished_at, storage_key FROM document_export WHERE id = ANY($1::bigint[])",
        ids)}
    from datetime import datetime, timedelta
    assert datetime.fromisoformat(old["expires_at"]) == \
        finished[ids[0]]["finished_at"] + timedelta(days=days)
    # Two exports of an unchanged campaign may hold the same bytes, stored once by content:
    # let the newer one offer the older one's file, then age only the older one.
    key = finished[ids[0]]["storage_key"]
    await fetch("UPDATE document_export SET storage_key = $2 WHERE id = $1", ids[1], key)
    await fetch("UPDATE document_export SET finished_at = now() - make_interval(days => $2 + 1)"
                " WHERE id = $1", ids[0], days)

    assert await expire_exports({}) == {"expired": [ids[0]]}
    gone = await client.get(old["download_url"], headers=h)
    assert gone.status_code == 410 and gone.headers["content-type"].startswith(
        "application/problem+json")
    assert gone.json()["code"] == "expired" and "expired" in gone.json()["detail"]
    zh = await client.get(old["download_url"], headers={**h, "Accept-Language": "zh-CN"})
    assert zh.status_code == 410 and "过期" in zh.json()["detail"]
    expired = (await client.get(f"/api/v1/document-exports/{ids[0]}", headers=h)).json()
    assert expired["state"] == "expired" and expired["download_url"] is None
    assert expired["expires_at"] is None
    assert await storage().get(key)  # still offered by the newer export
    assert (await client.get(new["download_url"], headers=h)).status_code == 200
    audit = await fetch("SELECT subject_id FROM audit_entry WHERE tenant_id = $1 AND action ="
                        " 'document.export_expired'", m.tenant)
    assert [a["subject_id"] for a in audit] == [str(ids[0])]
    assert await expire_exports({}) == {"expired": []}  # running it again changes nothing

    await fetch("UPDATE document_export SET finished_at = now() - make_interval(days => $2 + 1)"
                " WHERE id = $1", ids[1], days)
    assert await expire_exports({}) == {"expired": [ids[1]]}
    try:
        await storage().get(key)
        raise AssertionError("the expired ZIP's file is still stored")
    except ObjectNotFound:
        pass

    # the bureau's page says so, stops polling and offers to prepare the ZIP again
    c = make_client(app)
    await c.get("/login")
    await c.post("/login", data={"username": m.users["bureau"], "password": PASSWORD,
                                 "next": "/"}, headers=csrf(c))
    page = await c.get(f"/documents/exports/{ids[0]}")
    assert 'data-state="expired"' in page.text and 'hx-trigger="export-ready"' in page.text
    assert 'id="export-expired"' in page.text and "已过期" in page.text
    assert (await c.get(f"/documents/exports/{ids[0]}/file")).status_code == 410
    await c.aclose()
