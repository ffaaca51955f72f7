"""identity-js lists (``/visitors``, ``/sessions``, ``/events``) read newest days first, from
rolled-up events and session rows where the rollups cover the period: every page and total
equals the same list grouped straight from raw events. A session belongs to one visitor and
its events carry the session's attributes, as the pipeline writes them (rolled-up events
hold the session's values: docs/statistics.md, "Session scope")."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from stats import selectors
from stats.api.identity import serializers
from stats.rollups import rollup_pending
from tests.factories import SiteFactory
from tests.helpers import event_row, store
from tests.strategies import minutes_within, writes_a_site

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
START = datetime(2026, 3, 1, tzinfo=UTC)

EVENTS = st.lists(
    st.tuples(
        minutes_within(21),
        st.integers(min_value=1, max_value=5),  # visitor
        st.integers(min_value=1, max_value=3),  # the visitor's session (may span days)
        st.sampled_from(["pageview", "pageview", "custom", "heartbeat", "behaviour"]),
        st.booleans(),  # interactive
        st.sampled_from(["/", "/pricing", "/blog_a"]),
        st.sampled_from([None, 40, 90]),  # scroll depth
        # Event names: clicks, and signals that are not clicks.
        st.sampled_from(["Signup", "rage_click", "Outbound Link: Click", "web_vitals"]),
    ),
    max_size=40,
)
ARGUMENTS = st.sampled_from(
    [
        {},
        {"browser": "chrome"},
        {"country": "de", "os": ""},
        {"search": "lon"},
        {"search": "united king"},
        {"search": "v_0"},
        {"search": "0000000000000002"},
        {"url": "pricing"},
        {"url": "_"},
        {"visitor_id": 2},
    ]
)


# Each session's entry page, place and browser, by session id.
ENTRIES = ["/", "/pricing", "/blog_a"]
PLACES = [("DE", "Berlin"), ("GB", "London")]
BROWSERS = ["Chrome", "Firefox", "Googlebot"]


def reference_sessions(site, period, visitor_id=None, url=""):
    rows = list(selectors._session_rows(site.pk, period, visitor_id=visitor_id, url=url))
    return sorted(rows, key=lambda r: (r["started"], r["session_id"]), reverse=True)


def reference_visitors(site, period, bots=False, **filters):
    rows = list(selectors.visitor_rows(site.pk, period, bots=bots, **filters))
    return sorted(rows, key=lambda r: (-r["last_seen"].timestamp(), r["visitor_id"]))


def assert_pages_equal(listing, expected):
    assert listing.count() == len(expected)
    assert list(listing[0 : len(expected) + 3]) == expected
    for start in range(0, len(expected) + 1, 3):
        assert list(listing[start : start + 3]) == expected[start : start + 3], start


@writes_a_site(20)
@given(
    events=EVENTS,
    tz=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
    arguments=ARGUMENTS,
)
def test_lists_equal_raw_grouping(db, events, tz, arguments):
    site = SiteFactory(timezone=tz)
    store(
        [
            event_row(
                site.pk,
                START + timedelta(minutes=minute),
                visitor=visitor,
                session=visitor * 10 + session,
                kind=kind,
                **({} if kind == "pageview" else {"name": name}),
                interactive=interactive,
                path=path,
                entry_path=ENTRIES[(visitor + session) % 3],
                scroll_depth=scroll,
                country_code=PLACES[(visitor + session) % 2][0],
                city=PLACES[(visitor + session) % 2][1],
                browser=BROWSERS[(visitor * session) % 3],
                os="Linux",
            )
            for minute, visitor, session, kind, interactive, path, scroll, name in events
        ]
    )
    rollup_pending(NOW)  # days up to 19 March are covered; the rest is read raw
    period = selectors.Period.of_days(date(2026, 2, 27), date(2026, 3, 22), tz)

    session_arguments = {k: v for k, v in arguments.items() if k in ("url", "visitor_id")}
    if len(session_arguments) == len(arguments):
        assert_pages_equal(
            selectors.session_list(site.pk, period, **session_arguments),
            reference_sessions(site, period, **session_arguments),
        )
    visitor_arguments = {
        k: v for k, v in arguments.items() if k in ("browser", "os", "country", "search")
    }
    if len(visitor_arguments) == len(arguments):
        assert_pages_equal(
            selectors.visitor_list(site.pk, period, **visitor_arguments),
            reference_visitors(site, period, **visitor_arguments),
        )
    # Details (all time, looked up through rolled-up events where the rollups cover them).
    for row in reference_visitors(site, period, bots=True):  # a bot's detail is still found
        detail = serializers.visitor_detail_json(
            site.pk, selectors.visitor_detail(site.pk, row["visitor_id"])
        )
        assert detail["first_seen_at"] == selectors.epoch_ms(row["first_seen"])
        assert detail["last_seen_at"] == selectors.epoch_ms(row["last_seen"])
    for row in reference_sessions(site, period):
        detail = serializers.session_detail_json(
            selectors.session_detail(site.pk, row["session_id"])
        )
        assert detail["started_at"] == selectors.epoch_ms(row["started"])
        assert (
            len(detail["events"])
            == selectors.events_in(site.pk, period).filter(session_id=row["session_id"]).count()
        )
    expected_events = list(
        selectors.events_in(site.pk, period).exclude(kind="heartbeat").order_by("-timestamp", "-id")
    )
    listed = selectors.event_rows(site.pk, period)
    assert listed.count() == len(expected_events)
    for start in range(0, len(expected_events) + 1, 4):
        assert [serializers.event_json(e) for e in listed[start : start + 4]] == [
            serializers.event_json(e) for e in expected_events[start : start + 4]
        ]
