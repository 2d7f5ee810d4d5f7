"""Signing a registered document version (the rules; no HTTP).

`sign_version` is what the API, the signing page and other packages call: the registry says
whose turn it is (refusing anyone not on the signer list, or out of turn), the caller's own
credential (a person's certificate, or for a seal slot the organisation's seal) is unlocked
with the PIN they typed, the signature goes into the slot's pre-created field as an
incremental update, and the registry stores the new file and advances the state. After the
last slot a PAdES document timestamp is added. pyHanko and the PIN key derivation run in worker
threads, side by side (the signature is prepared while the key is derived, and only its value
waits for the key), so the event loop keeps serving; the PIN never leaves this process (it is
not queued).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from core import audit
from core.i18n import gettext as _
from core.problems import AppError, Conflict, Forbidden
from documents import credentials, signing, tsa
from documents import pki_repository as repo
from documents import service as registry
from tenancy.principal import Principal

ZH = "zh-CN"


class TsaUnavailable(AppError):
    status = 503


def _no_tsa() -> TsaUnavailable:
    return TsaUnavailable(_("The timestamp authority did not answer; nothing was signed. Try "
                            "again in a moment."), headers={"Retry-After": "30"})


@dataclass
class SignResult:
    version: dict  # the registry's version row after signing
    field_name: str
    timestamped: bool
    seconds: float  # time spent signing (the PIN key derivation runs meanwhile)


async def _credential_for(p: Principal, signer) -> dict:
    if signer.kind == "person":
        row = await repo.active_for_user(p.tenant_id, p.user_id)
        if row is None:
            past = await repo.history(p.tenant_id, user_id=p.user_id)
            if past:
                raise Forbidden(_("Your signing certificate has been revoked; enrol again to "
                                  "sign."), code="revoked")
            raise Conflict(_("You have no signing certificate yet: set your signing PIN first."),
                           code="not_enrolled")
        return row
    row = await repo.active_seal(p.tenant_id, signer.organization_id)
    if row is None:
        past = await repo.history(p.tenant_id, organization_id=signer.organization_id)
        if past:
            raise Forbidden(_("The organisation's seal has been revoked."), code="revoked")
        raise Conflict(_("The organisation has no electronic seal yet."), code="no_seal")
    return row


def stamp_for(p: Principal, signer) -> signing.StampText:
    return signing.StampText(kind=signer.kind, name=p.display_name if signer.kind == "seal"
                             else (signer.name or p.display_name), role=signer.role,
                             organization=signer.organization)


async def sign_version(p: Principal, document_id: int, version: int, pin: str) -> SignResult:
    """Sign (or seal) the slot whose turn it is, as `p`, with `pin`. Call inside a transaction.

    403: not on the signer list, wrong PIN (tries left in the problem), revoked certificate;
    409: out of turn, not open for signing, not enrolled; 423: locked after wrong PINs."""
    ctx = await registry.version_for_signing(p, document_id, version)
    signer = ctx.signer
    row = await _credential_for(p, signer)
    pending = await credentials.start_unlock(row, pin)  # the PIN's key derivation starts
    reason = (_("Electronic seal", ZH) if signer.kind == "seal"
              else _("Signed as {role}", ZH).format(role=signer.role))
    started = time.perf_counter()
    try:  # the signature is prepared while the key is derived; its value waits for the key
        stamper = await tsa.timestamper()
        signed = await asyncio.to_thread(signing.sign_field, ctx.pdf, signer.field_name,
                                         pending.identity, stamp_for(p, signer), stamper,
                                         reason=reason, location=signer.organization,
                                         key=pending.key)
    except Exception as exc:
        await pending.finish()  # a wrong PIN is what the signer hears first (and is counted)
        if isinstance(exc, TimestampRequestError):
            raise _no_tsa() from None
        raise
    seconds = time.perf_counter() - started
    await pending.finish()
    updated = await registry.record_signature(p, ctx.version["id"], signed,
                                              signer_index=ctx.signer_index,
                                              expected_sha256=ctx.version["sha256"])
    await audit.record(p.tenant_id, "signing.signature_made", subject_type="document",
                       subject_id=document_id, actor_user_id=p.user_id,
                       actor_org_id=signer.organization_id,
                       data={"version": version, "field": signer.field_name, "kind": signer.kind,
                             "credential_id": row["id"], "serial": row["serial"],
                             "fingerprint": row["fingerprint"], "sha256": updated["sha256"]})
    timestamped = False
    if updated["next_signer"] >= len(updated["signers"] or []):
        started = time.perf_counter()
        try:
            final = await asyncio.to_thread(signing.add_document_timestamp, signed, stamper)
        except TimestampRequestError:
            raise _no_tsa() from None
        seconds += time.perf_counter() - started
        updated = await registry.record_timestamp(p, ctx.version["id"], final,
                                                  expected_sha256=updated["sha256"])
        timestamped = True
    return SignResult(updated, signer.field_name, timestamped, seconds)
