"""Results API: compute, publish and finalise a campaign's results (bureau administrators), the
results table with filters and trends, company roll-ups, exports, and objections."""
from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import HeaderParameter, Parameter

from core.i18n import current_language
from evaluations import export, objection_service, results_service
from evaluations.results_repository import ResultFilters
from evaluations.results_schemas import (
    AssessmentStatus,
    CampaignResultsOut,
    CompanyResultOut,
    ComputeOut,
    ObjectionIn,
    ObjectionOut,
    ObjectionStatus,
    ResolveIn,
    ResultOut,
)
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]
Id = Annotated[int, Parameter(ge=1, le=2_147_483_647)]
IfMatch = Annotated[str | None, HeaderParameter(
    name="If-Match", required=False, description='The ETag from GET, e.g. "o1" (412 when stale)')]


class ResultsController(Controller):
    path = "/api/v1/evaluation-campaigns/{campaign_id:int}"
    guards = [authenticated]
    tags = ["evaluation results"]

    @post("/results/compute", status_code=200,
          summary="Compute every assessment's components, total, grade and rank and the company "
                  "roll-ups (bureau administrators; closed campaigns; repeatable until "
                  "published; large campaigns are queued)")
    async def compute(self, request: Req, campaign_id: int, tx: object) -> ComputeOut:
        return await results_service.compute(request.user, campaign_id)

    @post("/results/publish", status_code=200,
          summary="Publish the results to the companies and committees; the objection window "
                  "starts")
    async def publish(self, request: Req, campaign_id: int, tx: object) -> CampaignResultsOut:
        return await results_service.publish(request.user, campaign_id)

    @post("/results/finalize", status_code=200,
          summary="Make the results final and immutable (after the objection window, with no "
                  "open objection)")
    async def finalize(self, request: Req, campaign_id: int, tx: object) -> CampaignResultsOut:
        return await results_service.finalize(request.user, campaign_id)

    @get("/results", summary="Results of the campaign's assessments you may see (the bureau: "
                             "all, at every stage; others: published ones of their company or "
                             "estates), with the trend against the previous campaign")
    async def results(self, request: Req, campaign_id: int, company_id: Id | None = None,
                      estate_id: Id | None = None, street_id: Id | None = None,
                      grade: Annotated[str | None, Parameter(max_length=50)] = None,
                      status: AssessmentStatus | None = None,
                      q: Annotated[str | None, Parameter(max_length=100)] = None,
                      limit: Annotated[int, Parameter(ge=1, le=5000)] = 5000,
                      offset: Annotated[int, Parameter(ge=0, le=10_000_000)] = 0
                      ) -> list[ResultOut]:
        f = ResultFilters(company_id, estate_id, street_id, grade, status, q)
        return await results_service.results(request.user, campaign_id, f, limit=limit,
                                             offset=offset)

    @get("/company-results", summary="Per-company roll-ups (households-weighted), grades, "
                                     "ranks and trends")
    async def company_results(self, request: Req, campaign_id: int) -> list[CompanyResultOut]:
        return await results_service.company_results(request.user, campaign_id)

    @get("/results/export", summary="The campaign's results as CSV, XLSX or JSON in the stable "
                                    "layout of docs/evaluation_export.md (housing bureau)",
         media_type="application/octet-stream",
         response_description="A file download; its Content-Type is text/csv, the XLSX type or "
                              "application/json according to `format`")
    async def export(self, request: Req, campaign_id: int, tx: object,
                     format: Literal["csv", "xlsx", "json"] = "csv") -> Response[bytes]:
        campaign, rows, companies = await export.gather(request.user, campaign_id)
        if format == "csv":
            body, media = export.to_csv(rows), export.CSV_TYPE
        elif format == "xlsx":
            body, media = export.to_xlsx(rows, companies, current_language()), export.XLSX_TYPE
        else:
            body, media = export.to_json(campaign, rows, companies), export.JSON_TYPE
        return Response(body, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="{export.file_name(campaign_id, format)}"',
            "Cache-Control": "no-store"})


class AssessmentResultController(Controller):
    path = "/api/v1/evaluation-assessments/{assessment_id:int}"
    guards = [authenticated]
    tags = ["evaluation results"]

    @get("/result", summary="One assessment's result with its components")
    async def result(self, request: Req, assessment_id: int) -> ResultOut:
        return await results_service.result(request.user, assessment_id)

    @get("/objections", summary="Objections to this assessment's result")
    async def objections(self, request: Req, assessment_id: int) -> list[ObjectionOut]:
        return await objection_service.objections(request.user, assessment_id=assessment_id)

    @post("/objections", summary="Object to a published result (the company's administrators "
                                 "and managers, within the objection window)")
    async def raise_objection(self, request: Req, assessment_id: int, data: ObjectionIn,
                              tx: object) -> ObjectionOut:
        return await objection_service.raise_objection(request.user, assessment_id, data)


class ObjectionController(Controller):
    path = "/api/v1/evaluation-objections"
    guards = [authenticated]
    tags = ["evaluation results"]

    @get("", summary="Objections you may see, by campaign and status")
    async def list_objections(self, request: Req, campaign_id: Id | None = None,
                              status: ObjectionStatus | None = None) -> list[ObjectionOut]:
        return await objection_service.objections(request.user, campaign_id=campaign_id,
                                                  status=status)

    @get("/{objection_id:int}", summary="One objection (ETag for If-Match)")
    async def get_objection(self, request: Req, objection_id: int) -> Response[ObjectionOut]:
        out, tag = await objection_service.get_objection(request.user, objection_id)
        return Response(out, headers={"ETag": tag})

    @post("/{objection_id:int}/resolve", status_code=200,
          summary="Resolve an objection: uphold the result or adjust the total, with a reason "
                  "(bureau administrators)")
    async def resolve(self, request: Req, objection_id: int, data: ResolveIn, tx: object,
                      if_match: IfMatch = None) -> Response[ObjectionOut]:
        out, tag = await objection_service.resolve(request.user, objection_id, data, if_match)
        return Response(out, headers={"ETag": tag})


RESULT_ROUTERS = [ResultsController, AssessmentResultController, ObjectionController]
