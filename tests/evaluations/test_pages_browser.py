"""The evaluation in a real browser on a phone: the demo's owners' committee chair scores every
criterion of this quarter's evaluation, saves a draft, submits it; the resident answers the
satisfaction survey for their household. The strict CSP must not produce a console error.
Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest

from tests.tenancy.test_pages_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    PHONE,
    browser,
    demo,
    navigate,
    server,
    sign_in,
)

async_api = pytest.importorskip("playwright.async_api")
from gongzhi.demo import DEMO_PASSWORD  # noqa: E402


async def _phone(browser, server):
    context = await browser.new_context(base_url=server, viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    return context, page, errors


async def test_chair_scores_and_submits_then_resident_answers_the_survey(browser, server):
    ARTIFACTS.mkdir(exist_ok=True)
    ctx, page, errors = await _phone(browser, server)
    await sign_in(page, "oc.chair", DEMO_PASSWORD)
    await navigate(page, "a[href='/evaluations']")
    item = page.locator(".evaluation-mine .case-item").first
    assert "草稿" in await item.locator(".badge").text_content()
    await navigate(page, ".evaluation-mine .case-item a")
    criteria = page.locator("fieldset.criterion")
    assert await criteria.count() == 7
    await page.fill("#score_cleaning", "72")
    await page.fill("#comment_cleaning", "楼道垃圾清运不及时")
    await navigate(page, "#save-draft")
    assert await page.locator("#saved-note").is_visible()
    assert await page.input_value("#score_cleaning") == "72"
    for key in ("general_management", "buildings", "facilities", "order_safety", "greening",
                "customer_service"):
        await page.fill(f"#score_{key}", "90")
    await page.screenshot(path=str(ARTIFACTS / "evaluation-scoring-phone.png"), full_page=True)
    await navigate(page, "#submit-evaluation")
    assert (await page.locator("#submission-status").text_content()).strip() == "已提交"
    # 0.15 * 72 + 0.85 * 90 = 10.8 + 76.5 = 87.3
    assert (await page.locator("#weighted-score").text_content()).strip() == "87.30"
    # The page fits the phone: nothing wider than the screen.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    assert errors == [], errors
    await ctx.close()

    ctx, page, errors = await _phone(browser, server)
    await sign_in(page, "resident", DEMO_PASSWORD)
    await navigate(page, "a[href='/evaluations']")
    await navigate(page, ".evaluation-surveys .case-item a")
    await page.check("input[name=overall][value='4']")
    await page.check("input[name=q_cleaning][value='3']")
    await page.fill("#comment", "保洁还可以更好")
    await page.screenshot(path=str(ARTIFACTS / "evaluation-survey-phone.png"), full_page=True)
    await navigate(page, "#survey-form button[type=submit]")
    assert await page.locator("#survey-thanks").is_visible()
    assert await page.locator("#survey-form").count() == 0 or \
        await page.locator("#unit_id option").count() >= 1  # a second owned household, if any
    assert errors == [], errors
    await ctx.close()
