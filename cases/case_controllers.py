"""Cases API: intake, the filtered list, one case with its ETag, actions, events, comments;
and the tenant's routing rules."""
from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post, put
from litestar.di import Provide
from litestar.params import HeaderParameter, Parameter

from cases import case_actions, case_service, listing, policy, routing_service
from cases.schemas import (
    ActionIn,
    CaseEventOut,
    CaseIn,
    CaseOut,
    CasePage,
    CasePolicyIn,
    CasePolicyOut,
    CommentIn,
    RoutingRuleIn,
    RoutingRuleOut,
    SortName,
)
from cases.listing import case_filters
from cases.search import Filters
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]
IfMatch = Annotated[str | None, HeaderParameter(
    name="If-Match", required=False, description='The ETag from GET, e.g. "v3"; a stale one gets 412')]


class CaseController(Controller):
    path = "/api/v1/cases"
    guards = [authenticated]
    tags = ["cases"]

    @post("", summary="Report a problem (residents: for estates where they own a unit; staff: "
                      "record phone, walk-in, grid-worker or 12345 intake)")
    async def create(self, request: Req, data: CaseIn, tx: object) -> Response[CaseOut]:
        out = await case_service.create_case(request.user, data)
        return Response(out, status_code=201, headers={"ETag": f'"v{out.version}"'})

    @get("", dependencies={"f": Provide(case_filters)},
         summary="Cases the caller may see, with filters, text search, sorting and keyset "
                     "paging (newest first by default)")
    async def list_cases(self, request: Req, f: Filters, sort: SortName = "-created_at",
                         cursor: Annotated[str | None, Parameter(max_length=200)] = None,
                         limit: Annotated[int, Parameter(ge=1, le=100)] = 50) -> CasePage:
        return await listing.list_cases(request.user, f, sort=sort, cursor=cursor, limit=limit)

    @get("/sla-policy", summary="The tenant's case policy: SLA targets for estates without a "
                                "contract that sets them, and the auto-close days (ETag)")
    async def get_policy(self, request: Req) -> Response[CasePolicyOut]:
        out = await policy.get_policy(request.user)
        return Response(out, headers={"ETag": f'"v{out.version}"'})

    @put("/sla-policy", summary="Set the tenant's case policy (housing bureau administrators; "
                                "If-Match with the ETag from GET, 412 when stale)")
    async def set_policy(self, request: Req, data: CasePolicyIn, tx: object,
                         if_match: IfMatch = None) -> Response[CasePolicyOut]:
        out = await policy.set_policy(request.user, data, if_match)
        return Response(out, headers={"ETag": f'"v{out.version}"'})

    @get("/{case_id:int}", summary="One case (ETag header for If-Match on actions)")
    async def get_one(self, request: Req, case_id: int, tx: object) -> Response[CaseOut]:
        out = await case_service.get_case(request.user, case_id)
        return Response(out, headers={"ETag": f'"v{out.version}"'})

    @post("/{case_id:int}/actions/{action:str}", status_code=200,
          summary="Move the case on: accept, reject, assign, acknowledge, start, return, "
                  "transfer, pause, resume, request_extension, approve_extension, "
                  "decline_extension, resolve, rate, reopen, close, mark_duplicate, withdraw, "
                  "escalate")
    async def act(self, request: Req, case_id: int, action: str, data: ActionIn, tx: object,
                  if_match: IfMatch = None) -> Response[CaseOut]:
        out, tag = await case_actions.act(request.user, case_id, action, data, if_match)
        return Response(out, headers={"ETag": tag})

    @get("/{case_id:int}/events", summary="The case's history (internal entries for "
                                          "organisations only)")
    async def events(self, request: Req, case_id: int) -> list[CaseEventOut]:
        return await case_service.case_events(request.user, case_id)

    @post("/{case_id:int}/comments", summary="A public comment (the reporter sees it) or an "
                                             "internal one (organisations only)")
    async def comment(self, request: Req, case_id: int, data: CommentIn,
                      tx: object) -> CaseEventOut:
        return await case_service.add_comment(request.user, case_id, data.text, data.visibility)


class RoutingController(Controller):
    path = "/api/v1/routing-rules"
    guards = [authenticated]
    tags = ["cases"]

    @get("", summary="Which kind of organisation new cases of each category go to")
    async def list_rules(self, request: Req) -> list[RoutingRuleOut]:
        return await routing_service.routing_rules(request.user)

    @put("", summary="Set (or, without target_kind, remove) a rule for a category, in one "
                     "estate or tenant-wide (bureau administrators)")
    async def set_rule(self, request: Req, data: RoutingRuleIn, tx: object) -> list[RoutingRuleOut]:
        return await routing_service.set_routing_rule(request.user, data)
