"""Session-scoped visit attributes (issue #13, item 1): each visitor is counted once per
breakdown, whatever its later hits (heartbeats, custom events, keep-alives) carry.

The measured cases are reproduced through the real endpoints: hits through the Swetrix and
Pirsch write APIs, numbers through the Pirsch statistics API."""

import dataclasses
import io
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounts.services import api_client_create
from stats import query as q
from stats.rollups import rollup_pending
from tests.factories import SiteFactory, SiteMembershipFactory
from tests.helpers import event_row, store

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; rv:109.0) Gecko/20100101 Firefox/116.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="dummy.site", timezone="UTC")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


@pytest.fixture
def key(owner, site):
    return api_client_create(user=owner, type="key", site=site)[1]["key"]


@pytest.fixture(autouse=True)
def no_geoip(settings):
    # The country comes from the time zone (Swetrix ``tz``): the fallback the issue measured.
    settings.GEOIP_DATABASE = "/nonexistent.mmdb"


def swetrix(client, path, body, *, ip):
    response = client.post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_USER_AGENT=FIREFOX,
        HTTP_X_CLIENT_IP_ADDRESS=ip,
    )
    assert response.status_code == 201, response.content
    return response


def pirsch(client, path, body, key):
    response = client.post(
        path, data=json.dumps(body), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    return response


def stats(client, endpoint, site, token, **params):
    today = timezone.now().date().isoformat()
    response = client.get(
        f"/api/v1/statistics/{endpoint}",
        {"id": site.public_id, "from": today, "to": today, **params},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    return response.json()


def rows(breakdown, column):
    return sorted((r[column], r["visitors"], r["relative_visitors"]) for r in breakdown)


def test_swetrix_heartbeats_and_custom_events_do_not_add_language_or_country_rows(
    client, site, token, drain
):
    for ip, locale, zone in (("192.0.2.1", "en-US", "Europe/London"), ("192.0.2.2", "de", "Europe/Berlin")):  # fmt: skip
        swetrix(client, "/log", {"pid": site.public_id, "lc": locale, "tz": zone, "pg": "/"}, ip=ip)
        swetrix(client, "/log/hb", {"pid": site.public_id}, ip=ip)
        swetrix(client, "/log/custom", {"pid": site.public_id, "ev": "signup"}, ip=ip)
    drain()
    assert stats(client, "total", site, token)["visitors"] == 2
    assert rows(stats(client, "language", site, token), "language") == [
        ("de", 1, 0.5),
        ("en", 1, 0.5),
    ]
    assert rows(stats(client, "country", site, token), "country_code") == [
        ("DE", 1, 0.5),
        ("GB", 1, 0.5),
    ]


def test_language_filter_with_an_event_filter_counts_who_did_both(client, site, token, drain):
    swetrix(client, "/log", {"pid": site.public_id, "lc": "en-US", "pg": "/"}, ip="192.0.2.1")
    swetrix(client, "/log/custom", {"pid": site.public_id, "ev": "signup"}, ip="192.0.2.1")
    swetrix(client, "/log", {"pid": site.public_id, "lc": "de", "pg": "/"}, ip="192.0.2.2")
    drain()
    assert stats(client, "total", site, token, language="en", event="signup")["visitors"] == 1
    assert stats(client, "total", site, token, language="de", event="signup")["visitors"] == 0
    assert [e["name"] for e in stats(client, "events", site, token, language="en")] == ["signup"]


def test_country_filter_with_a_page_filter_counts_who_did_both(client, site, token, drain):
    # The landing page brings the time zone (so the country); the next page does not.
    swetrix(client, "/log", {"pid": site.public_id, "tz": "Europe/Berlin", "pg": "/"}, ip="192.0.2.1")  # fmt: skip
    swetrix(client, "/log", {"pid": site.public_id, "pg": "/pricing"}, ip="192.0.2.1")
    drain()
    assert stats(client, "total", site, token, country="DE", path="/pricing")["visitors"] == 1


def test_pirsch_events_without_a_screen_do_not_add_a_screen_row(client, site, key, token, drain):
    for n in range(8):
        hit = {
            "url": "https://dummy.site/",
            "ip": f"198.51.100.{n + 1}",
            "user_agent": CHROME,
            "screen_width": 1440 if n < 4 else 800,
            "screen_height": 900,
        }
        pirsch(client, "/api/v1/hit", hit, key)
        if n == 0:  # an event carries no screen, like Pirsch's SDK events
            event = {k: v for k, v in hit.items() if not k.startswith("screen")}
            pirsch(client, "/api/v1/event", {**event, "event_name": "Download"}, key)
    drain()
    assert rows(stats(client, "screen", site, token), "screen_class") == [
        ("M", 4, 0.5),
        ("XL", 4, 0.5),
    ]


# --- the property: one value per visitor → breakdown rows sum to the period's visitors ------

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
START = datetime(2026, 3, 1, tzinfo=UTC)
PROFILES = [
    {
        "entry_path": "/",
        "channel": "Organic Search",
        "referrer": "google.com/search",
        "source": "Google",
        "browser": "Chrome",
        "browser_version": "126.0",
        "os": "Windows",
        "os_version": "11",
        "device_type": "desktop",
        "screen_class": "XL",
        "language": "en",
        "country_code": "DE",
        "region": "DE-BE",
        "city": "Berlin",
    },
    {
        "entry_path": "/blog",
        "channel": "Email",
        "source": "newsletter",
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "winter",
        "utm_content": "footer",
        "utm_term": "boots",
        "browser": "Firefox",
        "browser_version": "116.0",
        "os": "Linux",
        "device_type": "desktop",
        "screen_class": "L",
        "language": "de",
        "country_code": "GB",
        "region": "GB-ENG",
        "city": "London",
    },
    {
        "entry_path": "/",
        "channel": "Direct",
        "browser": "Safari",
        "browser_version": "17.4",
        "os": "iOS",
        "os_version": "17.4",
        "device_type": "mobile",
        "screen_class": "S",
        "language": "fr",
        "country_code": "FR",
    },
]
SESSION_DIMENSIONS = [
    name for name, (columns, _) in q.DIMENSIONS.items() if set(columns) <= set(q.SESSION_SCOPED)
]
VISITS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=4 * 24 * 60),  # minute within four days
        st.integers(min_value=1, max_value=5),  # visitor
        st.integers(min_value=0, max_value=1),  # the visitor's first or second session
        st.sampled_from(["pageview", "pageview", "custom", "heartbeat", "engagement"]),
        st.booleans(),  # the event carries the visit's attributes (else none at all)
    ),
    min_size=1,
    max_size=30,
)


def visit_rows(site, visits, profiles, tz):
    """Event rows of ``visits``; every session-day has at least one event that carries the
    visitor's one profile, the others carry nothing."""
    zone = ZoneInfo(tz)
    rows, carried = [], {}
    for minute, visitor, session, kind, carries in sorted(visits):
        at = START + timedelta(minutes=minute)
        session_id = visitor * 10 + session
        day = (at.astimezone(zone).date(), session_id)
        carries = carries or day not in carried
        carried.setdefault(day, carries)
        profile = PROFILES[profiles[visitor - 1]] if carries else {}
        row = event_row(site.pk, at, visitor=visitor, session=session_id, kind=kind, name="Signup")
        rows.append({**row, **profile})
    return rows


@hsettings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    visits=VISITS,
    profiles=st.lists(st.integers(min_value=0, max_value=2), min_size=5, max_size=5),
    tz=st.sampled_from(["UTC", "Europe/Berlin", "Pacific/Auckland"]),
    language=st.sampled_from(["en", "de", "fr"]),
)
def test_breakdowns_of_session_attributes_sum_to_the_period_visitors(
    db, visits, profiles, tz, language
):
    site, zone = SiteFactory(timezone=tz), ZoneInfo(tz)
    rows = visit_rows(site, visits, profiles, tz)
    store(rows)
    rollup_pending(NOW)
    first, last = date(2026, 2, 28), date(2026, 3, 6)
    rolled = q.StatsQuery(site.pk, first, last, tz)
    for query in (
        rolled,  # rollups and session rows
        dataclasses.replace(rolled, raw=True),  # raw events only
        dataclasses.replace(rolled, filters={"title": ["!none"]}),  # rolled-up events
    ):
        period = q.totals(query)["visitors"]
        for dimension in SESSION_DIMENSIONS:
            breakdown = q.breakdown(query, dimension)
            total = sum(r["visitors"] for r in breakdown)
            assert total <= period and (q.DIMENSIONS[dimension][1] or total == period), dimension
            for row in breakdown:
                assert row["relative_visitors"] == round(row["visitors"] / period, 4)
        # A session attribute and an event together: the visitors (per day) who had both.
        both = {
            (datetime.fromisoformat(r["timestamp"]).astimezone(zone).date(), r["visitor_id"])
            for r in rows
            if r["kind"] == "custom"
            and PROFILES[profiles[r["visitor_id"] - 1]]["language"] == language
        }
        filtered = dataclasses.replace(
            query, filters={**query.filters, "language": [language], "event": ["Signup"]}
        )
        assert q.totals(filtered)["visitors"] == len(both)


# --- existing sites: ``manage.py reroll`` --------------------------------------------------


def test_reroll_recomputes_rollups_written_before_session_scope(db):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from stats.models import DailyDimensionStats

    site, other = SiteFactory(timezone="UTC"), SiteFactory(timezone="UTC")
    for s in (site, other):
        store(
            [
                event_row(s.pk, START + timedelta(hours=10), language="en", screen_class="XL"),
                event_row(s.pk, START + timedelta(hours=10, minutes=1), kind="heartbeat"),
            ]
        )
    rollup_pending(NOW)
    # What the earlier definition stored: the heartbeat's visitor also under "no language".
    DailyDimensionStats.objects.filter(dimension="language").update(visitors=0)
    for s in (site, other):
        DailyDimensionStats.objects.create(
            site=s, day=START.date(), tz="UTC", dimension="language", value='[""]', visitors=1
        )
    query = q.StatsQuery(site.pk, START.date(), START.date(), "UTC")
    assert len(q.breakdown(query, "language")) == 2

    out = io.StringIO()
    call_command("reroll", "--site", str(site.pk), stdout=out)
    assert out.getvalue() == f"site {site.pk}: 1 days rolled up again\n"
    assert [(r["language"], r["visitors"]) for r in q.breakdown(query, "language")] == [("en", 1)]
    other_query = dataclasses.replace(query, site_id=other.pk)
    assert len(q.breakdown(other_query, "language")) == 2  # only the site asked for
    call_command("reroll", "--all", stdout=io.StringIO())
    assert [(r["language"], r["visitors"]) for r in q.breakdown(other_query, "language")] == [
        ("en", 1)
    ]
    with pytest.raises(CommandError):
        call_command("reroll", "--site", "999999")


def test_shares_of_sources_are_of_the_period_visitors(db):
    from stats.selectors import source_breakdown

    site = SiteFactory(timezone="UTC")
    google = {"channel": "Organic Search", "source": "Google", "referrer": "google.com"}
    at = START + timedelta(hours=10)
    store(
        [
            # Visitor 1 comes twice: from Google, later directly; visitor 2 directly.
            event_row(site.pk, at, visitor=1, session=1, **google),
            event_row(site.pk, at + timedelta(hours=2), visitor=1, session=2, channel="Direct"),
            event_row(site.pk, at, visitor=2, session=3, channel="Direct"),
        ]
    )
    query = q.StatsQuery(site.pk, START.date(), START.date(), "UTC")
    assert [
        (r["source"], r["visitors"], r["relative_visitors"]) for r in source_breakdown(query)
    ] == [
        ("", 2, 1.0),
        ("Google", 1, 0.5),
    ]
