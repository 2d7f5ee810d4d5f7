"""What the meetings package adds to the app: API controllers and web pages (gongzhi.app mounts them)."""
from __future__ import annotations

ROUTERS: list = []  # API controllers
PAGES: list = []  # web page handlers (templates in meetings/templates)
