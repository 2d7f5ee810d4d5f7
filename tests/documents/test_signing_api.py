"""The signing and verification API on registered documents: two signers and the seal sign in
turn through the API and the result validates in pyHanko and pdfsig; out of turn, not on the
list, a wrong PIN and a revoked certificate are refused; verification says registered/latest;
another tenant's users and unrelated organisations' users are refused on every endpoint."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys

from core.db import db, fetch
from core.settings import get_settings
from core.storage import storage
from documents import pki
from documents import service as registry
from tests.documents.signing_helpers import pdfsig, pdfsig_signatures, render_pdf
from tests.documents.world import WORLD_PIN, world_signers
from tests.factories import login

RC_PIN = "739105"


async def _register(world, signers=None) -> dict:
    side = world.a1
    signers = signers or world_signers(side)
    fields = {s.field_name: (s.box.page, s.box.as_tuple()) for s in signers}
    async with db().transaction():
        return await registry.register_version(
            tenant_id=world.tenant_a, kind="minutes", subject_type="signing_test",
            subject_id=secrets.randbelow(10 ** 9), period="", title="业主委员会会议纪要",
            owner_organization_id=side.orgs["owners_committee"], estate_id=side.estate,
            organizations=[side.orgs["residents_committee"], side.orgs["property_company"]],
            pdf=render_pdf(fields=fields),
            page_count=1, signers=signers, source={}, template="test",
            job_key=secrets.token_hex(8), open_for_signing=True)


async def _h(client, world, persona: str, side: str = "a1") -> dict:
    return await login(client, getattr(world, side).users[persona])


def _url(version: dict) -> str:
    return f"/api/v1/documents/{version['document']}/versions/{version['version']}/signatures"


async def _enrol(client, headers: dict, pin: str) -> int:
    r = await client.get("/api/v1/signing/me", headers=headers)
    if r.json()["active"]:
        return r.json()["active"]["id"]
    r = await client.post("/api/v1/signing/me", json={"pin": pin}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _the_signers(client, world) -> tuple[dict, dict, dict]:
    """Headers of the default signer list in turn: the owners' committee chair, the residents'
    committee admin (enrolled here with RC_PIN) and the owners' committee admin (the seal)."""
    chair = await _h(client, world, "owners_committee:chair")
    rc = await _h(client, world, "residents_committee:admin")
    oc_admin = await _h(client, world, "owners_committee:admin")
    await _enrol(client, rc, RC_PIN)
    return chair, rc, oc_admin


async def _files(version: dict) -> list[bytes]:
    rows = await fetch("SELECT storage_key FROM document_file WHERE version = $1 ORDER BY revision",
                       version["id"])
    return [await storage().get(r["storage_key"]) for r in rows]


async def _verify(client, data: bytes, headers: dict | None = None) -> dict:
    r = await client.post("/api/v1/documents/verify", files={"file": ("x.pdf", data,
                                                                      "application/pdf")},
                          headers=headers or {})
    assert r.status_code == 200, r.text
    return r.json()


async def test_two_signers_and_the_seal_sign_in_turn_and_the_file_validates_everywhere(
        client, world, tmp_path):
    version = await _register(world)
    chair, rc, oc_admin = await _the_signers(client, world)
    reader = await _h(client, world, "residents_committee:grid_worker")  # reads, not a signer

    r = await client.post(_url(version), json={"pin": RC_PIN}, headers=rc)
    assert r.status_code == 409, r.text  # out of turn: the chair signs first
    r = await client.post(_url(version), json={"pin": WORLD_PIN}, headers=reader)
    assert r.status_code == 403, r.text  # not on the signer list
    r = await client.post(_url(version), json={"pin": "000000x"}, headers=chair)
    assert r.status_code == 403 and r.json()["code"] == "wrong_pin", r.text
    assert r.json()["tries_left"] == get_settings().signing_pin_max_failures - 1

    r = await client.post(_url(version), json={"pin": WORLD_PIN}, headers=chair)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["state"] == "awaiting_signatures" and body["next_signer"] == 1
    assert body["signed_field"] == "sig_oc_chair" and not body["timestamped"]
    r = await client.post(_url(version), json={"pin": WORLD_PIN}, headers=chair)
    assert r.status_code == 409, r.text  # signed already
    r = await client.post(_url(version), json={"pin": RC_PIN}, headers=rc)
    assert r.status_code == 201 and r.json()["state"] == "signed", r.text
    r = await client.post(_url(version), json={"pin": WORLD_PIN}, headers=oc_admin)
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "sealed" and r.json()["timestamped"]

    files = await _files(version)
    assert len(files) == 5  # render, two signatures, the seal, the document timestamp
    for before, after in zip(files, files[1:]):
        assert after.startswith(before)
    final = files[-1]
    ca = (await pki.platform_authority()).ca.certificate
    found = pdfsig_signatures(pdfsig(final, [ca]))
    for field in ("sig_oc_chair", "sig_rc_admin", "seal_oc"):
        assert found[field]["Signature Validation"] == "Signature is Valid.", found
        assert found[field]["Certificate Validation"] == "Certificate is Trusted.", found

    report = await _verify(client, final)  # anonymous: verification is public
    assert report["verdict"] == "valid", report
    assert [s["kind"] for s in report["signatures"]] == ["signature", "signature", "seal",
                                                         "document_timestamp"]
    assert all(s["intact"] and s["valid"] and s["trusted"] for s in report["signatures"])
    assert report["document_timestamp"] is not None
    reg = report["registry"]
    assert reg["matched"] and reg["is_latest"] and reg["document_id"] == version["document"]
    assert reg["state"] == "sealed"

    earlier = await _verify(client, files[1], chair)
    assert earlier["verdict"] == "valid" and earlier["registry"]["matched"]
    assert not earlier["registry"]["is_latest"] and not earlier["registry"]["is_latest_revision"]

    tampered = bytearray(final)
    tampered[len(final) // 3] ^= 0x01
    bad = await _verify(client, bytes(tampered))
    assert bad["verdict"] == "tampered" and not bad["registry"]["matched"]

    # `gongzhi verify FILE` says the same, offline (no web server), with its exit status.
    (tmp_path / "final.pdf").write_bytes(final)
    (tmp_path / "bad.pdf").write_bytes(bytes(tampered))
    cli = [sys.executable, "-m", "gongzhi.cli", "verify"]
    ok = subprocess.run([*cli, str(tmp_path / "final.pdf")], capture_output=True, text=True,
                        timeout=120, env=os.environ)
    assert ok.returncode == 0, ok.stderr
    assert "所有签名均完整、有效且可信" in ok.stdout and "是：该文件正是" in ok.stdout
    assert "这是最新版本" in ok.stdout
    broken = subprocess.run([*cli, str(tmp_path / "bad.pdf")], capture_output=True, text=True,
                            timeout=120, env=os.environ)
    assert broken.returncode == 2 and "文件在签署后被改动" in broken.stdout


async def test_a_revoked_signer_is_refused(client, world):
    side = world.a1
    signers = world_signers(side)
    signers[0].user_id = side.user_ids["property_company:manager"]
    version = await _register(world, signers)
    manager = await _h(client, world, "property_company:manager")
    credential = await _enrol(client, manager, "305917")
    r = await client.post(f"/api/v1/signing/credentials/{credential}/revoke",
                          json={"reason": "手机丢失"}, headers=manager)
    assert r.status_code == 201 and r.json()["revoked_at"], r.text
    r = await client.post(_url(version), json={"pin": "305917"}, headers=manager)
    assert r.status_code == 403 and r.json()["code"] == "revoked", r.text
    rows = await fetch("SELECT count(*) AS n FROM document_file WHERE version = $1", version["id"])
    assert rows[0]["n"] == 1  # nothing was signed


async def test_an_unreachable_external_tsa_signs_nothing_and_says_so(client, world, monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens here once the socket is closed
    monkeypatch.setattr(get_settings(), "tsa_url", f"http://127.0.0.1:{port}/tsr")
    version = await _register(world)
    chair = await _h(client, world, "owners_committee:chair")
    r = await client.post(_url(version), json={"pin": WORLD_PIN}, headers=chair)
    assert r.status_code == 503 and r.headers["retry-after"] == "30", r.text
    rows = await fetch("SELECT next_signer, state FROM document_version WHERE id = $1",
                       version["id"])
    assert rows[0]["next_signer"] == 0 and rows[0]["state"] == "awaiting_signatures"


async def test_a_tsa_failing_at_the_document_timestamp_leaves_the_seal_unregistered_for_a_retry(
        client, world, monkeypatch):
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    from documents import signing

    version = await _register(world)
    chair, rc, oc_admin = await _the_signers(client, world)
    for headers, pin in ((chair, WORLD_PIN), (rc, RC_PIN)):
        r = await client.post(_url(version), json={"pin": pin}, headers=headers)
        assert r.status_code == 201, r.text
    real = signing.add_document_timestamp

    def tsa_gone(pdf, stamper):  # the seal's own timestamp was issued; then the TSA went away
        raise TimestampRequestError("the TSA stopped answering")

    monkeypatch.setattr(signing, "add_document_timestamp", tsa_gone)
    r = await client.post(_url(version), json={"pin": WORLD_PIN}, headers=oc_admin)
    assert r.status_code == 503 and r.headers["retry-after"] == "30", r.text
    rows = await fetch("SELECT next_signer, state FROM document_version WHERE id = $1",
                       version["id"])
    assert rows[0]["state"] == "signed" and rows[0]["next_signer"] == 2  # the seal not kept
    assert len(await _files(version)) == 3
    monkeypatch.setattr(signing, "add_document_timestamp", real)
    r = await client.post(_url(version), json={"pin": WORLD_PIN}, headers=oc_admin)
    assert r.status_code == 201 and r.json()["state"] == "sealed" and r.json()["timestamped"]
    assert len(await _files(version)) == 5


async def test_enrolment_and_pin_change_through_the_api(client, world):
    h = await _h(client, world, "residents_committee:grid_worker")
    r = await client.post("/api/v1/signing/me", json={"pin": "111111"}, headers=h)
    assert r.status_code == 422  # too easy
    await _enrol(client, h, "246813")
    r = await client.post("/api/v1/signing/me", json={"pin": "246813"}, headers=h)
    assert r.status_code == 409
    r = await client.post("/api/v1/signing/me/pin", json={"old_pin": "246813",
                                                          "new_pin": "864213"}, headers=h)
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/signing/me/pin", json={"old_pin": "864213",
                                                          "new_pin": "246813"}, headers=h)
    assert r.status_code == 201, r.text
    me = (await client.get("/api/v1/signing/me", headers=h)).json()
    assert me["active"]["kind"] == "person"
    assert "BEGIN CERTIFICATE" in me["active"]["certificate_pem"]


async def test_verification_is_rate_limited_per_address(client, world, monkeypatch):
    monkeypatch.setattr(get_settings(), "verify_per_minute_per_ip", 2)
    import httpx

    transport = httpx.ASGITransport(app=client._transport.app, client=("10.77.0.9", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        statuses = [(await c.post("/api/v1/documents/verify",
                                  files={"file": ("a.pdf", b"%PDF-1.7\n", "application/pdf")})
                     ).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


async def test_other_tenants_and_unrelated_organisations_are_refused(client, world):
    a1 = world.a1
    doc, ver = a1.extra["registered_document"], a1.extra["registered_version"]
    oc = a1.orgs["owners_committee"]
    chair_credential = a1.extra["signing_credential"]
    before = await fetch("SELECT * FROM signing_credential WHERE organization = $1 OR id = $2"
                         " ORDER BY id", oc, chair_credential)
    for side, persona in (("a2", "owners_committee:admin"), ("a2", "owners_committee:chair"),
                          ("b", "bureau:admin"), ("b", "owners_committee:admin"),
                          ("a2", "street_office:admin")):
        h = await _h(client, world, persona, side)
        calls = [
            client.post(f"/api/v1/documents/{doc}/versions/{ver}/signatures",
                        json={"pin": WORLD_PIN}, headers=h),
            client.get(f"/api/v1/organizations/{oc}/seal", headers=h),
            client.post(f"/api/v1/organizations/{oc}/seal", json={"pin": "583920"}, headers=h),
            client.post(f"/api/v1/organizations/{oc}/seal/pkcs12", headers=h,
                        files={"file": ("s.p12", b"x", "application/x-pkcs12")},
                        data={"passphrase": "x", "pin": "583920"}),
            client.post(f"/api/v1/signing/credentials/{chair_credential}/revoke",
                        json={"reason": "x"}, headers=h),
        ]
        for call in calls:
            r = await call
            assert r.status_code in (403, 404), f"{side}/{persona} {r.request.url}: {r.text}"
    after = await fetch("SELECT * FROM signing_credential WHERE organization = $1 OR id = $2"
                        " ORDER BY id", oc, chair_credential)
    assert after == before


# --- pages ---------------------------------------------------------------------------------------
def _web(client):
    import httpx

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=client._transport.app,
                                                           client=("10.77.0.10", 4321)),
                             base_url="http://testserver.local")


async def _web_login(c, username: str | None) -> dict:
    from tests.factories import PASSWORD

    await c.get("/login")
    token = {"x-csrftoken": c.cookies.get("gz_csrf") or ""}
    if username:
        r = await c.post("/login", data={"username": username, "password": PASSWORD, "next": "/"},
                         headers=token)
        assert r.status_code in (302, 303), r.text
    return token


async def test_the_public_verify_page_checks_an_upload_and_reads_the_qr_code(client, world):
    version = await _register(world)
    async with _web(client) as c:
        token = await _web_login(c, None)
        r = await c.get("/verify")
        assert r.status_code == 200 and 'id="verify-form"' in r.text
        r = await c.get(f"/verify?code={version['verify_code']}")
        assert r.status_code == 200 and 'id="code-match"' in r.text and "业主委员会会议纪要" in r.text
        r = await c.get("/verify?code=nothing-like-it")
        assert "不对应" in r.text
        pdf = (await _files(version))[0]
        r = await c.post("/verify", files={"file": ("m.pdf", pdf, "application/pdf")},
                         headers=token)
        assert r.status_code == 200, r.text
        assert 'data-verdict="unsigned"' in r.text and 'data-matched="yes"' in r.text


async def test_the_signing_page_shows_the_document_and_signs_with_the_pin(client, world):
    version = await _register(world)
    base = f"/sign/{version['document']}/{version['version']}"
    async with _web(client) as c:
        token = await _web_login(c, world.a1.users["owners_committee:chair"])
        r = await c.get(base)
        assert r.status_code == 200 and 'name="pin"' in r.text and "业主委员会会议纪要" in r.text
        r = await c.get(f"{base}/page/1")
        assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
        r = await c.get(f"{base}/pdf")
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
        r = await c.post(base, data={"pin": "999999x"}, headers=token)
        assert r.status_code == 403 and "签名密码错误" in r.text
        r = await c.post(base, data={"pin": WORLD_PIN}, headers=token)
        assert r.status_code in (302, 303), r.text
        r = await c.get(r.headers["location"])
        assert "已签署" in r.text and 'name="pin"' not in r.text
        r = await c.get("/signing")
        assert r.status_code == 200 and 'id="certificate"' in r.text
    for username in (world.a2.users["owners_committee:admin"],  # an unrelated organisation
                     world.b.users["bureau:admin"]):  # another tenant's strongest role
        async with _web(client) as c:
            token = await _web_login(c, username)
            for path in (base, f"{base}/pdf", f"{base}/page/1"):
                assert (await c.get(path)).status_code == 404, path
            r = await c.post(base, data={"pin": WORLD_PIN}, headers=token)
            assert r.status_code == 404
