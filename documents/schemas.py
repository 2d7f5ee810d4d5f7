"""Request/response types of the document registry (msgspec), and the signer list's shape."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

KINDS = ("annual_report", "company_report", "minutes", "notice", "other")
STATES = ("draft", "awaiting_signatures", "signed", "sealed", "superseded")
# States a version never leaves except by being superseded: no new signature changes them.
FINAL_STATES = ("sealed",)
SIGNED_STATES = ("signed", "sealed")


class Box(msgspec.Struct, frozen=True):
    """A signature field's rectangle on a page, in PDF points from the bottom-left corner
    (pyHanko's `SigFieldSpec(box=(x1, y1, x2, y2))`, `on_page` zero-based)."""

    page: int
    x1: float
    y1: float
    x2: float
    y2: float

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (round(self.x1), round(self.y1), round(self.x2), round(self.y2))


class Signer(msgspec.Struct, omit_defaults=True):
    """One slot of a version's ordered signer list.

    `kind="person"`: only `user_id` may sign (with their own key). `kind="seal"`: the
    organisation's seal (电子印章), applied by a member of `organization_id` whose role is in
    `roles`. Seals come after every person. `field_name` is the empty signature field
    pre-created in the PDF at `box` (the template reserved that space)."""

    field_name: str
    kind: Literal["person", "seal"]
    role: str  # role label printed in the stamp, e.g. "业主委员会主任"
    organization: str  # organisation label printed in the stamp
    organization_id: int | None = None
    user_id: int | None = None
    person_id: int | None = None
    name: str = ""  # signer's display name (persons)
    roles: list[str] = msgspec.field(default_factory=list)  # seal: who may apply it
    box: Box | None = None


class FileOut(msgspec.Struct):
    revision: int
    kind: str
    sha256: str
    size: int
    signer_index: int | None
    created_at: datetime


class VersionOut(msgspec.Struct):
    id: int
    document_id: int
    version: int
    state: str
    sha256: str
    size: int
    page_count: int
    signers: list[Signer]
    next_signer: int
    signed_count: int
    created_at: datetime
    updated_at: datetime
    verify_code: str
    download_url: str


class DocumentOut(msgspec.Struct):
    id: int
    kind: str
    subject_type: str
    subject_id: int
    period: str
    title: str
    number: str
    owner_organization_id: int
    estate_id: int | None
    current_version: int
    created_at: datetime
    updated_at: datetime
    latest: VersionOut | None = None


class DocumentPage(msgspec.Struct):
    items: list[DocumentOut]
    limit: int
    offset: int


class EventOut(msgspec.Struct):
    action: str
    version: int | None
    actor_user_id: int | None
    data: dict
    created_at: datetime


class RegistryMatch(msgspec.Struct):
    """What `find_by_sha256` knows about a file: which document, version and revision it is,
    and whether it is the newest file of the newest version."""

    tenant_id: int
    document_id: int
    number: str
    title: str
    kind: str
    version: int
    version_id: int
    state: str
    revision: int
    file_kind: str
    is_latest_revision: bool  # no later signature was added to this version
    is_current_version: bool  # no newer version of the document exists
    latest_version: int
    latest_sha256: str  # the newest file of the document's current version
    registered_at: datetime


class ExportOut(msgspec.Struct):
    id: int
    kind: str
    subject_type: str
    subject_id: int
    state: str
    done: int
    total: int
    file_name: str
    size: int | None
    sha256: str | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    download_url: str | None
    expires_at: datetime | None = None  # when a ready ZIP's file is deleted


def signers_from_json(raw: list | None) -> list[Signer]:
    return msgspec.convert(raw or [], list[Signer])


def signers_to_json(signers: list[Signer]) -> list[dict]:
    return msgspec.to_builtins(signers)


def version_out(row: dict) -> VersionOut:
    signers = signers_from_json(row["signers"])
    return VersionOut(
        id=row["id"], document_id=row["document"], version=row["version"], state=row["state"],
        sha256=row["sha256"], size=row["size"], page_count=row["page_count"], signers=signers,
        next_signer=row["next_signer"], signed_count=row["next_signer"],
        created_at=row["created_at"], updated_at=row["updated_at"],
        verify_code=row["verify_code"],
        download_url=f"/api/v1/documents/{row['document']}/versions/{row['version']}/pdf")


def document_out(row: dict, latest: dict | None = None) -> DocumentOut:
    return DocumentOut(
        id=row["id"], kind=row["kind"], subject_type=row["subject_type"],
        subject_id=row["subject_id"], period=row["period"], title=row["title"],
        number=row["number"], owner_organization_id=row["owner_organization"],
        estate_id=row["estate"], current_version=row["current_version"],
        created_at=row["created_at"], updated_at=row["updated_at"],
        latest=version_out(latest) if latest else None)


def export_out(row: dict, expires_at: datetime | None = None) -> ExportOut:
    return ExportOut(
        id=row["id"], kind=row["kind"], subject_type=row["subject_type"],
        subject_id=row["subject_id"], state=row["state"], done=row["done"], total=row["total"],
        file_name=row["file_name"], size=row["size"], sha256=row["sha256"], error=row["error"],
        created_at=row["created_at"], finished_at=row["finished_at"],
        download_url=(f"/api/v1/document-exports/{row['id']}/file"
                      if row["state"] == "ready" else None),
        expires_at=expires_at)
