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
    ids = {"photo_cases": photo_cases, "estate": a1.estate, "estate_name": estate_row["name"], "person": a1.person,
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


async def test_log_lines_carry_no_contact_data(mx):
    root = logging.getLogger()
    root.removeHandler(LOGS)
    root.setLevel(LOGS.level_before)
    assert len(LOGS.lines) >= len(CHECKS)  # an access line per request at least
    leaks = [line for line in LOGS.lines if _leaks(line, mx["victim_name"])]
    assert leaks == []
