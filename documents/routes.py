"""What the documents package adds to the app: API controllers and web pages (gongzhi.app mounts them)."""
from __future__ import annotations

ROUTERS: list = []  # API controllers
PAGES: list = []  # web page handlers (templates in documents/templates)

# Keys, signing and verification (documents/signing_controllers.py, verification_controllers.py,
# signing_pages.py).
from documents.signing_controllers import (  # noqa: E402
    CredentialController,
    SealController,
    SignatureController,
    TrustController,
)
from documents.signing_pages import PAGES as SIGNING_PAGES  # noqa: E402
from documents.verification_controllers import VerificationController  # noqa: E402

ROUTERS += [VerificationController, SignatureController, CredentialController, SealController,
            TrustController]
PAGES += SIGNING_PAGES

# The registry, report rendering requests and campaign downloads (documents/controllers.py,
# documents/pages.py).
from documents.controllers import DocumentController, DocumentExportController  # noqa: E402
from documents.pages import PAGES as REGISTRY_PAGES  # noqa: E402

ROUTERS += [DocumentController, DocumentExportController]
PAGES += REGISTRY_PAGES
