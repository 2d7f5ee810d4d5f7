"""The results half of a campaign in a real browser: the bureau computes and publishes from the
results table, the property company reads its result on a phone and objects, the bureau adjusts
the total, and once the window has passed makes the results final. The strict CSP must not
produce a console error. Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest

from core.db import db, fetch
from tests.evaluations import results_world
from tests.factories import PASSWORD
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


async def _context(browser, server, viewport):
    context = await browser.new_context(base_url=server, viewport=viewport, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    return context, page, errors


async def test_compute_publish_object_adjust_finalise(browser, server):
    ARTIFACTS.mkdir(exist_ok=True)
    r = await results_world.build()
    results = f"/evaluations/campaigns/{r.campaign}/results"

    ctx, page, errors = await _context(browser, server, DESKTOP)
    await sign_in(page, r.users["bureau"], PASSWORD)
    await page.goto(results)
    await navigate(page, "#compute")
    assert "85.75" in await page.locator("#results-table").text_content()
    await page.select_option("select[name=grade]", "fail")
    await navigate(page, "form.filters button[type=submit]")
    assert await page.locator("#results-table tbody tr").count() == 1
    await page.goto(results)
    await page.screenshot(path=str(ARTIFACTS / "evaluation-results-desktop.png"), full_page=True)
    await navigate(page, "#publish")
    assert await page.locator("#campaign-status").text_content() == "已公示"
    assert errors == [], errors
    await ctx.close()

    ctx, page, errors = await _context(browser, server, PHONE)
    await sign_in(page, r.users["p1"], PASSWORD)
    await page.goto("/evaluations/results")
    await navigate(page, f"a[href='{results}']")
    await navigate(page, f"tr[data-assessment-id='{r.assessments['A1']}'] a")
    await page.fill("textarea[name=reasons]", "业委会评分所依据的问题已在期内整改")
    await page.fill("input[name=evidence_case_ids]", str(r.cases["E1"]))
    await page.screenshot(path=str(ARTIFACTS / "evaluation-objection-phone.png"), full_page=True)
    await navigate(page, "#objection-form button[type=submit]")
    assert await page.locator("#result-status").text_content() == "异议处理中"
    assert errors == [], errors
    await ctx.close()

    ctx, page, errors = await _context(browser, server, DESKTOP)
    await sign_in(page, r.users["bureau"], PASSWORD)
    await page.goto(f"/evaluations/assessments/{r.assessments['A1']}/result")
    form = page.locator("form.resolve-form")
    await form.locator("input[value=adjust]").check()
    await form.locator("input[name=adjusted_score]").fill("90")
    await form.locator("textarea[name=reason]").fill("整改证据属实")
    await navigate(page, "form.resolve-form button[type=submit]")
    assert await page.locator("#total-score").text_content() == "90.00"
    assert await page.locator("#grade").text_content() == "优秀"
    async with db().transaction():
        await fetch("UPDATE evaluation_assessment SET objection_deadline = now() - interval '1 day',"
                    " published_at = now() - interval '10 days' WHERE campaign = $1", r.campaign)
    await page.goto(results)
    await navigate(page, "#finalize")
    assert await page.locator("#campaign-status").text_content() == "已定稿"
    assert errors == [], errors
    await ctx.close()
