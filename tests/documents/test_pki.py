"""Keys and certificates: the platform CA (created once, key encrypted at rest), a person's
certificate whose key only their PIN opens, PIN changes and lockouts, organisation seals
(created or imported from a licensed CA's PKCS#12) and revocation."""
from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.serialization import pkcs12

from core.db import db, fetch
from core.problems import Conflict, Forbidden, Invalid, Locked, NotFound
from core.settings import get_settings
from documents import credentials, keys, pki
from tests.documents.signing_helpers import OTHER_PIN, PIN, pem, principal


async def test_the_platform_ca_is_created_once_with_its_key_encrypted_at_rest(client):
    first = await pki.platform_authority()
    pki.forget_cached_authority()
    again = await pki.platform_authority()
    assert pki.fingerprint(first.ca.certificate) == pki.fingerprint(again.ca.certificate)
    rows = await fetch("SELECT name, certificate, encrypted_key FROM pki_platform_key"
                       " ORDER BY name")
    assert [r["name"] for r in rows] == ["ca", "tsa"]
    ca_key_der = pki.key_der(first.ca.key)
    for r in rows:
        assert bytes(r["encrypted_key"]).startswith(keys.MAGIC)
        assert ca_key_der not in bytes(r["encrypted_key"])
    ca = first.ca.certificate
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    tsa = first.tsa.certificate
    assert tsa.issuer == ca.subject
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]


async def test_platform_keys_do_not_open_with_another_documents_key(client, monkeypatch):
    row = (await fetch("SELECT encrypted_key FROM pki_platform_key WHERE name = 'ca'"))[0]
    blob = bytes(row["encrypted_key"])
    assert keys.open_envelope(blob, "pki_platform_key:ca")  # the configured key opens it
    from pydantic import SecretStr
    monkeypatch.setattr(get_settings(), "documents_key", SecretStr("another-key-entirely"))
    with pytest.raises(keys.WrongSecret):
        keys.open_envelope(blob, "pki_platform_key:ca")


def test_an_envelope_sealed_with_one_argon2_lane_still_opens_with_its_own_parameters(
        monkeypatch):
    monkeypatch.setattr(keys, "ARGON2_LANES", 1)
    blob = keys.seal_with_pin(b"older key", PIN, "signing_credential:7")
    monkeypatch.undo()
    assert keys._unpack(blob)[0]["p"] == 1 and keys.ARGON2_LANES == 2
    assert keys.open_envelope(blob, "signing_credential:7", PIN) == b"older key"
    with pytest.raises(keys.WrongSecret):
        keys.open_envelope(blob, "signing_credential:7", OTHER_PIN)


def test_a_pin_envelope_uses_peppered_argon2id_and_needs_both_the_pin_and_the_documents_key(
        monkeypatch):
    from pydantic import SecretStr

    secret = b"a private key's DER"
    blob = keys.seal_with_pin(secret, PIN, "signing_credential:1")
    header, _ciphertext = keys._unpack(blob)
    assert header["kdf"] == "argon2id" and (header["m"], header["t"], header["p"]) == (19456, 2, 2)
    assert keys.open_envelope(blob, "signing_credential:1", PIN) == secret
    for pin, context in ((OTHER_PIN, "signing_credential:1"), (PIN, "signing_credential:2")):
        with pytest.raises(keys.WrongSecret):
            keys.open_envelope(blob, context, pin)
    with pytest.raises(keys.WrongSecret):
        keys.open_envelope(blob, "signing_credential:1")  # no PIN at all
    # The PIN alone is not enough: a copy of the database without the settings guesses nothing.
    monkeypatch.setattr(get_settings(), "documents_key", SecretStr("another-key-entirely"))
    with pytest.raises(keys.WrongSecret):
        keys.open_envelope(blob, "signing_credential:1", PIN)


def test_envelopes_sealed_with_scrypt_before_argon2id_still_open():
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    key = keys._scrypt(PIN, salt, 2 ** 15, 8, 1)
    blob = keys._pack({"kdf": "scrypt", "n": 2 ** 15, "r": 8, "p": 1, "salt": salt.hex(),
                       "nonce": nonce.hex()},
                      AESGCM(key).encrypt(nonce, b"old key", b"signing_credential:7"))
    assert keys.open_envelope(blob, "signing_credential:7", PIN) == b"old key"
    with pytest.raises(keys.WrongSecret):
        keys.open_envelope(blob, "signing_credential:7", OTHER_PIN)


async def _enrolled(client, username: str, pin: str = PIN):
    p = await principal(client, username)
    async with db().transaction():
        existing = await credentials.my_credential(p)
        row = existing or await credentials.enroll(p, pin)
    return p, row


async def test_a_person_gets_a_certificate_from_the_platform_ca_and_only_their_pin_opens_it(
        client, world):
    p, row = await _enrolled(client, world.a1.users["owners_committee:member"])
    cert = x509.load_der_x509_certificate(row["certificate"])
    ca = (await pki.platform_authority()).ca.certificate
    assert cert.issuer == ca.subject
    ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                           cert.signature_hash_algorithm)
    assert pki.common_name(cert.subject) == p.display_name
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    # Nothing stored reveals the PIN or the key.
    stored = (await fetch("SELECT * FROM signing_credential WHERE id = $1", row["id"]))[0]
    assert PIN.encode() not in bytes(stored["encrypted_key"])
    assert all(PIN not in str(v) for v in stored.values())
    ident = await credentials.unlock(row, PIN)
    assert ident.key.public_key().public_numbers() == cert.public_key().public_numbers()
    with pytest.raises(Forbidden) as wrong:
        await credentials.unlock(row, OTHER_PIN)
    assert wrong.value.extra["code"] == "wrong_pin" and wrong.value.extra["tries_left"] == 4
    await keys.clear_failures(credentials.holder(row))


async def test_a_second_enrolment_is_refused_while_the_first_certificate_is_valid(client, world):
    p, _row = await _enrolled(client, world.a1.users["owners_committee:chair"])
    async with db().transaction():
        with pytest.raises(Conflict):
            await credentials.enroll(p, "580317")


async def test_weak_pins_are_refused(client, world):
    p = await principal(client, world.a1.users["residents_committee:grid_worker"])
    for weak in ("12345", "111111", "123456", "987654"):
        async with db().transaction():
            with pytest.raises(Invalid):
                await credentials.enroll(p, weak)


async def test_repeated_wrong_pins_lock_signing_even_for_the_right_pin(client, world):
    _p, row = await _enrolled(client, world.a1.users["property_company:handler"])
    limit = get_settings().signing_pin_max_failures
    for i in range(limit):
        with pytest.raises(Forbidden) as exc:
            await credentials.unlock(row, f"99{i}4417")
        assert exc.value.extra["tries_left"] == limit - 1 - i
    with pytest.raises(Locked):
        await credentials.unlock(row, PIN)
    from core.redis import redis
    await redis().delete(*keys._keys(credentials.holder(row)))
    assert await credentials.unlock(row, PIN)


async def test_changing_the_pin_re_encrypts_the_same_key(client, world):
    p, row = await _enrolled(client, world.a1.users["property_company:manager"])
    async with db().transaction():
        with pytest.raises(Forbidden):
            await credentials.change_pin(p, OTHER_PIN, "615243")
    await keys.clear_failures(credentials.holder(row))
    async with db().transaction():
        changed = await credentials.change_pin(p, PIN, "615243")
    assert changed["fingerprint"] == row["fingerprint"]
    assert changed["encrypted_key"] != row["encrypted_key"]
    with pytest.raises(Forbidden):
        await credentials.unlock(changed, PIN)
    await keys.clear_failures(credentials.holder(row))
    ident = await credentials.unlock(changed, "615243")
    assert pki.fingerprint(ident.certificate) == row["fingerprint"]
    async with db().transaction():
        await credentials.change_pin(p, "615243", PIN)


async def test_a_revoked_certificate_no_longer_unlocks_and_a_new_one_can_be_issued(client, world):
    p, row = await _enrolled(client, world.a1.users["street_office:staff"])
    async with db().transaction():
        revoked = await credentials.revoke(p, row["id"], "lost phone")
    assert revoked["revoked_at"] is not None and revoked["revocation_reason"] == "lost phone"
    with pytest.raises(Forbidden) as exc:
        await credentials.unlock(revoked, PIN)
    assert exc.value.extra["code"] == "revoked"
    async with db().transaction():
        fresh = await credentials.enroll(p, PIN)
    assert fresh["fingerprint"] != row["fingerprint"]


async def test_seals_are_created_by_the_organisations_administrators_only(client, world):
    org = world.a1.orgs["residents_committee"]
    admin = await principal(client, world.a1.users["residents_committee:admin"])
    grid = await principal(client, world.a1.users["residents_committee:grid_worker"])
    outsider = await principal(client, world.a2.users["residents_committee:admin"])
    other_tenant = await principal(client, world.b.users["bureau:admin"])
    async with db().transaction():
        with pytest.raises(Forbidden):
            await credentials.create_seal(grid, org, PIN)
    for p in (outsider, other_tenant):
        async with db().transaction():
            with pytest.raises(NotFound):
                await credentials.create_seal(p, org, PIN)
    async with db().transaction():
        seal = await credentials.seal_of(admin, org) or await credentials.create_seal(admin, org,
                                                                                         PIN)
    cert = x509.load_der_x509_certificate(seal["certificate"])
    assert seal["kind"] == "seal" and seal["organization"] == org
    assert pki.organization_name(cert.subject) == pki.common_name(cert.subject)
    async with db().transaction():
        assert (await credentials.seal_of(grid, org))["id"] == seal["id"]
        with pytest.raises(NotFound):
            await credentials.seal_of(outsider, org)


def _licensed_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "某某数字认证中心 Test CA")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=900))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return pki.Identity(cert, key)


def _p12(ca: pki.Identity, org_name: str, passphrase: bytes) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = pki.issue(ca, key.public_key(), pki.make_name(org_name, org_name), purpose="sign",
                     days=365)
    return pkcs12.serialize_key_and_certificates(
        b"seal", key, cert, [ca.certificate],
        serialization.BestAvailableEncryption(passphrase))


async def test_a_pkcs12_from_a_licensed_ca_becomes_the_seal_and_others_are_refused(
        client, world, tmp_path, monkeypatch):
    org = world.a1.orgs["property_company"]
    admin = await principal(client, world.a1.users["property_company:admin"])
    licensed, rogue = _licensed_ca(), _licensed_ca()
    bundle = tmp_path / "licensed.pem"
    bundle.write_bytes(pem(licensed.certificate))
    monkeypatch.setattr(get_settings(), "documents_trusted_ca_file", bundle)
    async with db().transaction():
        with pytest.raises(Invalid):  # a CA nobody configured
            await credentials.import_seal(admin, org, _p12(rogue, "物业公司", b"pw"), "pw", PIN)
        with pytest.raises(Invalid):  # wrong passphrase
            await credentials.import_seal(admin, org, _p12(licensed, "物业公司", b"pw"), "nope", PIN)
        with pytest.raises(Invalid):  # not PKCS#12 at all
            await credentials.import_seal(admin, org, b"%PDF-1.7 nothing", "pw", PIN)
        current = await credentials.seal_of(admin, org)
        if current:
            await credentials.revoke(admin, current["id"], "replaced")
        seal = await credentials.import_seal(admin, org, _p12(licensed, "物业公司", b"pw"), "pw",
                                             PIN)
    assert seal["source"] == "pkcs12" and len(seal["chain"]) == 1
    ident = await credentials.unlock(seal, PIN)
    assert ident.chain[0] == licensed.certificate
    assert licensed.certificate in await pki.trust_roots()


async def test_revoked_certificates_are_published_in_the_cas_revocation_list(client, world):
    p, row = await _enrolled(client, world.a1.users["street_office:admin"])
    cert = x509.load_der_x509_certificate(row["certificate"])
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value.endswith("/api/v1/signing/crl")
    async with db().transaction():
        await credentials.revoke(p, row["id"], "离职")
    r = await client.get("/api/v1/signing/crl")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(r.content)
    ca = (await pki.platform_authority()).ca.certificate
    assert crl.is_signature_valid(ca.public_key()) and crl.issuer == ca.subject
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
