"""Plausible's engaged time ``e`` (and scroll depth ``sd``) in reading insights (#13 item 7):
the tracker sends an engagement event on every hide, ``e`` counting since the previous one,
so a page visit's time on page is Σ ``e`` and its scroll depth the deepest ``sd``."""

import json

import pytest

from accounts.services import api_client_create
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"


@pytest.fixture
def read_key(db):
    owner = UserFactory()
    site = SiteFactory(hostname="dummy.site", timezone="UTC")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return api_client_create(user=owner, type="read", site=site)[1]["key"]


def send(client, ip: str, name: str, path: str, **extra) -> None:
    body = {"n": name, "u": f"https://dummy.site{path}", "d": "dummy.site", **extra}
    response = client.post(
        "/api/event",
        data=json.dumps(body),
        content_type="text/plain",
        HTTP_USER_AGENT=CHROME,
        HTTP_X_FORWARDED_FOR=ip,
    )
    assert response.status_code == 202 and not response.has_header("x-plausible-dropped")


def reading(client, key) -> list[dict]:
    response = client.get("/api/v1/insights/reading", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    return response.json()["data"]["pages"]


def test_engaged_time_is_time_on_page_in_reading_insights(client, read_key, drain):
    send(client, "203.0.113.1", "pageview", "/article")
    send(client, "203.0.113.1", "engagement", "/article", sd=30, e=4000)  # tab hidden
    send(client, "203.0.113.1", "engagement", "/article", sd=70, e=6000)  # closed later
    send(client, "203.0.113.2", "pageview", "/article")
    send(client, "203.0.113.2", "engagement", "/article", sd=20, e=2000)
    send(client, "203.0.113.2", "pageview", "/short")
    send(client, "203.0.113.2", "engagement", "/short", sd=100)  # scrolled, no engaged time
    drain()
    assert reading(client, read_key) == [
        {
            "url": "/article",
            "views": 2,
            "reports": 2,  # two visits of the page
            "avg_scroll_depth": 45.0,  # (70 + 20) / 2: the deepest per visit
            "median_scroll_depth": 45.0,
            "avg_active_ms": 6000,  # (4000 + 6000 + 2000) / 2 visits
            "avg_scroll_velocity": None,
            "attention_pct": None,  # no visible time from Plausible's tracker
        },
        {
            "url": "/short",
            "views": 1,
            "reports": 1,
            "avg_scroll_depth": 100.0,
            "median_scroll_depth": 100.0,
            "avg_active_ms": None,
            "avg_scroll_velocity": None,
            "attention_pct": None,
        },
    ]
