"""Structured logging (structlog) with a request id bound to every line of a request."""
from __future__ import annotations

import logging
import sys
import time
import uuid

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import get_settings

SECRET_FIELDS = ("password", "token", "secret", "authorization", "cookie", "pin")


def _redact(_logger, _name, event: dict) -> dict:
    for k in list(event):
        if any(s in k.lower() for s in SECRET_FIELDS):
            event[k] = "[redacted]"
    return event


def configure_logging() -> None:
    settings = get_settings()
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    renderer = (structlog.processors.JSONRenderer(ensure_ascii=False) if settings.log_json
                else structlog.dev.ConsoleRenderer(colors=False))
    shared = [structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
              structlog.processors.TimeStamper(fmt="iso", utc=True), _redact]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = True  # replaced by the access line below


access_log = structlog.get_logger("gongzhi.access")


class RequestContextMiddleware:
    """Assigns a request id (or trusts a sane incoming X-Request-ID), logs one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 8 <= len(incoming) <= 64 and incoming.replace("-", "").isalnum() \
            else uuid.uuid4().hex
        scope["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            user = scope.get("user")
            access_log.info("request", method=scope.get("method"), path=scope.get("path"),
                            status=status, ms=round((time.perf_counter() - start) * 1000, 1),
                            user=getattr(user, "user_id", None))
