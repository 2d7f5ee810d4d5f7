"""What the documents package adds to the app: API controllers and web pages (gongzhi.app mounts them)."""
from __future__ import annotations

ROUTERS: list = []  # API controllers
PAGES: list = []  # web page handlers (templates in documents/templates)

# The registry, report rendering requests and campaign downloads (documents/controllers.py,
# documents/pages.py).
from documents.controllers import DocumentController, DocumentExportController  # noqa: E402
from documents.pages import PAGES as REGISTRY_PAGES  # noqa: E402

ROUTERS += [DocumentController, DocumentExportController]
PAGES += REGISTRY_PAGES
