"""Safe retries for creates: a POST carrying `Idempotency-Key` runs once per caller and key.

The first completed response (status < 500) is stored for 24 hours and replayed to retries
with the same key and body; a retry while the first is still running gets 409; the same key with
a different body gets 422. Failed (5xx) attempts free the key for a retry.

Records live in PostgreSQL (table idempotency_record), not Redis: a create needs the database
anyway, so keys keep working while Redis is down, and a key's record cannot be lost by a Redis
restart while the row it guards survives. Expired records are purged daily (core/jobs.py).
"""
from __future__ import annotations

import hashlib
import json

from litestar import Request, Response
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.db import fetch
from core.i18n import gettext as _
from core.problems import problem, request_language

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
        caller, key_hash = str(caller)[:100], hashlib.sha256(idem).hexdigest()

        if not await _claim(caller, key_hash, fingerprint):
            stored = await _stored(caller, key_hash)
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
                if not message.get("more_body", False) and captured["status"] < 500:
                    # Record the answer before the client can see it, so that a retry sent the
                    # moment it arrives is replayed rather than told "still being processed".
                    await _store(caller, key_hash, captured)
                    captured["stored"] = True
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            if captured["status"] < 500:
                if not captured.get("stored"):
                    await _store(caller, key_hash, captured)
            else:
                await fetch("DELETE FROM idempotency_record WHERE caller = $1 AND key_hash = $2",
                            caller, key_hash)


async def _store(caller: str, key_hash: str, captured: dict) -> None:
    await fetch("UPDATE idempotency_record SET state = 'done', status = $3,"
                " headers = $4::jsonb, body = $5,"
                " expires_at = now() + make_interval(secs => $6)"
                " WHERE caller = $1 AND key_hash = $2", caller, key_hash,
                captured["status"], json.dumps(captured["headers"]), captured["body"],
                TTL_SECONDS)


async def _claim(caller: str, key_hash: str, fingerprint: str) -> bool:
    """Take the key for this request: a new record, or an expired one taken over."""
    rows = await fetch(
        "INSERT INTO idempotency_record (caller, key_hash, fingerprint, state, expires_at)"
        " VALUES ($1, $2, $3, 'pending', now() + make_interval(secs => $4))"
        " ON CONFLICT (caller, key_hash) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,"
        " state = 'pending', status = NULL, headers = NULL, body = NULL,"
        " expires_at = EXCLUDED.expires_at WHERE idempotency_record.expires_at < now()"
        " RETURNING id", caller, key_hash, fingerprint, PENDING_SECONDS)
    return bool(rows)


async def _stored(caller: str, key_hash: str) -> dict:
    rows = await fetch("SELECT fingerprint, state, status, headers, body FROM idempotency_record"
                       " WHERE caller = $1 AND key_hash = $2", caller, key_hash)
    if not rows:
        return {}
    r = rows[0]
    headers = json.loads(r["headers"]) if isinstance(r["headers"], str) else (r["headers"] or [])
    return {"fp": r["fingerprint"], "state": r["state"], "status": r["status"],
            "headers": headers, "body": bytes(r["body"] or b"")}


async def purge_expired(ctx=None) -> int:
    """Delete records past their expiry (daily cron)."""
    rows = await fetch("WITH gone AS (DELETE FROM idempotency_record WHERE expires_at < now()"
                       " RETURNING 1) SELECT count(*) AS n FROM gone")
    return rows[0]["n"]


async def _send(request: Request, response: Response, receive: Receive, send: Send) -> None:
    """Send a Litestar `Response` from plain ASGI middleware (it is not itself an ASGI app)."""
    await response.to_asgi_response(request.scope.get("litestar_app"), request)(
        request.scope, receive, send)


async def _replay(stored: dict, send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored["headers"]
               if k.lower() not in ("set-cookie", "x-request-id")]
    headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": stored["status"], "headers": headers})
    await send({"type": "http.response.body", "body": stored["body"]})
