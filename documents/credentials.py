"""Signing credentials: a person's signing certificate and an organisation's seal (电子印章).

A person enrols once: a new ECDSA key, a certificate from the platform CA naming them, the key
sealed with their own PIN (argon2id, documents/keys.py). Changing the PIN re-seals the same
key; a forgotten PIN means revoking and enrolling again. An organisation's administrators create its seal the same
way (the seal PIN is known to the seal's custodians) or import a PKCS#12 from a licensed CA
(DOCUMENTS_TRUSTED_CA_FILE); the imported key is re-sealed with the seal PIN and the
passphrase is forgotten. Revoking ends a credential for good (signatures it made before stay
valid; verification reports the revocation time).
"""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from core import audit
from core.i18n import gettext as _
from core.problems import Conflict, Forbidden, Invalid, NotFound
from documents import keys, pki
from documents import pki_repository as repo
from tenancy.guards import administers
from tenancy.principal import Principal


def not_found() -> NotFound:
    return NotFound(_("The requested item does not exist or you may not see it."))


def context(row_kind: str, tenant_id: int, owner_id: int, fingerprint: str) -> str:
    """The envelope's associated data: the key opens only on the row it was made for."""
    return f"signing_credential:{row_kind}:{tenant_id}:{owner_id}:{fingerprint}"


def holder(row: dict) -> str:
    """Whose wrong PINs are counted together (one counter per credential)."""
    return f"c{row['id']}"


def _values(kind: str, tenant_id: int, owner: dict, cert: x509.Certificate, blob: bytes,
            created_by: int, *, source: str = "platform",
            chain: list[str] | None = None) -> dict:
    return {"tenant": tenant_id, "kind": kind,
            "user": owner["id"] if kind == "person" else None,
            "organization": owner["id"] if kind == "seal" else None,
            "source": source, "subject": pki.common_name(cert.subject)[:300],
            "serial": format(cert.serial_number, "x")[:64], "fingerprint": pki.fingerprint(cert),
            "certificate": pki._der(cert), "chain": chain or [], "encrypted_key": blob,
            "not_before": cert.not_valid_before_utc, "not_after": cert.not_valid_after_utc,
            "created_by": created_by}


async def _issue(kind: str, tenant_id: int, owner: dict, name: x509.Name, pin: str,
                 created_by: int) -> dict:
    authority = await pki.platform_authority()
    key = pki.new_signing_key()
    cert = pki.issue(authority.ca, key.public_key(), name, purpose="sign",
                     days=5 * 365 if kind == "person" else 10 * 365, crl=pki.crl_url())
    ctx = context(kind, tenant_id, owner["id"], pki.fingerprint(cert))
    blob = await asyncio.to_thread(keys.seal_with_pin, pki.key_der(key), pin, ctx)
    return await repo.insert(_values(kind, tenant_id, owner, cert, blob, created_by))


# --- persons ----------------------------------------------------------------------------------
async def my_credential(p: Principal) -> dict | None:
    return await repo.active_for_user(p.tenant_id, p.user_id)


async def enroll(p: Principal, pin: str) -> dict:
    keys.check_new_pin(pin)
    if await repo.active_for_user(p.tenant_id, p.user_id, lock=True) is not None:
        raise Conflict(_("You already have a signing certificate; revoke it first to get a new "
                         "one."))
    name = pki.make_name(p.display_name, await repo.tenant_name(p.tenant_id),
                         f"GZ-U{p.tenant_id}-{p.user_id}")
    row = await _issue("person", p.tenant_id, {"id": p.user_id}, name, pin, p.user_id)
    await audit.record(p.tenant_id, "signing.enrolled", subject_type="signing_credential",
                       subject_id=row["id"], actor_user_id=p.user_id,
                       data={"serial": row["serial"], "fingerprint": row["fingerprint"]})
    return row


# The PIN key derivation (argon2id, deliberately slow) runs on threads of its own, so that a
# signature can be prepared on another thread while it works (documents.signing_service asks
# for the key only when the signature value is computed); argon2's C code releases the GIL.
_KDF_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="gongzhi-kdf")


@dataclass
class PendingUnlock:
    """A credential whose key is being opened with a PIN in the background."""

    row: dict
    identity: pki.Identity  # the certificate and its chain; no key
    future: Future

    def key(self):
        """The private key, once derived (blocks; raises keys.WrongSecret for a wrong PIN).
        For the signing thread; the PIN's outcome is settled by `finish`."""
        return pki.load_key(self.future.result())

    async def finish(self) -> pki.Identity:
        """Wait for the derivation: a wrong PIN is counted (and locks out after too many) and
        raised as 403; a right one clears the count. Returns the identity with its key."""
        try:
            der = await asyncio.wrap_future(self.future)
        except keys.WrongSecret:
            raise keys.wrong_pin(await keys.record_failure(holder(self.row))) from None
        await keys.clear_failures(holder(self.row))
        return replace(self.identity, key=pki.load_key(der))


async def start_unlock(row: dict, pin: str) -> PendingUnlock:
    """Refuse a revoked, locked-out or expired credential; otherwise start opening its key
    with `pin` in the background (`finish` must be awaited to learn whether the PIN was right)."""
    if row["revoked_at"] is not None:
        raise Forbidden(_("This signing certificate has been revoked."), code="revoked")
    await keys.check_not_locked(holder(row))
    cert = x509.load_der_x509_certificate(row["certificate"])
    now = dt.datetime.now(dt.timezone.utc)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise Forbidden(_("This signing certificate has expired."), code="expired")
    chain = tuple(x509.load_der_x509_certificate(base64.b64decode(c))
                  for c in row["chain"])
    if row["source"] == "platform":
        chain = ((await pki.platform_authority()).ca.certificate,)
    owner = row["user"] if row["kind"] == "person" else row["organization"]
    ctx = context(row["kind"], row["tenant"], owner, row["fingerprint"])
    future = _KDF_THREADS.submit(keys.open_envelope, row["encrypted_key"], ctx, pin)
    return PendingUnlock(row, pki.Identity(cert, None, chain), future)


async def unlock(row: dict, pin: str) -> pki.Identity:
    """The credential's key, opened with `pin`; wrong PINs are counted and locked out."""
    return await (await start_unlock(row, pin)).finish()


async def change_pin(p: Principal, old_pin: str, new_pin: str) -> dict:
    keys.check_new_pin(new_pin, "new_pin")
    row = await repo.active_for_user(p.tenant_id, p.user_id, lock=True)
    if row is None:
        raise not_found()
    ident = await unlock(row, old_pin)
    ctx = context("person", p.tenant_id, p.user_id, row["fingerprint"])
    blob = await asyncio.to_thread(keys.seal_with_pin, pki.key_der(ident.key), new_pin, ctx)
    row = await repo.update(p.tenant_id, row["id"], encrypted_key=blob,
                            pin_changed_at=dt.datetime.now(dt.timezone.utc))
    await audit.record(p.tenant_id, "signing.pin_changed", subject_type="signing_credential",
                       subject_id=row["id"], actor_user_id=p.user_id)
    return row


# --- organisations' seals ----------------------------------------------------------------------
async def _organization_for(p: Principal, organization_id: int, *, manage: bool) -> dict:
    org = await repo.organization(p.tenant_id, organization_id)
    if org is None or not (p.is_tenant_admin or p.seat_in(organization_id) is not None):
        raise not_found()
    if manage and not administers(p, organization_id):
        raise Forbidden(_("Only an administrator of the organisation may manage its seal."))
    return org


async def seal_of(p: Principal, organization_id: int) -> dict | None:
    await _organization_for(p, organization_id, manage=False)
    return await repo.active_seal(p.tenant_id, organization_id)


async def _no_active_seal(p: Principal, organization_id: int) -> None:
    if await repo.active_seal(p.tenant_id, organization_id, lock=True) is not None:
        raise Conflict(_("The organisation already has a seal; revoke it first to replace it."))


async def create_seal(p: Principal, organization_id: int, pin: str) -> dict:
    org = await _organization_for(p, organization_id, manage=True)
    keys.check_new_pin(pin)
    await _no_active_seal(p, organization_id)
    name = pki.make_name(org["name"], org["name"],
                         org["credit_code"] or f"GZ-O{p.tenant_id}-{organization_id}")
    row = await _issue("seal", p.tenant_id, org, name, pin, p.user_id)
    await audit.record(p.tenant_id, "signing.seal_created", subject_type="signing_credential",
                       subject_id=row["id"], actor_user_id=p.user_id, actor_org_id=organization_id,
                       data={"serial": row["serial"], "fingerprint": row["fingerprint"]})
    return row


def _bad_p12(message: str) -> Invalid:
    return Invalid(message, errors=[{"field": "file", "message": message}])


async def import_seal(p: Principal, organization_id: int, data: bytes, passphrase: str,
                      pin: str) -> dict:
    """Take an organisation certificate from a licensed CA (PKCS#12) as the seal."""
    org = await _organization_for(p, organization_id, manage=True)
    keys.check_new_pin(pin)
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase.encode() or None)
    except Exception:  # noqa: BLE001 - wrong passphrase or not PKCS#12
        raise _bad_p12(_("This is not a PKCS#12 file, or the passphrase is wrong.")) from None
    if key is None or cert is None or not isinstance(key, (rsa.RSAPrivateKey,
                                                           ec.EllipticCurvePrivateKey)):
        raise _bad_p12(_("The file must hold one certificate with its RSA or ECDSA key."))
    if key.public_key().public_numbers() != cert.public_key().public_numbers():
        raise _bad_p12(_("The key in the file does not belong to its certificate."))
    chain = list(extra or [])
    if not await _chains_to_licensed_ca(cert, chain):
        raise _bad_p12(_("The certificate is not issued by a licensed CA this platform trusts, "
                         "or it is not valid now."))
    await _no_active_seal(p, organization_id)
    ctx = context("seal", p.tenant_id, organization_id, pki.fingerprint(cert))
    blob = await asyncio.to_thread(keys.seal_with_pin, pki.key_der(key), pin, ctx)
    row = await repo.insert(_values(
        "seal", p.tenant_id, org, cert, blob, p.user_id, source="pkcs12",
        chain=[base64.b64encode(pki._der(c)).decode() for c in chain]))
    await audit.record(p.tenant_id, "signing.seal_imported", subject_type="signing_credential",
                       subject_id=row["id"], actor_user_id=p.user_id, actor_org_id=organization_id,
                       data={"serial": row["serial"], "fingerprint": row["fingerprint"],
                             "issuer": pki.common_name(cert.issuer)})
    return row


async def _chains_to_licensed_ca(cert: x509.Certificate, chain: list[x509.Certificate]) -> bool:
    from pyhanko_certvalidator import CertificateValidator, ValidationContext

    roots = pki.licensed_cas()
    if not roots:
        return False
    vc = ValidationContext(trust_roots=[pki.to_asn1(c) for c in roots], allow_fetching=False,
                           revocation_mode="soft-fail")
    validator = CertificateValidator(pki.to_asn1(cert),
                                     intermediate_certs=[pki.to_asn1(c) for c in chain],
                                     validation_context=vc)
    try:
        await validator.async_validate_path()
    except Exception:  # noqa: BLE001 - any path problem means: not acceptable
        return False
    return True


# --- revocation -------------------------------------------------------------------------------
async def revoke(p: Principal, credential_id: int, reason: str) -> dict:
    """Revoke a credential: one's own certificate, a seal by an administrator of its
    organisation, anything of the tenant by the bureau's administrators."""
    row = await repo.by_id(p.tenant_id, credential_id, lock=True)
    if row is None:
        raise not_found()
    if row["kind"] == "person":
        allowed = row["user"] == p.user_id or p.is_tenant_admin
        visible = allowed
    else:
        allowed = administers(p, row["organization"])
        visible = allowed or p.seat_in(row["organization"]) is not None
    if not visible:
        raise not_found()
    if not allowed:
        raise Forbidden(_("Only an administrator of the organisation may manage its seal."))
    if row["revoked_at"] is not None:
        raise Conflict(_("This certificate is already revoked."))
    row = await repo.update(p.tenant_id, credential_id,
                            revoked_at=dt.datetime.now(dt.timezone.utc), revoked_by=p.user_id,
                            revocation_reason=reason.strip()[:200])
    await audit.record(p.tenant_id, "signing.revoked", subject_type="signing_credential",
                       subject_id=credential_id, actor_user_id=p.user_id,
                       data={"kind": row["kind"], "serial": row["serial"], "reason": reason})
    return row


async def history(p: Principal, *, organization_id: int | None = None) -> list[dict]:
    if organization_id is None:
        return await repo.history(p.tenant_id, user_id=p.user_id)
    await _organization_for(p, organization_id, manage=False)
    return await repo.history(p.tenant_id, organization_id=organization_id)
