"""Authentication: argon2id passwords, opaque revocable tokens, login throttling, middleware.

A login creates one `AuthToken` row (only the SHA-256 of the token is stored): a web session
carried in an HttpOnly cookie, or an API bearer token. Revoking is one UPDATE; every request
re-reads the token, so a revoked or expired token stops working at once.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.types import ASGIApp, Receive, Scope, Send

from core.i18n import gettext as _
from core.problems import Invalid, Locked, TooManyRequests
from core.ratelimit import hit
from core.redis import redis, key
from core.settings import get_settings
from tenancy import repository as repo

SESSION_COOKIE = "gz_session"
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_password_policy(password: str, username: str = "", field: str = "password") -> None:
    settings = get_settings()
    problems = []
    if len(password) < settings.password_min_length:
        problems.append(_("The password must have at least {n} characters.").format(
            n=settings.password_min_length))
    if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
        problems.append(_("The password must contain both letters and digits."))
    if username and username.lower() in password.lower():
        problems.append(_("The password must not contain the username."))
    if problems:
        raise Invalid(_("The password does not meet the policy."),
                      errors=[{"field": field, "message": m} for m in problems])


def new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def now() -> datetime:
    return datetime.now(timezone.utc)


# --- throttling (Redis: shared by every web worker) -------------------------------------------
async def check_login_allowed(username: str, ip: str) -> None:
    settings = get_settings()
    attempts, reset = await hit(key("login", "ip", ip))
    if attempts > settings.login_attempts_per_minute_per_ip:
        raise TooManyRequests(_("Too many login attempts from this address; try again in a minute."),
                              headers={"Retry-After": str(reset)})
    ttl = await redis().ttl(key("login", "lock", username))
    if ttl and ttl > 0:
        raise Locked(_("This account is temporarily locked after repeated failed logins; "
                       "try again in {m} minutes.").format(m=max(1, (ttl + 59) // 60)),
                     headers={"Retry-After": str(ttl)})


async def record_login_failure(username: str) -> None:
    settings = get_settings()
    r = redis()
    fail_key = key("login", "fail", username)
    failures = await r.incr(fail_key)
    await r.expire(fail_key, settings.login_lockout_minutes * 60)
    if failures >= settings.login_max_failures:
        await r.set(key("login", "lock", username), "1",
                    ex=settings.login_lockout_minutes * 60)
        await r.delete(fail_key)


async def clear_login_failures(username: str) -> None:
    await redis().delete(key("login", "fail", username))


# --- middleware ---------------------------------------------------------------------------------
def _credentials(scope: Scope) -> str | None:
    headers = dict(scope.get("headers") or [])
    path: str = scope.get("path", "")
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    if path.startswith(("/api/", "/open311/")):
        return None  # the API takes bearer tokens only, so cookies can't be used for CSRF
    cookie = headers.get(b"cookie", b"").decode("latin-1")
    for part in cookie.split(";"):
        name, _sep, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value
    return None


class AuthenticationMiddleware:
    """Resolves the caller (or None) for every HTTP request; guards decide what is allowed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            token = _credentials(scope)
            scope["user"] = await repo.load_principal(token_hash(token), now()) if token else None
            scope["auth"] = token
        await self.app(scope, receive, send)
