"""Scanned contract documents: PDFs only (checked by content, not by name), at most
MAX_BYTES, stored content-addressed through core.storage with their SHA-256 recorded."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import AsyncIterator

from contracts import repository as repo
from contracts.schemas import DocumentOut, document_out
from contracts.service import get_row, log, managed_row
from core.i18n import gettext as _
from core.problems import AppError, Conflict, Invalid, NotFound
from core.storage import key_for, storage
from tenancy.principal import Principal

MAX_BYTES = 20 * 1024 * 1024
PDF = "application/pdf"
PDF_MAGIC = b"%PDF-"
STORAGE_NAMESPACE = "contracts"


class FileTooLarge(AppError):
    status = 413


class UnsupportedFile(AppError):
    status = 415


def clean_file_name(name: str | None) -> str:
    """The last path segment, without control characters, at most 200 characters; ".pdf"."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base)
                   if unicodedata.category(c)[0] != "C").strip(" .")
    base = base[:196] or "contract"
    return base if base.lower().endswith(".pdf") else f"{base}.pdf"


def check_pdf(content: bytes) -> None:
    if len(content) > MAX_BYTES:
        raise FileTooLarge(_("The file is larger than {limit} MB.").format(limit=MAX_BYTES >> 20))
    if not content.startswith(PDF_MAGIC):
        raise UnsupportedFile(_("Only PDF files can be attached to a contract."))


async def attach(p: Principal, contract_id: int, file_name: str | None,
                 content: bytes) -> DocumentOut:
    """Attach a scan to a contract the caller manages (in any status: a signed copy often
    arrives after activation, a termination letter after the end)."""
    row = await managed_row(p, contract_id)
    check_pdf(content)
    if not content:
        raise Invalid(_("The file is empty."))
    digest = hashlib.sha256(content).hexdigest()
    contracts = repo.Contracts(p)
    if any(d["sha256"] == digest for d in await contracts.documents([contract_id])):
        raise Conflict(_("This file is already attached to the contract."))
    key = key_for(STORAGE_NAMESPACE, p.tenant_id, digest, "pdf")
    stored = await storage().put(key, content, PDF)
    doc = await contracts.add_document(contract=contract_id, storage_key=stored.key,
                                       file_name=clean_file_name(file_name), content_type=PDF,
                                       sha256=digest, size=len(content), uploaded_by=p.user_id)
    await log(p, "contract.document_attached", contract_id, document=doc["id"],
              file_name=doc["file_name"], sha256=digest, size=len(content), estate=row["estate"])
    return document_out(doc)


async def open_document(p: Principal, contract_id: int,
                        document_id: int) -> tuple[dict, AsyncIterator[bytes]]:
    """The document's row and its bytes, for anyone who may read the contract."""
    await get_row(p, contract_id)
    doc = await repo.Contracts(p).document(contract_id, document_id)
    if doc is None:
        raise NotFound(_("The requested item does not exist or you may not see it."))
    return doc, await storage().open(doc["storage_key"])
