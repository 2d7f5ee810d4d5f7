"""What the meetings package adds to the app: API controllers and web pages (gongzhi.app mounts them)."""
from __future__ import annotations

from meetings.controllers import MeetingController, MeetingSettingsController
from meetings.minutes_controllers import FeedController, MinutesController, NoticeController
from meetings.notice_pages import PAGES as _NOTICE_PAGES
from meetings.pages import PAGES as _PAGES
from meetings.vote_controllers import ActionItemController, ResolutionController

ROUTERS: list = [MeetingController, MeetingSettingsController, ResolutionController,
                 ActionItemController, MinutesController, NoticeController, FeedController]
PAGES: list = [*_PAGES, *_NOTICE_PAGES]  # web page handlers (templates in meetings/templates)
