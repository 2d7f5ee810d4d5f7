"""The bureau's campaign download in a real browser (Debian's Chromium, strict CSP, no console
errors): the bureau prepares a campaign's ZIP, watches it get ready (the page polls), sees until
when it stays downloadable, and, once it expired, is told so and offered to prepare it again.
Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest

from tests.tenancy.test_pages_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    DESKTOP,
    browser,
    demo,
    navigate,
    server,
    sign_in,
)

async_api = pytest.importorskip("playwright.async_api")
from core.db import fetch  # noqa: E402
from core.settings import get_settings  # noqa: E402
from documents import exports  # noqa: E402
from gongzhi.demo import DEMO_PASSWORD  # noqa: E402
from tests.documents.test_exports import drain  # noqa: E402


async def test_the_bureau_prepares_a_campaign_zip_downloads_it_and_sees_it_expire(browser,
                                                                                  server):
    ARTIFACTS.mkdir(exist_ok=True)
    context = await browser.new_context(base_url=server, viewport=DESKTOP, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    await sign_in(page, "bureau", DEMO_PASSWORD)
    await page.goto("/documents/exports")
    await navigate(page, "form[action='/documents/exports'] button[type=submit]")
    export_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert await page.locator("#export-status").get_attribute("data-state") == "queued"

    await drain()  # this process's worker renders the reports and builds the ZIP
    await page.wait_for_selector("#download-zip", timeout=30_000)  # the page polls every 2 s
    assert "北京时间" in await page.locator("#export-expires").text_content()
    await page.screenshot(path=str(ARTIFACTS / "export-ready.png"), full_page=True)
    async with page.expect_download() as download:
        await page.click("#download-zip")
    assert (await download.value).suggested_filename.endswith(".zip")

    days = get_settings().documents_export_retention_days
    await fetch("UPDATE document_export SET finished_at = now() - make_interval(days => $2 + 1)"
                " WHERE id = $1", export_id, days)
    assert export_id in await exports.expire_exports()
    await page.reload()
    assert await page.locator("#export-status").get_attribute("data-state") == "expired"
    assert "已过期" in await page.locator("#export-expired").text_content()
    assert await page.locator("#download-zip").count() == 0
    await page.screenshot(path=str(ARTIFACTS / "export-expired.png"), full_page=True)
    assert errors == [], errors
    await context.close()
