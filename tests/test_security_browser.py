"""The content-security policy in real Chromium: no page of the product breaks it.

The API docs (Swagger UI from our own static files) render under the policy, and every
dashboard page, behaviour page and settings page an Owner opens (discovered from the URL
patterns, as the tenant walk does) loads with no CSP violation reported by the browser:
no inline script without the nonce, no inline style, nothing from another origin.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import get_resolver

from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store
from tests.test_url_walk import PARAMETER, classify, fill, iter_patterns

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_csp(page) -> list[str]:
    """Console messages and page errors about the content-security policy."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: violations.append(f"page error: {error}"))
    return violations


RENDERED_OPERATIONS = """els => els.map(e => [
    e.querySelector(".opblock-summary-method").innerText.toLowerCase(),
    e.querySelector(".opblock-summary-path").getAttribute("data-path"),
])"""


# Polls on animation frames inside the page: page.evaluate runs over the DevTools protocol,
# whereas wait_for_function evaluates a string, which the policy (rightly) refuses.
SETTLED = """async offset => {
    for (let frame = 0; frame < 600; frame++) {
        const end = window.innerHeight + window.scrollY
            >= document.documentElement.scrollHeight - 1;
        if ((window.scrollY !== offset || end)
            && document.querySelectorAll(".opblock").length > 0) return true;
        await new Promise(resolve => requestAnimationFrame(resolve));
    }
    return false;
}"""


def rendered_operations(page) -> set[tuple[str, str]]:
    """Every (method, path) Swagger UI renders while the page is scrolled to its end.

    Swagger UI windows the operations list once it has 150 rows or more (tags plus
    operations): only the rows near the viewport are in the DOM, the rest render as they
    scroll in. Counting ``.opblock`` once therefore sees a screenful (6 of our 151 at
    900 px); scrolling with the wheel, as a reader does, and collecting what was rendered
    on the way proves that every operation can be reached.
    """
    seen: set[tuple[str, str]] = set()
    previous = -1
    while True:
        seen.update(map(tuple, page.eval_on_selector_all(".opblock", RENDERED_OPERATIONS)))
        offset = page.evaluate("window.scrollY")
        if offset == previous:
            return seen
        previous = offset
        page.mouse.wheel(0, 500)
        assert page.evaluate(SETTLED, offset)  # the virtualizer renders on the scroll event


def test_api_docs_render_under_the_policy(browser_context, live_server):
    page = browser_context.new_page()
    page.set_default_timeout(60_000)  # the document is generated on the first request
    violations = watch_csp(page)
    response = page.goto(f"{live_server.url}/api/docs/")
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Footfall API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-summary-path")

    document = page.request.get(f"{live_server.url}/api/schema/").json()
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    operations = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in methods
    }
    assert len(operations) > 100
    assert rendered_operations(page) == operations  # every operation of the document, no other
    assert violations == []
    # The watcher is not blind: an injected inline script is refused and reported.
    with contextlib.suppress(Exception):
        page.add_script_tag(content="window.injected = 1")
    page.wait_for_timeout(300)
    assert page.evaluate("window.injected") is None
    assert any("Content Security Policy" in v for v in violations), violations


def test_owner_pages_load_without_csp_violations(browser_context, live_server):
    from stats.behaviour_views import SECTIONS

    owner = UserFactory(email="csp-owner@example.test")
    site = SiteFactory(display_name="CSP shop", hostname="example.test", timezone="UTC")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    now = datetime.now(UTC)
    store([event_row(site.pk, now - timedelta(hours=h), path=f"/p{h}") for h in range(1, 5)])

    values = {"public_id": [site.public_id], "section": list(SECTIONS)}
    urls = ["/", "/account/profile"]
    for route, _pattern in iter_patterns(get_resolver()):
        if classify(route) != "dashboard" or "<str:public_id>" not in route:
            continue
        if route.endswith((".csv", "/data", "/badge", "/status")) or "panels/" in route:
            continue  # partials and downloads: loaded by the pages themselves
        names = {m.group("name") for m in PARAMETER.finditer(route)}
        if names <= set(values):
            urls.extend(fill(route, values))
    assert any("/behaviour/" in url for url in urls) and any("/settings/" in url for url in urls)

    page = browser_context.new_page()
    page.set_default_timeout(20_000)
    violations = watch_csp(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "csp-owner@example.test")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    for url in urls:
        if page.request.get(live_server.url + url).status == 405:
            continue  # a form's POST target
        response = page.goto(live_server.url + url)
        assert response.status < 400, (url, response.status)
        page.wait_for_load_state("networkidle")
        assert violations == [], (url, violations)
