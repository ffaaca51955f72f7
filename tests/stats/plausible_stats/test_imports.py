"""Plausible Stats API: imported data (complete Plausible CSV imports, issue #16) only when
asked (v2 ``include.imports``, v1 ``with_imported=true``), and Plausible's meta and warning
when it cannot answer the question."""

from datetime import timedelta

import pytest
from django.core.cache import cache

from stats.api.plausible.query import IMPORTS_WARNING
from tests.helpers import complete_import
from tests.stats.plausible_stats.support import DAY, v1, v2

IMPORTED_DAY = DAY - timedelta(days=10)  # before the site's first own day (DAY - 1)


@pytest.fixture
def imported(site, traffic):
    record = complete_import(
        site,
        IMPORTED_DAY,
        import_id="imp-test",
        visitors=10,
        pageviews=30,
        visits=12,
        bounces=4,
        visit_duration=600,
    )
    cache.clear()  # this run's Redis database: complete imports may be cached per site
    yield record
    cache.clear()


def body(**extra) -> dict:
    return {
        "metrics": ["visitors", "pageviews"],
        "date_range": [str(IMPORTED_DAY), str(DAY)],
        **extra,
    }


def test_v2_adds_imported_days_only_when_asked(client, key, imported):
    own = v2(client, key, body())
    assert own.json()["results"] == [{"metrics": [3, 4], "dimensions": []}]
    assert own.json()["meta"] == {}
    both = v2(client, key, body(include={"imports": True}))
    assert both.status_code == 200, both.json()
    # 10 imported visitors and 30 page views on IMPORTED_DAY, then the site's own 1 + 2.
    assert both.json()["results"] == [{"metrics": [13, 34], "dimensions": []}]
    assert both.json()["meta"] == {"imports_included": True}


def test_v2_says_why_imported_data_is_left_out(client, key, imported):
    unsupported = v2(client, key, body(include={"imports": True}, dimensions=["event:props:plan"]))
    assert unsupported.json()["meta"] == {
        "imports_included": False,
        "imports_skip_reason": "unsupported_query",
        "imports_warning": IMPORTS_WARNING,
    }
    out_of_range = v2(
        client,
        key,
        {"metrics": ["visitors"], "date_range": [str(DAY), str(DAY)], "include": {"imports": True}},
    )
    assert out_of_range.json()["meta"] == {
        "imports_included": False,
        "imports_skip_reason": "out_of_range",
    }


def test_v2_without_any_import_says_no_imported_data(client, key, traffic):
    response = v2(client, key, body(include={"imports": True}))
    assert response.json()["meta"] == {
        "imports_included": False,
        "imports_skip_reason": "no_imported_data",
    }


def test_v1_with_imported(client, key, imported):
    period = {"period": "custom", "date": f"{IMPORTED_DAY},{DAY}"}
    assert v1(client, "aggregate", key, **period).json() == {"results": {"visitors": {"value": 3}}}
    assert v1(client, "aggregate", key, with_imported="true", **period).json() == {
        "results": {"visitors": {"value": 13}}
    }
    warned = v1(
        client,
        "aggregate",
        key,
        with_imported="true",
        filters="event:props:plan==pro",
        **period,
    )
    assert warned.json() == {"results": {"visitors": {"value": 1}}, "warning": IMPORTS_WARNING}


def test_v2_property_breakdown_adds_imported_custom_props_when_asked(client, key, imported):
    from stats.models import ImportedBreakdownDay

    for value, visitors, events in (("pro", 4, 6), ("zz-imported-only", 1, 2)):
        ImportedBreakdownDay.objects.create(
            imported=imported,
            site=imported.site,
            table="custom_props",
            day=IMPORTED_DAY,
            property="plan",
            value=value,
            visitors=visitors,
            events=events,
        )
    question = body(metrics=["visitors", "events"], dimensions=["event:props:plan"])
    own = {r["dimensions"][0]: r["metrics"] for r in v2(client, key, question).json()["results"]}
    both = v2(client, key, {**question, "include": {"imports": True}})
    assert both.status_code == 200, both.json()
    assert both.json()["meta"] == {"imports_included": True}
    got = {r["dimensions"][0]: r["metrics"] for r in both.json()["results"]}
    expected = dict(own)
    for value, visitors, events in (("pro", 4, 6), ("zz-imported-only", 1, 2)):
        mine = expected.get(value, [0, 0])
        expected[value] = [mine[0] + visitors, mine[1] + events]
    assert got == expected
    # With a filter or another metric, imported properties cannot answer: Plausible's note.
    filtered = v2(
        client,
        key,
        {**question, "include": {"imports": True}, "filters": [["is", "visit:country", ["DE"]]]},
    )
    assert filtered.json()["meta"]["imports_skip_reason"] == "unsupported_query"
