"""What the evaluations package adds to the app: API controllers and web pages (gongzhi.app mounts them)."""
from __future__ import annotations

from evaluations import pages
from evaluations.campaign_controllers import (
    AssessmentController,
    CampaignController,
    SurveyController,
)
from evaluations.results_controllers import RESULT_ROUTERS
from evaluations.results_pages import RESULT_PAGES
from evaluations.scheme_controllers import ConflictController, SchemeController
from evaluations.submission_controllers import SubmissionController

ROUTERS: list = [SchemeController, ConflictController, CampaignController, AssessmentController,
                 SurveyController, SubmissionController, *RESULT_ROUTERS]  # API controllers
PAGES: list = [*pages.PAGES, *RESULT_PAGES]  # web page handlers (templates in evaluations/templates)
