"""Access matrix: every persona of the victim side × every resource kind × read/write gets
exactly what DESIGN.md §2–§4 (and, where it is silent, the owning package's documented rule)
allows; and the victim's phone number and name stay masked everywhere they are not allowed.

The route walker (test_route_walker.py) proves outsiders are refused. This proves the insiders
get the right share: one table of expectations (EXPECTED), one parametrized test. The matrix
runs on a world of its own (tests.factories.build_world), so its writes disturb no other test.
"""
from __future__ import annotations

import io
import logging
import os

import pytest

from core.db import db, fetch
from tests.factories import PASSWORD, _password_hash, build_world, login
from tests.gongzhi.access_matrix_expected import EXPECTED, PERSONAS, UNMASKED
from tests.gongzhi.access_matrix_probes import INTERNAL_NOTE, PROBES, classify

VICTIM_PHONE = "13811112222"
DISCOVER = bool(os.environ.get("ACCESS_MATRIX_DISCOVER"))
CHECKS = [(persona, kind, op) for op in ("read", "write") for kind in PROBES
          for persona in PERSONAS if PROBES[kind][0 if op == "read" else 1] is not None]
RESPONSES: list[tuple[str, str, str, str]] = []  # (persona, kind, op, body) for the masking checks


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.level_before = logging.WARNING

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # rendered as the app's own handler renders it


LOGS = _Collect()


@pytest.fixture(scope="session")
async def mx(client):
    """The matrix's own world, plus a resident of another estate in the victim's street, an
    internal note on the victim case, and every persona logged in."""
    from tenancy import repository as repo
    from tenancy import system_repository as sysrepo

    # Every log line of the matrix's requests, rendered by the app's formatter, at INFO (the
    # suite runs at WARNING; the access and audit lines are INFO).
    root = logging.getLogger()
    LOGS.setFormatter(next((h.formatter for h in root.handlers if h.formatter), None))
    LOGS.level_before = root.level
    root.addHandler(LOGS)
    root.setLevel(logging.INFO)
    w = await build_world()
    a1 = w.a1
    async with db().transaction():
        estate = await sysrepo.insert(repo.Estate, tenant=w.tenant_a, community=a1.community,
                                      name="邻居小区", address="邻居路 2 号")
        building = await sysrepo.insert(repo.Building, tenant=w.tenant_a, estate=estate["id"],
                                        name="N-1")
        unit = await sysrepo.insert(repo.Unit, tenant=w.tenant_a, estate=estate["id"],
                                    building=building["id"], number="N-101", floor=1,
                                    exclusive_area="70.00")
        person = await sysrepo.insert(repo.Person, tenant=w.tenant_a, name="邻居业主",
                                      phone="13877778888")
        await sysrepo.insert(repo.Ownership, tenant=w.tenant_a, person=person["id"],
                             unit=unit["id"], estate=estate["id"])
        neighbour = await sysrepo.insert(repo.User, tenant=w.tenant_a,
                                         username=f"{a1.users['resident']}_neighbour",
                                         password_hash=_password_hash(),
                                         display_name="neighbour", person=person["id"])
    users = {**a1.users, "other_resident": neighbour["username"]}
    headers = {p: await login(client, users[p], PASSWORD) for p in PERSONAS}
    estate_row = (await client.get(f"/api/v1/estates/{a1.estate}", headers=headers["bureau:admin"])).json()
    oc_row = (await client.get(f"/api/v1/organizations/{a1.orgs['owners_committee']}",
                               headers=headers["bureau:admin"])).json()
    contract = (await client.get(f"/api/v1/contracts/{a1.contract}", headers=headers["bureau:admin"])).json()
    meeting = (await client.get(f"/api/v1/meetings/{a1.extra['meeting']}",
                                headers=headers["residents_committee:admin"])).json()
    r = await client.post(f"/api/v1/cases/{a1.case}/comments", headers=headers["property_company:manager"],
                          json={"text": INTERNAL_NOTE, "visibility": "internal"})
    assert r.status_code == 201, r.text
    photo_cases = {}
    for persona in PERSONAS:
        r = await client.post("/api/v1/cases", headers=headers["resident"], json={
            "estate_id": a1.estate, "category": "repair", "description": f"{persona} 照片工单"})
        assert r.status_code == 201, r.text
        photo_cases[persona] = r.json()["id"]
    org_of = {p: (w.bureau_a if p.startswith("bureau") else a1.orgs.get(p.split(":")[0],
                                                                         a1.orgs["owners_committee"]))
              for p in PERSONAS}
    ids = {"photo_cases": photo_cases, "org_of": org_of, "unit": a1.unit,
           "assessment": a1.extra["evaluation_assessment"], "estate": a1.estate, "estate_name": estate_row["name"], "person": a1.person,
           "phone": VICTIM_PHONE, "oc": a1.orgs["owners_committee"], "oc_name": oc_row["name"],
           "pc": a1.orgs["property_company"],
           "pc_handler_membership": a1.memberships["property_company:handler"],
           "case": a1.case, "attachment": a1.attachment, "contract": a1.contract,
           "contract_number": contract["number"], "contract_document": a1.document,
           "agreement": a1.agreement, "campaign": a1.extra["evaluation_campaign"],
           "submission": a1.extra["evaluation_submission"],
           "result_campaign": a1.extra["evaluation_result_campaign"],
           "result_assessment": a1.extra["evaluation_result_assessment"],
           "objection": a1.extra["evaluation_objection"],
           "document": a1.extra["registered_document"],
           "document_version": a1.extra["registered_version"], "meeting": a1.extra["meeting"],
           "meeting_location": meeting["location"], "resolution": a1.extra["resolution"],
           "notice": a1.extra["notice"], "oc_chair_h": headers["owners_committee:chair"]}
    return {"world": w, "headers": headers, "ids": ids, "victim_name": f"{a1.marker}业主"}


@pytest.mark.parametrize(("persona", "kind", "op"), CHECKS, ids=[f"{p}-{k}-{o}" for p, k, o in CHECKS])
async def test_persona_gets_exactly_what_design_allows(client, mx, persona, kind, op):
    probe = PROBES[kind][0 if op == "read" else 1]
    ids = {**mx["ids"], "persona": persona}
    r = await probe(client, mx["headers"][persona], ids, mx["headers"]["bureau:admin"])
    RESPONSES.append((persona, kind, op, r.text))
    got = classify(kind, op, r)
    if DISCOVER:
        print(f"\nMATRIX {persona!r} {kind!r} {op!r} {got!r} {r.status_code} {r.text[:160]}")
        return
    want = EXPECTED[(persona, kind, op)]
    assert got == want, f"{persona} {op} {kind}: got {got} ({r.status_code}) want {want}: {r.text[:300]}"


# --- masking: everything the matrix collected, plus exports, webhook payloads and log lines ----
def _leaks(text: str, name: str) -> list[str]:
    return [s for s in (VICTIM_PHONE, name) if s in text]


async def test_api_responses_show_the_victim_unmasked_only_where_allowed(mx):
    assert len(RESPONSES) >= len(CHECKS), "run with the matrix above"
    name = mx["victim_name"]
    leaks = [(p, k, o, _leaks(body, name)) for p, k, o, body in RESPONSES
             if (p, k, o) not in UNMASKED and _leaks(body, name)]
    assert leaks == []
    # ... and the check can see a leak: the allowed views do carry the full contact.
    shown = {(p, k, o) for p, k, o, body in RESPONSES if (p, k, o) in UNMASKED and _leaks(body, name)}
    assert shown == UNMASKED


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_case_exports_carry_masked_reporters_only(client, mx, fmt):
    """DESIGN §4: exports for other organisations carry masked data; cases.export masks the
    reporter for everyone, the reporter's own organisations included."""
    import openpyxl

    a1 = mx["world"].a1
    exported = 0
    for persona in PERSONAS:
        r = await client.get(f"/api/v1/cases/export.{fmt}", headers=mx["headers"][persona])
        if r.status_code in (403, 404):
            continue
        assert r.status_code == 200, (persona, r.status_code, r.text[:200])
        if fmt == "csv":
            text = r.content.decode("utf-8-sig")
        else:
            book = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
            text = "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                             for v in row if v is not None)
        if a1.marker in text:  # the persona's export holds the victim case
            exported += 1
            assert "138****2222" in text, persona  # the masked form is there ...
        assert _leaks(text, mx["victim_name"]) == [], persona  # ... the full one nowhere
    assert exported >= 10  # every organisation covering the estate exported the victim case


async def test_webhook_payloads_of_case_events_carry_ids_and_status_only(mx):
    from core import webhooks

    rows = await fetch("SELECT id, topic, payload, created_at FROM outbox_event WHERE tenant_id = $1"
                       " AND topic LIKE 'case.%' ORDER BY id", mx["world"].tenant_a)
    assert len(rows) >= 30  # the world's cases and the matrix's comments and photos
    for row in rows:
        payload = row["payload"] if isinstance(row["payload"], dict) else __import__("json").loads(row["payload"])
        text = webhooks.body("00000000-0000-0000-0000-000000000000", row["topic"], row["created_at"],
                             payload).decode()
        assert _leaks(text, mx["victim_name"]) == [], (row["topic"], text)
        assert "138****2222" not in text and INTERNAL_NOTE not in text, (row["topic"], text)



SWEEP = ("/api/v1/cases", "/api/v1/cases?q=漏水", "/api/v1/units/{unit}/owners", "/api/v1/me",
         "/api/v1/cases/{case}/attachments", "/api/v1/users", "/api/v1/documents",
         "/api/v1/meeting-notices", "/api/v1/evaluation-surveys", "/api/v1/evaluation-objections",
         "/api/v1/evaluation-assessments/{assessment}", "/api/v1/meetings/{meeting}/attendance",
         "/api/v1/meetings/{meeting}/minutes/amendments", "/api/v1/meetings/{meeting}/action-items",
         "/api/v1/documents/{document}/events", "/api/v1/cases/similar?estate_id={estate}&category=repair")


async def test_lists_and_other_reads_keep_the_victim_masked(client, mx):
    a1 = mx["world"].a1
    ids = {"unit": a1.unit, "case": a1.case, "assessment": a1.extra["evaluation_assessment"],
           "meeting": a1.extra["meeting"], "document": a1.extra["registered_document"],
           "estate": a1.estate}
    seen = []
    for persona in PERSONAS:
        for url in SWEEP:
            r = await client.get(url.format(**ids), headers=mx["headers"][persona])
            assert r.status_code < 500, (persona, url, r.status_code)
            if os.environ.get("ACCESS_MATRIX_DISCOVER"):
                print("\nSWEEP", persona, url, r.status_code, _leaks(r.text, mx["victim_name"]), r.text[:120])
            seen.append((persona, url, _leaks(r.text, mx["victim_name"])))
    # The reporter's own cases carry their own contact; nothing else carries it to anyone.
    assert [s for s in seen if s[2] and not (s[0] == "resident" and s[1].startswith("/api/v1/cases"))] == []
    assert ("resident", "/api/v1/cases", [VICTIM_PHONE, mx["victim_name"]]) in seen


async def test_the_assigned_handler_sees_the_contact_and_every_staff_view_is_logged(client, mx):
    """DESIGN §4: unmasked for the reporter, the assigned handler and roles that need them;
    every view of unmasked contact data is logged (audit `case.contact_viewed`; contact_view
    rows and `person.contact_viewed` for the person's contact)."""
    h, a1 = mx["headers"], mx["world"].a1
    case = mx["ids"]["photo_cases"]["property_company:handler"]
    for action, body in (("accept", {}), ("assign", {"assignee_user_id": a1.user_ids["property_company:handler"]})):
        r = await client.post(f"/api/v1/cases/{case}/actions/{action}", headers=h["property_company:manager"],
                              json=body)
        assert r.status_code == 200, (action, r.text)
    shown = {}
    for persona in PERSONAS:
        r = await client.get(f"/api/v1/cases/{case}", headers=h[persona])
        if r.status_code == 200:
            shown[persona] = r.json()["reporter"]
    assert shown["property_company:handler"]["phone"] == VICTIM_PHONE  # now assigned
    assert not shown["property_company:handler"]["masked"]
    unmasked = {p for p, rep in shown.items() if not rep["masked"]}
    assert unmasked == {"resident", "property_company:manager", "property_company:handler"}
    assert all(rep["phone"] == "138****2222" for p, rep in shown.items() if p not in unmasked)
    viewers = {r["actor_user_id"] for r in await fetch(
        "SELECT actor_user_id FROM audit_entry WHERE tenant_id = $1 AND action = 'case.contact_viewed'"
        " AND subject_id = $2", mx["world"].tenant_a, str(case))}
    assert viewers == {a1.user_ids["property_company:manager"], a1.user_ids["property_company:handler"]}
    contact_viewers = {r["actor_user_id"] for r in await fetch(
        "SELECT actor_user_id FROM audit_entry WHERE tenant_id = $1 AND action = 'person.contact_viewed'"
        " AND subject_id = $2", mx["world"].tenant_a, str(a1.person))}
    assert contact_viewers >= {a1.user_ids[p] for p, k, o in UNMASKED
                               if k == "person_contact" and p not in ("resident",)}



async def test_an_unmasked_case_returned_by_an_action_is_logged_as_a_contact_view(client, mx):
    h, a1 = mx["headers"], mx["world"].a1
    r = await client.post("/api/v1/cases", headers=h["resident"], json={
        "estate_id": a1.estate, "category": "repair", "description": "动作回执"})
    assert r.status_code == 201, r.text
    case = r.json()["id"]
    r = await client.post(f"/api/v1/cases/{case}/actions/accept", headers=h["property_company:manager"],
                          json={})
    assert r.status_code == 200, r.text
    assert r.json()["reporter"]["phone"] == VICTIM_PHONE  # shown unmasked ...
    logged = await fetch("SELECT 1 FROM audit_entry WHERE tenant_id = $1 AND action = 'case.contact_viewed'"
                         " AND subject_id = $2 AND actor_user_id = $3", mx["world"].tenant_a, str(case),
                         a1.user_ids["property_company:manager"])
    assert logged  # ... so the view is logged

async def test_web_pages_keep_the_victim_masked(app, mx):
    """The case pages (queue, detail) as each persona's web session: the full contact only
    where the API shows it (the reporter; the responsible company's manager); the reporter's
    page shows no internal note."""
    import re

    import httpx

    a1 = mx["world"].a1
    users = {**a1.users, "other_resident": None}
    leaks = []
    for i, persona in enumerate(PERSONAS[:-1]):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(f"10.9.7.{i + 10}", 41000)),
                                     base_url="http://testserver.local") as c:
            token = re.search(r'name="_csrf_token" value="([^"]+)"', (await c.get("/login")).text).group(1)
            r = await c.post("/login", data={"username": users[persona], "password": PASSWORD,
                                             "_csrf_token": token})
            assert r.status_code in (302, 303), (persona, r.text[:200])
            for url in ("/cases", "/cases/mine", f"/cases/{a1.case}", "/"):
                page = await c.get(url)
                assert page.status_code < 500, (persona, url)
                found = _leaks(page.text, mx["victim_name"])
                if persona == "resident" and INTERNAL_NOTE in page.text:
                    found.append("internal note shown to the reporter")
                if found and not (url == f"/cases/{a1.case}" and persona in (
                        "resident", "property_company:manager")) and not (
                        persona == "resident" and url == "/cases/mine"):
                    leaks.append((persona, url, found))
    assert leaks == []


@pytest.fixture(scope="session")
async def notice(client, mx):
    """A joint meeting of the matrix world taken through to its public notice (minutes naming
    the victim owner and an owner of the neighbouring estate, with their phone numbers; signed,
    sealed, posted, the notice's PDF rendered): (notice JSON as the victim owner reads it, PDF
    text)."""
    from tests.meetings.helpers import PIN, SEAL_PIN, at, create_seal, drain_queue, enroll
    from tests.meetings.test_minutes_api import pdf_text

    a1, h = mx["world"].a1, mx["headers"]
    rc = h["residents_committee:admin"]

    async def call(method: str, url: str, json=None, status: int = 200, headers=rc):
        r = await client.request(method, url, headers=headers,
                                 json=(json or {}) if method == "POST" else json)
        assert r.status_code == status, (url, r.status_code, r.text)
        return r

    m = (await call("POST", "/api/v1/meetings", {
        "kind": "joint", "estate_id": a1.estate, "convener_organization_id": a1.orgs["residents_committee"],
        "title": "矩阵联席会议", "starts_at": at(days=4), "ends_at": at(days=4, hours=1)}, 201)).json()
    mid = m["id"]
    await call("POST", f"/api/v1/meetings/{mid}/start")
    await call("POST", f"/api/v1/meetings/{mid}/attendance")
    await call("POST", f"/api/v1/meetings/{mid}/minutes")  # the draft
    got = await call("GET", f"/api/v1/meetings/{mid}/minutes")
    summary = (f"{mx['victim_name']}（电话 {VICTIM_PHONE}）反映厨房漏水；"
               f"邻居业主（电话 13877778888）反映同一问题。")
    r = await client.put(f"/api/v1/meetings/{mid}/minutes/section", json={"section": "summary", "text": summary},
                         headers={**rc, "If-Match": got.headers["etag"]})
    assert r.status_code == 200, r.text
    await call("POST", f"/api/v1/meetings/{mid}/minutes/review")
    await call("POST", f"/api/v1/meetings/{mid}/end")
    await call("POST", f"/api/v1/meetings/{mid}/minutes/final")
    await call("POST", f"/api/v1/meetings/{mid}/minutes/render", status=202)
    await drain_queue()
    await enroll(mx["world"].tenant_a, [a1.user_ids["residents_committee:admin"]])
    await create_seal(mx["world"].tenant_a, a1.user_ids["residents_committee:admin"],
                      a1.orgs["residents_committee"])
    await call("POST", f"/api/v1/meetings/{mid}/minutes/signatures", {"pin": PIN})
    sealed = (await call("POST", f"/api/v1/meetings/{mid}/minutes/signatures", {"pin": SEAL_PIN})).json()
    assert sealed["state"] == "sealed", sealed
    posted = (await call("POST", f"/api/v1/meetings/{mid}/notice", status=201)).json()
    await drain_queue()
    owner = h["resident"]
    read = await call("GET", f"/api/v1/meeting-notices/{posted['id']}", headers=owner)
    pdf = await call("GET", f"/api/v1/meeting-notices/{posted['id']}/download", headers=owner)
    assert pdf.headers["content-type"] == "application/pdf"
    return read.text, pdf_text(pdf.content)


async def test_public_notice_and_its_pdf_mask_the_estates_owners(notice, mx):
    """DESIGN §3: the public-notice copy has personal data masked (meetings.notice_service masks
    the estate's registered owners, the attendees, and any phone-like number)."""
    for text in notice:
        assert "漏水" in text  # the decision record itself is public
        assert _leaks(text, mx["victim_name"]) == []
        assert "138****2222" in text
        assert "13877778888" not in text  # any phone number


async def test_public_notice_masks_a_registered_person_of_another_estate(notice):
    for text in notice:
        assert "邻居业主" not in text
        assert "邻***" in text


async def test_log_lines_carry_no_contact_data(mx):
    root = logging.getLogger()
    root.removeHandler(LOGS)
    root.setLevel(LOGS.level_before)
    assert len(LOGS.lines) >= len(CHECKS)  # an access line per request at least
    leaks = [line for line in LOGS.lines if _leaks(line, mx["victim_name"])]
    assert leaks == []


async def test_open311_reporters_stay_masked_for_whoever_created_the_key(client, mx):
    """An Open311 request carries the caller's name and phone. The key's creator did not take
    the call, so the 'typed it themselves' exception (cases.case_service.reads_contact) must not
    unmask it for them: here a bureau administrator who created the company's key — not the
    reporter, not the handler, not a contact role of the responsible company (DESIGN §4)."""
    h, a1 = mx["headers"], mx["world"].a1
    r = await client.post(f"/api/v1/organizations/{a1.orgs['property_company']}/open311-keys",
                          headers=h["bureau:admin"], json={"name": "12345 热线"})
    assert r.status_code == 201, r.text
    filed = await client.post("/open311/v2/requests.json", data={
        "api_key": r.json()["key"], "service_code": "repair", "address_id": str(a1.estate),
        "description": "楼道灯坏了", "last_name": "张", "first_name": "三丰", "phone": "13866667777"})
    assert filed.status_code in (200, 201), filed.text
    case = int(filed.json()[0]["service_request_id"])
    seen = {}
    for persona in ("bureau:admin", "property_company:admin", "property_company:manager"):
        got = await client.get(f"/api/v1/cases/{case}", headers=h[persona])
        assert got.status_code == 200, got.text
        seen[persona] = got.json()["reporter"]
    assert seen["property_company:manager"]["phone"] == "13866667777"  # a contact role
    assert seen["bureau:admin"]["phone"] == "138****7777" and seen["bureau:admin"]["masked"]
