"""A joint meeting in a real browser: the residents' committee director schedules it for
翠湖花园 (the owners' committee and the property company are invited by themselves), starts it
and signs in; the owners' committee chair signs in on a phone; the director records the
property manager's attendance, tables a resolution and opens the vote; the chair votes for on
the phone, the manager against, the director for; the count shows 2/3 of the organisations
present; then the minutes are drafted, reviewed with an amendment, made final and posted as a
public notice that the estate's owner reads on a phone — after the minutes were rendered by
the documents pipeline, signed in turn by each organisation's representative (two of them from
the signatory's inbox on their phones) and sealed by the residents' committee. The strict CSP must not produce a
console error. Screenshots go to test-artifacts/."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

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
from tests.meetings.helpers import PIN, SEAL_PIN, create_seal, drain_queue, enroll  # noqa: E402


async def enroll_demo(usernames: list[str]) -> None:
    """The signatories set their signing PINs (the documents package's /signing page does this
    for real users) and the bureau creates the residents' committee's seal."""
    from core.db import fetch

    rows = await fetch("SELECT id, username, tenant FROM app_user WHERE username = ANY($1::text[])",
                       [*usernames, "bureau"])
    ids = {r["username"]: r["id"] for r in rows}
    tenant = rows[0]["tenant"]
    await enroll(tenant, [ids[u] for u in usernames])
    rc_org = (await fetch("SELECT m.organization FROM membership m WHERE m.user = $1",
                          ids["rc"]))[0]["organization"]
    await create_seal(tenant, ids["bureau"], rc_org, SEAL_PIN)


async def _context(browser, server, viewport):
    context = await browser.new_context(base_url=server, viewport=viewport, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    return context, page, errors


async def _act(page, action: str, value: str | None = None, **fields: str) -> None:
    selector = f"form.action-form[data-action={action}]"
    if value is not None:
        selector += f":has(input[value='{value}'])"
    form = page.locator(selector).first
    for name, text in fields.items():
        field = form.locator(f"[name={name}]")
        if await field.evaluate("e => e.tagName") == "SELECT":
            await field.select_option(label=text)
        else:
            await field.fill(text)
    async with page.expect_navigation():
        await form.locator("button[type=submit]").click()
    assert await page.locator("#page-error").count() == 0, await page.locator("#page-error").text_content()


async def test_joint_meeting_from_scheduling_to_vote_minutes_and_public_notice(browser, server):
    ARTIFACTS.mkdir(exist_ok=True)
    start = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=5)).replace(
        hour=14, minute=30, second=0, microsecond=0)

    # 1. The residents' committee director schedules the joint meeting.
    ctx, rc, rc_errors = await _context(browser, server, DESKTOP)
    await sign_in(rc, "rc", DEMO_PASSWORD)
    await rc.goto("/meetings")
    await navigate(rc, "#schedule-link")
    await rc.select_option("#kind", "joint")
    await rc.select_option("#estate", label="翠湖花园")
    await rc.fill("#title", "翠湖花园三方联席会议：电梯维保")
    await rc.fill("#starts_at", start.strftime("%Y-%m-%dT%H:%M"))
    await rc.fill("#ends_at", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    await rc.fill("#location", "青莲社区党群服务中心二楼")
    await rc.fill("#agenda", "电梯维保情况通报\n维修资金使用意见")
    await rc.screenshot(path=str(ARTIFACTS / "meeting-new.png"), full_page=True)
    await navigate(rc, "form.case-form button[type=submit]")
    match = re.search(r"/meetings/(\d+)$", rc.url)
    assert match, rc.url
    meeting_id = int(match.group(1))
    invited = await rc.text_content("dl.facts")
    assert "翠湖花园业主委员会" in invited and "安居乐物业服务有限公司" in invited
    assert await rc.locator("#short-notice").count() == 0
    await _act(rc, "start")
    assert await rc.text_content("#meeting-status") == "进行中"
    await _act(rc, "sign_in")

    # 2. The owners' committee chair signs in on a phone.
    ctx2, chair, chair_errors = await _context(browser, server, PHONE)
    await sign_in(chair, "oc.chair", DEMO_PASSWORD)
    await chair.goto("/meetings")
    await navigate(chair, f".case-item[data-meeting-id='{meeting_id}'] a")
    await _act(chair, "sign_in")
    assert await chair.locator("#attendees li").count() == 2

    # 3. The director records the property manager, tables a resolution and opens the vote.
    await rc.goto(f"/meetings/{meeting_id}")
    await _act(rc, "record_attendance", user_id="黄志强")
    assert "黄志强" in await rc.text_content("#attendees")
    await _act(rc, "add_resolution", title="同意更换3号楼电梯钢丝绳", text="费用由物业先行垫付")
    await _act(rc, "open_resolution")
    await _act(rc, "vote", "for")

    await chair.goto(f"/meetings/{meeting_id}")
    await _act(chair, "vote", "for")
    assert "您的表决：同意" in await chair.text_content("#resolutions")
    await chair.screenshot(path=str(ARTIFACTS / "meeting-vote-phone.png"), full_page=True)

    ctx3, pm, pm_errors = await _context(browser, server, DESKTOP)
    await sign_in(pm, "pm", DEMO_PASSWORD)
    await pm.goto(f"/meetings/{meeting_id}")
    await _act(pm, "vote", "against")

    # 4. The count: 2 of the 3 organisations present agree.
    await rc.goto(f"/meetings/{meeting_id}")
    await _act(rc, "close_resolution")
    result = rc.locator("table.result")
    assert await result.get_attribute("data-passed") == "yes"
    assert "2 / 3 = 2/3" in await result.text_content()
    assert "通过" in await rc.locator(".resolution .outcome").text_content()
    await _act(rc, "add_action", title="物业一周内提交钢丝绳更换方案",
               owner_organization_id="安居乐物业服务有限公司")

    # 5. Minutes: drafted from the record, reviewed with an amendment, final, posted.
    await _act(rc, "draft_minutes")
    await _act(rc, "edit_section", text="会议通报了电梯维保情况，三方同意更换钢丝绳。")
    await _act(rc, "review")
    await chair.goto(f"/meetings/{meeting_id}")
    await _act(chair, "propose", text="会议通报了电梯维保情况，业委会与居委会同意更换钢丝绳，物业保留意见。")
    await rc.goto(f"/meetings/{meeting_id}")
    await _act(rc, "decide", "yes")
    await _act(rc, "end")
    await _act(rc, "finalize")
    assert await rc.text_content("#minutes-status") == "定稿"
    assert "物业保留意见" in await rc.text_content("#minutes-summary")

    # 6. Rendered by the documents pipeline; signed in turn by one representative of each
    #    organisation present (the convener's last), then sealed by the residents' committee.
    await _act(rc, "render")
    await drain_queue()
    await enroll_demo(["oc.chair", "pm", "rc"])
    await rc.goto(f"/meetings/{meeting_id}")
    assert await rc.get_attribute("#signing-state", "data-state") == "awaiting_signatures"
    assert await rc.locator("#signers li").count() == 4
    assert await rc.locator("form.action-form[data-action=sign]").count() == 0  # not rc's turn
    for page in (chair, pm):
        await page.goto("/meetings/signing")
        item = page.locator(f"section[data-meeting-id='{meeting_id}']")
        assert await item.count() == 1
        await item.locator("input[name=pin]").fill(PIN)
        async with page.expect_navigation():
            await item.locator("button[type=submit]").click()
        assert await page.locator(f"section[data-meeting-id='{meeting_id}']").count() == 0
    await chair.screenshot(path=str(ARTIFACTS / "meeting-signing-inbox-phone.png"), full_page=True)
    await rc.goto(f"/meetings/{meeting_id}")
    await _act(rc, "sign", pin=PIN)
    assert await rc.get_attribute("#signing-state", "data-state") == "signed"
    await _act(rc, "sign", pin=SEAL_PIN)  # the director applies the committee's seal
    assert await rc.get_attribute("#signing-state", "data-state") == "sealed"
    assert await rc.locator("#signers li[data-signed=yes]").count() == 4
    document = await rc.get_attribute("a[href^='/documents/']", "href")
    pdf = await rc.request.get(f"{document}/pdf")
    assert pdf.ok and (await pdf.body()).startswith(b"%PDF-")
    (ARTIFACTS / "meeting-minutes-sealed.pdf").write_bytes(await pdf.body())
    await _act(rc, "post_notice")
    await rc.screenshot(path=str(ARTIFACTS / "meeting-secretary.png"), full_page=True)

    # 7. The estate's owner reads the notice on a phone: the names are masked.
    ctx4, owner, owner_errors = await _context(browser, server, PHONE)
    await sign_in(owner, "resident", DEMO_PASSWORD)
    await owner.goto("/notices")
    await navigate(owner, ".case-item a")
    text = await owner.text_content("#notice")
    assert "同意更换3号楼电梯钢丝绳" in text and "物业保留意见" in text
    assert "刘桂芳" not in text and "黄志强" not in text and "刘**" in text
    await owner.screenshot(path=str(ARTIFACTS / "meeting-notice-phone.png"), full_page=True)
    # ... and votes in the demo's owners' assembly on the phone voting page
    await owner.goto("/vote")
    card = owner.locator(".vote-card", has_text="同意续聘安居乐物业服务有限公司")
    assert await card.count() == 1
    async with owner.expect_navigation():
        await card.locator("form:has(input[value=for]) button").click()
    assert "您的表决：同意" in await owner.locator(".vote-card", has_text="同意续聘").text_content()
    await owner.screenshot(path=str(ARTIFACTS / "meeting-vote-owner-phone.png"), full_page=True)

    for errors in (rc_errors, chair_errors, pm_errors, owner_errors):
        assert errors == [], errors
    for c in (ctx, ctx2, ctx3, ctx4):
        await c.close()
