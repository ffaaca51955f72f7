"""Every Pirsch, identity-js and insights endpoint answers a fixed data set byte for byte as
recorded in ``tests/stats/recorded/`` (issue #14: the read side was restructured with
"wire output byte-for-byte" as the contract).

The data set has fixed ids and times and the clock is fixed, so an answer can only change
when the code does. Each request is recorded twice: from raw events only, and after the
rollups ran (past days from rolled-up tables, the fixed "today" from raw events).

To record again after an intended change of an answer, run this file with
``FOOTFALL_RECORD_RESPONSES=1`` and review the fixtures' diff like code.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.services import api_client_create, oauth_token_issue
from stats.rollups import rollup_pending
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store
from tracking.models import Event

# Columns a row leaves empty are "" for text and None for the rest (numbers added later).
TEXT_COLUMNS = {
    f.column
    for f in Event._meta.concrete_fields
    if f.get_internal_type() in ("CharField", "TextField")
}
RECORDED = Path(__file__).parent / "recorded"
RECORDING = os.environ.get("FOOTFALL_RECORD_RESPONSES") == "1"
# Thursday 5 January 2023, 12:00 UTC is "now"; traffic on the 2nd to the 5th.
NOW = datetime(2023, 1, 5, 12, 0, tzinfo=UTC)
PERIOD = {"from": "2023-01-01", "to": "2023-01-05"}
IDENTITY_PERIOD = {"start_date": "2023-01-01", "end_date": "2023-01-05"}
CHROME = {"browser": "Chrome", "browser_version": "126.0", "os": "Windows", "os_version": "10"}
FIREFOX = {"browser": "Firefox", "browser_version": "128.0", "os": "Linux", "os_version": ""}
SAFARI = {"browser": "Safari", "browser_version": "17.0", "os": "iOS", "os_version": "17"}


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2023, 1, day, hour, minute, second, tzinfo=UTC)


class Ids:
    """Event ids in the order the rows are written: the same on every run."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return str(uuid.UUID(int=(0x0185_0000_0000_7000_8000_0000_0000_0000 + self.n)))


def visit(site_id, ids, visitor, session, steps, **context) -> list[dict]:
    """One session: ``steps`` are (time, kind, name, path, extra fields)."""
    entry = steps[0][3]
    rows = []
    for index, (moment, kind, name, path, extra) in enumerate(steps):
        fields = {**context, **extra}
        if kind != "pageview":
            fields["name"] = name
        row = event_row(
            site_id,
            moment,
            visitor=visitor,
            session=session,
            kind=kind,
            path=path,
            entry_path=entry,
            session_start=index == 0,
            id=ids(),
            **fields,
        )
        rows.append({k: None if v == "" and k not in TEXT_COLUMNS else v for k, v in row.items()})
    return rows


def traffic(site_id: int) -> list[dict]:
    ids = Ids()
    google = {
        "referrer": "https://www.google.com/",
        "referrer_host": "www.google.com",
        "source": "Google",
        "channel": "Organic Search",
    }
    news = {
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "spring",
        "utm_content": "top",
        "utm_term": "analytics",
        "source": "newsletter",
        "channel": "Email",
    }
    berlin = {"country_code": "DE", "region": "DE-BE", "city": "Berlin", "language": "de"}
    london = {"country_code": "GB", "region": "GB-ENG", "city": "London", "language": "en"}
    paris = {"country_code": "FR", "region": "FR-IDF", "city": "Paris", "language": "fr"}
    desktop = {
        "device_type": "desktop",
        "screen_width": 1920,
        "screen_height": 1080,
        "screen_class": "XL",
    }
    phone = {
        "device_type": "mobile",
        "screen_width": 390,
        "screen_height": 844,
        "screen_class": "S",
    }
    host = {"hostname": "example.com", "protocol": "footfall"}
    rows: list[dict] = []
    # Monday 2nd: visitor 1 from Google reads /, /pricing, signs up; rage clicks, an error.
    rows += visit(
        site_id,
        ids,
        1,
        11,
        [
            (at(2, 9), "pageview", "", "/", {"title": "Home"}),
            (at(2, 9, 0, 20), "behaviour", "rage_click", "/", {"props": {"selector": "button"}}),
            (at(2, 9, 0, 21), "behaviour", "rage_click", "/", {"props": {"selector": "button"}}),
            (at(2, 9, 0, 30), "error", "js_exception", "/", {"props": {"message": "boom"}}),
            (at(2, 9, 2), "pageview", "", "/pricing", {"title": "Pricing"}),
            (
                at(2, 9, 3, 30),
                "custom",
                "Signup",
                "/pricing",
                {"props": {"plan": "pro", "tags": {"author": "Ann"}}, "duration_ms": 4000},
            ),
            (
                at(2, 9, 4),
                "behaviour",
                "web_vitals",
                "/pricing",
                {"props": {"lcp": 1200, "cls": 0.05, "inp": 120, "ttfb": 80}},
            ),
            (
                at(2, 9, 5),
                "engagement",
                "reading_behavior",
                "/pricing",
                {
                    "duration_ms": 20_000,
                    "scroll_depth": 80,
                    "props": {
                        "visible_ms": 30_000,
                        "active_ms": 20_000,
                        "scroll_depth": 80,
                        "scroll_velocity": 150.0,
                        "page_height": 3000,
                    },
                },
            ),
            (at(2, 9, 6), "heartbeat", "session", "/pricing", {}),
        ],
        **host,
        **google,
        **berlin,
        **desktop,
        **CHROME,
    )
    # Monday 2nd: visitor 2 bounces from the blog host on a phone.
    rows += visit(
        site_id,
        ids,
        2,
        21,
        [(at(2, 9, 15), "pageview", "", "/blog/hello", {"title": "Hello"})],
        hostname="blog.example.com",
        protocol="footfall",
        **london,
        **phone,
        **SAFARI,
    )
    # Tuesday 3rd: visitor 3 from the newsletter: a form abandoned, SEO diagnostics.
    rows += visit(
        site_id,
        ids,
        3,
        31,
        [
            (at(3, 17, 45), "pageview", "", "/signup", {"title": "Sign up"}),
            (
                at(3, 17, 45, 5),
                "behaviour",
                "seo_diagnostics",
                "/signup",
                {"props": {"issues": ["missing_h1", "missing_title"], "h1_count": 0}},
            ),
            (
                at(3, 17, 46),
                "behaviour",
                "form_hesitation",
                "/signup",
                {"props": {"form": "form#signup", "field": "input#email", "hesitation_ms": 2500}},
            ),
            (
                at(3, 17, 47),
                "behaviour",
                "form_abandon",
                "/signup",
                {
                    "props": {
                        "form": "form#signup",
                        "fields_touched": 2,
                        "last_field": "input#email",
                    }
                },
            ),
            (at(3, 17, 48), "behaviour", "dead_click", "/signup", {"props": {"selector": "p"}}),
            (at(3, 17, 50), "pageview", "", "/", {"title": "Home"}),
            (
                at(3, 17, 51),
                "custom",
                "Outbound Link: Click",
                "/",
                {"props": {"url": "https://other.example/"}},
            ),
        ],
        **host,
        **news,
        **paris,
        **desktop,
        **FIREFOX,
    )
    # Wednesday 4th: visitor 1 comes back directly; a non-interactive event.
    rows += visit(
        site_id,
        ids,
        1,
        12,
        [
            (at(4, 8, 30), "pageview", "", "/docs", {"title": "Docs"}),
            (at(4, 8, 31), "pageview", "", "/docs/api", {"title": "API"}),
            (
                at(4, 8, 32),
                "custom",
                "Download",
                "/docs/api",
                {"props": {"file": "a.pdf"}, "interactive": False},
            ),
            (at(4, 8, 40), "pageview", "", "/pricing", {"title": "Pricing"}),
        ],
        **host,
        **berlin,
        **desktop,
        **CHROME,
    )
    # Thursday 5th ("today"): visitor 4 from Google on a phone, visitor 2 again, and
    # visitor 5 active a minute ago.
    rows += visit(
        site_id,
        ids,
        4,
        41,
        [
            (at(5, 10), "pageview", "", "/", {"title": "Home"}),
            (at(5, 10, 1), "pageview", "", "/pricing", {"title": "Pricing"}),
            (at(5, 10, 2), "behaviour", "phantom_click", "/pricing", {"props": {"selector": "a"}}),
            (
                at(5, 10, 3),
                "custom",
                "Signup",
                "/pricing",
                {"props": {"plan": "free"}, "duration_ms": 1500},
            ),
        ],
        **host,
        **google,
        **london,
        **phone,
        **SAFARI,
    )
    rows += visit(
        site_id,
        ids,
        2,
        22,
        [(at(5, 11, 30), "pageview", "", "/blog/hello", {"title": "Hello"})],
        hostname="blog.example.com",
        protocol="footfall",
        **london,
        **phone,
        **SAFARI,
    )
    rows += visit(
        site_id,
        ids,
        5,
        51,
        [
            (NOW - timedelta(minutes=2), "pageview", "", "/", {"title": "Home"}),
            (NOW - timedelta(minutes=1), "pageview", "", "/docs", {"title": "Docs"}),
        ],
        **host,
        **paris,
        **desktop,
        **FIREFOX,
    )
    return rows


VISITOR = "v_0000000000000001"
SESSION = "ses_000000000000000b"
PIRSCH = [
    *(
        (name, {})
        for name in (
            "visitor",
            "total",
            "growth",
            "hours",
            "minutes",
            "weekdays",
            "overview",
            "hostname",
            "page",
            "page/entry",
            "page/exit",
            "duration/session",
            "duration/page",
            "event/list",
            "tags",
            "session/list",
            "goals",
            "referrer",
            "channel",
            "utm/source",
            "utm/medium",
            "utm/campaign",
            "utm/content",
            "utm/term",
            "country",
            "region",
            "city",
            "browser",
            "browser/version",
            "os",
            "os/version",
            "platform",
            "screen",
            "language",
            "events",
        )
    ),
    ("active", {"start": "600"}),
    ("visitor", {"scale": "week"}),
    ("visitor", {"country": "DE"}),
    ("page", {"include_avg_time_on_page": "true", "include_title": "true"}),
    ("page", {"path": "/pricing"}),
    ("referrer", {"country": "GB"}),
    ("browser", {"event": "Signup"}),
    ("total", {"path": "/", "tz": "America/New_York"}),
    ("event/meta", {"event": "Signup", "event_meta_key": "plan"}),
    ("event/page", {"event": "Signup"}),
    ("tag/details", {"key": "author"}),
    ("session/details", {"visitor_id": VISITOR, "session_id": SESSION}),
    *(
        (f"options/{name}", {})
        for name in ("page", "referrer/name", "country", "event", "hostname")
    ),
    ("options/tag/value", {"tag": "author"}),
]
IDENTITY = [
    ("visitors", {}),
    ("visitors", {"browser": "Safari"}),
    ("visitors", {"search": "berl"}),
    (f"visitors/{VISITOR}", {}),
    ("sessions", {}),
    ("sessions", {"url": "docs"}),
    (f"sessions/{SESSION}", {}),
    ("events", {}),
    ("events", {"type": "page_view", "limit": "3", "page": "2"}),
    ("events/types", {}),
    ("stats", {}),
    ("pages/top", {}),
    ("live", {}),
    *(
        (f"insights/{name}", {})
        for name in (
            "frustration",
            "errors",
            "clicks",
            "seo",
            "journeys",
            "reading",
            "forms",
            "acquisition",
            "web-metrics",
        )
    ),
]


def _name(kind: str, path: str, params: dict) -> str:
    suffix = "".join(f"_{k}-{v}" for k, v in sorted(params.items()))
    safe = f"{kind}_{path}{suffix}".replace("/", "-").replace(":", "-")
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in safe)


@pytest.fixture
def recorded_site(db, settings, monkeypatch):
    settings.SECRET_KEY = "recorded-responses-secret"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    owner = UserFactory()
    # A fixed primary key: the visitors' fingerprint hashes include it.
    site = SiteFactory(id=7_300_014, hostname="example.com", timezone="Europe/Berlin")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    store(traffic(site.pk))
    oauth_client, _ = api_client_create(user=owner, type="oauth", site=site)
    token = oauth_token_issue(client=oauth_client)[0]
    read_key = api_client_create(user=owner, type="read", site=site)[1]["key"]
    return site, token, read_key


def _answers(client, site, token, read_key) -> dict[str, bytes]:
    answers = {}
    for path, params in PIRSCH:
        response = client.get(
            f"/api/v1/statistics/{path}",
            {"id": site.public_id, **PERIOD, **params},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        answers[_name("pirsch", path, params)] = _wire(response)
    for path, params in IDENTITY:
        response = client.get(
            f"/api/v1/{path}",
            {**IDENTITY_PERIOD, **params},
            HTTP_AUTHORIZATION=f"Bearer {read_key}",
        )
        answers[_name("identity", path, params)] = _wire(response)
    return answers


def _wire(response) -> bytes:
    """The status line and the body, exactly as sent."""
    return f"{response.status_code} {response['Content-Type']}\n".encode() + response.content


@pytest.mark.parametrize("source", ["raw", "rolled-up"])
def test_every_answer_is_the_recorded_one(client, recorded_site, source):
    site, token, read_key = recorded_site
    if source == "rolled-up":
        assert rollup_pending(NOW) > 0
    answers = _answers(client, site, token, read_key)
    folder = RECORDED / source
    if RECORDING:
        folder.mkdir(parents=True, exist_ok=True)
        for name, body in answers.items():
            (folder / f"{name}.txt").write_bytes(body)
    recorded = {path.stem: path.read_bytes() for path in sorted(folder.glob("*.txt"))}
    assert sorted(recorded) == sorted(answers)
    changed = [name for name in answers if answers[name] != recorded[name]]
    assert changed == [], {name: answers[name].decode()[:400] for name in changed}


def test_the_recorded_answers_are_not_empty():
    """A guard against recording a broken data set: the fixtures hold real numbers."""
    for source in ("raw", "rolled-up"):
        stats = json.loads(
            (RECORDED / source / "identity_stats.txt").read_bytes().split(b"\n", 1)[1]
        )
        # Visitors are summed per day (visitors 1 and 2 came on two days each).
        assert stats["data"]["visitors"] == 7 and stats["data"]["sessions"] == 7
        assert (RECORDED / source / "pirsch_total.txt").read_bytes().startswith(b"200 ")
