"""Several dimensions at once (v2) and the session metrics of visit-property breakdowns (v1
and v2): ``stats.query.groups`` against a plain Python reference over the raw events, on
raw and rolled-up days, in PostgreSQL's set-based SQL and through the ORM and Python (the
embedded SQLite's source)."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.services import api_client_create
from stats import query as q
from stats.query.sources.events_python import groups_python
from stats.query.sources.events_sql import SOURCE as SQL_SOURCE
from stats.rollups import rollup_pending
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store
from tests.stats.plausible_stats.support import DAY, custom, v1, v2
from tests.strategies import ZONES, writes_a_site

START = datetime(2026, 3, 1, tzinfo=UTC)
NOW = START + timedelta(days=2, hours=6)  # rolls up Mar 1 and 2; Mar 3 stays raw
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 3)

# A session: visitor, source, country, then its events (minute after the session's start
# minute, what: a page path, an interactive or a non-interactive custom event, an
# engagement signal).
EVENT = st.tuples(
    st.integers(min_value=0, max_value=90),
    st.sampled_from(["/", "/", "/a", "/b", "click", "scroll", "engagement"]),
)
SESSION = st.tuples(
    st.integers(min_value=1, max_value=4),
    st.sampled_from(["Google", "Bing", ""]),
    st.sampled_from(["DE", "FR", ""]),
    st.integers(min_value=0, max_value=3 * 24 * 60 - 100),
    st.lists(EVENT, min_size=1, max_size=5),
)
# (dimensions, metrics) the reference answers; event:page counts page views only.
QUESTIONS = [
    (["visit:source", "visit:country"], ["visitors", "bounce_rate", "visit_duration", "events"]),
    (["time:day", "event:page"], ["visitors", "visits", "pageviews"]),
    (["visit:country", "time:day"], ["visits", "visitors", "bounce_rate"]),
    (["event:name", "visit:source"], ["events", "visitors", "visits"]),
    (["visit:source"], ["visitors", "bounce_rate", "visit_duration", "events", "visits"]),
]
COLUMNS = {"visit:source": "source", "visit:country": "country_code", "event:page": "path"}


def _rows(site, sessions) -> list[dict]:
    rows = []
    for number, (visitor, source, country, start, events) in enumerate(sessions):
        for minute, what in events:
            fields: dict = {"source": source, "country_code": country}
            if what.startswith("/"):
                fields["path"] = what
            elif what == "engagement":
                fields |= {"kind": "engagement", "name": "engagement", "duration_ms": 1000}
            else:
                fields |= {"kind": "custom", "name": what, "interactive": what == "click"}
            at = START + timedelta(minutes=start + minute)
            rows.append(event_row(site.pk, at, visitor=visitor, session=number + 1, **fields))
    return rows


def reference(rows, zone: str, dims: list[str]) -> dict[tuple, dict]:
    """Per combination of ``dims`` (time:day as the local day): Footfall's definitions over
    the raw rows, summed over local days (each session has one source and country)."""
    kinds = {"event:page": {"pageview"}, "event:name": {"pageview", "custom"}}
    counted = next((kinds[d] for d in dims if d in kinds), None)
    visitors: dict[tuple, set] = defaultdict(set)
    sessions: dict[tuple, list] = defaultdict(list)
    for row in rows:
        if counted is not None and row["kind"] not in counted:
            continue
        at = datetime.fromisoformat(row["timestamp"]).astimezone(ZoneInfo(zone))
        values = {"time:day": at.date().isoformat(), "event:name": row["name"]}
        key = tuple(values.get(d) if d in values else row[COLUMNS[d]] for d in dims)
        visitors[(at.date(), key)].add(row["visitor_id"])
        sessions[(at.date(), key, row["session_id"])].append((at, row))
    out: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    for (_day, key), ids in visitors.items():
        out[key]["visitors"] += len(ids)
    for (_day, key, _session), events in sessions.items():
        views = sum(r["kind"] == "pageview" for _, r in events)
        clicks = sum(r["kind"] == "custom" and r["interactive"] for _, r in events)
        times = [at for at, _ in events]
        m = out[key]
        m["visits"] += 1
        m["pageviews"] += views
        m["events"] += sum(r["kind"] in ("pageview", "custom") for _, r in events)
        m["bounces"] += views <= 1 and clicks == 0
        m["ms"] += int((max(times) - min(times)).total_seconds() * 1000)
    return out


def _metric(m: dict, metric: str) -> int:
    if metric == "bounce_rate":
        return round(m["bounces"] * 100 / m["visits"])
    if metric == "visit_duration":
        return round(m["ms"] / 1000 / m["visits"])
    return m[metric]


@writes_a_site(30)
@given(
    sessions=st.lists(SESSION, max_size=8),
    zone=st.sampled_from(ZONES),
    question=st.sampled_from(QUESTIONS),
    rolled=st.booleans(),
)
def test_several_dimensions_answer_as_the_reference(client, db, sessions, zone, question, rolled):
    owner = UserFactory()
    site = SiteFactory(timezone=zone)
    SiteMembershipFactory(site=site, user=owner, role="owner")
    key = api_client_create(user=owner, type="plausible")[1]["key"]
    rows = _rows(site, sessions)
    store(rows)
    if rolled:
        rollup_pending(NOW)
    dims, metrics = question
    body = {"site_id": site.hostname, "metrics": metrics, "dimensions": dims}
    response = v2(client, key, {**body, "date_range": [str(FIRST), str(LAST)]})
    assert response.status_code == 200, response.json()
    results = response.json()["results"]

    in_range = [
        r
        for r in rows
        if FIRST <= datetime.fromisoformat(r["timestamp"]).astimezone(ZoneInfo(zone)).date() <= LAST
    ]
    expected = {
        key: [_metric(m, metric) for metric in metrics]
        for key, m in reference(in_range, zone, dims).items()
    }
    assert {tuple(r["dimensions"]): r["metrics"] for r in results} == expected
    assert len(results) == len(expected)
    # Plausible's default order: time ascending, then the first metric descending.
    times = [i for i, d in enumerate(dims) if d.startswith("time")]
    order = [(tuple(r["dimensions"][i] for i in times), -r["metrics"][0]) for r in results]
    assert order == sorted(order)


@writes_a_site(20)
@given(sessions=st.lists(SESSION, max_size=8), zone=st.sampled_from(ZONES), rolled=st.booleans())
def test_the_sql_and_python_sources_agree(db, sessions, zone, rolled):
    """PostgreSQL's statement and the embedded default's ORM and Python give the same
    groups (the Python source reads raw events; ``raw`` makes the SQL one read them too)."""
    site = SiteFactory(timezone=zone)
    store(_rows(site, sessions))
    if rolled:
        rollup_pending(NOW)
    for columns, kinds in [
        (("source", "country_code"), None),
        (("path",), ("pageview",)),
        (("hour", "source"), None),
        (("name",), ("pageview", "custom")),
    ]:
        query = q.StatsQuery(site.pk, FIRST, LAST, zone, raw=True, imports=False)
        filtered = q.StatsQuery(site.pk, FIRST, LAST, zone, {"country": ["DE"]}, raw=True)
        for asked in (query, filtered):
            assert SQL_SOURCE.groups(asked, columns, kinds) == groups_python(asked, columns, kinds)
        planned = q.StatsQuery(site.pk, FIRST, LAST, zone, imports=False)
        assert q.groups(planned, columns, kinds) == SQL_SOURCE.groups(query, columns, kinds)


# --- Plausible's documented shapes and refusals --------------------------------------------


def test_v1_visit_breakdown_with_bounce_rate_and_visit_duration(client, key, traffic):
    """Plausible's documented breakdown example asks ``visit:source`` with ``bounce_rate``."""
    response = v1(
        client,
        "breakdown",
        key,
        property="visit:source",
        metrics="visitors,bounce_rate,visit_duration,events",
        **custom(),
    )
    assert response.status_code == 200
    # Visitor 1 (Google) views two pages in 90 s and signs up; visitor 2 bounces.
    assert response.json() == {
        "results": [
            {"source": "", "visitors": 1, "bounce_rate": 100, "visit_duration": 0, "events": 1},
            {
                "source": "Google",
                "visitors": 1,
                "bounce_rate": 0,
                "visit_duration": 90,
                "events": 3,
            },
        ]
    }


def test_v2_country_and_source_rows_in_plausibles_shape(client, key, traffic):
    body = {
        "metrics": ["visitors", "pageviews", "bounce_rate"],
        "date_range": [str(DAY), str(DAY)],
        "dimensions": ["visit:country", "visit:source"],
        "order_by": [["visit:country", "desc"]],
        "include": {"total_rows": True},
    }
    data = v2(client, key, body).json()
    assert data["results"] == [
        {"metrics": [1, 1, 100], "dimensions": ["DE", ""]},
        {"metrics": [1, 2, 0], "dimensions": ["", "Google"]},
    ]
    assert data["meta"] == {"total_rows": 2}
    assert data["query"]["dimensions"] == ["visit:country", "visit:source"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"metrics": ["visitors"], "dimensions": ["time:day", "time:month"]},
            "Footfall answers at most one time dimension per query.",
        ),
        (
            {"metrics": ["visitors"], "dimensions": ["visit:source", "visit:source"]},
            "Some dimensions are listed more than once.",
        ),
        (
            {"metrics": ["visitors"], "dimensions": ["visit:source", "event:props:plan"]},
            "Footfall answers several dimensions together for visit properties (but "
            "visit:exit_page), event:page, event:name and time only (not `event:props:plan`).",
        ),
        (
            {"metrics": ["events"], "dimensions": ["event:page", "visit:source"]},
            "Metric `events` is not supported by Footfall in a breakdown by `event:page, "
            "visit:source` (supported: visitors, visits, pageviews).",
        ),
        (
            {"metrics": ["bounce_rate"], "dimensions": ["visit:source", "event:name"]},
            "Session metric(s) `bounce_rate` cannot be queried along with event dimensions.",
        ),
        (
            {"metrics": ["visitors"], "dimensions": ["visit:source", "visit:nope"]},
            '#/dimensions/1: Invalid dimension "visit:nope"',
        ),
        (
            {
                "metrics": ["visitors"],
                "dimensions": ["visit:source", "time:day"],
                "include": {"imports": True},
            },
            None,
        ),
    ],
)
def test_v2_several_dimensions_refusals(client, key, traffic, body, message):
    response = v2(client, key, {"date_range": [str(DAY), str(DAY)], **body})
    if message is None:  # answered, imported data left out with Plausible's reason
        assert response.status_code == 200
        assert response.json()["meta"]["imports_included"] is False
        return
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_v1_exit_page_keeps_refusing_session_metrics(client, key, traffic):
    response = v1(client, "breakdown", key, property="visit:exit_page", metrics="bounce_rate")
    assert response.status_code == 400
    assert "Footfall" in response.json()["error"]


def test_v2_location_names_as_plausibles_country_and_city_example(client, key, site):
    """Plausible's "Country and city analysis" example breaks down by names; Footfall names
    the stored country and region codes (a city is stored by name)."""
    store(
        [
            event_row(site.pk, at, visitor=v, session=v, path="/", **where)
            for v, (at, where) in enumerate(
                [
                    (at_(9), {"country_code": "IT", "region": "IT-62", "city": "Rome"}),
                    (at_(10), {"country_code": "DE", "region": "DE-BE", "city": "Berlin"}),
                    (at_(11), {"country_code": "DE", "region": "DE-BE", "city": "Berlin"}),
                    (at_(12), {"country_code": "", "region": "", "city": ""}),
                ]
            )
        ]
    )
    body = {
        "metrics": ["visitors", "pageviews", "bounce_rate"],
        "date_range": [str(DAY), str(DAY)],
        "dimensions": ["visit:country_name", "visit:city_name"],
    }
    assert v2(client, key, body).json()["results"] == [
        {"metrics": [2, 2, 100], "dimensions": ["Germany", "Berlin"]},
        {"metrics": [1, 1, 100], "dimensions": ["", ""]},
        {"metrics": [1, 1, 100], "dimensions": ["Italy", "Rome"]},
    ]
    regions = v2(
        client, key, {**body, "metrics": ["visitors"], "dimensions": ["visit:region_name"]}
    )
    assert regions.json()["results"] == [
        {"metrics": [2], "dimensions": ["Berlin"]},
        {"metrics": [1], "dimensions": [""]},
        {"metrics": [1], "dimensions": ["Lazio"]},
    ]
    # Filtering by a name stays Plausible-shaped refusal (Footfall filters by codes).
    refused = v2(client, key, {**body, "filters": [["is", "visit:country_name", ["Germany"]]]})
    assert refused.status_code == 400
    assert set(refused.json()) == {"error"}


def at_(hour: int) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, tzinfo=UTC)
