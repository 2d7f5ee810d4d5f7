"""The document registry: versions, supersession, signing order and states, immutability of
signed versions, lookup by hash, and who may read a document."""
from __future__ import annotations

import hashlib
import secrets

import pytest

from core.db import db, fetch
from core.problems import Conflict, Forbidden, NotFound, PreconditionFailed
from documents import service
from tests.documents.world import principal, tiny_pdf, world_signers


async def register(world, *, subject_id: int, job_key: str | None = None, text: str = "v",
                   open_for_signing: bool = True, signers=None) -> dict:
    side = world.a1
    async with db().transaction():
        return await service.register_version(
            tenant_id=world.tenant_a, kind="annual_report", subject_type="test_subject",
            subject_id=subject_id, period="2026", title="测试报告",
            owner_organization_id=side.orgs["street_office"], estate_id=side.estate,
            organizations=[side.orgs["owners_committee"], side.orgs["property_company"]],
            pdf=tiny_pdf(text), page_count=1,
            signers=world_signers(side) if signers is None else signers,
            source={"text": text}, template="test", job_key=job_key or secrets.token_hex(8),
            open_for_signing=open_for_signing)


async def who(world, persona: str, side: str = "a1"):
    s = getattr(world, side)
    tenant = world.tenant_b if side == "b" else world.tenant_a
    return await principal(tenant, s.user_ids[persona], s.users[persona])


def signed_copy(pdf: bytes, n: int) -> bytes:
    """Stand-in for an incremental update: the old bytes unchanged plus an appended section."""
    return pdf + f"\n% increment {n}\n%%EOF\n".encode()


async def sign(world, persona: str, document_id: int, version: int) -> dict:
    p = await who(world, persona)
    async with db().transaction():
        ctx = await service.version_for_signing(p, document_id, version)
        return await service.record_signature(
            p, ctx.version["id"], signed_copy(ctx.pdf, ctx.signer_index),
            signer_index=ctx.signer_index, expected_sha256=ctx.version["sha256"])


async def test_a_retried_render_job_registers_exactly_one_version(client, world):
    subject = secrets.randbelow(10**6)
    first = await register(world, subject_id=subject, job_key="job-retry-1")
    again = await register(world, subject_id=subject, job_key="job-retry-1", text="other")
    assert again["id"] == first["id"] and again["sha256"] == first["sha256"]
    rows = await fetch("SELECT count(*) AS n FROM document_version WHERE document = $1",
                       first["document"])
    assert rows[0]["n"] == 1
    doc = (await fetch("SELECT * FROM document WHERE id = $1", first["document"]))[0]
    assert doc["current_version"] == 1 and doc["number"].startswith("GZ-PJ-2026-")
    files = await fetch("SELECT revision, kind, sha256 FROM document_file WHERE version = $1",
                        first["id"])
    assert files == [{"revision": 0, "kind": "render",
                      "sha256": hashlib.sha256(tiny_pdf("v")).hexdigest()}]
    audit = await fetch("SELECT action FROM audit_entry WHERE tenant_id = $1 AND subject_type ="
                        " 'document' AND subject_id = $2", world.tenant_a, str(first["document"]))
    assert [a["action"] for a in audit] == ["document.rendered"]


async def test_regenerating_makes_a_new_version_and_supersedes_the_unsigned_one(client, world):
    subject = secrets.randbelow(10**6)
    v1 = await register(world, subject_id=subject, text="one")
    v2 = await register(world, subject_id=subject, text="two")
    assert (v1["document"], v1["version"], v2["version"]) == (v2["document"], 1, 2)
    states = await fetch("SELECT version, state FROM document_version WHERE document = $1"
                         " ORDER BY version", v1["document"])
    assert states == [{"version": 1, "state": "superseded"},
                      {"version": 2, "state": "awaiting_signatures"}]
    with pytest.raises(Conflict):  # a superseded version cannot be signed any more
        await sign(world, "owners_committee:chair", v1["document"], 1)


async def test_signers_sign_in_order_then_the_seal_seals_and_the_version_stays(client, world):
    subject = secrets.randbelow(10**6)
    v1 = await register(world, subject_id=subject)
    doc_id = v1["document"]
    with pytest.raises(Conflict, match="尚未轮到您签署"):
        await sign(world, "residents_committee:admin", doc_id, 1)
    with pytest.raises(Forbidden):
        await sign(world, "property_company:admin", doc_id, 1)
    after_chair = await sign(world, "owners_committee:chair", doc_id, 1)
    assert (after_chair["state"], after_chair["next_signer"]) == ("awaiting_signatures", 1)
    with pytest.raises(Conflict, match="您已签署过"):
        await sign(world, "owners_committee:chair", doc_id, 1)
    after_rc = await sign(world, "residents_committee:admin", doc_id, 1)
    assert after_rc["state"] == "signed"
    sealed = await sign(world, "owners_committee:admin", doc_id, 1)
    assert sealed["state"] == "sealed" and sealed["next_signer"] == 3
    files = await fetch("SELECT revision, kind, signer_index FROM document_file WHERE version = $1"
                        " ORDER BY revision", v1["id"])
    assert [(f["kind"], f["signer_index"]) for f in files] == [
        ("render", None), ("signature", 0), ("signature", 1), ("seal", 2)]
    with pytest.raises(Conflict):
        await sign(world, "owners_committee:admin", doc_id, 1)
    # regenerating leaves the sealed version as it is
    v2 = await register(world, subject_id=subject, text="corrected")
    assert v2["version"] == 2
    kept = await fetch("SELECT state, sha256 FROM document_version WHERE id = $1", v1["id"])
    assert kept == [{"state": "sealed", "sha256": sealed["sha256"]}]
    # lookup by hash: the sealed file is registered, final for its version, but not the latest
    found = await service.find_by_sha256(sealed["sha256"])
    assert len(found) == 1 and found[0].version == 1 and found[0].is_latest_revision
    assert not found[0].is_current_version and found[0].latest_sha256 == v2["sha256"]
    first = await service.find_by_sha256(v1["sha256"])
    assert first[0].revision == 0 and not first[0].is_latest_revision
    assert await service.find_by_sha256("0" * 64) == []
    by_code = await service.find_by_code(v2["verify_code"])
    assert by_code["version"]["id"] == v2["id"]


async def test_a_signature_must_extend_the_file_it_was_made_on(client, world):
    v1 = await register(world, subject_id=secrets.randbelow(10**6))
    p = await who(world, "owners_committee:chair")
    async with db().transaction():
        ctx = await service.version_for_signing(p, v1["document"], 1)
        with pytest.raises(PreconditionFailed):
            await service.record_signature(p, v1["id"], signed_copy(ctx.pdf, 0),
                                           signer_index=0, expected_sha256="f" * 64)
        with pytest.raises(Exception, match="增量更新"):
            await service.record_signature(p, v1["id"], tiny_pdf("rewritten") + b"x" * 50,
                                           signer_index=0, expected_sha256=v1["sha256"])
        changed = bytearray(ctx.pdf)
        changed[len(changed) // 2] ^= 1  # same length, one byte of the signed file altered
        with pytest.raises(Exception, match="增量更新"):
            await service.record_signature(p, v1["id"], signed_copy(bytes(changed), 0),
                                           signer_index=0, expected_sha256=v1["sha256"])
        with pytest.raises(Exception, match="增量更新"):
            await service.record_signature(p, v1["id"], ctx.pdf[:-10], signer_index=0,
                                           expected_sha256=v1["sha256"])


class _FailingDisk:
    """The storage in use, except that every write fails the way a full disk does."""

    def __init__(self, real) -> None:
        self.real = real

    async def put(self, key, data, content_type):
        raise OSError(28, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.real, name)


async def test_a_failed_file_write_fails_the_registration_and_the_signature_and_writes_no_rows(
        client, world, monkeypatch):
    real = service.storage()
    v1 = await register(world, subject_id=secrets.randbelow(10**6))
    monkeypatch.setattr(service, "storage", lambda: _FailingDisk(real))
    subject = secrets.randbelow(10**6)
    with pytest.raises(OSError):
        await register(world, subject_id=subject)
    assert await fetch("SELECT id FROM document WHERE subject_type = 'test_subject' AND "
                       "subject_id = $1", subject) == []
    p = await who(world, "owners_committee:chair")
    with pytest.raises(OSError):
        async with db().transaction():
            ctx = await service.version_for_signing(p, v1["document"], 1)
            await service.record_signature(p, v1["id"], signed_copy(ctx.pdf, 0), signer_index=0,
                                           expected_sha256=v1["sha256"])
    monkeypatch.setattr(service, "storage", lambda: real)
    rows = await fetch("SELECT revision FROM document_file WHERE version = $1", v1["id"])
    assert [r["revision"] for r in rows] == [0]
    again = await sign(world, "owners_committee:chair", v1["document"], 1)
    assert again["next_signer"] == 1 and await real.get(again["storage_key"]) \
        == signed_copy(await real.get(v1["storage_key"]), 0)


async def test_drafts_are_opened_for_signing_by_a_manager_of_the_owner(client, world):
    v1 = await register(world, subject_id=secrets.randbelow(10**6), open_for_signing=False)
    assert v1["state"] == "draft"
    with pytest.raises(Conflict):
        await sign(world, "owners_committee:chair", v1["document"], 1)
    chair = await who(world, "owners_committee:chair")
    async with db().transaction():
        with pytest.raises(Forbidden):
            await service.open_for_signing(chair, v1["document"], 1)
    admin = await who(world, "street_office:admin")
    async with db().transaction():
        opened = await service.open_for_signing(admin, v1["document"], 1)
    assert opened["state"] == "awaiting_signatures"


@pytest.mark.parametrize(("persona", "side", "allowed"), [
    ("street_office:staff", "a1", True),  # owner
    ("property_company:handler", "a1", True),  # named as concerned
    ("owners_committee:member", "a1", True),  # named
    ("residents_committee:grid_worker", "a1", True),  # covers the estate
    ("bureau:staff", "a1", True),  # tenant-wide
    ("street_office:admin", "a2", False),  # unrelated street
    ("property_company:admin", "a2", False),
    ("resident", "a1", False),  # no organisation
    ("bureau:admin", "b", False),  # another tenant
])
async def test_who_may_read_a_registered_document(client, world, persona, side, allowed):
    doc_id = world.a1.extra["registered_document"]
    p = await who(world, persona, side)
    if allowed:
        doc = await service.get_document(p, doc_id)
        assert doc["id"] == doc_id
        assert [d["id"] for d, _v in await service.list_documents(p, limit=200)].count(doc_id) == 1
    else:
        with pytest.raises(NotFound):
            await service.get_document(p, doc_id)
        assert doc_id not in [d["id"] for d, _v in await service.list_documents(p, limit=200)]


async def _browser(app, username: str):
    from tests.factories import PASSWORD
    from tests.gongzhi.test_route_walker import csrf, make_client

    c = make_client(app)
    await c.get("/login")
    r = await c.post("/login", data={"username": username, "password": PASSWORD, "next": "/"},
                     headers=csrf(c))
    assert r.status_code in (302, 303), r.text
    return c


async def test_the_documents_pages_list_show_and_download_for_readers_only(app, client, world):
    doc_id = world.a1.extra["registered_document"]
    chair = await _browser(app, world.a1.users["owners_committee:chair"])
    page = await chair.get("/documents")
    assert page.status_code == 200 and f'data-document-id="{doc_id}"' in page.text
    assert "待签署" in page.text and "<script>" not in page.text
    detail = await chair.get(f"/documents/{doc_id}")
    assert detail.status_code == 200 and f'href="/sign/{doc_id}/1"' in detail.text  # chair's turn
    pdf = await chair.get(f"/documents/{doc_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["x-document-version"] == "1"
    rc = await _browser(app, world.a1.users["residents_committee:admin"])
    assert 'href="/sign/' not in (await rc.get(f"/documents/{doc_id}")).text  # not yet its turn
    for username in (world.a2.users["street_office:admin"], world.b.users["bureau:admin"]):
        other = await _browser(app, username)
        assert f'data-document-id="{doc_id}"' not in (await other.get("/documents")).text
        for url in (f"/documents/{doc_id}", f"/documents/{doc_id}/pdf",
                    f"/documents/{doc_id}/versions/1/pdf"):
            assert (await other.get(url)).status_code == 404, (username, url)
        await other.aclose()
    await chair.aclose()
    await rc.aclose()
