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
    page.on("console", lambda m: errors.append(f"console {m.type} at {m.location.get('url')}: "
                                               f"{m.text}") if m.type == "error" else None)
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
    await page.set_input_files("#photos", str(photo))
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


async def test_grid_worker_records_a_call_the_queue_updates_live_and_comments_stay_apart(
        browser, server):
    # The property manager keeps the queue open: it listens to the event stream.
    mctx, queue, queue_errors = await _context(browser, server, DESKTOP)
    await sign_in(queue, "pm", DEMO_PASSWORD)
    await queue.goto("/cases")
    await queue.wait_for_selector("#live-note:not([hidden])")  # the EventSource is open

    # The grid worker records a phone call for an owner of a unit (htmx fills the lists).
    ctx, page, errors = await _context(browser, server, PHONE)
    await sign_in(page, "grid", DEMO_PASSWORD)
    await page.goto("/cases/new")
    await page.check("input[name=channel][value=phone]")
    estate = await page.locator("#estate_id option", has_text="翠湖花园").get_attribute("value")

    async def choose(selector: str, **option) -> None:
        """Pick an option and wait until htmx has swapped in the lists that depend on it."""
        async with page.expect_response(lambda r: "/cases/new/places" in r.url):
            await page.select_option(selector, **option)
        await page.wait_for_load_state("networkidle")
        await page.wait_for_timeout(100)  # htmx settles the swap

    await choose("#estate_id", value=estate)
    await choose("#building_id", index=1)
    await choose("#unit_id", index=1)
    await page.wait_for_selector("input[name=reporter_person_id]")
    async with page.expect_response(lambda r: "/cases/new/places" in r.url):
        await page.locator("input[name=reporter_person_id]").first.check()
    await page.wait_for_load_state("networkidle")
    await page.fill("#description", "业主来电：单元门禁无法刷卡")
    await page.screenshot(path=str(ARTIFACTS / "case-staff-intake-phone.png"), full_page=True)
    await navigate(page, "form.form button[type=submit]")
    match = re.search(r"/cases/(\d+)$", page.url)
    assert match, page.url
    case_id = int(match.group(1))

    # The manager's open queue shows the new case without a reload, once the outbox is
    # published (a worker's job; this test server runs none, so the test publishes).
    from core import outbox

    await outbox.publish_outbox()
    await queue.wait_for_selector(f"#queue .case-item[data-case-id='{case_id}']", timeout=10000)

    # A public comment from the grid worker, an internal one from the manager.
    await page.fill("#comment-text", "已电话告知业主，物业将上门")
    await navigate(page, "form.comment-form button[type=submit]")
    await queue.goto(f"/cases/{case_id}")
    await queue.fill("#comment-text", "内部：需更换读卡器")
    await queue.check("input[name=visibility][value=internal]")
    await navigate(queue, "form.comment-form button[type=submit]")
    timeline = queue.locator("#timeline li.comment")
    assert await timeline.count() == 2
    assert await queue.locator("#timeline li.comment.internal").count() == 1
    await queue.screenshot(path=str(ARTIFACTS / "case-comments.png"), full_page=True)
    assert errors == [] and queue_errors == [], (errors, queue_errors)
    await ctx.close()
    await mctx.close()
