"""Document registry rules (no HTTP).

Lifecycle of a version: `draft` (rendered) → `awaiting_signatures` (opened for signing) →
`signed` (every person on the signer list signed) → `sealed` (the organisation seal(s) after
them). Regenerating a document makes version n+1; earlier versions that are not signed become
`superseded`; signed and sealed versions are never changed again (only their own signing
continues: the seal after `signed`, a document timestamp after that).

Crash safety of rendering: the worker renders first, then calls `register_version` inside ONE
transaction with the job's idempotency key. The PDF is stored content-addressed (written and
fsync'd while the rows are written, and durable before the transaction commits), so a crash
leaves at worst an unreferenced blob (same key on retry), never a row without its file; the
unique job key makes a retried job return the version its first run registered instead of
making a second one.

Signing (documents A's module) goes through `version_for_signing` (who may sign now, the bytes
to sign) and `record_signature` / `record_timestamp` (store the increment, advance the state).
Verification uses `find_by_sha256` and `find_by_code`.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from core import audit, outbox
from core.i18n import gettext as _
from core.problems import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from core.settings import get_settings
from core.storage import key_for, storage
from documents import repository as repo
from documents.schemas import (
    KINDS,
    RegistryMatch,
    Signer,
    signers_from_json,
    signers_to_json,
)
from tenancy.principal import Principal

STORAGE_NAMESPACE = "documents"
PDF = "application/pdf"
# Roles of the owning organisation that may open a version for signing.
MANAGER_ROLES = ("admin", "chair", "director", "manager")
_KIND_CODES = {"annual_report": "PJ", "company_report": "PJH", "minutes": "JY", "notice": "GG",
               "other": "WJ"}


class StaleRender(Exception):
    """The PDF printed a version number another render took first; the job renders again."""


def not_found() -> NotFound:
    return NotFound(_("The requested item does not exist or you may not see it."))


def document_number(kind: str, subject_type: str, subject_id: int, period: str) -> str:
    """The document number (文号), fixed by the subject so it can be printed before any row
    exists, e.g. "GZ-PJ-2026-SC000012" for the 2026 annual report of contract 12."""
    code = "".join(w[0] for w in subject_type.split("_")).upper()[:3] or "X"
    period_part = f"-{period}" if period else ""
    return f"GZ-{_KIND_CODES.get(kind, 'WJ')}{period_part}-{code}{int(subject_id):06d}"


def verify_code_for(tenant_id: int, job_key: str) -> str:
    """The code printed in the QR link (/verify?code=…): derived from the job key, so a retried
    render prints the same code; unguessable without SECRET_KEY."""
    secret = get_settings().secret_key.get_secret_value().encode()
    digest = hmac.new(secret, f"{tenant_id}:{job_key}".encode(), hashlib.sha256).hexdigest()
    return digest[:24]


def check_signers(signers: list[Signer]) -> None:
    """Unique field names; persons (with a user) before seals (with an organisation)."""
    names = [s.field_name for s in signers]
    if len(set(names)) != len(names):
        raise Invalid(_("Every signer needs its own signature field."))
    seen_seal = False
    for s in signers:
        if s.kind == "seal":
            seen_seal = True
            if s.organization_id is None:
                raise Invalid(_("A seal needs the organisation it belongs to."))
        else:
            if seen_seal:
                raise Invalid(_("Seals are applied after every person has signed."))
            if s.user_id is None:
                raise Invalid(_("A person signing needs their user account."))


# --- registering renders (jobs) --------------------------------------------------------------
async def ensure_document(*, tenant_id: int, kind: str, subject_type: str, subject_id: int,
                          period: str, title: str, owner_organization_id: int,
                          estate_id: int | None, organizations: list[int]) -> dict:
    """The registry row of a subject (created on first use; concurrent callers share it)."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    return await repo.system_insert_document(
        tenant=tenant_id, kind=kind, subject_type=subject_type, subject_id=subject_id,
        period=period, title=title,
        number=document_number(kind, subject_type, subject_id, period),
        owner_organization=owner_organization_id, estate=estate_id,
        organizations=[o for o in organizations if o != owner_organization_id])


async def register_version(*, tenant_id: int, kind: str, subject_type: str, subject_id: int,
                           period: str, title: str, owner_organization_id: int,
                           estate_id: int | None, organizations: list[int], pdf: bytes,
                           page_count: int, signers: list[Signer], source: dict,
                           template: str, job_key: str, created_by: int | None = None,
                           open_for_signing: bool = False,
                           expected_version: int | None = None) -> dict:
    """Store `pdf` and register it as the next version of the subject's document; returns the
    version row. Call inside the job's transaction. Idempotent per `job_key`: a retried job
    gets the version its first run registered (nothing new is stored or written).
    `expected_version`: the version number printed in the PDF; when another render of the same
    subject registered first, `StaleRender` is raised (render again with the new number)."""
    existing = await repo.system_version_by_job(tenant_id, job_key)
    if existing is not None:
        return existing
    check_signers(signers)
    digest = hashlib.sha256(pdf).hexdigest()
    key = key_for(STORAGE_NAMESPACE, tenant_id, digest, "pdf")
    async with _storing(key, pdf):
        doc = await ensure_document(tenant_id=tenant_id, kind=kind, subject_type=subject_type,
                                    subject_id=subject_id, period=period, title=title,
                                    owner_organization_id=owner_organization_id,
                                    estate_id=estate_id, organizations=organizations)
        doc = await repo.system_document(tenant_id, doc["id"], lock=True)  # serialise versions
        number = doc["current_version"] + 1
        if expected_version is not None and expected_version != number:
            raise StaleRender(f"rendered as version {expected_version}, next is {number}")
        state = "awaiting_signatures" if open_for_signing and signers else "draft"
        version = await repo.system_insert_version(
            tenant=tenant_id, document=doc["id"], version=number, storage_key=key,
            sha256=digest, size=len(pdf), page_count=page_count, state=state,
            signers=signers_to_json(signers), source_json=source, template=template,
            job_key=job_key, verify_code=verify_code_for(tenant_id, job_key),
            created_by=created_by)
        await repo.system_insert_file(tenant=tenant_id, version=version["id"], revision=0,
                                      storage_key=key, sha256=digest, size=len(pdf),
                                      signer_index=None, kind="render", created_by=created_by)
        superseded = await repo.system_supersede_unsigned(doc["id"], number)
        others = sorted({*organizations} - {doc["owner_organization"]})
        await repo.system_update_document(doc["id"], current_version=number, title=title,
                                          organizations=others)
        await _log(doc, number, "rendered", created_by, sha256=digest, pages=page_count,
                   state=state, superseded=superseded, job_key=job_key)
        await _announce(doc, "document.rendered", number, state)
        return version


async def _log(doc: dict, version: int | None, action: str, actor: int | None,
               **data: Any) -> None:
    await repo.system_insert_event(doc["tenant"], doc["id"], version, action, actor, data)
    await audit.record(doc["tenant"], f"document.{action}", subject_type="document",
                       subject_id=doc["id"], actor_user_id=actor,
                       data={"version": version, "number": doc["number"], **data})


async def _announce(doc: dict, topic: str, version: int, state: str) -> None:
    await outbox.emit(doc["tenant"], topic,
                      {"document_id": doc["id"], "number": doc["number"], "kind": doc["kind"],
                       "title": doc["title"], "version": version, "state": state},
                      organizations=[doc["owner_organization"], *(doc["organizations"] or [])])


# --- reading ---------------------------------------------------------------------------------
async def get_document(p: Principal, document_id: int) -> dict:
    doc = await repo.Documents(p).get(document_id)
    if doc is None:
        raise not_found()
    return doc


async def get_version(p: Principal, document_id: int, version: int | None = None) -> tuple[dict, dict]:
    """(document, version row) the caller may read; `version=None` means the current one."""
    doc = await get_document(p, document_id)
    row = await repo.system_version(p.tenant_id, document_id,
                                    version if version is not None else doc["current_version"])
    if row is None:
        raise not_found()
    return doc, row


async def open_pdf(p: Principal, document_id: int,
                   version: int | None = None) -> tuple[dict, dict, AsyncIterator[bytes]]:
    """(document, version, chunks of its newest file) for a reader; the download is audited."""
    doc, row = await get_version(p, document_id, version)
    chunks = await storage().open(row["storage_key"])
    await audit.record(p.tenant_id, "document.downloaded", subject_type="document",
                       subject_id=document_id, actor_user_id=p.user_id,
                       data={"version": row["version"], "sha256": row["sha256"]})
    return doc, row, chunks


# --- signing (used by the signing module) --------------------------------------------------------
@dataclass
class SigningContext:
    document: dict
    version: dict  # the version row (locked when taken inside a transaction)
    signer_index: int
    signer: Signer
    pdf: bytes  # the newest file of the version: sign into this as an incremental update


def signer_matches(p: Principal, signer: Signer) -> bool:
    if signer.kind == "person":
        return signer.user_id == p.user_id
    seat = p.seat_in(signer.organization_id or 0)
    return seat is not None and seat.role in (signer.roles or ["admin"])


async def version_for_signing(p: Principal, document_id: int, version: int) -> SigningContext:
    """The version `p` is about to sign, with the bytes to sign. Refused (403) for anyone not on
    the signer list and for a signer whose turn it is not (409), or when the version is not
    open for signing (409). Takes a row lock when called in a transaction."""
    doc = await get_document(p, document_id)
    row = await repo.system_version(p.tenant_id, document_id, version, lock=True)
    if row is None:
        raise not_found()
    signers = signers_from_json(row["signers"])
    mine = [i for i, s in enumerate(signers) if signer_matches(p, s)]
    if not mine:
        raise Forbidden(_("You are not on this document's list of signers."))
    if row["state"] not in ("awaiting_signatures", "signed") or row["next_signer"] >= len(signers):
        raise Conflict(_("This version is not open for signing."), state=row["state"])
    index = row["next_signer"]
    if index not in mine:
        already = any(i < index for i in mine)
        raise Conflict(_("You have already signed this version.") if already and max(mine) < index
                       else _("It is not your turn to sign yet."), next_signer=index)
    pdf = await storage().get(row["storage_key"])
    return SigningContext(doc, row, index, signers[index], pdf)


async def record_signature(p: Principal, version_id: int, new_pdf: bytes, *, signer_index: int,
                           expected_sha256: str) -> dict:
    """Store the PDF after `p` signed slot `signer_index` (an incremental update of the file
    whose hash was `expected_sha256`) and advance the version: the next signer, then `signed`
    once every person signed, `sealed` after the last seal. Returns the updated version row.
    412 when someone else's signature landed first (sign the newer file again)."""
    row = await repo.system_version_by_id(version_id, lock=True)
    if row is None or row["tenant"] != p.tenant_id:
        raise not_found()
    signers = signers_from_json(row["signers"])
    if row["state"] not in ("awaiting_signatures", "signed") or signer_index >= len(signers):
        raise Conflict(_("This version is not open for signing."), state=row["state"])
    if row["sha256"] != expected_sha256:
        raise PreconditionFailed(_("The document changed while you were signing; sign again."))
    if signer_index != row["next_signer"]:
        raise Conflict(_("It is not your turn to sign yet."), next_signer=row["next_signer"])
    signer = signers[signer_index]
    if not signer_matches(p, signer):
        raise Forbidden(_("You are not on this document's list of signers."))
    nxt = signer_index + 1
    persons = sum(1 for s in signers if s.kind == "person")
    state = row["state"]
    if nxt >= len(signers) and signer.kind == "seal":
        state = "sealed"
    elif nxt >= persons:
        state = "signed"
    async with _increment(row, new_pdf, kind=signer.kind if signer.kind == "seal"
                          else "signature", signer_index=signer_index, actor=p.user_id,
                          next_signer=nxt, state=state) as updated:
        doc = await repo.system_document(row["tenant"], row["document"])
        action = "sealed" if signer.kind == "seal" else "signed"
        await _log(doc, row["version"], action, p.user_id, signer_index=signer_index,
                   field=signer.field_name, sha256=updated["sha256"], state=state)
        if state != row["state"]:
            await _announce(doc, f"document.{state}", row["version"], state)
    return updated


async def record_timestamp(p: Principal | None, version_id: int, new_pdf: bytes, *,
                           expected_sha256: str) -> dict:
    """Store the PDF after a document timestamp was appended to a signed or sealed version
    (the state does not change). `p` None for a system job."""
    row = await repo.system_version_by_id(version_id, lock=True)
    if row is None or (p is not None and row["tenant"] != p.tenant_id):
        raise not_found()
    if row["state"] not in ("signed", "sealed"):
        raise Conflict(_("This version is not open for signing."), state=row["state"])
    if row["sha256"] != expected_sha256:
        raise PreconditionFailed(_("The document changed while you were signing; sign again."))
    async with _increment(row, new_pdf, kind="timestamp", signer_index=None,
                          actor=p.user_id if p else None) as updated:
        doc = await repo.system_document(row["tenant"], row["document"])
        await _log(doc, row["version"], "timestamped", p.user_id if p else None,
                   sha256=updated["sha256"])
    return updated


@asynccontextmanager
async def _increment(row: dict, new_pdf: bytes, *, kind: str, signer_index: int | None,
                     actor: int | None, **changes: Any) -> AsyncIterator[dict]:
    """Register `new_pdf` as the next file of version `row` and yield the updated version row;
    the file is written while the rows (and the caller's block: events, audit) are."""
    # The registered file is `size` bytes whose SHA-256 the row holds: the new file must begin
    # with exactly those bytes (hashing the prefix is cheaper than reading the file back).
    size = row["size"]
    if (len(new_pdf) <= size
            or hashlib.sha256(memoryview(new_pdf)[:size]).hexdigest() != row["sha256"]):
        raise Invalid(_("A signature must be added as an incremental update of the document."))
    digest = hashlib.sha256(new_pdf).hexdigest()
    key = key_for(STORAGE_NAMESPACE, row["tenant"], digest, "pdf")
    async with _storing(key, new_pdf):
        revision = await repo.system_last_revision(row["id"]) + 1
        await repo.system_insert_file(tenant=row["tenant"], version=row["id"], revision=revision,
                                      storage_key=key, sha256=digest, size=len(new_pdf),
                                      signer_index=signer_index, kind=kind, created_by=actor)
        yield await repo.system_update_version(row["id"], storage_key=key, sha256=digest,
                                               size=len(new_pdf), **changes)


@asynccontextmanager
async def _storing(key: str, pdf: bytes) -> AsyncIterator[None]:
    """Store `pdf` under `key` while the block writes its rows: the file's write and fsync (in a
    worker thread) overlap the database round trips instead of preceding them. The file is
    durable when the block ends, so before the caller's transaction commits; when the block
    fails, the write is still awaited (an unreferenced content-addressed file is harmless, as
    after a rolled-back transaction) and a failed write fails the block."""
    task = asyncio.ensure_future(storage().put(key, pdf, PDF))
    try:
        yield
    finally:
        await task


# --- verification --------------------------------------------------------------------------------
async def find_by_sha256(sha256: str) -> list[RegistryMatch]:
    """Every registered file with this SHA-256 (hex), newest first: which document, version and
    revision, and whether it is the latest file of the current version. Public lookup."""
    out = []
    for r in await repo.system_files_by_sha256(sha256):
        out.append(RegistryMatch(
            tenant_id=r["tenant"], document_id=r["document_id"], number=r["number"],
            title=r["title"], kind=r["kind"], version=r["version"], version_id=r["version_id"],
            state=r["state"], revision=r["revision"], file_kind=r["file_kind"],
            is_latest_revision=r["version_sha256"] == sha256.lower(),
            is_current_version=r["version"] == r["current_version"],
            latest_version=r["current_version"], latest_sha256=r["latest_sha256"] or "",
            registered_at=r["created_at"]))
    return out


async def find_by_code(code: str) -> dict | None:
    """The version whose QR code carries `code` (with its document), or None."""
    row = await repo.system_version_by_code(code)
    if row is None:
        return None
    doc = await repo.system_document(row["tenant"], row["document"])
    return {"document": doc, "version": row}


# --- managing -----------------------------------------------------------------------------------
async def open_for_signing(p: Principal, document_id: int, version: int) -> dict:
    """Move a draft with signers to `awaiting_signatures` (a manager of the owning organisation,
    or a bureau administrator). Only the document's current version can be opened."""
    doc = await get_document(p, document_id)
    seat = p.seat_in(doc["owner_organization"])
    if not (p.is_tenant_admin or (seat is not None and seat.role in MANAGER_ROLES)):
        raise Forbidden(_("Only a manager of the owning organisation may do this."))
    row = await repo.system_version(p.tenant_id, document_id, version, lock=True)
    if row is None:
        raise not_found()
    if row["state"] != "draft" or version != doc["current_version"]:
        raise Conflict(_("Only the current draft can be opened for signing."), state=row["state"])
    if not row["signers"]:
        raise Conflict(_("This version has nobody to sign it."))
    updated = await repo.system_update_version(row["id"], state="awaiting_signatures")
    await _log(doc, version, "opened_for_signing", p.user_id)
    await _announce(doc, "document.awaiting_signatures", version, "awaiting_signatures")
    return updated


async def list_documents(p: Principal, *, organization_id: int | None = None,
                         kind: str | None = None, limit: int = 50,
                         offset: int = 0) -> list[tuple[dict, dict | None]]:
    """(document, its current version) pairs the caller may read, newest first."""
    docs = repo.Documents(p)
    rows = await docs.list(organization_id=organization_id, kind=kind, limit=limit,
                           offset=offset)
    latest = await docs.latest_versions([r["id"] for r in rows])
    return [(r, latest.get(r["id"])) for r in rows]


async def versions(p: Principal, document_id: int) -> list[dict]:
    await get_document(p, document_id)
    return await repo.Documents(p).versions(document_id)


async def events(p: Principal, document_id: int) -> list[dict]:
    await get_document(p, document_id)
    return await repo.Documents(p).events(document_id)
