"""Request/response types of keys, certificates, signing and verification (msgspec)."""
from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives import serialization

Pin = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
NewPin = Annotated[str, msgspec.Meta(min_length=6, max_length=64)]
Reason = Annotated[str, msgspec.Meta(max_length=200)]


class EnrollIn(msgspec.Struct, forbid_unknown_fields=True):
    """Create my signing key and certificate, protected by a PIN only I know."""

    pin: NewPin


class PinChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    old_pin: Pin
    new_pin: NewPin


class RevokeIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason = ""


class SealIn(msgspec.Struct, forbid_unknown_fields=True):
    """Create the organisation's seal; `pin` is the seal PIN its custodians will enter."""

    pin: NewPin


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    """My signing PIN (or, for a seal slot, the seal PIN)."""

    pin: Pin


class CredentialOut(msgspec.Struct):
    id: int
    kind: str  # person | seal
    source: str  # platform | pkcs12
    subject: str
    issuer: str
    serial: str
    fingerprint: str
    not_before: datetime
    not_after: datetime
    created_at: datetime
    revoked_at: datetime | None
    revocation_reason: str
    user_id: int | None
    organization_id: int | None
    certificate_pem: str


def credential_out(row: dict) -> CredentialOut:
    cert = x509.load_der_x509_certificate(row["certificate"])
    issuer = cert.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return CredentialOut(
        id=row["id"], kind=row["kind"], source=row["source"], subject=row["subject"],
        issuer=str(issuer[0].value) if issuer else cert.issuer.rfc4514_string(),
        serial=row["serial"], fingerprint=row["fingerprint"], not_before=row["not_before"],
        not_after=row["not_after"], created_at=row["created_at"], revoked_at=row["revoked_at"],
        revocation_reason=row["revocation_reason"], user_id=row["user"],
        organization_id=row["organization"],
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode())


class SignatureOut(msgspec.Struct):
    field: str
    kind: str
    signer: str
    organization: str
    issuer: str
    serial: str
    signed_at: datetime | None
    timestamp: datetime | None
    timestamp_trusted: bool
    intact: bool
    valid: bool
    trusted: bool
    revoked: bool
    revoked_at: datetime | None
    covers_whole_file: bool
    changes_after: str
    reason: str
    location: str
    ok: bool
    problem: str


class RegistryOut(msgspec.Struct):
    matched: bool
    document_id: int | None
    number: str
    title: str
    version: int | None
    state: str
    is_latest: bool
    is_latest_revision: bool
    is_current_version: bool
    latest_version: int | None


class VerificationOut(msgspec.Struct):
    sha256: str
    size: int
    verdict: str  # valid | untrusted | tampered | unsigned | not_pdf
    summary: str
    signatures: list[SignatureOut]
    document_timestamp: datetime | None
    registry: RegistryOut
    problem: str


class SignedVersionOut(msgspec.Struct):
    document_id: int
    version: int
    state: str
    sha256: str
    size: int
    next_signer: int
    signed_field: str
    timestamped: bool
    download_url: str


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
