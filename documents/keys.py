"""Private keys at rest, and the signing PIN that unlocks a person's (or a seal's) key.

A key is stored as an envelope: AES-256-GCM over its PKCS#8 DER, under a key derived either
from the holder's PIN (persons and seals: the PIN is never stored, so only whoever knows it can
sign) or from DOCUMENTS_KEY (the platform CA and TSA). The envelope's associated data names the
row it belongs to, so an envelope copied onto another credential does not open.

The PIN's key is argon2id at OWASP's recommended memory and time cost (19 MiB, 2 passes) in 2
lanes (~15 ms here, against ~22 ms in one lane), over the PIN peppered with DOCUMENTS_KEY (HMAC-SHA256), so a copy of the database alone does
not even allow guessing PINs offline; with the settings too, every guess still costs the
memory-hard KDF. Envelopes sealed earlier with scrypt (2**15, 8, 1; ~0.12 s a try) still open,
and are re-sealed with argon2id the next time their PIN changes.

Wrong PINs are counted per credential holder in Redis (shared by every web worker, and kept even
though the failing request's transaction rolls back); after SIGNING_PIN_MAX_FAILURES the holder
is locked out for SIGNING_PIN_LOCKOUT_MINUTES.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.i18n import gettext as _
from core.problems import Forbidden, Invalid, Locked
from core.redis import key as redis_key
from core.redis import redis
from core.settings import get_settings

MAGIC = b"GZK1"
# argon2id cost: OWASP Password Storage Cheat Sheet's m=19 MiB, t=2, computed in 2 lanes. Lanes
# split the same memory into segments filled side by side, so a guess costs an attacker the
# same memory and work as with 1 lane (RFC 9106 recommends 4), while the signer waits on two
# cores instead of one. Each envelope records its own m, t and p, so older ones still open.
ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES = 19 * 1024, 2, 2
PIN_MIN, PIN_MAX = 6, 64


class WrongSecret(Exception):
    """The PIN (or DOCUMENTS_KEY) does not open this envelope."""


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """The key of envelopes sealed before argon2id (opening only)."""
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=32,
                          maxmem=256 * n * r + 16 * 1024 * 1024)


def _argon2id(pin: str, salt: bytes, memory_kib: int, passes: int, lanes: int) -> bytes:
    peppered = hmac.new(documents_key(), b"signing pin\0" + pin.encode(), "sha256").digest()
    return hash_secret_raw(peppered, salt, time_cost=passes, memory_cost=memory_kib,
                           parallelism=lanes, hash_len=32, type=Type.ID)


def documents_key() -> bytes:
    """The 32-byte key sealing platform keys: DOCUMENTS_KEY, or derived from SECRET_KEY."""
    settings = get_settings()
    secret = (settings.documents_key.get_secret_value() if settings.documents_key
              else "derived:" + settings.secret_key.get_secret_value())
    return hashlib.sha256(b"gongzhi documents key\0" + secret.encode()).digest()


def _pack(header: dict, ciphertext: bytes) -> bytes:
    raw = json.dumps(header, separators=(",", ":")).encode()
    return MAGIC + struct.pack(">H", len(raw)) + raw + ciphertext


def _unpack(blob: bytes) -> tuple[dict, bytes]:
    if not blob.startswith(MAGIC):
        raise WrongSecret("not a key envelope")
    (length,) = struct.unpack(">H", blob[4:6])
    return json.loads(blob[6:6 + length]), blob[6 + length:]


def seal_with_pin(secret_der: bytes, pin: str, context: str) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(12)
    header = {"kdf": "argon2id", "m": ARGON2_MEMORY_KIB, "t": ARGON2_PASSES, "p": ARGON2_LANES,
              "salt": salt.hex(), "nonce": nonce.hex()}
    key = _argon2id(pin, salt, ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES)
    return _pack(header, AESGCM(key).encrypt(nonce, secret_der, context.encode()))


def seal_with_platform_key(secret_der: bytes, context: str) -> bytes:
    nonce = os.urandom(12)
    header = {"kdf": "documents_key", "nonce": nonce.hex()}
    return _pack(header, AESGCM(documents_key()).encrypt(nonce, secret_der, context.encode()))


def open_envelope(blob: bytes, context: str, pin: str | None = None) -> bytes:
    """The DER inside `blob`; WrongSecret when the PIN (or DOCUMENTS_KEY) is not the one."""
    header, ciphertext = _unpack(blob)
    if header["kdf"] in ("argon2id", "scrypt") and pin is None:
        raise WrongSecret("a PIN is needed")
    if header["kdf"] == "argon2id":
        key = _argon2id(pin, bytes.fromhex(header["salt"]), header["m"], header["t"], header["p"])
    elif header["kdf"] == "scrypt":
        key = _scrypt(pin, bytes.fromhex(header["salt"]), header["n"], header["r"], header["p"])
    elif header["kdf"] == "documents_key":
        key = documents_key()
    else:
        raise WrongSecret(f"unknown key derivation {header['kdf']!r}")
    try:
        return AESGCM(key).decrypt(bytes.fromhex(header["nonce"]), ciphertext, context.encode())
    except InvalidTag as exc:
        raise WrongSecret("wrong PIN") from exc


def check_new_pin(pin: str, field: str = "pin") -> None:
    """The PIN policy: 6 to 64 characters, not one character repeated, not a plain run of
    consecutive digits (123456, 654321)."""
    problem = None
    if not PIN_MIN <= len(pin) <= PIN_MAX:
        problem = _("The PIN must have 6 to 64 characters.")
    elif len(set(pin)) == 1 or (pin.isdigit() and (pin in "01234567890123456789"
                                                   or pin in "98765432109876543210")):
        problem = _("This PIN is too easy to guess; choose another.")
    if problem:
        raise Invalid(problem, errors=[{"field": field, "message": problem}])


# --- throttling wrong PINs ------------------------------------------------------------------------
def _keys(holder: str) -> tuple[str, str]:
    return redis_key("signing-pin", "fail", holder), redis_key("signing-pin", "lock", holder)


async def check_not_locked(holder: str) -> None:
    ttl = await redis().ttl(_keys(holder)[1])
    if ttl and ttl > 0:
        minutes = max(1, (ttl + 59) // 60)
        raise Locked(_("Too many wrong PINs; signing is locked for {minutes} more minutes.")
                     .format(minutes=minutes), headers={"Retry-After": str(ttl)})


async def record_failure(holder: str) -> int:
    """Count a wrong PIN; returns the tries left before the lockout (0: now locked)."""
    settings = get_settings()
    fail_key, lock_key = _keys(holder)
    r = redis()
    failures = await r.incr(fail_key)
    await r.expire(fail_key, settings.signing_pin_lockout_minutes * 60)
    if failures >= settings.signing_pin_max_failures:
        await r.set(lock_key, "1", ex=settings.signing_pin_lockout_minutes * 60)
        await r.delete(fail_key)
        return 0
    return settings.signing_pin_max_failures - failures


async def clear_failures(holder: str) -> None:
    await redis().delete(_keys(holder)[0])


def wrong_pin(tries_left: int) -> Forbidden:
    if tries_left <= 0:
        return Forbidden(_("Wrong PIN. Signing is now locked for a while after repeated wrong "
                           "PINs."), code="wrong_pin", tries_left=0)
    return Forbidden(_("Wrong PIN. {n} tries left before signing is locked.").format(n=tries_left),
                     code="wrong_pin", tries_left=tries_left)
