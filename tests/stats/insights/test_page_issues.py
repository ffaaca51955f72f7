"""Insights API: error groups, click issues per element and SEO diagnostics."""

from tests.helpers import store
from tests.stats.insights.support import (
    at,
    data,
    signal,
)

# --- errors ---------------------------------------------------------------------------


def test_errors_grouped_by_type_and_message(client, site, read_key):
    message = "TypeError: x is undefined"
    store(
        [
            signal(site, 0, "js_exception", 1, 11, "/", message=message, source="old.js", line=1),
            signal(site, 5, "js_exception", 1, 11, "/a", message=message, source="a.js", line=2),
            signal(
                site,
                9,
                "js_exception",
                2,
                21,
                "/",
                message=message,
                source="https://insights.site/app.js",
                line=10,
                column=5,
            ),
            signal(site, 3, "console_warning", 2, 21, "/", message="Deprecated API"),
            signal(site, 4, "rage_click", 2, 21, "/", selector="a"),
        ]
    )
    body = data(client, "errors", read_key)
    assert body["data"]["errors"] == [
        {
            "type": "js_exception",
            "message": message,
            "count": 3,
            "visitors": 2,
            "sessions": 2,
            "page_count": 2,
            "pages": [{"url": "/", "count": 2}, {"url": "/a", "count": 1}],
            "first_seen": int(at(0).timestamp() * 1000),
            "last_seen": int(at(9).timestamp() * 1000),
            "source": "https://insights.site/app.js",
            "line": 10,
            "column": 5,
        },
        {
            "type": "console_warning",
            "message": "Deprecated API",
            "count": 1,
            "visitors": 1,
            "sessions": 1,
            "page_count": 1,
            "pages": [{"url": "/", "count": 1}],
            "first_seen": int(at(3).timestamp() * 1000),
            "last_seen": int(at(3).timestamp() * 1000),
            "source": None,
            "line": None,
            "column": None,
        },
    ]
    assert body["pagination"]["total"] == 2
    warnings = data(client, "errors", read_key, type="console_warning")["data"]["errors"]
    assert [e["message"] for e in warnings] == ["Deprecated API"]
    assert data(client, "errors", read_key, type="nonsense")["data"]["errors"] == []
    second = data(client, "errors", read_key, limit=1, page=2)
    assert [e["type"] for e in second["data"]["errors"]] == ["console_warning"]


# --- clicks ---------------------------------------------------------------------------


def test_click_issues_by_element(client, site, read_key):
    store(
        [
            signal(site, 0, "rage_click", 1, 11, "/pricing", selector="button.buy", clicks=6),
            signal(site, 1, "rage_click", 2, 21, "/pricing", selector="button.buy", clicks=4),
            signal(site, 2, "dead_click", 2, 21, "/pricing", selector="button.buy"),
            signal(site, 3, "phantom_click", 1, 11, "/", selector="div.card"),
            signal(site, 4, "dead_click", 1, 11, "/", selector="<script>alert(1)</script>"),
            signal(site, 5, "form_abandon", 1, 11, "/", form="form"),
        ]
    )
    elements = data(client, "clicks", read_key)["data"]["elements"]
    assert [
        (e["selector"], e["url"], e["rage_clicks"], e["dead_clicks"], e["phantom_clicks"])
        for e in elements
    ] == [
        ("button.buy", "/pricing", 2, 1, 0),
        ("<script>alert(1)</script>", "/", 0, 1, 0),
        ("div.card", "/", 0, 0, 1),
    ]
    assert (elements[0]["total"], elements[0]["visitors"]) == (3, 2)
    assert elements[0]["last_seen"] == int(at(2).timestamp() * 1000)


# --- SEO ------------------------------------------------------------------------------


def test_seo_latest_report_per_page(client, site, read_key):
    store(
        [
            signal(site, 0, "seo_diagnostics", path="/", issues=["missing_title", "missing_h1"]),
            signal(site, 60, "seo_diagnostics", path="/", issues=["missing_h1"], h1_count=0),
            signal(
                site,
                30,
                "seo_diagnostics",
                path="/about",
                issues=["missing_h1", "images_without_alt"],
                images_without_alt=3,
                title_length=42,
            ),
            signal(site, 40, "seo_diagnostics", path="/ok", issues=[], h1_count=1),
        ]
    )
    body = data(client, "seo", read_key)["data"]
    assert [(p["url"], p["issues"], p["reports"]) for p in body["pages"]] == [
        ("/about", ["missing_h1", "images_without_alt"], 1),
        ("/", ["missing_h1"], 2),
        ("/ok", [], 1),
    ]
    assert body["pages"][0]["images_without_alt"] == 3
    assert body["pages"][0]["title_length"] == 42
    assert body["pages"][1]["h1_count"] == 0
    assert body["pages"][1]["last_checked"] == int(at(60).timestamp() * 1000)
    assert body["issues"] == [
        {"code": "missing_h1", "pages": 2},
        {"code": "images_without_alt", "pages": 1},
    ]
    assert (body["pages_checked"], body["pages_with_issues"]) == (3, 2)
    paged = data(client, "seo", read_key, limit=2, page=2)
    assert [p["url"] for p in paged["data"]["pages"]] == ["/ok"]
    assert paged["pagination"]["total"] == 3
