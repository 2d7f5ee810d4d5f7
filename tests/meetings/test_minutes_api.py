"""Minutes drafted from the meeting's record, reviewed with tracked amendments, made final with
their signatories, and posted as a public notice (公示) that carries no unmasked personal
data, read and downloaded by the estate's owners for the configured period."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from core.db import db, fetch
from meetings.jobs import expire_meeting_notices
from tests.factories import login
from tests.meetings.helpers import (
    PIN,
    SEAL_PIN,
    add_register,
    add_user,
    at,
    committee_estate,
    create_seal,
    drain_queue,
    enroll,
    post,
    schedule,
)


async def test_minutes_review_amendments_final_and_masked_public_notice(client, world):
    e = await committee_estate(world, members=3)
    await add_register(world, e)
    async with db().transaction():  # the secretary is a member with a real name and phone
        secretary_id, secretary = await add_user(world.tenant_a, "欧阳娜娜", org=e.committee,
                                                 role="secretary", phone="13912345678")
    m = await schedule(client, e.chair, kind="committee", estate_id=e.id,
                       convener_organization_id=e.committee, title="业委会例会（王大提议）",
                       starts_at=at(days=8), ends_at=at(days=8, hours=2))
    mid = m["id"]
    await post(client, e.chair, f"/api/v1/meetings/{mid}/start")
    for username in (e.chair, e.members[1][1], secretary):
        await post(client, username, f"/api/v1/meetings/{mid}/attendance")
    res = await post(client, e.chair, f"/api/v1/meetings/{mid}/resolutions",
                     {"title": "同意公开收支账目"}, 201)
    await post(client, e.chair, f"/api/v1/resolutions/{res['id']}/open")
    for username in (e.chair, e.members[1][1], secretary):
        await post(client, username, f"/api/v1/resolutions/{res['id']}/votes", {"choice": "for"}, 201)
    await post(client, e.chair, f"/api/v1/resolutions/{res['id']}/close")
    await post(client, e.chair, f"/api/v1/meetings/{mid}/action-items",
               {"title": "张贴账目", "due_on": "2027-02-01"}, 201)

    draft = await post(client, secretary, f"/api/v1/meetings/{mid}/minutes")
    content = draft["content"]
    assert draft["status"] == "draft"
    assert [a["name"] for a in content["attendance"]] == ["委员0", "委员1", "欧阳娜娜"]
    assert content["quorum"]["fraction"] == "3/4" and content["quorum"]["reached"] is True
    assert content["resolutions"][0]["passed"] is True
    assert content["resolutions"][0]["result"]["checks"][0]["fraction"] == "3/4"
    assert content["action_items"][0]["title"] == "张贴账目"
    # the chair, then the other members present, sign; the committee seals
    assert content["signatories"]["users"] == [e.chair_id, secretary_id, e.members[1][0]]
    assert content["signatories"]["required"] == 3

    h = await login(client, secretary)
    got = await client.get(f"/api/v1/meetings/{mid}/minutes", headers=h)
    summary = "会上赵四（电话13700004444）反映账目问题，欧阳娜娜负责核对，联系 13912345678。"
    edited = await client.put(f"/api/v1/meetings/{mid}/minutes/section", json={
        "section": "summary", "text": summary}, headers={**h, "If-Match": got.headers["etag"]})
    assert edited.status_code == 200, edited.text
    stale = await client.put(f"/api/v1/meetings/{mid}/minutes/section", json={
        "section": "summary", "text": "x"}, headers={**h, "If-Match": f'"min{mid}v1"'})
    assert stale.status_code == 412
    await post(client, secretary, f"/api/v1/meetings/{mid}/minutes/review")
    # attendees propose amendments during the review; outsiders cannot
    r = await client.post(f"/api/v1/meetings/{mid}/minutes/amendments", json={
        "section": "summary", "text": "x"}, headers=await login(client, e.members[2][1]))
    assert r.status_code == 403  # a member who did not attend
    amended = summary + "会议一致同意公开账目。"
    proposal = await post(client, e.members[1][1], f"/api/v1/meetings/{mid}/minutes/amendments",
                          {"section": "summary", "text": amended, "note": "补充结论"}, 201)
    rejected = await post(client, e.members[1][1], f"/api/v1/meetings/{mid}/minutes/amendments",
                          {"section": "summary", "text": "删除全部内容"}, 201)
    r = await client.post(f"/api/v1/meetings/{mid}/minutes/final", headers=h)
    assert r.status_code == 409  # the meeting has not ended, and proposals are open
    await post(client, secretary, f"/api/v1/minutes-amendments/{proposal['id']}/decision",
               {"accept": True})
    await post(client, secretary, f"/api/v1/minutes-amendments/{rejected['id']}/decision",
               {"accept": False})
    await post(client, e.chair, f"/api/v1/meetings/{mid}/end")
    final = await post(client, secretary, f"/api/v1/meetings/{mid}/minutes/final")
    assert final["status"] == "final" and final["content"]["summary"] == amended
    history = (await client.get(f"/api/v1/meetings/{mid}/minutes/amendments", headers=h)).json()
    assert [(a["status"], a["before"] == "") for a in history] == [
        ("applied", True), ("accepted", False), ("rejected", False)]
    r = await client.put(f"/api/v1/meetings/{mid}/minutes/section",
                         json={"section": "summary", "text": "改"}, headers=h)
    assert r.status_code == 409  # final minutes stay as they are

    await sign_and_seal(client, world, e, mid, secretary, secretary_id)
    notice = await post(client, secretary, f"/api/v1/meetings/{mid}/notice", status=201)
    posted = datetime.fromisoformat(notice["posted_at"])
    assert datetime.fromisoformat(notice["posted_until"]) - posted == timedelta(days=3)
    text = json.dumps(notice, ensure_ascii=False)
    for secret in ("欧阳娜娜", "13912345678", "赵四", "13700004444", "王大", "委员0", "委员1"):
        assert secret not in text, secret
    assert "欧阳**" in text and "139****5678" in text and "赵*" in text and "137****4444" in text
    assert "同意公开收支账目" in text  # the decision itself is public
    # the estate's owners read and download it; an owner elsewhere does not
    owner = await login(client, e.owners["wang"])
    listed = await client.get("/api/v1/meeting-notices", headers=owner)
    assert notice["id"] in [n["id"] for n in listed.json()]
    await drain_queue()  # the notice's PDF is rendered by the documents pipeline
    download = await client.get(f"/api/v1/meeting-notices/{notice['id']}/download", headers=owner)
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/pdf"
    text = pdf_text(download.content)
    assert "同意公开收支账目" in text and "欧阳**" in text and "139****5678" in text
    for secret in ("欧阳娜娜", "13912345678", "赵四", "13700004444", "王大"):
        assert secret not in text, secret
    other = await client.get(f"/api/v1/meeting-notices/{notice['id']}",
                             headers=await login(client, world.a2.users["resident"]))
    assert other.status_code == 404
    again = await client.post(f"/api/v1/meetings/{mid}/notice", headers=h)
    assert again.status_code == 409

    # after the posting period the notice leaves the notice page (kept for the record)
    await fetch("UPDATE meeting_notice SET posted_until = $2 WHERE id = $1", notice["id"],
                datetime.now(timezone.utc) - timedelta(minutes=1))
    assert await expire_meeting_notices() >= 1
    current = await client.get("/api/v1/meeting-notices", headers=owner)
    assert notice["id"] not in [n["id"] for n in current.json()]
    everything = await client.get("/api/v1/meeting-notices?current=false", headers=owner)
    assert notice["id"] in [n["id"] for n in everything.json()]


def pdf_text(pdf: bytes) -> str:
    import subprocess

    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                         timeout=60, check=True)
    return out.stdout.decode()


async def sign_and_seal(client, world, e, mid: int, secretary: str, secretary_id: int) -> None:
    """Render the final minutes, then: the notice waits for the seal; every attending member
    signs in order (chair first), nobody out of turn; the committee's seal comes last."""
    r = await client.post(f"/api/v1/meetings/{mid}/notice", headers=await login(client, secretary))
    assert r.status_code == 409  # not signed yet
    queued = await post(client, secretary, f"/api/v1/meetings/{mid}/minutes/render", status=202)
    assert queued["job"]
    await drain_queue()
    h = await login(client, secretary)
    status = (await client.get(f"/api/v1/meetings/{mid}/minutes/signatures", headers=h)).json()
    assert status["state"] == "awaiting_signatures"
    assert [(s["kind"], s["name"]) for s in status["signers"]] == [
        ("person", "委员0"), ("person", "欧阳娜娜"), ("person", "委员1"), ("seal", "")]
    assert status["signers"][0]["turn"] and not status["my_turn"]
    again = await client.post(f"/api/v1/meetings/{mid}/minutes/render", headers=h)
    assert again.status_code == 409
    async with db().transaction():
        admin_id, _admin = await add_user(world.tenant_a, "业委会管理员", org=e.committee,
                                          role="admin")
    await enroll(world.tenant_a, [e.chair_id, e.members[1][0], secretary_id])
    await create_seal(world.tenant_a, admin_id, e.committee)
    # out of turn: the plain member signs third (chair, then the committee's secretary)
    r = await client.post(f"/api/v1/meetings/{mid}/minutes/signatures", json={"pin": PIN},
                          headers=await login(client, e.members[1][1]))
    assert r.status_code == 409
    # a member who did not attend is not on the list
    r = await client.post(f"/api/v1/meetings/{mid}/minutes/signatures", json={"pin": PIN},
                          headers=await login(client, e.members[2][1]))
    assert r.status_code == 403
    inbox = (await client.get("/api/v1/meeting-signatures",
                              headers=await login(client, e.chair))).json()
    assert [i["meeting_id"] for i in inbox] == [mid]
    from meetings.jobs import remind_signatories

    assert await remind_signatories() >= 1
    reminders = await fetch("SELECT user_ids FROM outbox_event WHERE topic ="
                            " 'meeting.signature_reminder' AND payload->>'meeting_id' = $1",
                            str(mid))
    assert reminders and reminders[-1]["user_ids"] == [e.chair_id]
    for username in (e.chair, secretary, e.members[1][1]):
        out = await post(client, username, f"/api/v1/meetings/{mid}/minutes/signatures",
                         {"pin": PIN})
    assert out["state"] == "signed" and out["signers"][3]["turn"]
    r = await client.post(f"/api/v1/meetings/{mid}/notice", headers=h)
    assert r.status_code == 409  # signed but not sealed yet
    sealed = await post(client, e.chair, f"/api/v1/meetings/{mid}/minutes/signatures",
                        {"pin": SEAL_PIN})
    assert sealed["state"] == "sealed" and all(s["signed"] for s in sealed["signers"])
    assert (await client.get("/api/v1/meeting-signatures",
                             headers=await login(client, e.chair))).json() == []
    pdf = await client.get(f"/api/v1/documents/{sealed['document_id']}/pdf",
                           headers=await login(client, e.chair))
    assert pdf.status_code == 200
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    names = [s.field_name for s in PdfFileReader(BytesIO(pdf.content)).embedded_signatures]
    assert names[:4] == ["sig_1", "sig_2", "sig_3", "seal_convener"]
