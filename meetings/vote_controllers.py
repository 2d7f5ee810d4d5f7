"""Resolutions, votes, paper ballots and action items."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from litestar import Controller, Request, get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Stream

from meetings import action_service, vote_service
from meetings.controllers import changes
from meetings.schemas import (
    ActionItemIn,
    ActionItemOut,
    ActionItemPatch,
    OpenCaseIn,
    OpenVotingIn,
    ResolutionIn,
    ResolutionOut,
    VoteIn,
    VoteOut,
)
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]


@dataclass
class BallotUpload:
    file: UploadFile
    choice: Literal["for", "against", "abstain"]
    person_id: int | None = None
    developer: bool = False


class ResolutionController(Controller):
    path = "/api/v1"
    guards = [authenticated]
    tags = ["meetings"]

    @get("/meetings/{meeting_id:int}/resolutions")
    async def list_resolutions(self, request: Req, meeting_id: int,
                               tx: object) -> list[ResolutionOut]:
        return await vote_service.list_resolutions(request.user, meeting_id)

    @post("/meetings/{meeting_id:int}/resolutions", summary="Table a resolution (the secretary)")
    async def create_resolution(self, request: Req, meeting_id: int, data: ResolutionIn,
                                tx: object) -> ResolutionOut:
        return await vote_service.create_resolution(request.user, meeting_id, data)

    @get("/resolutions/{resolution_id:int}")
    async def get_resolution(self, request: Req, resolution_id: int, tx: object) -> ResolutionOut:
        return await vote_service.get_resolution(request.user, resolution_id)

    @post("/resolutions/{resolution_id:int}/open", status_code=200,
          summary="Open voting (committee: with the quorum present; assembly: until closes_at)")
    async def open_voting(self, request: Req, resolution_id: int, data: OpenVotingIn,
                          tx: object) -> ResolutionOut:
        return await vote_service.open_voting(request.user, resolution_id, data)

    @post("/resolutions/{resolution_id:int}/votes",
          summary="Vote yourself, once (committee members present; organisations present at a "
                  "joint meeting; owners in an assembly)")
    async def vote(self, request: Req, resolution_id: int, data: VoteIn,
                   tx: object) -> list[VoteOut]:
        return await vote_service.cast_vote(request.user, resolution_id, data.choice)

    @post("/resolutions/{resolution_id:int}/paper-ballots",
          summary="Record an owner's signed paper ballot with its scan (the secretary; assembly)")
    async def paper_ballot(self, request: Req, resolution_id: int, tx: object,
                           data: Annotated[BallotUpload,
                                           Body(media_type=RequestEncodingType.MULTI_PART)],
                           ) -> list[VoteOut]:
        content = await data.file.read(vote_service.MAX_BALLOT_BYTES + 1)
        return await vote_service.record_paper_ballot(
            request.user, resolution_id, person_id=data.person_id, developer=data.developer,
            choice=data.choice, content=content)

    @get("/resolutions/{resolution_id:int}/votes", summary="Every vote (the secretary)")
    async def list_votes(self, request: Req, resolution_id: int, tx: object) -> list[VoteOut]:
        return await vote_service.list_votes(request.user, resolution_id)

    @get("/meeting-votes/{vote_id:int}/ballot", summary="A paper ballot's scan (the secretary)")
    async def ballot(self, request: Req, vote_id: int, tx: object) -> Stream:
        vote, chunks = await vote_service.ballot(request.user, vote_id)
        return Stream(chunks, media_type=vote["ballot_content_type"], headers={
            "Content-Length": str(vote["ballot_size"]), "X-Content-SHA256": vote["ballot_sha256"],
            "Content-Disposition": f'attachment; filename="ballot-{vote_id}"'})

    @post("/resolutions/{resolution_id:int}/close", status_code=200,
          summary="Close voting and count: the result names every threshold with exact fractions")
    async def close(self, request: Req, resolution_id: int, tx: object) -> ResolutionOut:
        return await vote_service.close_voting(request.user, resolution_id)


class ActionItemController(Controller):
    path = "/api/v1"
    guards = [authenticated]
    tags = ["meetings"]

    @get("/meetings/{meeting_id:int}/action-items")
    async def list_actions(self, request: Req, meeting_id: int, tx: object) -> list[ActionItemOut]:
        return await action_service.list_actions(request.user, meeting_id)

    @post("/meetings/{meeting_id:int}/action-items")
    async def create_action(self, request: Req, meeting_id: int, data: ActionItemIn,
                            tx: object) -> ActionItemOut:
        return await action_service.create_action(request.user, meeting_id, data)

    @patch("/action-items/{action_item_id:int}")
    async def update_action(self, request: Req, action_item_id: int, data: ActionItemPatch,
                            tx: object) -> ActionItemOut:
        return await action_service.update_action(request.user, action_item_id, changes(data))

    @post("/action-items/{action_item_id:int}/case",
          summary="Open a case for the action item (it links back to the meeting)")
    async def open_case(self, request: Req, action_item_id: int, data: OpenCaseIn,
                        tx: object) -> ActionItemOut:
        return await action_service.open_case(request.user, action_item_id, data)
