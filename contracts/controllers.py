"""Service contracts API: contracts of the estates the caller covers, their lifecycle, and
their scanned PDF documents; and residents' committees' co-building agreements."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Stream

from contracts import cobuilding, documents
from contracts import repository as repo
from contracts import service as svc
from contracts.schemas import (
    AgreementEndIn,
    AgreementIn,
    AgreementOut,
    AgreementPatch,
    ContractIn,
    ContractOut,
    ContractPatch,
    DocumentOut,
    Status,
    TerminateIn,
)
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]
Limit = Annotated[int, Parameter(ge=1, le=repo.MAX_PAGE)]
Offset = Annotated[int, Parameter(ge=0, le=10_000_000)]


@dataclass
class DocumentUpload:
    file: UploadFile


def _changes(patch_body: msgspec.Struct) -> dict:
    return {f: v for f in patch_body.__struct_fields__
            if (v := getattr(patch_body, f)) is not msgspec.UNSET}


def _disposition(file_name: str) -> str:
    ascii_name = file_name.encode("ascii", "ignore").decode().replace('"', "") or "contract.pdf"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"


class ContractController(Controller):
    path = "/api/v1/contracts"
    guards = [authenticated]
    tags = ["contracts"]

    @get("", summary="Service contracts of the estates you cover (a property company: its own)")
    async def list_contracts(self, request: Req, estate_id: int | None = None,
                             status: Status | None = None, limit: Limit = 100,
                             offset: Offset = 0) -> list[ContractOut]:
        return await svc.list_contracts(request.user, estate_id=estate_id, status=status,
                                        limit=limit, offset=offset)

    @post("", summary="Draft a service contract (bureau administrators, the street office's "
                      "administrators, the owners' committee's chair or administrators)")
    async def create_contract(self, request: Req, data: ContractIn, tx: object) -> ContractOut:
        return await svc.create_contract(request.user, data)

    @get("/{contract_id:int}")
    async def get_contract(self, request: Req, contract_id: int) -> ContractOut:
        return await svc.get_contract(request.user, contract_id)

    @patch("/{contract_id:int}", summary="Edit a draft contract")
    async def update_contract(self, request: Req, contract_id: int, data: ContractPatch,
                              tx: object) -> ContractOut:
        return await svc.update_contract(request.user, contract_id, _changes(data))

    @post("/{contract_id:int}/activate", status_code=200,
          summary="Put a draft in force (one active contract per estate)")
    async def activate(self, request: Req, contract_id: int, tx: object) -> ContractOut:
        return await svc.activate_contract(request.user, contract_id)

    @post("/{contract_id:int}/terminate", status_code=200,
          summary="End a contract early, at least 60 days after the dismissal notice")
    async def terminate(self, request: Req, contract_id: int, data: TerminateIn,
                        tx: object) -> ContractOut:
        return await svc.terminate_contract(request.user, contract_id, data)

    @post("/{contract_id:int}/documents", summary="Attach a scanned PDF (at most 20 MB)")
    async def attach(self, request: Req, contract_id: int, tx: object,
                     data: Annotated[DocumentUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
                     ) -> DocumentOut:
        content = await data.file.read(documents.MAX_BYTES + 1)
        return await documents.attach(request.user, contract_id, data.file.filename, content)

    @get("/{contract_id:int}/documents/{document_id:int}", summary="Download a document")
    async def download(self, request: Req, contract_id: int, document_id: int) -> Stream:
        doc, chunks = await documents.open_document(request.user, contract_id, document_id)
        return Stream(chunks, media_type=doc["content_type"], headers={
            "Content-Disposition": _disposition(doc["file_name"]),
            "Content-Length": str(doc["size"]), "X-Content-SHA256": doc["sha256"]})


class AgreementController(Controller):
    path = "/api/v1/co-building-agreements"
    guards = [authenticated]
    tags = ["contracts"]

    @get("", summary="Co-building agreements (共建协议) you are party to or supervise")
    async def list_agreements(self, request: Req, residents_committee_id: int | None = None,
                              limit: Limit = 100, offset: Offset = 0) -> list[AgreementOut]:
        return await cobuilding.list_agreements(
            request.user, residents_committee_id=residents_committee_id, limit=limit, offset=offset)

    @post("", summary="Record an agreement between a residents' committee and a partner in its "
                      "area (the committee's administrators and directors, the street office's "
                      "administrators, bureau administrators)")
    async def create_agreement(self, request: Req, data: AgreementIn, tx: object) -> AgreementOut:
        return await cobuilding.create_agreement(request.user, data)

    @get("/{agreement_id:int}")
    async def get_agreement(self, request: Req, agreement_id: int) -> AgreementOut:
        return await cobuilding.get_agreement(request.user, agreement_id)

    @patch("/{agreement_id:int}", summary="Edit an agreement in force")
    async def update_agreement(self, request: Req, agreement_id: int, data: AgreementPatch,
                               tx: object) -> AgreementOut:
        return await cobuilding.update_agreement(request.user, agreement_id, _changes(data))

    @post("/{agreement_id:int}/end", status_code=200, summary="End an agreement on a date")
    async def end(self, request: Req, agreement_id: int, data: AgreementEndIn,
                  tx: object) -> AgreementOut:
        return await cobuilding.end_agreement(request.user, agreement_id, data.ended_on)
