"""Evaluations API: evaluator submissions (ETag / If-Match on every change) and evidence photos."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, HeaderParameter
from litestar.response import Stream

from core.images import MAX_PHOTO_BYTES
from evaluations import evidence, submission_service
from evaluations.schemas import PhotoOut, SubmissionCreate, SubmissionOut, SubmissionPatch
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]
IfMatch = Annotated[str | None, HeaderParameter(
    name="If-Match", required=False,
    description='The ETag from GET, e.g. "v3"; required on changes (428 without, 412 stale)')]


@dataclass
class PhotoUpload:
    file: UploadFile


def _tagged(out: SubmissionOut, status_code: int = 200) -> Response[SubmissionOut]:
    return Response(out, status_code=status_code, headers={"ETag": f'"v{out.version}"'})


class SubmissionController(Controller):
    path = "/api/v1"
    guards = [authenticated]
    tags = ["evaluations"]

    @get("/evaluation-submissions",
         summary="Submissions of your evaluator organisations (open campaigns with open_only)")
    async def mine(self, request: Req, campaign_id: int | None = None,
                   open_only: bool = False) -> list[SubmissionOut]:
        return await submission_service.my_submissions(request.user, campaign_id=campaign_id,
                                                       open_only=open_only)

    @post("/evaluation-assessments/{assessment_id:int}/submissions",
          summary="Start (or fetch) your organisation's evaluation of an assessment")
    async def start(self, request: Req, assessment_id: int, data: SubmissionCreate,
                    tx: object) -> Response[SubmissionOut]:
        out, created = await submission_service.start_submission(
            request.user, assessment_id, data.organization_id)
        return _tagged(out, 201 if created else 200)

    @get("/evaluation-submissions/{submission_id:int}",
         summary="One submission with its scores (ETag for If-Match)")
    async def get_one(self, request: Req, submission_id: int) -> Response[SubmissionOut]:
        return _tagged(await submission_service.get_submission(request.user, submission_id))

    @patch("/evaluation-submissions/{submission_id:int}",
           summary="Save scores (each 0–100, with comment and evidence) until the deadline")
    async def save(self, request: Req, submission_id: int, data: SubmissionPatch, tx: object,
                   if_match: IfMatch = None) -> Response[SubmissionOut]:
        out, _tag = await submission_service.save_scores(request.user, submission_id,
                                                         data.scores, if_match)
        return _tagged(out)

    @post("/evaluation-submissions/{submission_id:int}/submit", status_code=200,
          summary="Submit once every criterion is scored (still editable until the deadline)")
    async def submit(self, request: Req, submission_id: int, tx: object,
                     if_match: IfMatch = None) -> Response[SubmissionOut]:
        out, _tag = await submission_service.submit(request.user, submission_id, if_match)
        return _tagged(out)

    @post("/evaluation-submissions/{submission_id:int}/photos",
          summary="Upload an evidence photo (JPEG, PNG or WebP, at most 10 MB; metadata removed)")
    async def upload(self, request: Req, submission_id: int, tx: object,
                     data: Annotated[PhotoUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
                     ) -> PhotoOut:
        content = await data.file.read(MAX_PHOTO_BYTES + 1)
        return await evidence.add_photo(request.user, submission_id, content)

    @get("/evaluation-submissions/{submission_id:int}/photos")
    async def photos(self, request: Req, submission_id: int) -> list[PhotoOut]:
        return await evidence.list_photos(request.user, submission_id)

    @get("/evaluation-photos/{evaluation_photo_id:int}", summary="An evidence photo")
    async def photo(self, request: Req, evaluation_photo_id: int) -> Stream:
        row, chunks = await evidence.open_photo(request.user, evaluation_photo_id)
        return photo_stream(row, chunks, thumbnail=False)

    @get("/evaluation-photos/{evaluation_photo_id:int}/thumbnail", summary="An evidence photo's thumbnail")
    async def thumbnail(self, request: Req, evaluation_photo_id: int) -> Stream:
        row, chunks = await evidence.open_photo(request.user, evaluation_photo_id, thumbnail=True)
        return photo_stream(row, chunks, thumbnail=True)


def photo_stream(row: dict, chunks, *, thumbnail: bool) -> Stream:
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    if not thumbnail:
        headers["Content-Length"] = str(row["size"])
    return Stream(chunks, media_type="image/jpeg" if thumbnail else row["content_type"],
                  headers=headers)
