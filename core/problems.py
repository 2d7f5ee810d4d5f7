"""RFC 9457 problem details, with titles and details in the caller's language.

Services raise the `AppError` family; Litestar's own HTTP exceptions (validation, 401, 405,
429 from the rate limiter …) are mapped to the same shape, so every 4xx/5xx the API sends
is `application/problem+json`.
"""
from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

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


def _validation_errors(exc: ValidationException) -> list[dict[str, Any]]:
    out = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            out.append({"field": item.get("key") or item.get("source"), "message": item.get("message")})
    return out


def handle_exception(request: Request, exc: Exception) -> Response:
    lang = request_language(request)
    if isinstance(exc, AppError):
        return problem(request, exc.status, exc.detail, errors=exc.errors, headers=exc.headers,
                       **exc.extra)
    if isinstance(exc, ValidationException):
        return problem(request, 400, _("The request body or parameters are invalid.", lang),
                       errors=_validation_errors(exc))
    if isinstance(exc, HTTPException):
        status = exc.status_code
        detail = None
        if status < 500 and exc.detail and exc.detail not in (STATUS_TITLES.get(status, ("", ""))[1],):
            detail = exc.detail
        return problem(request, status, detail, headers=exc.headers or None)
    log.exception("unhandled error", exc_info=exc)
    return problem(request, 500, _("Something went wrong on our side; it has been logged.", lang))
