"""The platform's RFC 3161 timestamp authority over HTTP, and signing with an external TSA
configured by TSA_URL."""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import algos, core, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from pyhanko.sign.timestamps import HTTPTimeStamper

from core.settings import get_settings
from documents import pki, signing, tsa, verification
from documents.signing import StampText
from tests.documents.signing_helpers import person, render_pdf

QUERY = "application/timestamp-query"


def _query(data: bytes, *, nonce: int = 4242, algorithm: str = "sha256") -> bytes:
    return tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": tsp.MessageImprint({
            "hash_algorithm": algos.DigestAlgorithm({"algorithm": algorithm}),
            "hashed_message": hashlib.new(algorithm, data).digest()}),
        "nonce": nonce, "cert_req": True}).dump()


async def test_the_tsa_endpoint_answers_with_a_token_signed_by_the_platform_tsa(client):
    r = await client.post("/api/v1/tsa", content=_query(b"minutes"),
                          headers={"Content-Type": QUERY})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/timestamp-reply")
    resp = tsp.TimeStampResp.load(r.content)
    assert resp["status"]["status"].native == "granted"
    signed = resp["time_stamp_token"]["content"]
    info = signed["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(b"minutes").digest()
    assert info["nonce"].native == 4242
    assert info["policy"].native == tsa.POLICY_OID
    gen = info["gen_time"].native
    assert abs((dt.datetime.now(dt.timezone.utc) - gen).total_seconds()) < 60
    # The token's signature verifies with the TSA certificate, which the platform CA issued.
    authority = await pki.platform_authority()
    cert = authority.tsa.certificate
    signer_info = signed["signer_infos"][0]
    signed_attrs = b"\x31" + signer_info["signed_attrs"].dump()[1:]  # signed as a SET OF
    cert.public_key().verify(signer_info["signature"].native, signed_attrs, padding.PKCS1v15(),
                             hashes.SHA256())
    assert cert.issuer == authority.ca.certificate.subject
    embedded = [x509.load_der_x509_certificate(c.chosen.dump()) for c in signed["certificates"]]
    assert cert in embedded


async def test_malformed_or_unsupported_queries_are_rejected_in_the_rfc_3161_way(client):
    for body, fail in ((b"not a query", "bad_data_format"),
                       (_query(b"x", algorithm="md5"), "bad_alg")):
        r = await client.post("/api/v1/tsa", content=body, headers={"Content-Type": QUERY})
        assert r.status_code == 200
        status = tsp.PKIStatusInfo.load(core.Sequence.load(r.content)[0].dump())
        assert status["status"].native == "rejection"
        assert fail in status["fail_info"].native


async def test_the_ca_certificate_is_public(client):
    r = await client.get("/api/v1/signing/ca.pem")
    assert r.status_code == 200
    cert = x509.load_pem_x509_certificate(r.content)
    assert cert == (await pki.platform_authority()).ca.certificate


def _serve(stamper) -> tuple[ThreadingHTTPServer, str]:
    """A TSA of someone else's, over real HTTP on a local port."""
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/tsr"


async def test_with_tsa_url_set_signatures_are_timestamped_by_that_tsa(client, monkeypatch):
    other_ca = pki.create_ca()
    other_tsa = pki.create_tsa(other_ca)
    server, url = _serve(tsa.PlatformTimeStamper(other_tsa))
    try:
        monkeypatch.setattr(get_settings(), "tsa_url", url)
        stamper = await tsa.timestamper()
        assert isinstance(stamper, HTTPTimeStamper)
        platform = await pki.platform_authority()
        ident = person(platform.ca, "张三", "业委会")
        pdf = render_pdf(fields={"s": (0, (40, 40, 200, 120))})
        signed = await asyncio.to_thread(signing.sign_field, pdf, "s", ident,
                                         StampText("person", "张三", "主任", "业委会"), stamper)
    finally:
        server.shutdown()
    report = await asyncio.to_thread(verification.check_pdf, signed,
                                     [platform.ca.certificate, other_ca.certificate])
    assert report.verdict == "valid", report.signatures
    assert report.signatures[0].timestamp_trusted
    # Trusting only the platform CA, the external TSA's token is not trusted.
    alone = await asyncio.to_thread(verification.check_pdf, signed, [platform.ca.certificate])
    assert not alone.signatures[0].timestamp_trusted
    assert os.environ.get("TSA_URL") is None  # the test changed only the settings object
