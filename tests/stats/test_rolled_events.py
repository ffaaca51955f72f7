"""Rolled-up events (``RolledEvent``): a faithful copy of each covered day's raw events, and
every read under per-event filters (path, pattern, event, meta, tags, title) equal to the
raw path, across time zones, late data and the site's reset. Sessions' later events often
lack attributes their first one had (or bring others): the copy holds the session's values
(``tests.stats.session_scope_oracle``)."""

import dataclasses
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from stats import query as q
from stats.models import Goal, RolledEvent, SessionAttributes
from stats.rollups import rollup_pending
from stats.services import site_rollups_invalidate, site_stats_reset
from tests.factories import SiteFactory
from tests.helpers import event_row, store
from tests.stats.session_scope_oracle import SCOPED_COLUMNS, scoped
from tests.strategies import ZONES, filter_draws, minutes_within, writes_a_site
from tracking.models import Event

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
START = datetime(2026, 3, 1, tzinfo=UTC)
COMPARED = (
    "id",
    "timestamp",
    "kind",
    "name",
    "visitor_id",
    "session_id",
    "path",
    "title",
    "props",
    "interactive",
    "duration_ms",
    "hostname",
    "entry_path",
    "referrer",
    "source",
    "channel",
    "utm_source",
    "browser",
    "os",
    "device_type",
    "language",
    "country_code",
    "region",
    "city",
)

EVENTS = st.lists(
    st.tuples(
        minutes_within(6),
        st.integers(min_value=1, max_value=4),  # visitor
        st.integers(min_value=1, max_value=6),  # session (may span days)
        st.sampled_from(["pageview", "pageview", "custom", "custom", "heartbeat", "engagement"]),
        st.booleans(),  # interactive
        st.sampled_from(["/", "/pricing", "/blog/a"]),
        st.sampled_from(["Signup", "Download"]),
        st.sampled_from([{}, {"plan": "pro"}, {"plan": "free", "tags": {"author": "kim"}}]),
        st.sampled_from([("DE", "Berlin"), ("GB", "London"), ("", "")]),
        st.sampled_from(["Chrome", "Firefox", ""]),
        st.sampled_from(["Home", "Pricing"]),
    ),
    max_size=40,
)
FILTER_VALUES = {
    "path": ["/pricing", "/"],
    "pattern": ["^/blog", "pricing$"],
    "event": ["Signup", "Download"],
    "meta_plan": ["pro", "free"],
    "tag_author": ["kim", "lee"],
    "title": ["Pricing", "Home"],
    "country": ["DE", "GB"],
    "browser": ["Chrome", "Firefox"],
}
FILTERS = filter_draws(FILTER_VALUES, min_size=1)


def rows_of(site, events, received_at=None):
    return [
        event_row(
            site.pk,
            START + timedelta(minutes=minute),
            visitor=visitor,
            session=session,
            kind=kind,
            name=name,
            interactive=interactive,
            path=path,
            entry_path="/",
            props=props if kind in ("custom", "pageview") else {},
            country_code=geo[0],
            city=geo[1],
            browser=browser,
            title=title,
            received_at=received_at,
        )
        for minute, visitor, session, kind, interactive, path, name, props, geo, browser, title in (
            events
        )
    ]


def as_filters(drawn: dict) -> dict[str, list[str]]:
    filters = {}
    for name, values in drawn.items():
        # A regular expression with a prefix would be another expression: patterns stay bare.
        prefixes = [("" if name == "pattern" else prefix, index) for prefix, index in values]
        filters[name] = [prefix + FILTER_VALUES[name][index] for prefix, index in prefixes]
    return filters


def assert_reads_equal_raw(query):
    """Every statistic through the query layer equals the raw-only reference."""
    reference = dataclasses.replace(query, raw=True)
    read_days, raw_days = q.daily_metrics(query), q.daily_metrics(reference)
    for day in query.days():
        assert read_days.get(day, q.ZERO_METRICS) == raw_days.get(day, q.ZERO_METRICS), day
    for dimension in q.DIMENSIONS:
        assert q.breakdown(query, dimension) == q.breakdown(reference, dimension), dimension
    assert q.exit_pages(query) == q.exit_pages(reference)
    for per_page in (False, True):
        assert q.duration_series(query, "day", per_page=per_page) == q.duration_series(
            reference, "day", per_page=per_page
        )
    assert q.session_summaries(query) == q.session_summaries(reference)
    assert q.session_summaries(query, limit=2, offset=1) == q.session_summaries(reference)[1:3]
    for name in ("Signup", "Download"):
        assert q.event_meta(query, name, "plan") == q.event_meta(reference, name, "plan")
        assert q.event_pages(query, name) == q.event_pages(reference, name)
    assert q.event_list(query) == q.event_list(reference)
    assert q.tags(query) == q.tags(reference)
    assert q.tags(query, "author") == q.tags(reference, "author")
    assert q.goals(query) == q.goals(reference)


@writes_a_site(25)
@given(events=EVENTS, late=EVENTS, tz=st.sampled_from(ZONES), drawn=FILTERS)
def test_oracle_rolled_events_equal_raw_events(db, events, late, tz, drawn):
    site = SiteFactory(timezone=tz)
    Goal.objects.create(site=site, name="Saw pricing", path_pattern="^/pricing")
    Goal.objects.create(site=site, name="Signed up", event_name="Signup")
    rows = rows_of(site, events)
    store(rows)
    rollup_pending(NOW)
    # Late and back-dated events land in days already rolled up: those days are redone.
    store(rows_of(site, late, received_at=NOW + timedelta(minutes=1)))
    rollup_pending(NOW + timedelta(minutes=5))

    # The copy holds exactly the raw events of the covered days, attributes joined back as
    # the session's values.
    covered_until = datetime(2026, 3, 20, tzinfo=UTC)
    raw = Event.objects.filter(site=site, timestamp__lt=covered_until - timedelta(days=1))
    expected = scoped(list(raw.values(*dict.fromkeys(COMPARED + SCOPED_COLUMNS))), tz)
    rolled = RolledEvent.objects.filter(site=site)
    assert sorted(rolled.values_list(*COMPARED)) == sorted(
        tuple(row[column] for column in COMPARED) for row in expected
    )

    first, last = date(2026, 2, 28), date(2026, 3, 8)
    filters = as_filters(drawn)
    for query in (
        q.StatsQuery(site.pk, first, last, tz, filters),
        # Covered days in the middle of the range, and a range ending before them.
        q.StatsQuery(site.pk, date(2026, 3, 2), date(2026, 3, 20), tz, filters),
        # Another time zone than the site's: nothing is covered, raw events answer.
        q.StatsQuery(site.pk, first, last, "Asia/Tokyo", filters),
    ):
        assert_reads_equal_raw(query)


def test_event_filter_reads_rolled_events_for_covered_days(db):
    """Proof that the copy is read (not only equal): a covered day answers from it."""
    site = SiteFactory(timezone="UTC")
    store([event_row(site.pk, START + timedelta(hours=h), path="/pricing") for h in range(3)])
    rollup_pending(NOW)
    query = q.StatsQuery(site.pk, date(2026, 3, 1), date(2026, 3, 1), "UTC", {"path": ["/pricing"]})
    assert q.totals(query)["views"] == 3
    # Raw events deleted behind the rollups' back: the covered day still answers from the copy,
    # the raw-only reference no longer does.
    Event.objects.filter(site=site).delete()
    assert q.totals(query)["views"] == 3
    assert q.totals(dataclasses.replace(query, raw=True))["views"] == 0


def test_rolling_up_again_replaces_rolled_events(db):
    site = SiteFactory(timezone="Europe/Berlin")
    store([event_row(site.pk, START + timedelta(hours=h)) for h in range(5)])
    rollup_pending(NOW)
    rollup_pending(NOW + timedelta(minutes=5))  # nothing new: nothing rewritten
    assert RolledEvent.objects.filter(site=site).count() == 5
    store([event_row(site.pk, START + timedelta(hours=6), received_at=NOW + timedelta(minutes=6))])
    rollup_pending(NOW + timedelta(minutes=10))
    assert RolledEvent.objects.filter(site=site).count() == 6


def test_reset_and_time_zone_change_forget_rolled_events(db):
    site = SiteFactory(timezone="UTC")
    other = SiteFactory(timezone="UTC")
    store([event_row(s.pk, START + timedelta(hours=1), path="/x") for s in (site, other)])
    rollup_pending(NOW)
    assert RolledEvent.objects.filter(site=site).count() == 1
    site_rollups_invalidate(site)
    assert not RolledEvent.objects.filter(site=site).exists()
    assert not SessionAttributes.objects.filter(site=site).exists()
    rollup_pending(NOW)
    site_stats_reset(site)
    assert not RolledEvent.objects.filter(site=site).exists()
    # The other site keeps its rows.
    assert RolledEvent.objects.filter(site=other).count() == 1
