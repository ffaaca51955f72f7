"""Real-browser support: Debian's Chromium driven by Playwright (never `playwright install`).

Use the ``browser_context`` fixture (registered in ``tests/conftest.py``). Pages of the
test site live at ``http://example.test:<port>/``, which Chromium resolves to 127.0.0.1,
so the snippet does not treat them as ``localhost``. The user agent is a normal desktop
Chrome one: the bot filter drops ``HeadlessChrome``, and it would drop the tests' own hits.
"""

from __future__ import annotations

import os

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
TEST_HOST = "example.test"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    f"--host-resolver-rules=MAP {TEST_HOST} 127.0.0.1",
    # The browser-wide user agent too: beacons sent while a page unloads do not carry
    # the context's override, and the bot filter would drop "HeadlessChrome".
    f"--user-agent={USER_AGENT}",
]


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole run."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure_browser.sh (make test does).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; without this,
    # Django refuses database calls from it (SynchronousOnlyOperation) in browser tests.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium):
    """A fresh browser profile (no cookies) with a normal user agent, closed after the test."""
    context = chromium.new_context(user_agent=USER_AGENT, viewport={"width": 1280, "height": 900})
    yield context
    context.close()
