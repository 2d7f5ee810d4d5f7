"""The web shell in a real browser: Debian's Chromium drives a real uvicorn server.

Every demo persona signs in through the form, lands on the home page, sees its organisations
(or, for a resident, the resident message), switches to English and signs out. The strict
CSP must not produce a single console error. Screenshots of the home page go to
test-artifacts/ for people to look at.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium); "
                "browser tests never download a browser", allow_module_level=True)
async_api = pytest.importorskip("playwright.async_api", reason="Playwright (Python) is not installed")

from gongzhi.demo import DEMO_PASSWORD, LOGINS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
NARROW_PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
async def demo(client) -> list[tuple[str, str]]:
    """The demo district in the test database (the `client` fixture has opened the pool)."""
    from gongzhi.demo import seed_demo

    await seed_demo()
    return LOGINS


@pytest.fixture(scope="session")
def server(demo):
    """A real uvicorn process serving the app on the test database and Redis namespace."""
    port = _free_port()
    log = (ARTIFACTS / "uvicorn.log")
    ARTIFACTS.mkdir(exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "gongzhi.asgi:app", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log"],
            cwd=ROOT, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"uvicorn exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not become healthy:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
async def browser():
    async with async_api.async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        await b.close()


class Page:
    """A fresh browser context (no cookies) whose console errors are collected."""

    def __init__(self, page, errors: list[str]) -> None:
        self.page, self.errors = page, errors


@pytest.fixture
async def page(browser, server):
    context = await browser.new_context(base_url=server, viewport=DESKTOP, locale="zh-CN")
    p = await context.new_page()
    errors: list[str] = []
    p.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    p.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    yield Page(p, errors)
    await context.close()


async def sign_in(page, username: str, password: str) -> None:
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await navigate(page, "form.form button[type=submit]")


async def navigate(page, selector: str) -> None:
    """Click something that loads a new page and wait until it has loaded."""
    async with page.expect_navigation():
        await page.click(selector)


def memberships(server: str, username: str) -> dict:
    """What the API says about the persona: the page must show the same organisations."""
    r = httpx.post(f"{server}/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 201, r.text
    return r.json()["user"]


def test_demo_has_personas() -> None:
    assert LOGINS, "gongzhi.demo.LOGINS is empty: the browser test needs the demo personas"


@pytest.mark.parametrize(("username", "description"), LOGINS, ids=[u for u, _d in LOGINS])
async def test_persona_signs_in_switches_language_and_signs_out(page, server, username, description):
    me = memberships(server, username)
    p = page.page
    await sign_in(p, username, DEMO_PASSWORD)
    assert p.url == f"{server}/", f"{username} ({description}) did not land on the home page"
    assert await p.get_attribute("html", "lang") == "zh-CN"
    assert await p.text_content(".greeting h1") == f"您好，{me['display_name']}"
    assert me["tenant_name"] in await p.text_content(".tenant")
    orgs = sorted(m["organization_name"] for m in me["memberships"])
    if orgs:
        cards = sorted(t.strip() for t in await p.locator(".seat h3").all_text_contents())
        assert cards == orgs
        assert await p.locator(".seat .caps li").count() >= len(orgs)
        assert "您在本单位可以" in await p.text_content(".seat")
    else:
        resident = await p.text_content(".resident")
        assert "反映问题" in resident and "即将上线" not in resident
        assert await p.locator(".resident a[href='/cases/new']").count() == 1

    await navigate(p, "nav.lang a[lang=en]")
    assert p.url == f"{server}/"
    assert await p.get_attribute("html", "lang") == "en"
    assert await p.text_content(".greeting h1") == f"Hello, {me['display_name']}"
    assert (await p.text_content(".account button")).strip() == "Sign out"
    assert "What you can do here" in await p.text_content("main") if orgs else \
        "Report a problem" in await p.text_content(".resident")
    await navigate(p, "nav.lang a[lang=zh-CN]")
    assert await p.get_attribute("html", "lang") == "zh-CN"

    await navigate(p, ".account button")
    assert p.url == f"{server}/login"
    assert await p.is_visible("#username")
    await p.goto("/")
    assert p.url.startswith(f"{server}/login"), "the session survived signing out"
    assert page.errors == []


async def test_wrong_password_shows_the_error(page, server):
    p = page.page
    username = LOGINS[0][0]
    await sign_in(p, username, "not-the-password-1")
    assert p.url == f"{server}/login"
    assert (await p.text_content("[role=alert]")).strip() == "用户名或密码错误。"
    assert await p.input_value("#username") == username
    assert await p.input_value("#password") == ""
    # The login page answers 401; Chromium reports that status as a failed resource load.
    assert [e for e in page.errors if "status of 401" not in e] == []

    await navigate(p, "nav.lang a[lang=en]")
    assert p.url == f"{server}/login"
    assert await p.is_visible("text=Username")


async def test_language_switch_keeps_the_path_and_query(page, server):
    p = page.page
    await p.goto("/login?next=/somewhere")
    await navigate(p, "nav.lang a[lang=en]")
    assert p.url == f"{server}/login?next=/somewhere"
    assert await p.get_attribute("html", "lang") == "en"
    assert await p.input_value("input[name=next]") == "/somewhere"
    assert page.errors == []


async def shoot(p, path: Path, width: int) -> None:
    await p.screenshot(path=str(path), full_page=True)
    scroll_width = await p.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{path.name}: the page scrolls sideways ({scroll_width}px > {width}px)"


async def test_screenshots(browser, server):
    """zh-CN pages on phones and a desktop, for people to judge the design; no sideways scrolling."""
    ARTIFACTS.mkdir(exist_ok=True)
    seats = {u: memberships(server, u)["memberships"] for u, _d in LOGINS}
    with_orgs = next(u for u in seats if seats[u])
    resident = next((u for u in seats if not seats[u]), None)
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP), ("phone360", NARROW_PHONE)):
        context = await browser.new_context(base_url=server, viewport=viewport, locale="zh-CN",
                                            device_scale_factor=1)
        p = await context.new_page()
        await p.goto("/login")
        await shoot(p, ARTIFACTS / f"login-zh-{name}.png", viewport["width"])
        await sign_in(p, with_orgs, "not-the-password-1")
        await shoot(p, ARTIFACTS / f"login-error-zh-{name}.png", viewport["width"])
        await sign_in(p, with_orgs, DEMO_PASSWORD)
        await shoot(p, ARTIFACTS / f"home-zh-{name}.png", viewport["width"])
        await navigate(p, "nav.lang a[lang=en]")
        await shoot(p, ARTIFACTS / f"home-en-{name}.png", viewport["width"])
        await navigate(p, "nav.lang a[lang=zh-CN]")
        await navigate(p, ".account button")
        if resident:
            await sign_in(p, resident, DEMO_PASSWORD)
            await shoot(p, ARTIFACTS / f"home-resident-zh-{name}.png", viewport["width"])
        await context.close()
    assert (ARTIFACTS / "home-zh-phone.png").stat().st_size > 0
    assert (ARTIFACTS / "home-zh-desktop.png").stat().st_size > 0
