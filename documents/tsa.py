"""Timestamps (RFC 3161): the platform's own timestamp authority, or an external one.

The platform TSA signs TSTInfo structures with its own certificate (issued by the platform CA,
extended key usage timeStamping). It answers in-process when we sign (no HTTP round trip) and
over HTTP at POST /api/v1/tsa (`application/timestamp-query` → `application/timestamp-reply`)
for anyone else. With TSA_URL set, signatures are timestamped by that TSA instead.
"""
from __future__ import annotations

import datetime as dt
import secrets
from functools import lru_cache

from asn1crypto import cms, core, tsp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from pyhanko.sign import general
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from core.settings import get_settings
from documents.pki import Identity, platform_authority, to_asn1

# TSA policy: an OID under the UUID arc (2.25, ITU-T X.667), ours alone.
POLICY_OID = "2.25.181942063383417120418862361102541213361"
ALLOWED_DIGESTS = ("sha256", "sha384", "sha512")


@lru_cache(maxsize=4)
def _signing_certificate_attribute(tsa_cert_der: bytes) -> bytes:
    """The DER of the signed attribute naming the TSA's certificate: the same in every token, so
    encoded once per certificate and parsed back for each token (building it afresh, or reusing
    the built object, makes asn1crypto copy and re-encode the names in it every time)."""
    from asn1crypto import x509 as ax509

    return simple_cms_attribute("signing_certificate", general.as_signing_certificate(
        ax509.Certificate.load(tsa_cert_der))).dump()


class PlatformTimeStamper(DummyTimeStamper):
    """pyHanko's in-process timestamper with our policy, random serials, UTC times, an accuracy
    of one second, and the TSA key loaded once (not per token)."""

    def __init__(self, tsa: Identity) -> None:
        cert, key_info, chain = _asn1_parts(tsa)
        super().__init__(tsa_cert=cert, tsa_key=key_info, certs_to_embed=chain)
        self._key = tsa.key
        self._signing_certificate = _signing_certificate_attribute(cert.dump())

    def _build_tst_info(self, message_imprint, dt_, req):
        info = super()._build_tst_info(message_imprint, dt_, req)
        info["policy"] = tsp.ObjectIdentifier(POLICY_OID)
        info["serial_number"] = secrets.randbits(63)
        info["accuracy"] = tsp.Accuracy({"seconds": 1})
        return info

    def _sign_tst_info(self, tst_info_data, md_algorithm, dt_):
        # Same signed attributes as pyHanko's, signed with the key we hold in memory.
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt_)})),
            cms.CMSAttribute.load(self._signing_certificate),
            simple_cms_attribute("message_digest", digest.finalize()),
        ])
        signature = self._key.sign(signed_attrs.dump(), padding.PKCS1v15(),
                                   get_pyca_cryptography_hash(md_algorithm.upper()))
        return signature, signed_attrs

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        self.fixed_dt = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        try:
            return super().request_tsa_response(req)
        finally:
            self.fixed_dt = None


@lru_cache(maxsize=2)
def _asn1_parts(tsa: Identity) -> tuple:
    """The TSA's certificate, key and chain as asn1crypto objects, converted once per TSA
    identity (re-encoding the 3072-bit key and parsing the certificates cost ~0.7 ms a
    signature). Each signature still gets its own timestamper: pyHanko's keeps the token's time
    on the instance, so one instance must not serve two signing threads at once."""
    return (tsa.asn1_certificate, tsa.asn1_key,
            SimpleCertificateStore.from_certs([to_asn1(c) for c in tsa.chain]))


async def platform_timestamper() -> PlatformTimeStamper:
    return PlatformTimeStamper((await platform_authority()).tsa)


async def timestamper() -> TimeStamper:
    """The TSA signatures use: TSA_URL when configured, else the platform's own."""
    url = get_settings().tsa_url
    if url:
        return HTTPTimeStamper(url, timeout=10)
    return await platform_timestamper()


def _rejection(fail: str, text: str) -> bytes:
    """A TimeStampResp carrying only a rejection status (asn1crypto insists on a token, so the
    outer SEQUENCE is written by hand)."""
    status = tsp.PKIStatusInfo({"status": tsp.PKIStatus("rejection"), "status_string": [text],
                                "fail_info": tsp.PKIFailureInfo({fail})}).dump()
    n = len(status)
    length = bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100 else \
        bytes([0x82]) + n.to_bytes(2, "big")
    return b"\x30" + length + status


async def answer(query: bytes) -> bytes:
    """The DER TimeStampResp for a DER TimeStampReq (a rejection for anything malformed)."""
    try:
        req = tsp.TimeStampReq.load(query)
        algorithm = req["message_imprint"]["hash_algorithm"]["algorithm"].native
        imprint = req["message_imprint"]["hashed_message"].native
        policy = req["req_policy"].native
    except Exception:  # noqa: BLE001 - anything unparseable is the client's bad data
        return _rejection("bad_data_format", "malformed TimeStampReq")
    if algorithm not in ALLOWED_DIGESTS:
        return _rejection("bad_alg", f"unsupported hash algorithm {algorithm}")
    if not isinstance(imprint, bytes) or len(imprint) * 8 != int(algorithm[3:]):
        return _rejection("bad_data_format", "the hashed message does not fit its algorithm")
    if policy is not None and policy != POLICY_OID:
        return _rejection("unaccepted_policy", "unknown policy")
    stamper = await platform_timestamper()
    return stamper.request_tsa_response(req).dump()
