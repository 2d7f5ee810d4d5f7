"""RFC 9457 problem details, with titles and details in the caller's language.

Services raise the `AppError` family; Litestar's own HTTP exceptions (validation, 401, 405,
429 from the rate limiter …) are mapped to the same shape, so every 4xx/5xx the API sends
is `application/problem+json`.
"""
from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException

from core.i18n import N_, request_language
from core.i18n import gettext as _

log = logging.getLogger("gongzhi.errors")
PROBLEM_JSON = "application/problem+json"

# status -> (type slug, English title used as the message id)
STATUS_TITLES: dict[int, tuple[str, str]] = {
    400: ("bad-request", N_("Bad request")),
    401: ("unauthenticated", N_("Authentication required")),
    403: ("forbidden", N_("Forbidden")),
    404: ("not-found", N_("Not found")),
    405: ("method-not-allowed", N_("Method not allowed")),
    409: ("conflict", N_("Conflict")),
    412: ("precondition-failed", N_("Precondition failed")),
    413: ("too-large", N_("Request too large")),
    415: ("unsupported-media-type", N_("Unsupported media type")),
    422: ("validation-failed", N_("Invalid input")),
    423: ("locked", N_("Temporarily locked")),
    429: ("too-many-requests", N_("Too many requests")),
    500: ("internal-error", N_("Internal server error")),
    503: ("unavailable", N_("Service unavailable")),
}


class AppError(Exception):
    """A failure the caller can understand; `detail` is already translated."""

    status = 400

    def __init__(self, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail or "")
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


class Unauthenticated(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    status = 409


class PreconditionFailed(AppError):
    status = 412


class Invalid(AppError):
    status = 422


class Locked(AppError):
    status = 423


class TooManyRequests(AppError):
    status = 429


def problem(request: Request, status: int, detail: str | None = None, *,
            errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
            **extra: Any) -> Response:
    lang = request_language(request)
    slug, title = STATUS_TITLES.get(status, ("error", N_("Error")))
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": _(title, lang),
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    request_id = request.scope.get("request_id")
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# msgspec's English messages -> (message id, whether the match names the field itself)
_MSGSPEC_MESSAGES: list[tuple[re.Pattern[str], str, bool]] = [
    (re.compile(r"^Object missing required field `(?P<name>[^`]+)`"), N_("This field is required."), True),
    (re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`"), N_("This field is not allowed."), True),
    (re.compile(r"^Expected `str` of length >= (?P<n>\d+)"), N_("Must have at least {n} characters."), False),
    (re.compile(r"^Expected `str` of length <= (?P<n>\d+)"), N_("Must have at most {n} characters."), False),
    (re.compile(r"^Expected `str` matching regex"), N_("The format is not valid."), False),
    (re.compile(r"^Expected `\w+` >= (?P<n>-?[\d.]+)$"), N_("Must be at least {n}."), False),
    (re.compile(r"^Expected `\w+` <= (?P<n>-?[\d.]+)$"), N_("Must be at most {n}."), False),
    (re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`"),
     N_("Expected a value of type {expected}, got {got}."), False),
    (re.compile(r"^Invalid enum value"), N_("This is not one of the allowed values."), False),
]
_MISSING_PARAMETER = re.compile(r"^Missing required \w+ parameter '(?P<name>[^']+)'")


def _field_error(key: str | None, message: str, lang: str) -> dict[str, Any]:
    """One entry of `errors`: the field's dotted path (None for the whole body) and a message
    in the caller's language. Litestar names the body itself `data`; msgspec names missing and
    unknown fields only in its message."""
    field = None if key in (None, "", "data") else key
    if message == "'data'" and field is None:  # no body at all
        return {"field": None, "message": _("The request body is missing.", lang)}
    for pattern, msgid, names_field in _MSGSPEC_MESSAGES:
        if m := pattern.match(message):
            if names_field:
                field = f"{field}.{m['name']}" if field else m["name"]
            return {"field": field, "message": _(msgid, lang).format(**m.groupdict())}
    return {"field": field, "message": message}


def _validation_errors(exc: ValidationException, lang: str) -> list[dict[str, Any]]:
    if isinstance(exc.extra, list):
        return [_field_error(item.get("key"), str(item.get("message") or ""), lang)
                for item in exc.extra if isinstance(item, dict)]
    if m := _MISSING_PARAMETER.match(exc.detail or ""):
        return [{"field": m["name"], "message": _("This field is required.", lang)}]
    return []


# Litestar's own English details that have a translation; other standard reason phrases are
# dropped because the title already says the same in the caller's language.
_LITESTAR_DETAILS = {
    "CSRF token verification failed": N_("The form has expired or did not come from this site; "
                                         "reload the page and try again."),
}


def handle_exception(request: Request, exc: Exception) -> Response:
    lang = request_language(request)
    if isinstance(exc, AppError):
        return problem(request, exc.status, exc.detail, errors=exc.errors, headers=exc.headers,
                       **exc.extra)
    if isinstance(exc, ValidationException):
        return problem(request, 400, _("The request body or parameters are invalid.", lang),
                       errors=_validation_errors(exc, lang))
    if isinstance(exc, HTTPException):
        status = exc.status_code
        detail = None
        phrases = {STATUS_TITLES.get(status, ("", ""))[1].lower(),
                   HTTPStatus(status).phrase.lower() if status in HTTPStatus._value2member_map_ else ""}
        if exc.detail in _LITESTAR_DETAILS:
            detail = _(_LITESTAR_DETAILS[exc.detail], lang)
        elif isinstance(exc.__cause__, SerializationException):  # the body did not decode
            detail = _("The request body is not valid JSON.", lang)
        elif status < 500 and exc.detail and exc.detail.lower() not in phrases:
            detail = exc.detail
        return problem(request, status, detail, headers=exc.headers or None)
    out_of_range = _out_of_range(request, exc)
    if out_of_range is not None:
        return out_of_range
    if _unstorable_text(exc):
        return problem(request, 400, _("The request contains text that cannot be stored (for "
                                       "example a NUL character) or is too long.", lang))
    if unavailable(exc):
        log.warning("dependency unavailable: %s: %s", type(exc).__name__, exc)
        return problem(request, 503, _("A service we depend on is briefly unavailable; nothing was "
                                       "changed. Please try again in a few seconds.", lang),
                       headers={"Retry-After": "5"})
    log.exception("unhandled error", exc_info=exc)
    return problem(request, 500, _("Something went wrong on our side; it has been logged.", lang))


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` means PostgreSQL or Redis cannot be reached right now (restart, failover,
    network): the request did not happen and the caller may simply retry."""
    import asyncpg
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    for exc in _chain(exc):
        if isinstance(exc, (ConnectionError, asyncpg.PostgresConnectionError,
                            asyncpg.exceptions.OperatorInterventionError,
                            asyncpg.exceptions.ConnectionDoesNotExistError,
                            RedisConnectionError, RedisTimeoutError)):
            return True
        if isinstance(exc, asyncpg.InterfaceError) and "connection" in str(exc).lower():
            return True
        # Anything else raised while opening a connection (a missing unix socket while the
        # server restarts, a half-open connection's protocol error) means the same.
        if isinstance(exc, OSError) and _while_connecting(exc):
            return True
        if isinstance(exc, asyncpg.exceptions.InternalClientError) and "another operation" in str(exc):
            return True  # a connection broken mid-operation (core.db drops it); nothing ran
    return False


def _chain(exc: BaseException | None):
    """`exc` and the exceptions it was raised from or during, each once."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


_OUT_OF_RANGE = re.compile(r"invalid input for query argument \$\d+: (-?\d+) \(value out of")


def _out_of_range(request: Request, exc: BaseException) -> Response | None:
    """A number too large for its column (ids are 32- or 64-bit): a path id that big names
    nothing (404), any other such number is invalid input (400). Nothing was changed."""
    import asyncpg

    exc = next((e for e in _chain(exc)
                if isinstance(e, (asyncpg.exceptions.DataError, OverflowError))), None)
    if exc is None:
        return None
    lang = request_language(request)
    match = _OUT_OF_RANGE.search(str(exc))
    path_values = {str(v) for v in (request.path_params or {}).values()}
    if isinstance(exc, OverflowError) or (match and match.group(1) in path_values):
        if isinstance(exc, OverflowError) and not path_values:
            return problem(request, 400, _("A number in the request is out of range.", lang))
        return problem(request, 404)
    if match:
        return problem(request, 400, _("A number in the request is out of range.", lang))
    return None


def _unstorable_text(exc: BaseException | None) -> bool:
    """Text PostgreSQL refuses as a value: a NUL byte or a character outside UTF-8 (22021,
    22P05), or longer than its column (22001). Caused by the input; nothing was changed."""
    import asyncpg

    kinds = (asyncpg.exceptions.CharacterNotInRepertoireError,
             asyncpg.exceptions.UntranslatableCharacterError,
             asyncpg.exceptions.StringDataRightTruncationError)
    return any(isinstance(e, kinds) for e in _chain(exc))


_CONNECTING = ("asyncpg/connect_utils.py", "redis/asyncio/connection.py")


def _while_connecting(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.replace("\\", "/").endswith(_CONNECTING):
            return True
        tb = tb.tb_next
    return False
