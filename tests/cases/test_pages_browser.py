"""The case journey in a real browser: a resident reports a repair with a photo, the property
manager takes it through the queue (accept, assign, acknowledge, resolve), the resident rates
it 2 and the case comes back reopened (重办). The strict CSP must not produce a console error.
Screenshots go to test-artifacts/."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.tenancy.test_pages_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    DESKTOP,
    PHONE,
    browser,
    demo,
    navigate,
    server,
    sign_in,
)

async_api = pytest.importorskip("playwright.async_api")
from gongzhi.demo import DEMO_PASSWORD  # noqa: E402


def _photo(tmp_path: Path) -> Path:
    from PIL import Image

    path = tmp_path / "leak.jpg"
    Image.new("RGB", (64, 48), (180, 40, 40)).save(path, "JPEG")
    return path


async def _context(browser, server, viewport):
    context = await browser.new_context(base_url=server, viewport=viewport, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    return context, page, errors


async def _act(page, action: str, **fields: str) -> None:
    form = page.locator(f"form.action-form[data-action={action}]")
    for name, value in fields.items():
        await form.locator(f"[name={name}]").fill(value)
    async with page.expect_navigation():
        await form.locator("button[type=submit]").click()


async def test_resident_reports_manager_resolves_resident_rates_low_and_case_reopens(
        browser, server, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    photo = _photo(tmp_path)

    # 1. The resident reports a repair with a photo from a phone.
    ctx, page, errors = await _context(browser, server, PHONE)
    await sign_in(page, "resident", DEMO_PASSWORD)
    await navigate(page, "a[href='/cases/new']")
    await page.select_option("#category", "repair")
    await page.fill("#description", "楼道灯不亮，晚上看不见台阶")
    await page.fill("#location", "3号楼2单元5楼")
    await page.set_input_files("#photo", str(photo))
    await page.screenshot(path=str(ARTIFACTS / "case-new-phone.png"), full_page=True)
    await navigate(page, "form.form button[type=submit]")
    match = re.search(r"/cases/(\d+)$", page.url)
    assert match, page.url
    case_id = int(match.group(1))
    assert await page.locator(".photos img").count() == 1
    await page.goto("/cases/mine")
    assert await page.locator(f".case-item[data-case-id='{case_id}'] .badge").first.text_content() == "待受理"
    await page.screenshot(path=str(ARTIFACTS / "case-mine-phone.png"), full_page=True)
    assert errors == [], errors
    await ctx.close()

    # 2. The property manager finds it in the queue and works it through to resolved.
    ctx, page, errors = await _context(browser, server, DESKTOP)
    await sign_in(page, "pm", DEMO_PASSWORD)
    await navigate(page, "a[href='/cases']")
    item = page.locator(f".case-item[data-case-id='{case_id}']")
    assert await item.count() == 1
    sla = await item.locator(".sla").text_content()
    assert sla.startswith("剩余") or sla.startswith("已超时"), sla
    await page.screenshot(path=str(ARTIFACTS / "case-queue.png"), full_page=True)
    # The queue refreshes itself with htmx (every 30 s); one refresh by hand, under the CSP.
    await page.evaluate("htmx.ajax('GET', '/cases', {target: '#queue', select: '#queue', "
                        "swap: 'outerHTML'})")
    await page.wait_for_load_state("networkidle")
    item = page.locator(f"#queue .case-item[data-case-id='{case_id}']")
    assert await item.count() == 1
    async with page.expect_navigation():
        await item.locator("a").click()
    for action in ("accept", "assign", "acknowledge"):
        await _act(page, action)
        assert await page.locator(".alert").count() == 0, action
    await _act(page, "resolve", comment="已更换灯泡")
    assert await page.text_content("#case-status") == "已办结"
    await page.screenshot(path=str(ARTIFACTS / "case-detail-resolved.png"), full_page=True)
    assert errors == [], errors
    await ctx.close()

    # 3. The resident rates 2: the case is reopened (重办).
    ctx, page, errors = await _context(browser, server, PHONE)
    await sign_in(page, "resident", DEMO_PASSWORD)
    await page.goto(f"/cases/{case_id}")
    form = page.locator("form.action-form[data-action=rate]")
    await form.locator("input[name=rating][value='2']").check()
    await form.locator("[name=comment]").fill("还是不亮")
    async with page.expect_navigation():
        await form.locator("button[type=submit]").click()
    assert await page.locator(".badge.reopened").text_content() == "重办"
    assert await page.text_content("#case-status") != "已办结"
    await page.screenshot(path=str(ARTIFACTS / "case-reopened-phone.png"), full_page=True)
    assert errors == [], errors
    await ctx.close()
