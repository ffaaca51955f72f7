"""The enrichment pipeline: visitor identity, salts, sessions, drops, row layout."""

from datetime import UTC, date, datetime, timedelta

import pytest

from sites import site_lookup
from tests.factories import SiteFactory
from tracking import pipeline, visitors
from tracking.hits import DropReason, Hit, Kind, Protocol
from tracking.models import VisitorSalt

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; rv:109.0) Gecko/20100101 Firefox/116.0"


@pytest.fixture
def config(db):
    site = SiteFactory(hostname="example.com", excluded_ips=["10.1.0.0/16"])
    return site_lookup.site_by_id(site.pk)


def hit(config, **fields) -> Hit:
    values = {
        "site": config,
        "protocol": Protocol.PLAUSIBLE,
        "kind": Kind.PAGEVIEW,
        "name": "pageview",
        "url": "https://example.com/",
        "user_agent": CHROME,
        "ip": "203.0.113.7",
    }
    values.update(fields)
    return Hit(**values)


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_pageview_row_carries_enriched_fields(config):
    row = pipeline.enrich(
        hit(
            config,
            url="https://example.com/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
            referrer="https://www.google.com/search?q=x",
            screen_width=1440,
            accept_language="de-DE,de;q=0.9",
        ),
        at(12),
    )
    assert row["site_id"] == config.id
    assert row["kind"] == "pageview"
    assert row["path"] == "/pricing"
    assert row["entry_path"] == "/pricing"
    assert row["session_start"] is True
    assert row["utm_source"] == "newsletter"
    assert row["utm_medium"] == "email"
    assert row["utm_campaign"] == "spring"
    assert row["browser"] == "Chrome"
    assert row["os"] == "Windows"
    assert row["device_type"] == "desktop"
    assert row["screen_class"] == "XL"
    assert row["language"] == "de"
    assert row["timestamp"] == "2026-03-10T12:00:00+00:00"
    assert "203.0.113.7" not in str(row)


def test_same_ip_and_agent_is_one_visitor_and_one_session(config):
    first = pipeline.enrich(hit(config, url="https://example.com/a"), at(12, 0))
    second = pipeline.enrich(hit(config, url="https://example.com/b"), at(12, 10))
    assert first["visitor_id"] == second["visitor_id"]
    assert first["session_id"] == second["session_id"]
    assert second["session_start"] is False
    assert second["entry_path"] == "/a"


def test_another_user_agent_is_another_visitor(config):
    first = pipeline.enrich(hit(config), at(12))
    other = pipeline.enrich(hit(config, user_agent=FIREFOX), at(12, 1))
    assert first["visitor_id"] != other["visitor_id"]
    assert first["session_id"] != other["session_id"]


def test_session_ends_after_thirty_minutes_of_inactivity(config):
    first = pipeline.enrich(hit(config), at(12, 0))
    within = pipeline.enrich(hit(config), at(12, 29))
    after = pipeline.enrich(hit(config), at(13, 0))
    assert within["session_id"] == first["session_id"]
    assert after["session_id"] != first["session_id"]
    assert after["session_start"] is True
    assert after["visitor_id"] == first["visitor_id"]


def test_visit_across_midnight_stays_one_visit(config):
    before = pipeline.enrich(hit(config), at(23, 55, day=10))
    after = pipeline.enrich(hit(config), at(0, 5, day=11))
    assert after["visitor_id"] == before["visitor_id"]
    assert after["session_id"] == before["session_id"]
    # Once that session is over, the new day's salt gives the visitor a new id.
    later = pipeline.enrich(hit(config), at(9, 0, day=11))
    assert later["visitor_id"] != before["visitor_id"]


def test_salts_rotate_and_old_ones_are_deleted(db):
    day = date(2026, 3, 10)
    for offset in range(5):
        visitors.salt_for_day(day - timedelta(days=offset))
    visitors.rotate_salts(day)
    kept = sorted(VisitorSalt.objects.values_list("day", flat=True))
    assert kept == [day - timedelta(days=1), day, day + timedelta(days=1)]
    assert visitors.salt_for_day(day) != visitors.salt_for_day(day + timedelta(days=1))


def test_heartbeat_without_session_is_dropped_and_with_session_extends_it(config):
    assert pipeline.enrich(hit(config, kind=Kind.HEARTBEAT, name="heartbeat"), at(12)) == (
        DropReason.NO_SESSION
    )
    first = pipeline.enrich(hit(config), at(12, 0))
    beat = pipeline.enrich(hit(config, kind=Kind.HEARTBEAT, name="heartbeat"), at(12, 25))
    later = pipeline.enrich(hit(config), at(12, 50))
    assert beat["session_id"] == first["session_id"]
    assert later["session_id"] == first["session_id"]


def test_bots_and_excluded_ips_are_dropped(config):
    bot = hit(
        config,
        user_agent="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    )
    assert pipeline.enrich(bot, at(12)) == DropReason.BOT
    bot.allow_bots = True
    assert isinstance(pipeline.enrich(bot, at(12)), dict)
    assert pipeline.enrich(hit(config, ip="10.1.2.3"), at(12)) == DropReason.EXCLUDED_IP


def test_unique_refuses_repeats_within_a_session(config):
    assert isinstance(pipeline.enrich(hit(config, unique=True), at(12)), dict)
    assert pipeline.enrich(hit(config, unique=True), at(12, 1)) == DropReason.NOT_UNIQUE
    signup = hit(config, kind=Kind.CUSTOM, name="signup", unique=True)
    assert isinstance(pipeline.enrich(signup, at(12, 2)), dict)
    assert pipeline.enrich(signup, at(12, 3)) == DropReason.NOT_UNIQUE


def test_site_supplied_visitor_key_wins_over_ip_and_agent(config):
    first = pipeline.enrich(hit(config, visitor_key="user-42"), at(12, day=10))
    other_device = pipeline.enrich(
        hit(config, visitor_key="user-42", ip="198.51.100.1", user_agent=FIREFOX), at(12, 5, day=10)
    )
    assert first["visitor_id"] == other_device["visitor_id"]
    assert first["session_id"] == other_device["session_id"]
    assert other_device["browser"] == "Chrome"  # the visit's browser: session-scoped
    # By default it still lives one day, like every visitor id.
    next_day = pipeline.enrich(hit(config, visitor_key="user-42"), at(12, day=12))
    assert next_day["visitor_id"] != first["visitor_id"]


def test_long_lived_visitor_ids_are_stable_across_days(db):
    site = SiteFactory(hostname="longlived.example", long_lived_visitor_ids=True)
    config = site_lookup.site_by_id(site.pk)
    first = pipeline.enrich(hit(config, visitor_key="user-42"), at(12, day=10))
    next_day = pipeline.enrich(hit(config, visitor_key="user-42"), at(12, day=12))
    assert first["visitor_id"] == next_day["visitor_id"]
    assert first["session_id"] != next_day["session_id"]


def test_new_visit_forces_a_new_session(config):
    first = pipeline.enrich(hit(config), at(12))
    forced = pipeline.enrich(hit(config, new_visit=True), at(12, 1))
    assert forced["session_id"] != first["session_id"]
    assert forced["session_start"] is True


def test_acquisition_is_fixed_by_the_first_page_view(config):
    first = pipeline.enrich(
        hit(
            config,
            url="https://example.com/?utm_source=spring-mail",
            referrer="https://news.example.org/x",
        ),
        at(12),
    )
    second = pipeline.enrich(
        hit(config, url="https://example.com/b?utm_source=other", referrer="https://example.com/"),
        at(12, 5),
    )
    assert first["utm_source"] == second["utm_source"] == "spring-mail"
    assert second["referrer"] == first["referrer"]


def test_country_falls_back_to_time_zone(config, settings):
    settings.GEOIP_DATABASE = "/nonexistent/GeoLite2-City.mmdb"
    row = pipeline.enrich(hit(config, visitor_timezone="Europe/Kyiv"), at(12))
    assert row["country_code"] == "UA"


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (None, ""),
        (0, ""),
        (320, "XS"),
        (415, "S"),
        (768, "M"),
        (1024, "L"),
        (1280, "XL"),
        (1920, "XXL"),
        (3840, "UHD"),
    ],
)
def test_screen_class(width, expected):
    assert pipeline.screen_class(width) == expected


@pytest.mark.parametrize(
    ("explicit", "header", "expected"),
    [
        ("en-US", "", "en"),
        ("", "de-DE,de;q=0.9", "de"),
        ("", "", ""),
        ("uk_UA", "", "uk"),
        ("*", "", ""),
    ],
)
def test_language_code(explicit, header, expected):
    assert pipeline.language_code(explicit, header) == expected


def test_later_events_carry_the_visit_attributes_of_the_session(config, settings):
    settings.GEOIP_DATABASE = "/nonexistent/GeoLite2-City.mmdb"
    first = pipeline.enrich(
        hit(config, language="en-US", screen_width=1440, visitor_timezone="Europe/Berlin"), at(12)
    )
    beat = pipeline.enrich(hit(config, kind=Kind.HEARTBEAT, name="heartbeat", url=""), at(12, 1))
    event = pipeline.enrich(
        hit(config, kind=Kind.CUSTOM, name="signup", accept_language="fr", screen_width=400),
        at(12, 2),
    )
    visit = ("browser", "os", "device_type", "screen_class", "screen_width", "language")
    expected = ("Chrome", "Windows", "desktop", "XL", 1440, "en")
    for row in (first, beat, event):
        assert tuple(row[name] for name in visit) == expected
        assert (row["country_code"], row["session_id"]) == ("DE", first["session_id"])


def test_a_hit_fills_in_what_the_session_lacked(config, settings):
    settings.GEOIP_DATABASE = "/nonexistent/GeoLite2-City.mmdb"
    event = pipeline.enrich(hit(config, kind=Kind.CUSTOM, name="signup"), at(12))
    view = pipeline.enrich(
        hit(config, screen_width=800, language="de", visitor_timezone="Europe/Kyiv"), at(12, 1)
    )
    later = pipeline.enrich(hit(config, kind=Kind.CUSTOM, name="other"), at(12, 2))
    assert (event["screen_class"], event["language"], event["country_code"]) == ("", "", "")
    for row in (view, later):
        assert (row["screen_class"], row["language"], row["country_code"]) == ("M", "de", "UA")


def test_acquisition_of_a_direct_session_is_filled_in_by_a_later_referrer(config):
    direct = pipeline.enrich(hit(config, kind=Kind.CUSTOM, name="signup"), at(12))
    referred = pipeline.enrich(hit(config, referrer="https://www.google.com/"), at(12, 1))
    internal = pipeline.enrich(hit(config, referrer="https://example.com/"), at(12, 2))
    other = pipeline.enrich(hit(config, referrer="https://news.example.org/"), at(12, 3))
    assert direct["channel"] == "Direct"
    for row in (referred, internal, other):
        assert (row["source"], row["channel"]) == ("Google", "Organic Search")


def test_a_session_cached_before_visit_attributes_continues_and_fills_them_in(config):
    import json

    from django.conf import settings as django_settings
    from django.core.cache import cache

    from tracking import sessions

    first = pipeline.enrich(hit(config), at(12))
    key = sessions._key(config.id, first["visitor_id"])
    old = sessions.SessionState(
        id=first["session_id"],
        visitor_id=first["visitor_id"],
        started=at(12).timestamp(),
        last_seen=at(12).timestamp(),
        entry_path="/",
        pageviews=1,
    ).to_cache()[:8]  # the layout before visit attributes were kept
    if django_settings.REDIS_URL:
        sessions._redis().set(key, json.dumps(old))
    else:
        cache.set(key, old)
    row = pipeline.enrich(hit(config, language="de", url="https://example.com/b"), at(12, 5))
    assert (row["session_id"], row["session_start"], row["entry_path"]) == (
        first["session_id"],
        False,
        "/",
    )
    assert (row["browser"], row["language"]) == ("Chrome", "de")


def test_unreadable_cached_sessions_start_a_new_session():
    from tracking import sessions

    state = sessions.SessionState(id=1, visitor_id=2, started=1.0, last_seen=2.0)
    assert sessions.SessionState.from_cache(list(state.to_cache())) == state
    assert sessions.SessionState.from_cache([*state.to_cache(), "from a newer version"]) is None
    assert sessions.SessionState.from_cache("not a tuple") is None
    assert sessions.SessionState.from_cache([1, 2, 1.0, 2.0, "/", 0, [], {}, "not a dict"]) is None
