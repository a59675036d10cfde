"""The dashboard in headless Chromium (Debian's package) driven by Playwright, against the whole stack.

Each test gets a fresh browser context (Thai locale, Bangkok time). A test fails on any error in the browser
console, except the failed loads a test declares with `@pytest.mark.expected_http_errors(url_part, ...)`
(Chromium logs every 4xx fetch, even one the page handles). `shot()` saves screenshots under test-artifacts/browser/ for people to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.stack import Stack

CHROMIUM = os.environ.get("ANP_CHROMIUM", "/usr/bin/chromium")
# without the background-networking flags Chromium keeps dialling Google hosts the closed network refuses
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LIVE_TIMEOUT_MS = 20_000  # projector, relay and one poll of the page, on a busy 2-core machine


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    viewport = getattr(request, "param", DESKTOP)
    context = browser.new_context(viewport=viewport, locale="th-TH", timezone_id="Asia/Bangkok")
    context.set_default_timeout(LIVE_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    marker = request.node.get_closest_marker("expected_http_errors")
    expected = marker.args if marker else ()
    page.on(
        "console",
        lambda message: (
            errors.append(f"{message.text} ({message.location.get('url')})")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    unexpected = [
        e for e in errors if not (e.startswith("Failed to load resource") and any(u in e for u in expected))
    ]
    assert not unexpected, f"errors in the browser console: {unexpected}"


def dashboard(stack: Stack, path: str = "") -> str:
    return stack.url("monitoring", f"/dashboard/{path}")


def bearer(headers: dict[str, str]) -> str:
    """The token of a `Stack.token()` header."""
    return headers["Authorization"].removeprefix("Bearer ")


def sign_in(page: Page, stack: Stack, token: str, path: str = "") -> None:
    page.goto(dashboard(stack, path))
    expect(page).to_have_url(dashboard(stack, "signin"))
    page.fill("#token", token)
    page.click("#signin-submit")
    # signed in once the token is checked and kept: a navigation before that would land on sign-in again
    expect(page).not_to_have_url(dashboard(stack, "signin"))


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of the page; the script comes from the service itself (the page's CSP allows it)."""
    page.add_script_tag(url="/dashboard/vendor/axe.min.js")
    return page.evaluate("async () => (await axe.run(document)).violations")
