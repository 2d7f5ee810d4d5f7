"""The application factory: every plugin, middleware and router is wired here, nowhere else."""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from cases.attachment_controllers import AttachmentController
from cases.case_controllers import CaseController, RoutingController
from cases.controllers import CalendarController
from cases.export_controllers import CaseReportController
from cases.open311_controllers import Open311Controller, Open311KeyController
from contracts.controllers import AgreementController, ContractController
from core import i18n
from core.db import close_pool, provide_transaction, start_pool
from core.idempotency import IdempotencyMiddleware
from core.logging import RequestContextMiddleware, configure_logging
from core.outbox import stop_kicker
from core.problems import handle_exception
from core.queue import close_queue
from core.ratelimit import RequestRateLimitMiddleware
from core.redis import close_redis
from core.security import SecurityHeadersMiddleware
from core.settings import get_settings
from documents import routes as document_routes
from evaluations import routes as evaluation_routes
from meetings import routes as meeting_routes
from gongzhi.events import EventStreamController
from gongzhi.health import health
from tenancy.auth import AuthenticationMiddleware
from tenancy.controllers import AuthController, MeController
from tenancy.import_controllers import LedgerImportController
from tenancy.org_controllers import AccountController, OrganizationController
from tenancy.pages import PAGES
from cases.pages import PAGES as CASE_PAGES
from tenancy.place_controllers import PeopleController, PlaceController
from tenancy.webhook_controllers import WebhookController

ROOT = Path(__file__).resolve().parent.parent
# The domain packages that bring their own routers, pages and templates (routes.py).
DOMAIN_ROUTES = (evaluation_routes, document_routes, meeting_routes)
TEMPLATE_DIRS = [ROOT / "gongzhi" / "templates", ROOT / "tenancy" / "templates",
                 ROOT / "cases" / "templates", ROOT / "evaluations" / "templates",
                 ROOT / "documents" / "templates", ROOT / "meetings" / "templates"]
API_ROUTERS = [AuthController, MeController, PlaceController, PeopleController,
               OrganizationController, AccountController, LedgerImportController, CaseController,
               CaseReportController,
               RoutingController, AttachmentController,
               CalendarController, WebhookController, ContractController,
               AgreementController, EventStreamController]
API_ROUTERS += [Open311Controller, Open311KeyController]
API_ROUTERS += [router for module in DOMAIN_ROUTES for router in module.ROUTERS]
DOMAIN_PAGES = [page for module in DOMAIN_ROUTES for page in module.PAGES]
# Paths that never use cookies (bearer tokens) or change nothing, so need no CSRF token.
CSRF_EXEMPT = ["/api/", "/open311/", "/health", "/metrics", "/schema"]


def template_environment() -> Environment:
    env = Environment(loader=FileSystemLoader([str(d) for d in TEMPLATE_DIRS]),
                      autoescape=select_autoescape(["html", "xml"]),
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["current_language"] = i18n.current_language
    return env


class GongzhiPrometheusController(PrometheusController):
    path = "/metrics"


def create_app() -> Litestar:
    settings = get_settings()
    configure_logging()
    if settings.is_dev_secret:
        logging.getLogger("gongzhi").warning(
            "SECRET_KEY is the development value; set a long random SECRET_KEY in production")

    @asynccontextmanager
    async def lifespan(app: Litestar):
        await start_pool()
        worker_task = None
        if settings.worker_in_process:
            from gongzhi.worker import build_worker

            worker = build_worker(manage_pool=False)
            worker.SIGNALS = []  # leave SIGINT/SIGTERM to the web server, which stops us below
            worker_task = asyncio.create_task(worker.start())
        try:
            yield
        finally:
            if worker_task is not None:
                worker_task.cancel()  # start() stops the worker on cancellation
                await asyncio.gather(worker_task, return_exceptions=True)
            await stop_kicker()
            await close_queue()
            await close_redis()
            await close_pool()

    prometheus = PrometheusConfig(app_name="gongzhi", group_path=True,
                                  exclude=["/metrics", "/static"])
    app = Litestar(
        route_handlers=[*API_ROUTERS, *PAGES, *CASE_PAGES, *DOMAIN_PAGES, health, GongzhiPrometheusController,
                        create_static_files_router(path="/static",
                                                   directories=[ROOT / "gongzhi" / "static"],
                                                   include_in_schema=False)],
        dependencies={"tx": Provide(provide_transaction)},
        lifespan=[lifespan],
        # The rate limit first: a flood is refused before it costs a database query.
        middleware=[RequestRateLimitMiddleware, AuthenticationMiddleware, i18n.LanguageMiddleware,
                    IdempotencyMiddleware, prometheus.middleware],
        exception_handlers={Exception: handle_exception},
        csrf_config=CSRFConfig(secret=settings.secret_key.get_secret_value(), cookie_name="gz_csrf",
                               cookie_secure=settings.cookie_secure, cookie_samesite="lax",
                               header_name="x-csrftoken", exclude=CSRF_EXEMPT),
        cors_config=CORSConfig(allow_origins=settings.cors_origins,
                               allow_headers=["Authorization", "Content-Type", "Idempotency-Key",
                                              "Accept-Language", "If-Match"],
                               allow_credentials=False) if settings.cors_origins else None,
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(
            template_environment())),
        openapi_config=OpenAPIConfig(
            title="Gongzhi API", version="1",
            description="共治: cases, contracts, evaluations and signed minutes for residential estates.",
            path="/schema",
            components=Components(security_schemes={"bearer": SecurityScheme(
                type="http", scheme="bearer", description="Token from POST /api/v1/auth/login")}),
            security=[{"bearer": []}]),
        request_max_body_size=20 * 1024 * 1024,
        logging_config=None,  # core.logging.configure_logging() owns logging
        debug=False,
    )
    # Request id, access log and security headers wrap the router itself: Litestar runs app
    # middleware only for matched routes, and these must also cover its own 404/405 answers
    # and the problems raised inside middleware (CSRF 403).
    app.asgi_handler = RequestContextMiddleware(SecurityHeadersMiddleware(app.asgi_handler))
    return app
