"""Security headers on every response. The UI loads scripts and styles only from itself,
so the Content-Security-Policy needs no 'unsafe-inline'."""
from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import get_settings

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")
# The interactive API docs page loads its own bundle; only that page gets a looser policy.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https:; style-src 'self' "
            "'unsafe-inline' https:; img-src 'self' data: https:; font-src 'self' https: data:; "
            "frame-ancestors 'none'")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(self), geolocation=(self), microphone=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"content-security-policy",
             (DOCS_CSP if path.startswith("/schema") and "openapi." not in path else CSP).encode()),
        ]
        if get_settings().cookie_secure:
            headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        if path.startswith("/api/"):
            headers.append((b"cache-control", b"no-store"))

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(k, v) for k, v in headers if k not in existing]]
            await send(message)

        await self.app(scope, receive, send_wrapper)
