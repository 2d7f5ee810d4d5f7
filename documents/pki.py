"""The platform's certificate authority and timestamp authority, and the certificates it issues.

On first use (the first start that needs a key) the platform CA (RSA-3072, 20 years) and the TSA
certificate it issues (RSA-3072, extended key usage timeStamping) are created and stored in
`pki_platform_key`, their private keys sealed with DOCUMENTS_KEY. Creation commits on its own
connection under an advisory lock, so concurrent first starts agree on one CA and a request
that rolls back never leaves a process holding a CA the database forgot.

Signing certificates (persons) and seal certificates (organisations) carry ECDSA P-256 keys:
quick to make and to sign with, and accepted by pyHanko, poppler/NSS and Adobe alike.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from dataclasses import dataclass

from asn1crypto import keys as akeys
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from core.db import db
from core.settings import get_settings
from documents import keys

CA_NAME = "共治平台电子签名根证书 Gongzhi Platform Root CA"
TSA_NAME = "共治平台时间戳服务 Gongzhi Platform TSA"
PLATFORM_ORG = "共治平台 Gongzhi"
_LOCK = (7311, 1)  # advisory lock while the platform keys are created


@dataclass(frozen=True)
class Identity:
    """A certificate with its private key (and the chain up to, not including, the root)."""

    certificate: x509.Certificate
    key: object  # cryptography private key
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def asn1_certificate(self) -> ax509.Certificate:
        return to_asn1(self.certificate)

    @property
    def asn1_key(self) -> akeys.PrivateKeyInfo:
        return akeys.PrivateKeyInfo.load(key_der(self.key))


@dataclass(frozen=True)
class Authority:
    ca: Identity
    tsa: Identity


def to_asn1(cert: x509.Certificate) -> ax509.Certificate:
    return ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def key_der(key) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_key(der: bytes):
    return serialization.load_der_private_key(der, password=None)


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def common_name(name: x509.Name) -> str:
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else name.rfc4514_string()


def organization_name(name: x509.Name) -> str:
    attrs = name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(attrs[0].value) if attrs else ""


def make_name(cn: str, org: str | None = None, serial: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org[:64]))
    if serial:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial[:64]))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn[:64]))
    return x509.Name(attrs)


def _usage(*, sign: bool = False, commit: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, content_commitment=commit,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)


def create_ca(now: dt.datetime | None = None) -> Identity:
    now = now or dt.datetime.now(dt.timezone.utc)
    key = rsa.generate_private_key(65537, 3072)
    name = make_name(CA_NAME, PLATFORM_ORG)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=20 * 365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return Identity(cert, key)


CRL_PATH = "/api/v1/signing/crl"


def crl_url() -> str:
    """Where the platform publishes its certificate revocation list (PUBLIC_URL based)."""
    from documents.qr import public_base_url

    return f"{public_base_url()}{CRL_PATH}"


def issue(ca: Identity, public_key, name: x509.Name, *, purpose: str, days: int,
          now: dt.datetime | None = None, crl: str | None = None) -> x509.Certificate:
    """A certificate for `public_key`: purpose `sign` (persons and seals: digital signature and
    non-repudiation) or `tsa` (timestamping only); `crl` names the revocation list's URL."""
    now = now or dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(ca.certificate.subject)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(min(now + dt.timedelta(days=days),
                                    ca.certificate.not_valid_after_utc))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key),
                              critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca.certificate.public_key()), critical=False))
    if crl:
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl)], relative_name=None, reasons=None,
            crl_issuer=None)]), critical=False)
    if purpose == "tsa":
        builder = (builder.add_extension(_usage(sign=True, commit=True), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                                  critical=True))
    else:
        builder = builder.add_extension(_usage(sign=True, commit=True), critical=True)
    return builder.sign(ca.key, hashes.SHA256())


def new_signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def create_tsa(ca: Identity) -> Identity:
    key = rsa.generate_private_key(65537, 3072)
    cert = issue(ca, key.public_key(), make_name(TSA_NAME, PLATFORM_ORG), purpose="tsa",
                 days=10 * 365)
    return Identity(cert, key, (ca.certificate,))


# --- the platform's keys in the database --------------------------------------------------------
_cached: Authority | None = None


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


async def _load_or_create() -> Authority:
    """Read the CA and TSA rows, creating them first if missing, on a connection of our own
    (committed before we return, whatever the caller's transaction does later)."""
    engine = db()
    conn = await (engine.pool.acquire() if engine.pool is not None
                  else engine.get_new_connection())
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", *_LOCK)
            rows = {r["name"]: r for r in await conn.fetch(
                "SELECT name, certificate, encrypted_key FROM pki_platform_key")}
            if "ca" not in rows:
                ca = await asyncio.to_thread(create_ca)
                tsa = await asyncio.to_thread(create_tsa, ca)
                for name, ident in (("ca", ca), ("tsa", tsa)):
                    await conn.execute(
                        "INSERT INTO pki_platform_key (name, certificate, encrypted_key,"
                        " created_at) VALUES ($1, $2, $3, now())", name, _der(ident.certificate),
                        keys.seal_with_platform_key(key_der(ident.key), f"pki_platform_key:{name}"))
                return Authority(ca, tsa)
        ca_cert = x509.load_der_x509_certificate(bytes(rows["ca"]["certificate"]))
        ca = Identity(ca_cert, load_key(keys.open_envelope(
            bytes(rows["ca"]["encrypted_key"]), "pki_platform_key:ca")))
        tsa = Identity(x509.load_der_x509_certificate(bytes(rows["tsa"]["certificate"])),
                       load_key(keys.open_envelope(bytes(rows["tsa"]["encrypted_key"]),
                                                   "pki_platform_key:tsa")), (ca_cert,))
        return Authority(ca, tsa)
    finally:
        if engine.pool is not None:
            await engine.pool.release(conn)
        else:
            await conn.close()


async def platform_authority() -> Authority:
    """The platform CA and TSA (created on first use), cached for the life of the process."""
    global _cached
    if _cached is None:
        _cached = await _load_or_create()  # the advisory lock makes concurrent callers agree
    return _cached


def forget_cached_authority() -> None:
    global _cached
    _cached = None


def licensed_cas() -> list[x509.Certificate]:
    """The licensed CAs an operator trusts for imported certificates (DOCUMENTS_TRUSTED_CA_FILE)."""
    path = get_settings().documents_trusted_ca_file
    if not path:
        return []
    return list(x509.load_pem_x509_certificates(path.read_bytes()))


async def trust_roots() -> list[x509.Certificate]:
    """Certificates a signature must chain to: the platform CA and any licensed CA configured."""
    return [(await platform_authority()).ca.certificate, *licensed_cas()]


def revocation_list(ca: Identity, revoked: list[tuple[int, dt.datetime]],
                    now: dt.datetime | None = None) -> bytes:
    """The CA's CRL (DER) naming the serials it issued that were revoked, valid for a day."""
    now = now or dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.certificate.subject)
               .last_update(now - dt.timedelta(minutes=5)).next_update(now + dt.timedelta(days=1))
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca.certificate.public_key()), critical=False))
    for serial, at in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(at).build())
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def ca_pem(authority: Authority) -> bytes:
    return authority.ca.certificate.public_bytes(serialization.Encoding.PEM)
