"""The probes of the access matrix (tests/gongzhi/test_access_matrix.py): for each resource kind,
one read (GET list or detail) and one representative write, aimed at side a1's resources of a
world built for the matrix alone (its writes then disturb no other test).

A probe returns the response; `classify` turns it into an outcome: "ok" (2xx), "denied"
(403/404), "rule" (401/409/412/422: the caller passed the permission check and a business
rule or a wrong PIN refused the change), "public" (case events: only the public ones).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from tests.documents.world import tiny_pdf
from tests.factories import tiny_jpeg

API = "/api/v1"
INTERNAL_NOTE = "MATRIX-INTERNAL-NOTE"
MATRIX_NOTE = "MATRIX-NOTE"


async def _etag(client: httpx.AsyncClient, admin: dict[str, str], url: str) -> dict[str, str]:
    """If-Match for a shared editable resource, read by someone who may read it."""
    r = await client.get(url, headers=admin)
    assert r.status_code == 200, (url, r.status_code, r.text)
    return {"If-Match": r.headers["etag"]} if "etag" in r.headers else {}


def _future() -> str:
    return (datetime.now(timezone.utc) + timedelta(days=40)).isoformat()


async def read(c, h, ids, url):  # noqa: ANN001 - a probe's uniform signature
    return await c.get(url.format(**ids), headers=h)


def reader(url: str):
    async def probe(c, h, ids, admin):
        return await read(c, h, ids, url)
    return probe


async def w_places(c, h, ids, admin):
    return await c.patch(f"{API}/estates/{ids['estate']}", headers=h, json={"name": ids["estate_name"]})


async def w_people(c, h, ids, admin):
    return await c.patch(f"{API}/persons/{ids['person']}", headers=h, json={"phone": ids["phone"]})


async def w_organisations(c, h, ids, admin):
    return await c.patch(f"{API}/organizations/{ids['oc']}", headers=h, json={"name": ids["oc_name"]})


async def w_memberships(c, h, ids, admin):
    return await c.patch(f"{API}/memberships/{ids['pc_handler_membership']}", headers=h,
                         json={"role": "handler"})


async def w_case_comment(c, h, ids, admin):
    return await c.post(f"{API}/cases/{ids['case']}/comments", headers=h,
                        json={"text": MATRIX_NOTE, "visibility": "public"})


async def w_case_internal(c, h, ids, admin):
    return await c.post(f"{API}/cases/{ids['case']}/comments", headers=h,
                        json={"text": INTERNAL_NOTE, "visibility": "internal"})


async def w_attachments(c, h, ids, admin):
    # Each persona adds to a case of its own (reported by the victim owner; a case takes 9 photos).
    return await c.post(f"{API}/cases/{ids['photo_cases'][ids['persona']]}/attachments", headers=h,
                        files={"file": ("p.jpg", tiny_jpeg(), "image/jpeg")})


async def w_contracts(c, h, ids, admin):
    url = f"{API}/contracts/{ids['contract']}"
    return await c.patch(url, headers={**h, **await _etag(c, admin, url)},
                         json={"number": ids["contract_number"]})


async def w_contract_documents(c, h, ids, admin):
    return await c.post(f"{API}/contracts/{ids['contract']}/documents", headers=h,
                        files={"file": ("c.pdf", tiny_pdf(f"matrix {ids['persona']}"), "application/pdf")})


async def w_agreements(c, h, ids, admin):
    url = f"{API}/co-building-agreements/{ids['agreement']}"
    return await c.patch(url, headers={**h, **await _etag(c, admin, url)}, json={"items": ["志愿服务"]})


async def w_webhooks(c, h, ids, admin):
    return await c.post(f"{API}/organizations/{ids['pc']}/webhooks", headers=h,
                        json={"url": "https://93.184.215.14/matrix", "topics": ["case.*"]})


async def w_open311(c, h, ids, admin):
    return await c.post(f"{API}/organizations/{ids['pc']}/open311-keys", headers=h,
                        json={"name": "matrix"})


async def w_campaigns(c, h, ids, admin):
    url = f"{API}/evaluation-campaigns/{ids['campaign']}"
    return await c.patch(url, headers={**h, **await _etag(c, admin, url)},
                         json={"submission_deadline": _future()})


async def w_submissions(c, h, ids, admin):
    url = f"{API}/evaluation-submissions/{ids['submission']}"
    return await c.patch(url, headers={**h, **await _etag(c, ids["oc_chair_h"], url)},
                         json={"scores": []})


async def w_results(c, h, ids, admin):
    return await c.post(f"{API}/evaluation-campaigns/{ids['campaign']}/results/compute", headers=h)


async def w_objections(c, h, ids, admin):
    return await c.post(f"{API}/evaluation-assessments/{ids['result_assessment']}/objections",
                        headers=h, json={"reasons": "matrix 评分有误"})


async def w_documents(c, h, ids, admin):
    # A wrong PIN (the world's registered PDF has no real signature fields, and a wrong PIN
    # leaves the document as it is): the signer in turn (the owners' committee chair) is refused
    # for the PIN only ("rule"), the later signers as not yet in turn ("rule"), anyone else for
    # who they are ("denied").
    return await c.post(f"{API}/documents/{ids['document']}/versions/{ids['document_version']}"
                        "/signatures", headers={**h, "Accept-Language": "en"}, json={"pin": "000000"})


async def w_meetings(c, h, ids, admin):
    url = f"{API}/meetings/{ids['meeting']}"
    return await c.patch(url, headers={**h, **await _etag(c, admin, url)},
                         json={"location": ids["meeting_location"]})


async def w_votes(c, h, ids, admin):
    return await c.post(f"{API}/resolutions/{ids['resolution']}/votes", headers=h,
                        json={"choice": "for"})


async def w_minutes(c, h, ids, admin):
    return await c.put(f"{API}/meetings/{ids['meeting']}/minutes/section", headers=h,
                       json={"section": "summary", "text": "matrix 纪要"})


async def w_notices(c, h, ids, admin):
    return await c.post(f"{API}/meetings/{ids['meeting']}/notice", headers=h, json={})


async def w_case_accept(c, h, ids, admin):
    # Each persona on its own submitted case (the victim owner's): accepting is the dispatch
    # step of the 12345 loop.
    return await c.post(f"{API}/cases/{ids['photo_cases'][ids['persona']]}/actions/accept",
                        headers=h, json={})


async def w_submission_start(c, h, ids, admin):
    return await c.post(f"{API}/evaluation-assessments/{ids['assessment']}/submissions", headers=h,
                        json={"organization_id": ids["org_of"][ids["persona"]]})


async def w_survey(c, h, ids, admin):
    return await c.post(f"{API}/evaluation-assessments/{ids['assessment']}/survey", headers=h,
                        json={"unit_id": ids["unit"], "overall": 4})


PROBES: dict[str, tuple[Any, Any]] = {  # kind -> (read, write)
    "places": (reader(API + "/estates/{estate}"), w_places),
    "people": (reader(API + "/persons/{person}"), w_people),
    "person_contact": (reader(API + "/persons/{person}/contact?purpose=matrix"), None),
    "organisations": (reader(API + "/organizations/{oc}"), w_organisations),
    "memberships": (reader(API + "/organizations/{pc}/memberships"), w_memberships),
    "cases": (reader(API + "/cases/{case}"), w_case_comment),
    "case_events": (reader(API + "/cases/{case}/events"), w_case_internal),
    "attachments": (reader(API + "/attachments/{attachment}"), w_attachments),
    "case_dispatch": (None, w_case_accept),
    "contracts": (reader(API + "/contracts/{contract}"), w_contracts),
    "contract_documents": (reader(API + "/contracts/{contract}/documents/{contract_document}"),
                           w_contract_documents),
    "agreements": (reader(API + "/co-building-agreements/{agreement}"), w_agreements),
    "webhooks": (reader(API + "/organizations/{pc}/webhooks"), w_webhooks),
    "open311_keys": (reader(API + "/organizations/{pc}/open311-keys"), w_open311),
    "eval_campaigns": (reader(API + "/evaluation-campaigns/{campaign}"), w_campaigns),
    "eval_submissions": (reader(API + "/evaluation-submissions/{submission}"), w_submissions),
    "eval_submission_start": (None, w_submission_start),
    "eval_survey": (reader(API + "/evaluation-assessments/{assessment}/survey-summary"), w_survey),
    "eval_results": (reader(API + "/evaluation-campaigns/{result_campaign}/results"), w_results),
    "eval_objections": (reader(API + "/evaluation-objections/{objection}"), w_objections),
    "documents": (reader(API + "/documents/{document}"), w_documents),
    "meetings": (reader(API + "/meetings/{meeting}"), w_meetings),
    "votes": (reader(API + "/resolutions/{resolution}/votes"), w_votes),
    "minutes": (reader(API + "/meetings/{meeting}/minutes"), w_minutes),
    "notices": (reader(API + "/meeting-notices/{notice}"), w_notices),
}


def classify(kind: str, op: str, r: httpx.Response) -> str:
    if kind == "documents" and op == "write" and r.status_code == 403 and "Wrong PIN" in r.text:
        return "rule"
    if r.status_code in (403, 404):
        return "denied"
    if r.status_code in (401, 409, 412, 422):
        return "rule"
    assert r.status_code < 300, (kind, op, r.status_code, r.text[:300])
    if kind == "case_events" and op == "read":
        return "ok" if INTERNAL_NOTE in r.text else "public"
    return "ok"
