"""Safe retries for creates: a POST carrying `Idempotency-Key` runs once per caller and key.

The first completed response (status < 500) is stored in Redis for 24 hours and replayed to
retries with the same key and body; a retry while the first is still running gets 409; the
same key with a different body gets 422. Failed (5xx) attempts free the key for a retry.
"""
from __future__ import annotations

import hashlib
import json

from litestar import Request, Response
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.i18n import gettext as _
from core.problems import problem, request_language
from core.redis import key, redis

TTL_SECONDS = 24 * 3600
# Responses carrying credentials (tokens, webhook secrets) are never kept in Redis; for these
# routes the key is ignored and a retry simply runs again.
NEVER_STORED_PREFIXES = ("/api/v1/auth/",)
NEVER_STORED_SUFFIXES = ("/webhooks",)


def _carries_credentials(path: str) -> bool:
    return path.startswith(NEVER_STORED_PREFIXES) or path.rstrip("/").endswith(NEVER_STORED_SUFFIXES)
PENDING_SECONDS = 120


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        idem = dict(scope.get("headers") or []).get(b"idempotency-key")
        if (scope["type"] != "http" or scope.get("method") != "POST" or not idem
                or _carries_credentials(scope.get("path", ""))):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if not 1 <= len(idem) <= 200:
            lang = request_language(request)
            await _send(request, problem(request, 400, _("Idempotency-Key must be 1 to 200 characters.",
                                                         lang)), receive, send)
            return

        # The body is buffered to fingerprint it: cap it as the app would, before it fills memory.
        limit = getattr(scope.get("litestar_app"), "request_max_body_size", None)
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if limit is not None and len(body) > limit:
                await _send(request, problem(request, 413), receive, send)
                return
        user = scope.get("user")
        caller = getattr(user, "user_id", None) or (scope.get("client") or ("anon",))[0]
        fingerprint = hashlib.sha256(scope["path"].encode() + b"\0" + body).hexdigest()
        rkey = key("idem", caller, hashlib.sha256(idem).hexdigest())
        r = redis()

        if not await r.set(rkey, json.dumps({"state": "pending", "fp": fingerprint}),
                           nx=True, ex=PENDING_SECONDS):
            stored = json.loads(await r.get(rkey) or "{}")
            lang = request_language(request)
            if stored.get("fp") != fingerprint:
                response = problem(request, 422, _("This Idempotency-Key was used with a different "
                                                   "request.", lang))
            elif stored.get("state") == "pending":
                response = problem(request, 409, _("A request with this Idempotency-Key is still "
                                                   "being processed.", lang))
            else:
                await _replay(stored, send)
                return
            await _send(request, response, receive, send)
            return

        async def replay_body() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        captured: dict = {"status": 500, "headers": [], "body": b""}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [(k.decode("latin-1"), v.decode("latin-1"))
                                       for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            if captured["status"] < 500:
                await r.set(rkey, json.dumps({
                    "state": "done", "fp": fingerprint, "status": captured["status"],
                    "headers": captured["headers"], "body": captured["body"].decode("latin-1")}),
                    ex=TTL_SECONDS)
            else:
                await r.delete(rkey)


async def _send(request: Request, response: Response, receive: Receive, send: Send) -> None:
    """Send a Litestar `Response` from plain ASGI middleware (it is not itself an ASGI app)."""
    await response.to_asgi_response(request.scope.get("litestar_app"), request)(
        request.scope, receive, send)


async def _replay(stored: dict, send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored["headers"]
               if k.lower() not in ("set-cookie", "x-request-id")]
    headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": stored["status"], "headers": headers})
    await send({"type": "http.response.body", "body": stored["body"].encode("latin-1")})
