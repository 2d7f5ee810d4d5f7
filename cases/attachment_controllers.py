"""Cases API: photos of a case (upload, list, download, thumbnail) and possible duplicates."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Stream

from cases import attachments, duplicates
from cases.schemas import AttachmentOut, Category, SimilarCaseOut, Visibility
from core.images import MAX_PHOTO_BYTES
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]


@dataclass
class PhotoUpload:
    file: UploadFile
    visibility: Visibility = "public"


def _stream(row: dict, chunks, *, thumbnail: bool) -> Stream:
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    if not thumbnail:
        headers.update({"Content-Length": str(row["size"]), "ETag": f'"{row["sha256"]}"'})
    return Stream(chunks, media_type="image/jpeg" if thumbnail else row["content_type"],
                  headers=headers)


class AttachmentController(Controller):
    path = "/api/v1"
    guards = [authenticated]
    tags = ["cases"]

    @post("/cases/{case_id:int}/attachments",
          summary="Add a photo to a case (JPEG, PNG or WebP, at most 10 MB and 9 per case; "
                  "metadata such as GPS is removed)")
    async def upload(self, request: Req, case_id: int, tx: object,
                     data: Annotated[PhotoUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
                     ) -> AttachmentOut:
        content = await data.file.read(MAX_PHOTO_BYTES + 1)
        return await attachments.add_photo(request.user, case_id, content, data.visibility)

    @get("/cases/{case_id:int}/attachments",
         summary="The case's photos (internal ones for organisations only)")
    async def list_photos(self, request: Req, case_id: int) -> list[AttachmentOut]:
        return await attachments.list_photos(request.user, case_id)

    @get("/attachments/{attachment_id:int}", summary="Download a photo")
    async def download(self, request: Req, attachment_id: int) -> Stream:
        row, chunks = await attachments.open_photo(request.user, attachment_id)
        return _stream(row, chunks, thumbnail=False)

    @get("/attachments/{attachment_id:int}/thumbnail", summary="A photo's JPEG thumbnail")
    async def thumbnail(self, request: Req, attachment_id: int) -> Stream:
        row, chunks = await attachments.open_photo(request.user, attachment_id, thumbnail=True)
        return _stream(row, chunks, thumbnail=True)

    @get("/cases/similar", summary="Open cases of the same estate and category from the last 7 "
                                   "days in the same building or within 50 m (possible duplicates)")
    async def similar(self, request: Req, estate_id: Annotated[int, Parameter(ge=1)],
                      category: Category,
                      building_id: Annotated[int | None, Parameter(ge=1)] = None,
                      latitude: Annotated[float | None, Parameter(ge=-90, le=90)] = None,
                      longitude: Annotated[float | None, Parameter(ge=-180, le=180)] = None,
                      ) -> list[SimilarCaseOut]:
        return await duplicates.similar_cases(
            request.user, estate_id=estate_id, category=category, building_id=building_id,
            latitude=latitude, longitude=longitude)
