"""Signing and verifying in a real browser (Debian's Chromium, strict CSP, no console errors):
a member of the demo district's owners' committee sets a signing PIN, opens the minutes waiting
for signatures, signs with the PIN on a phone; then anyone, signed out, uploads the signed
file on /verify and sees it valid and registered. Screenshots go to test-artifacts/."""
from __future__ import annotations

import secrets

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
from core.db import db, fetch  # noqa: E402
from core.storage import storage  # noqa: E402
from documents import service as registry  # noqa: E402
from documents.schemas import Box, Signer  # noqa: E402
from gongzhi.demo import DEMO_PASSWORD  # noqa: E402
from tests.documents.signing_helpers import render_pdf  # noqa: E402

PIN = "270419"


async def _minutes_for_a_member() -> dict:
    """Minutes of 翠湖花园's owners' committee, to be signed by a member first (the meetings
    journey enrols the chair with its own PIN, so this test leaves the chair alone)."""
    member = (await fetch("SELECT u.id, u.tenant, u.display_name, m.organization FROM app_user"
                          " u JOIN membership m ON m.user = u.id WHERE u.username = 'oc.member'"))[0]
    rc = (await fetch("SELECT u.id, m.organization FROM app_user u JOIN membership m"
                      " ON m.user = u.id WHERE u.username = 'rc'"))[0]
    estate = (await fetch("SELECT estate FROM organization_coverage WHERE organization = $1"
                          " AND estate IS NOT NULL", member["organization"]))[0]["estate"]
    signers = [Signer(field_name="member", kind="person", role="业主委员会委员",
                      organization="翠湖花园业主委员会", organization_id=member["organization"],
                      user_id=member["id"], name=member["display_name"],
                      box=Box(page=0, x1=40, y1=40, x2=220, y2=120)),
               Signer(field_name="rc", kind="person", role="居委会主任",
                      organization="青莲社区居民委员会", organization_id=rc["organization"],
                      user_id=rc["id"], name="居委会主任", box=Box(page=0, x1=240, y1=40, x2=420,
                                                                 y2=120))]
    fields = {s.field_name: (0, s.box.as_tuple()) for s in signers}
    async with db().transaction():
        return await registry.register_version(
            tenant_id=member["tenant"], kind="minutes", subject_type="browser_test",
            subject_id=secrets.randbelow(10 ** 9), period="", title="业主委员会会议纪要（浏览器测试）",
            owner_organization_id=member["organization"], estate_id=estate,
            organizations=[rc["organization"]], pdf=render_pdf(fields=fields), page_count=1,
            signers=signers, source={}, template="test", job_key=secrets.token_hex(8),
            open_for_signing=True)


async def test_a_member_signs_on_a_phone_and_anyone_verifies_the_file(browser, server,
                                                                       tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    version = await _minutes_for_a_member()
    context = await browser.new_context(base_url=server, viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    await sign_in(page, "oc.member", DEMO_PASSWORD)
    await page.goto("/signing")
    if await page.locator("#enroll").count():
        await page.fill("#pin", PIN)
        await page.fill("#pin_again", PIN)
        await navigate(page, "#enroll button[type=submit]")
    assert await page.locator("#certificate").count() == 1
    await page.goto(f"/sign/{version['document']}/{version['version']}")
    assert await page.locator("#signers > li").count() == 2
    preview = page.locator(".photos img")  # the page preview, rendered by poppler
    await preview.evaluate("img => img.complete || new Promise(r => img.onload = r)")
    assert await preview.evaluate("img => img.naturalWidth") > 100
    await page.screenshot(path=str(ARTIFACTS / "sign-phone.png"), full_page=True)
    await page.fill("#pin", PIN)
    await navigate(page, "#sign-form button[type=submit]")
    assert "已签署" in await page.locator("#sign-form").text_content()
    assert await page.locator("#signers li[data-field=member] .badge").text_content() == "已签署"
    assert errors == [], errors
    await context.close()

    row = (await fetch("SELECT storage_key FROM document_version WHERE id = $1",
                       version["id"]))[0]
    signed = tmp_path / "minutes.pdf"
    signed.write_bytes(await storage().get(row["storage_key"]))

    context = await browser.new_context(base_url=server, viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto("/verify")
    await page.set_input_files("#file", str(signed))
    await navigate(page, "#verify-form button[type=submit]")
    assert await page.locator("#report").get_attribute("data-verdict") == "valid"
    assert await page.locator("#registry").get_attribute("data-matched") == "yes"
    assert await page.locator("#registry").get_attribute("data-latest") == "yes"
    assert await page.locator("#signatures > li").count() == 1
    await page.screenshot(path=str(ARTIFACTS / "verify-phone.png"), full_page=True)
    assert errors == [], errors
    await context.close()
