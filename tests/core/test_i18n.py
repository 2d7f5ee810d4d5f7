"""Translations: every user-facing string has a Chinese translation, and both languages reach
the caller (negotiated from Accept-Language, Chinese by default).

The catalogue checks extract the message ids from the source itself (with babel.cfg, as
`make messages` does), so a new `_()` string that nobody translated fails here, even when
the .pot was not regenerated.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg, parse_keywords
from babel.messages.pofile import read_po

from core import i18n

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "core" / "translations"
# The same keywords as `make messages`.
KEYWORDS = {**DEFAULT_KEYWORDS, **parse_keywords(["_", "gettext", "ngettext:1,2", "N_"])}
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?:[!:][^{}]*)?\}|%\([A-Za-z_][A-Za-z0-9_]*\)[a-z]|%[sd]")
HOW_TO_FIX = ("run `make messages` and translate the new entries in the zh_CN catalogue of "
              "core/translations or of the domain package's translations/")


def _msgid(message) -> str:
    return message if isinstance(message, str) else message[0]


@lru_cache(maxsize=1)
def source_msgids() -> dict[str, str]:
    """msgid -> first place it is used, extracted from the code and templates right now."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.setdefault(_msgid(message), f"{filename}:{lineno}")
    return found


def catalogue(name: str, directory: Path = TRANSLATIONS) -> Catalog:
    path = directory / name
    with path.open("rb") as fh:
        return read_po(fh)


def merged(language: str) -> Catalog:
    """Every catalogue of `language` merged, as core.i18n serves them."""
    return i18n.merged_catalogue(language)


def all_files(name: str) -> list[tuple[Path, Catalog]]:
    """(directory, catalogue) for `name` in every translations directory that has it."""
    return [(d, catalogue(name, d)) for d in i18n.catalogue_dirs() if (d / name).exists()]


def _translated(message) -> bool:
    strings = [message.string] if isinstance(message.string, str) else list(message.string)
    return bool(strings) and all(s.strip() for s in strings) and "fuzzy" not in message.flags


def test_source_strings_are_found() -> None:
    ids = source_msgids()
    # One from Python, one from a label table marked with N_(), one from a template.
    assert "Wrong username or password." in ids
    assert "Authentication required" in ids
    assert "Sign out" in ids


def test_every_source_string_has_a_chinese_translation() -> None:
    zh = merged("zh-CN")
    missing = [f"{where}: {msgid!r}" for msgid, where in source_msgids().items()
               if zh.get(msgid) is None or not _translated(zh.get(msgid))]
    assert not missing, f"{len(missing)} untranslated ({HOW_TO_FIX}):\n" + "\n".join(missing)


def test_every_template_entry_has_a_chinese_translation() -> None:
    zh = merged("zh-CN")
    assert len([m for m in catalogue("messages.pot") if m.id]) > 50
    for directory, pot in all_files("messages.pot"):
        missing = [_msgid(m.id) for m in pot
                   if m.id and (zh.get(m.id) is None or not _translated(zh.get(m.id)))]
        assert not missing, f"{directory.parent.name}: untranslated ({HOW_TO_FIX}): {missing}"


def test_english_catalogue_covers_the_template() -> None:
    en = {_msgid(m.id) for m in merged("en") if m.id}
    for directory, pot in all_files("messages.pot"):
        ids = {_msgid(m.id) for m in pot if m.id}
        assert ids <= en, f"{directory.parent.name}: missing in en ({HOW_TO_FIX}): {sorted(ids - en)}"


def test_placeholders_survive_translation() -> None:
    broken = []
    for name in ("zh_CN", "en"):
        for m in (m for _d, c in all_files(f"{name}/LC_MESSAGES/messages.po") for m in c):
            if not m.id:
                continue
            ids = [m.id] if isinstance(m.id, str) else list(m.id)
            strings = [m.string] if isinstance(m.string, str) else list(m.string)
            expected = Counter(PLACEHOLDER.findall(ids[0]))
            for s in strings:
                if s and Counter(PLACEHOLDER.findall(s)) != expected:
                    broken.append(f"{name}: {ids[0]!r} -> {s!r}")
    assert not broken, "placeholders changed:\n" + "\n".join(broken)


def test_translations_format_like_their_msgids() -> None:
    assert i18n.gettext("The password must have at least {n} characters.", "zh-CN").format(n=12) \
        == "密码长度至少为 12 个字符。"
    assert i18n.gettext("Hello, %(name)s", "zh-CN") % {"name": "李明"} == "您好，李明"


def test_label_tables_are_translated_at_render_time() -> None:
    from tenancy.guards import CAPABILITY_LABELS
    from tenancy.pages import KIND_LABELS, ROLE_LABELS

    assert i18n.gettext(KIND_LABELS["owners_committee"], "zh-CN") == "业委会"
    assert i18n.gettext(KIND_LABELS["property_company"], "zh-CN") == "物业服务企业"
    assert i18n.gettext(ROLE_LABELS["grid_worker"], "zh-CN") == "网格员"
    assert i18n.gettext(KIND_LABELS["owners_committee"], "en") == "Owners' committee"
    for label in (*CAPABILITY_LABELS.values(), *KIND_LABELS.values(), *ROLE_LABELS.values()):
        assert i18n.gettext(label, "zh-CN") != label


@pytest.mark.parametrize(("header", "expected"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
    ("zh", "zh-CN"),
    ("zh-Hans-CN", "zh-CN"),
    ("zh-TW,zh;q=0.9", "zh-CN"),
    ("en-US,en;q=0.9", "en"),
    ("en", "en"),
    ("en-GB;q=0.8, zh-CN;q=0.9", "zh-CN"),
    ("zh-CN;q=0.5, en;q=0.7", "en"),
    ("fr-FR, de;q=0.9, en;q=0.3", "en"),
    ("fr-FR, de;q=0.9", None),
    ("zh-CN;q=0, en", "en"),
    ("*", None),
    ("", None),
    (None, None),
    ("en;q=abc, zh", "zh-CN"),
])
def test_negotiate(header: str | None, expected: str | None) -> None:
    assert i18n.negotiate(header) == expected


async def test_problem_title_is_chinese_by_default(client) -> None:
    r = await client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["title"] == "需要登录"


@pytest.mark.parametrize(("headers", "title"), [
    ({"Accept-Language": "en"}, "Authentication required"),
    ({"Accept-Language": "en-US,en;q=0.9,zh-CN;q=0.5"}, "Authentication required"),
    ({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}, "需要登录"),
    ({"Accept-Language": "fr"}, "需要登录"),
])
async def test_problem_title_follows_accept_language(client, headers, title) -> None:
    r = await client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401
    assert r.json()["title"] == title


async def test_web_pages_follow_the_language_cookie(client) -> None:
    zh = await client.get("/login")
    assert zh.status_code == 200 and 'lang="zh-CN"' in zh.text
    assert "用户名" in zh.text and "登录" in zh.text
    en = await client.get("/login", headers={"Cookie": "lang=en"})
    assert 'lang="en"' in en.text and "Username" in en.text and "用户名" not in en.text
