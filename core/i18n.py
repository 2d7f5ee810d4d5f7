"""User-facing text: English message ids, zh-CN first, translated through Babel catalogues.

The `.po` catalogues are compiled in memory at first use, so a fresh clone needs no build
step. core/translations holds the strings of core, tenancy, gongzhi, cases and contracts; each
later domain package keeps its own catalogue in `<package>/translations` (DOMAIN_CATALOGUES),
so work on one domain never touches another's file. They are merged per language (the first
translated entry of a message wins, core's first). The active language lives in a context variable that the
language middleware sets per request (query `lang`, cookie, Accept-Language, default).
"""
from __future__ import annotations

import gettext as _gettext
import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core.settings import get_settings

LANGUAGES = ("zh-CN", "en")
CATALOGUE_DIR = Path(__file__).parent / "translations"
ROOT = Path(__file__).resolve().parent.parent
# Domain packages with their own catalogue (extracted from the package and its pdf templates).
DOMAIN_CATALOGUES = ("evaluations", "documents", "meetings")
_current: ContextVar[str | None] = ContextVar("language", default=None)


def _locale_dir(language: str) -> str:
    return language.replace("-", "_")


def catalogue_dirs() -> list[Path]:
    """Every translations directory: core's first, then each domain package's."""
    return [CATALOGUE_DIR, *(ROOT / name / "translations" for name in DOMAIN_CATALOGUES)]


def merged_catalogue(language: str):
    """One Babel catalogue holding every directory's entries for `language` (core wins)."""
    merged = None
    for directory in catalogue_dirs():
        po = directory / _locale_dir(language) / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=_locale_dir(language))
        if merged is None:
            merged = catalog
            continue
        for message in catalog:
            if not message.id:
                continue
            known = merged.get(message.id)
            if known is None or (not _has_translation(known) and _has_translation(message)):
                merged[message.id] = message
    return merged


def _has_translation(message) -> bool:
    strings = [message.string] if isinstance(message.string, str) else list(message.string or ())
    return any(s.strip() for s in strings) and "fuzzy" not in message.flags


@lru_cache(maxsize=8)
def translations(language: str) -> _gettext.NullTranslations:
    catalog = merged_catalogue(language)
    if catalog is None:
        return _gettext.NullTranslations()
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def current_language() -> str:
    return _current.get() or get_settings().default_language


def set_language(language: str):
    return _current.set(normalize(language) or get_settings().default_language)


def reset_language(token) -> None:
    _current.reset(token)


def normalize(value: str | None) -> str | None:
    """Map 'zh', 'zh-cn', 'zh_Hans_CN', 'en-US' … to a supported language, else None."""
    if not value:
        return None
    v = value.strip().lower().replace("_", "-")
    if v.startswith("zh"):
        return "zh-CN"
    if v.startswith("en"):
        return "en"
    return None


def negotiate(accept_language: str | None) -> str | None:
    """Pick the best supported language from an Accept-Language header."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        lang = normalize(tag)
        if lang and weight > 0:
            ranked.append((-weight, i, lang))
    return sorted(ranked)[0][2] if ranked else None


def gettext(message: str, language: str | None = None) -> str:
    return translations(language or current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int, language: str | None = None) -> str:
    return translations(language or current_language()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Marks a message id for extraction without translating it yet.

    For labels kept in module-level tables (capabilities, organisation kinds, roles,
    problem titles): the table holds the English msgid and the caller translates it at
    render time, in the language of that request.
    """
    return message


def both(message: str) -> dict[str, str]:
    """The message in every supported language (for documents and notifications)."""
    return {lang: gettext(message, lang) for lang in LANGUAGES}


def request_language(request) -> str:
    """The caller's language: ?lang=, the `lang` cookie, their profile, Accept-Language.

    API clients (bearer tokens) send Accept-Language on purpose, per request, so for them it
    ranks above the profile; a browser sends it for every site, so there the profile wins.
    """
    lang = normalize(request.query_params.get("lang")) or normalize(request.cookies.get("lang"))
    user = request.scope.get("user")
    header = negotiate(request.headers.get("accept-language"))
    profile = normalize(getattr(user, "language", None)) if user is not None else None
    ranked = (header, profile) if getattr(user, "token_kind", None) == "api" else (profile, header)
    return lang or ranked[0] or ranked[1] or get_settings().default_language


class LanguageMiddleware:
    """Makes `gettext` answer in the caller's language for the rest of the request."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from litestar import Request

        token = set_language(request_language(Request(scope)))
        try:
            await self.app(scope, receive, send)
        finally:
            reset_language(token)
