"""Evaluations API: campaigns, their assessments with progress, and the owners' survey."""
from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import HeaderParameter, Parameter

from evaluations import campaign_service, survey_service
from evaluations.schemas import (
    AssessmentOut,
    CampaignIn,
    CampaignOut,
    CampaignPatch,
    CampaignStatus,
    OpenSurvey,
    SurveyIn,
    SurveyOut,
    SurveySummaryOut,
)
from tenancy.guards import authenticated
from tenancy.principal import Principal

Req = Request[Principal, str, object]
Limit = Annotated[int, Parameter(ge=1, le=5000)]
Offset = Annotated[int, Parameter(ge=0, le=10_000_000)]
IfMatch = Annotated[str | None, HeaderParameter(
    name="If-Match", required=False, description='The ETag from GET, e.g. "v3"; stale: 412')]


class CampaignController(Controller):
    path = "/api/v1/evaluation-campaigns"
    guards = [authenticated]
    tags = ["evaluations"]

    @get("", summary="Campaigns: the bureau sees all; others those with an assessment they see")
    async def list_campaigns(self, request: Req, status: CampaignStatus | None = None,
                             limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
                             offset: Offset = 0) -> list[CampaignOut]:
        return await campaign_service.list_campaigns(request.user, status=status, limit=limit,
                                                     offset=offset)

    @post("", summary="Create a draft campaign for a quarter, half-year or year (bureau "
                      "administrators)")
    async def create(self, request: Req, data: CampaignIn, tx: object) -> CampaignOut:
        return await campaign_service.create_campaign(request.user, data)

    @get("/{campaign_id:int}", summary="One campaign (ETag for If-Match)")
    async def get_campaign(self, request: Req, campaign_id: int) -> Response[CampaignOut]:
        out = await campaign_service.get_campaign(request.user, campaign_id)
        return Response(out, headers={"ETag": f'"v{out.version}"'})

    @patch("/{campaign_id:int}", summary="Rename a draft, or move the deadline of a draft or "
                                          "open campaign (bureau administrators)")
    async def update(self, request: Req, campaign_id: int, data: CampaignPatch, tx: object,
                     if_match: IfMatch = None) -> Response[CampaignOut]:
        out = await campaign_service.update_campaign(request.user, campaign_id, data, if_match)
        return Response(out, headers={"ETag": f'"v{out.version}"'})

    @post("/{campaign_id:int}/open", status_code=200,
          summary="Open: one assessment per contract in force during the period, and draft "
                  "submissions for the committees and street office of each estate")
    async def open_campaign(self, request: Req, campaign_id: int, tx: object) -> CampaignOut:
        return await campaign_service.open_campaign(request.user, campaign_id)

    @post("/{campaign_id:int}/close", status_code=200,
          summary="Close before the deadline: submitted evaluations are locked")
    async def close_campaign(self, request: Req, campaign_id: int, tx: object) -> CampaignOut:
        return await campaign_service.close_campaign(request.user, campaign_id)

    @get("/{campaign_id:int}/assessments",
         summary="The campaign's assessments you may see, with submission and survey progress")
    async def assessments(self, request: Req, campaign_id: int, limit: Limit = 5000,
                          offset: Offset = 0) -> list[AssessmentOut]:
        return await campaign_service.list_assessments(request.user, campaign_id, limit=limit,
                                                       offset=offset)


class AssessmentController(Controller):
    path = "/api/v1/evaluation-assessments"
    guards = [authenticated]
    tags = ["evaluations"]

    @get("/{assessment_id:int}", summary="One assessment with its progress")
    async def get_assessment(self, request: Req, assessment_id: int) -> AssessmentOut:
        return await campaign_service.get_assessment(request.user, assessment_id)

    @get("/{assessment_id:int}/survey-summary",
         summary="Survey responses, households, response rate, mean and sufficiency")
    async def survey_summary(self, request: Req, assessment_id: int) -> SurveySummaryOut:
        return await survey_service.summary_for(request.user, assessment_id)

    @post("/{assessment_id:int}/survey",
          summary="Answer the owners' satisfaction survey for a household you own (one answer "
                  "per household)")
    async def answer(self, request: Req, assessment_id: int, data: SurveyIn,
                     tx: object) -> SurveyOut:
        return await survey_service.answer(request.user, assessment_id, data)


class SurveyController(Controller):
    path = "/api/v1/evaluation-surveys"
    guards = [authenticated]
    tags = ["evaluations"]

    @get("", summary="Open surveys for the households you own")
    async def open_surveys(self, request: Req) -> list[OpenSurvey]:
        return await survey_service.open_surveys(request.user)
