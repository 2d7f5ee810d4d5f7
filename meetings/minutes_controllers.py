"""Minutes with tracked amendments, public notices (公示) and calendar feeds."""
from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.response import Stream
from litestar.params import Parameter

from msgspec import convert

from meetings import calendar, minutes_documents, minutes_service, notice_service, signatures
from meetings.controllers import IfMatch
from meetings.printing import notice_html
from meetings.schemas import (
    AmendmentDecisionIn,
    AmendmentOut,
    FeedIn,
    FeedOut,
    InboxItemOut,
    RenderQueuedOut,
    SignatureStatusOut,
    SignIn,
    MinutesOut,
    MinutesSectionIn,
    NoticeOut,
)
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]


def with_etag(out: MinutesOut) -> Response[MinutesOut]:
    return Response(out, headers={"ETag": f'"min{out.meeting_id}v{out.version}"'})


class MinutesController(Controller):
    path = "/api/v1"
    guards = [authenticated]
    tags = ["meetings"]

    @get("/meetings/{meeting_id:int}/minutes")
    async def get_minutes(self, request: Req, meeting_id: int, tx: object) -> Response[MinutesOut]:
        return with_etag(await minutes_service.get_minutes(request.user, meeting_id))

    @post("/meetings/{meeting_id:int}/minutes", status_code=200,
          summary="Draft the minutes from the meeting's record (or rebuild a draft)")
    async def draft(self, request: Req, meeting_id: int, tx: object) -> MinutesOut:
        return await minutes_service.draft_minutes(request.user, meeting_id)

    @put("/meetings/{meeting_id:int}/minutes/section",
         summary="The secretary edits a section (tracked); If-Match: the minutes' ETag")
    async def edit(self, request: Req, meeting_id: int, data: MinutesSectionIn, tx: object,
                   if_match: IfMatch = None) -> Response[MinutesOut]:
        return with_etag(await minutes_service.edit_section(request.user, meeting_id, data,
                                                            if_match))

    @post("/meetings/{meeting_id:int}/minutes/review", status_code=200,
          summary="Circulate the draft to the attendees")
    async def review(self, request: Req, meeting_id: int, tx: object) -> MinutesOut:
        return await minutes_service.start_review(request.user, meeting_id)

    @post("/meetings/{meeting_id:int}/minutes/final", status_code=200,
          summary="Make the reviewed minutes final (ready for rendering and signatures)")
    async def finalize(self, request: Req, meeting_id: int, tx: object) -> MinutesOut:
        return await minutes_service.finalize(request.user, meeting_id)

    @get("/meetings/{meeting_id:int}/minutes/amendments")
    async def amendments(self, request: Req, meeting_id: int, tx: object) -> list[AmendmentOut]:
        return await minutes_service.list_amendments(request.user, meeting_id)

    @post("/meetings/{meeting_id:int}/minutes/amendments",
          summary="An attendee proposes an amendment during the review")
    async def propose(self, request: Req, meeting_id: int, data: MinutesSectionIn,
                      tx: object) -> AmendmentOut:
        return await minutes_service.propose_amendment(request.user, meeting_id, data)

    @post("/minutes-amendments/{amendment_id:int}/decision", status_code=200,
          summary="The secretary accepts (applies) or rejects a proposed amendment")
    async def decide(self, request: Req, amendment_id: int, data: AmendmentDecisionIn,
                     tx: object) -> AmendmentOut:
        return await minutes_service.decide_amendment(request.user, amendment_id, data.accept)


    @post("/meetings/{meeting_id:int}/minutes/render", status_code=202,
          summary="Render the final minutes through the documents pipeline and open them for "
                  "signing (a queue job)")
    async def render(self, request: Req, meeting_id: int, tx: object) -> RenderQueuedOut:
        key = await minutes_documents.request_render(request.user, meeting_id)
        return RenderQueuedOut(job=key)

    @get("/meetings/{meeting_id:int}/minutes/signatures",
         summary="The rendered minutes' signers in order: who signed, whose turn it is")
    async def signatures(self, request: Req, meeting_id: int, tx: object) -> SignatureStatusOut:
        return convert(await signatures.signature_status(request.user, meeting_id),
                       SignatureStatusOut)

    @post("/meetings/{meeting_id:int}/minutes/signatures", status_code=200,
          summary="Sign (or seal) your slot of the minutes, in turn, with your signing PIN")
    async def sign(self, request: Req, meeting_id: int, data: SignIn,
                   tx: object) -> SignatureStatusOut:
        return convert(await signatures.sign(request.user, meeting_id, data.pin),
                       SignatureStatusOut)

    @get("/meeting-signatures", summary="Minutes waiting for your signature or your seal")
    async def inbox(self, request: Req, tx: object) -> list[InboxItemOut]:
        return convert(await signatures.inbox(request.user), list[InboxItemOut])


class NoticeController(Controller):
    path = "/api/v1"
    guards = [authenticated]
    tags = ["meetings"]

    @post("/meetings/{meeting_id:int}/notice",
          summary="Post the final minutes publicly (公示), personal data masked")
    async def post_notice(self, request: Req, meeting_id: int, tx: object) -> NoticeOut:
        return await notice_service.post_notice(request.user, meeting_id)

    @get("/meeting-notices", summary="Public notices of the estates you own in or cover")
    async def list_notices(self, request: Req, tx: object, estate_id: int | None = None,
                           current: bool = True) -> list[NoticeOut]:
        return await notice_service.list_notices(request.user, estate_id=estate_id,
                                                 current_only=current)

    @get("/meeting-notices/{notice_id:int}")
    async def get_notice(self, request: Req, notice_id: int, tx: object) -> NoticeOut:
        return await notice_service.get_notice(request.user, notice_id)

    @get("/meeting-notices/{notice_id:int}/download",
         summary="The notice as a PDF (rendered by the documents pipeline; a printable HTML "
                 "copy while the PDF is being made)")
    async def download(self, request: Req, notice_id: int, tx: object) -> Response | Stream:
        return await notice_download_response(request.user, notice_id)


async def notice_download_response(p: Principal, notice_id: int) -> Response | Stream:
    pdf = await notice_service.notice_pdf(p, notice_id)
    if pdf is None:
        notice = await notice_service.get_notice(p, notice_id)
        return Response(notice_html(notice), media_type="text/html; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="notice-{notice_id}.html"'})
    row, chunks = pdf
    return Stream(chunks, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="notice-{notice_id}.pdf"',
        "Content-Length": str(row["pdf_size"]), "X-Content-SHA256": row["pdf_sha256"]})


class FeedController(Controller):
    path = "/api/v1"
    guards = [authenticated]
    tags = ["meetings"]

    @get("/organizations/{organization_id:int}/meeting-feeds")
    async def list_feeds(self, request: Req, organization_id: int, tx: object) -> list[FeedOut]:
        return await calendar.list_feeds(request.user, organization_id)

    @post("/organizations/{organization_id:int}/meeting-feeds",
          summary="A calendar feed URL for the organisation's meetings (shown once)")
    async def create_feed(self, request: Req, organization_id: int, data: FeedIn,
                          tx: object) -> FeedOut:
        return await calendar.create_feed(request.user, organization_id, data.label,
                                          str(request.base_url))

    @delete("/meeting-feeds/{feed_id:int}", summary="Revoke a feed URL")
    async def revoke_feed(self, request: Req, feed_id: int, tx: object) -> None:
        await calendar.revoke_feed(request.user, feed_id)


