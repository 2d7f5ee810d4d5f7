"""Rate limits: fixed-window counters in Redis, shared by every web worker.

One primitive, `hit`, counts a request against a key: a Lua script (INCR, and EXPIRE on the
window's first hit) in one round trip, so the count is atomic across workers and a key always
expires, even if the process dies right after counting. It serves the per-address request limit below
(RATE_LIMIT_PER_MINUTE), the login throttle and the verification limit.

Why not Litestar's RateLimitMiddleware: it keeps one timestamp per request in a JSON list that
every request reads, decodes, re-encodes and writes back (two round trips, and work growing with
the limit), it holds one process-wide lock around that read and write (each request of a worker
waits for the one before it), and its read-then-write loses counts when workers race.

The request limit runs before authentication, so a flood is refused before it costs a database
query. It fails open: while Redis is unreachable requests are served unthrottled (one warning a
minute), so an outage of the cache never stops residents and staff from working. The login and
verification limits fail closed (their callers let the outage become a 503).
"""
from __future__ import annotations

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.i18n import gettext as _
from core.i18n import request_language, reset_language, set_language
from core.problems import TooManyRequests
from core.redis import UNAVAILABLE, key, outage, redis
from core.settings import get_settings

WINDOW = 60
EXCLUDED = ("/health", "/metrics", "/static/")


# INCR, and the window's expiry set by the first hit (or repaired if a key somehow has none);
# a script runs atomically and is one command (EVALSHA) where MULTI/EXEC would be five.
_HIT = """
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""
_script: tuple[object, object] | None = None  # (the client, the script registered on it)


async def hit(counter: str, window: int = WINDOW) -> tuple[int, int]:
    """Count one hit on `counter`: (hits in its current window, seconds until the window ends).
    The window starts at the first hit and lasts `window` seconds."""
    global _script
    client = redis()
    if _script is None or _script[0] is not client:  # a new client after close_redis()
        _script = (client, client.register_script(_HIT))
    count, ttl = await _script[1](keys=[counter], args=[window])
    return int(count), int(ttl)


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class RequestRateLimitMiddleware:
    """At most RATE_LIMIT_PER_MINUTE requests a minute from one client address; answers 429
    with Retry-After past it, and tells every answer its RateLimit-Limit, -Remaining, -Reset."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXCLUDED):
            await self.app(scope, receive, send)
            return
        limit = get_settings().rate_limit_per_minute
        try:
            count, reset = await hit(key("rate", "ip", client_address(scope)))
        except UNAVAILABLE as exc:
            outage(exc, "rate limits are not enforced until it is back")
            await self.app(scope, receive, send)
            return
        headers = {"RateLimit-Limit": str(limit), "RateLimit-Remaining": str(max(0, limit - count)),
                   "RateLimit-Reset": str(reset)}
        if count > limit:
            # Refused before LanguageMiddleware runs: the detail is written in the language the
            # request asks for (the problem's title is chosen the same way when it is rendered).
            token = set_language(request_language(Request(scope)))
            try:
                detail = _("Too many requests from this address; try again in {seconds} "
                           "seconds.").format(seconds=reset)
            finally:
                reset_language(token)
            raise TooManyRequests(detail, headers={**headers, "Retry-After": str(reset)})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                limits = MutableScopeHeaders.from_message(message)
                for name, value in headers.items():
                    limits[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
