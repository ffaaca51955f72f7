"""Tracked strings are rendered escaped on every page and neutralised in every CSV export.

Script and HTML payloads, ``javascript:`` URLs and spreadsheet formulas go in through every
protocol and every field that reaches a page (event names, props, titles, referrers, UTM
values, paths, error messages from Swetrix and the snippet). Then the site's Owner opens
every dashboard page, HTMX partial, behaviour page and CSV export, discovered from the URL
patterns by the same walk as ``tests/test_url_walk.py`` (pages added later are covered).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import pytest
from django.urls import get_resolver

from accounts.services import api_client_create
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.test_url_walk import PARAMETER, classify, fill, iter_patterns

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
SCRIPT = '<script>alert("xss-MARK")</script>'
IMG = "<img src=x onerror=alert(2)>"
ATTRIBUTE = '"><svg onload=alert(4)>'  # breaks out of an attribute if one is unescaped
JS_URL = "javascript:alert(3)"
FORMULA = '=HYPERLINK("http://evil.example","click")'
FORMULAS = [FORMULA, "+SUM(1,2)", "-SUM(1,2)", "@SUM(1,2)"]
RAW_MARKERS = [SCRIPT, IMG, "<script>", "<img src=x", "<svg onload"]


def send_payloads(client, site, pa_key: str) -> None:
    host = site.hostname
    statuses = []
    # Plausible: name, props, referrer, path, UTM.
    for name in (SCRIPT, FORMULA):
        statuses.append(
            client.post(
                "/api/event",
                data=json.dumps(
                    {
                        "name": name,
                        "url": f"https://{host}/p/{quote(IMG)}?utm_source={quote(SCRIPT)}&utm_campaign={quote(FORMULA)}",
                        "domain": host,
                        "referrer": f"https://{quote(SCRIPT)}.example/{quote(FORMULA)}",
                        "props": {SCRIPT: IMG, "formula": FORMULA, "link": JS_URL, "q": ATTRIBUTE},
                    }
                ),
                content_type="text/plain",
                HTTP_USER_AGENT=CHROME,
                HTTP_X_FORWARDED_FOR="198.51.100.61",
            ).status_code
        )
    statuses.append(
        client.post(
            "/api/event",
            data=json.dumps(
                {
                    "name": "pageview",
                    "url": f"https://{host}/{quote(SCRIPT)}",
                    "domain": host,
                    "referrer": JS_URL,
                }
            ),
            content_type="text/plain",
            HTTP_USER_AGENT=CHROME,
            HTTP_X_FORWARDED_FOR="198.51.100.62",
        ).status_code
    )
    # Swetrix: page, UTM, meta, referrer, and an error message.
    for path, body in (
        (
            "/log",
            {"pg": f"/{SCRIPT}", "so": SCRIPT, "ca": FORMULA, "ref": JS_URL, "meta": {"k": SCRIPT}},
        ),
        ("/log/error", {"name": SCRIPT, "message": f"{SCRIPT} {FORMULA}", "filename": JS_URL}),
    ):
        statuses.append(
            client.post(
                path,
                data=json.dumps({"pid": site.public_id, **body}),
                content_type="application/json",
                HTTP_USER_AGENT=CHROME,
                HTTP_X_CLIENT_IP_ADDRESS="198.51.100.63",
            ).status_code
        )
    # Pirsch: title, event name and meta, tags.
    hit = {
        "url": f"https://{host}/pirsch/{quote(SCRIPT)}",
        "ip": "198.51.100.64",
        "user_agent": CHROME,
        "title": SCRIPT,
        "referrer": f"https://ref.example/{quote(FORMULA)}",
        "tags": {"author": SCRIPT, "quote": ATTRIBUTE},
    }
    for path, body in (
        ("/api/v1/hit", hit),
        ("/api/v1/event", dict(hit, event_name=FORMULA, event_meta={"plan": SCRIPT})),
        ("/api/v1/event", dict(hit, event_name=SCRIPT, event_meta={"plan": "@SUM(1,2)"})),
    ):
        statuses.append(
            client.post(
                path,
                data=json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {pa_key}",
            ).status_code
        )
    # Matomo: action name (title), event category/action, search keyword, campaign.
    params = {
        "idsite": site.pk,
        "rec": 1,
        "url": f"https://{host}/matomo/{SCRIPT}",
        "action_name": SCRIPT,
        "urlref": JS_URL,
        "_rcn": FORMULA,
        "send_image": 0,
    }
    for extra in ({}, {"e_c": SCRIPT, "e_a": FORMULA}, {"search": SCRIPT}):
        statuses.append(
            client.get(
                f"/matomo.php?{urlencode({**params, **extra})}",
                HTTP_USER_AGENT=CHROME,
                REMOTE_ADDR="198.51.100.65",
            ).status_code
        )
    # The snippet: title, referrer, custom event, error message, selectors.
    collection = {
        "k": site.public_key,
        "u": f"https://{host}/snippet/{quote(SCRIPT)}",
        "r": JS_URL,
        "t": SCRIPT,
        "e": [
            {"t": "pageview"},
            {"t": "custom", "n": SCRIPT, "p": {"cta": FORMULA, SCRIPT: "-SUM(1,2)"}},
            {
                "t": "js_exception",
                "p": {"message": f"{SCRIPT} {IMG}", "source": JS_URL, "line": 1, "column": 2},
            },
            {
                "t": "console_error",
                "p": {"message": FORMULA, "source": "+SUM(1,2)", "line": 3, "column": 4},
            },
        ],
    }
    statuses.append(
        client.post(
            "/api/collect",
            data=json.dumps(collection),
            content_type="text/plain",
            HTTP_USER_AGENT=CHROME,
            HTTP_X_FORWARDED_FOR="198.51.100.66",
        ).status_code
    )
    assert all(status < 300 for status in statuses), statuses


@pytest.fixture
def owner_site(db, client, drain):
    from stats.rollups import rollup_pending

    owner = UserFactory()
    site = SiteFactory(hostname="xss.example", display_name=f"Shop {SCRIPT}")
    site.behaviour_collectors = True
    site.settings = {
        **(site.settings or {}),
        "collectors": {"clicks": True, "errors": True, "forms": True, "vitals": True, "seo": True},
    }
    site.save()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    pa_key = api_client_create(user=owner, type="key", site=site)[1]["key"]
    send_payloads(client, site, pa_key)
    events = drain()
    assert len(events) >= 12
    rollup_pending(datetime.now(UTC))
    client.force_login(owner)
    return site


def owner_urls(site) -> list[str]:
    """Every page of the site (and the sites list) an Owner can GET."""
    from stats.behaviour_views import SECTIONS
    from stats.dashboard import PANELS

    values = {
        "public_id": [site.public_id],
        "panel_name": list(PANELS),
        "section": list(SECTIONS),
    }
    urls = ["/"]
    for route, _pattern in iter_patterns(get_resolver()):
        if classify(route) != "dashboard" or "<str:public_id>" not in route:
            continue
        names = {m.group("name") for m in PARAMETER.finditer(route)}
        if not names <= set(values):
            continue  # object ids (members, clients, links): forms that only POST
        urls.extend(fill(route, values))
    return urls


def assert_escaped(url: str, body: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in body, (url, marker)
    assert not re.search(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", body, re.I), url


def test_every_page_and_partial_renders_payloads_escaped(client, owner_site):
    pages = owner_urls(owner_site)
    assert any(url.endswith("export.csv") for url in pages)
    assert any("/behaviour/" in url for url in pages)
    shown = 0
    for url in pages:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.get(url, **headers)
            assert response.status_code in (200, 302, 404, 405), (url, response.status_code)
            if response.status_code != 200 or url.endswith(".csv"):
                continue
            body = response.content.decode()
            assert_escaped(url, body)
            shown += "&lt;script&gt;" in body
    assert shown >= 5  # the payloads really are on the pages, escaped


def csv_cells(response) -> list[str]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for cell in row]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_csv_exports_neutralise_formulas(client, owner_site):
    exports = [url for url in owner_urls(owner_site) if url.endswith(".csv")]
    assert exports
    seen_payload = False
    for url in exports:
        for query in ("", "?panel=events", "?panel=pages"):
            response = client.get(url + query)
            assert response.status_code == 200, url
            assert response["Content-Type"].startswith("text/csv")
            for cell in csv_cells(response):
                stripped = cell.lstrip()
                if stripped[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(stripped):
                    pytest.fail(f"{url}{query}: formula cell {cell!r}")
                seen_payload = seen_payload or "HYPERLINK" in cell or "SUM(1,2)" in cell
    assert seen_payload  # the formulas were exported (neutralised), not just absent
