"""Dashboard: panels, their details and filters."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stats import dashboard
from tests.helpers import event_row, store
from tests.stats.dashboard.support import (
    RANGE,
    at,
    get,
    kpi,
    panel_values,
)

# --- panels ----------------------------------------------------------------------------


def test_panels_show_exact_rows(client, site, owner, traffic):
    client.force_login(owner)
    assert panel_values(get(client, site, "panels/pages", **RANGE)) == [
        ("/", 2),
        ("/blog", 1),
        ("/pricing", 1),
    ]
    assert panel_values(get(client, site, "panels/countries", **RANGE)) == [
        ("Germany", 2),
        ("United Kingdom", 1),
    ]
    assert panel_values(get(client, site, "panels/cities", **RANGE)) == [
        ("London (GB)", 1),  # two page views: first among equals
        ("Berlin (DE)", 1),
        ("Munich (DE)", 1),
    ]
    assert panel_values(get(client, site, "panels/devices", **RANGE)) == [
        ("Desktop", 2),
        ("Mobile", 1),
    ]
    assert panel_values(get(client, site, "panels/sources", **RANGE)) == [
        ("Direct / None", 2),
        ("Google", 1),
    ]
    assert panel_values(get(client, site, "panels/utm_source", **RANGE)) == [
        ("(not set)", 2),
        ("newsletter", 1),
    ]
    exits = get(client, site, "panels/exit", **RANGE)
    assert panel_values(exits) == [("/", 1), ("/blog", 1), ("/pricing", 1)]


def test_panel_rows_link_to_the_filtered_dashboard(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, "panels/countries", **RANGE)
    germany = response.context["rows"][0]
    assert germany["href"] == (
        f"/sites/{site.public_id}/?period=custom&from=2023-01-01&to=2023-01-03&country=DE"
    )
    assert germany["share"] == pytest.approx(2 / 3, abs=0.0001)
    html = response.content.decode()
    assert 'hx-get="/sites/' in html  # the group's other tabs load in place
    assert "panels/countries/details?" in html


def test_events_panel_lists_properties(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, "panels/events", **RANGE)
    assert panel_values(response) == [("Signup", 1)]
    assert b"panels/events/details?" in response.content
    assert b"event_name=Signup" in response.content
    props = get(client, site, "panels/events/details", event_name="Signup", **RANGE)
    assert [(r["key"], r["value"], r["visitors"], r["count"]) for r in props.context["rows"]] == [
        ("plan", "pro", 1, 1)
    ]


def test_goals_panel_shows_conversion_rates(client, site, owner, traffic):
    from stats.models import Goal

    Goal.objects.create(site=site, name="Signed up", event_name="Signup")
    Goal.objects.create(site=site, name="Read pricing", path_pattern="^/pricing$")
    client.force_login(owner)
    response = get(client, site, "panels/goals", **RANGE)
    assert [(r["label"], r["visitors"], r["cr"]) for r in response.context["rows"]] == [
        ("Read pricing", 1, pytest.approx(0.3333)),
        ("Signed up", 1, pytest.approx(0.3333)),
    ]


def test_a_failing_panel_shows_a_message_inside_itself(client, site, owner, monkeypatch):
    def broken(panel, stats_query):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(dashboard, "panel_rows", broken)
    client.force_login(owner)
    response = get(client, site, "panels/pages")
    assert response.status_code == 200
    assert b"could not be loaded" in response.content
    assert b"database on fire" not in response.content


def test_details_are_paginated(client, site, owner):
    store(
        [
            event_row(site.pk, at(1, 10, n % 60), visitor=n, session=n, path=f"/p/{n:03d}")
            for n in range(60)
        ]
    )
    client.force_login(owner)
    first = get(client, site, "panels/pages/details", **RANGE)
    assert (first.context["page"], first.context["pages"], len(first.context["rows"])) == (1, 2, 50)
    assert b'rel="next"' in first.content
    second = get(client, site, "panels/pages/details", page="2", **RANGE)
    assert len(second.context["rows"]) == 10
    assert second.context["rows"][-1]["label"] == "/p/059"
    assert get(client, site, "panels/pages/details", page="x", **RANGE).context["page"] == 1


def test_dashboard_loads_every_panel_group_through_htmx(client, site, owner):
    client.force_login(owner)
    html = get(client, site).content.decode()
    for group in dashboard.GROUPS:
        assert f'id="panel-{group}"' in html
    assert html.count('hx-trigger="load"') == len(dashboard.GROUPS)


# --- filters ---------------------------------------------------------------------------


def test_filters_change_the_numbers(client, site, owner, traffic):
    client.force_login(owner)
    assert kpi(get(client, site, country="DE", **RANGE), "visitors") == "2"
    assert kpi(get(client, site, country="!DE", **RANGE), "visitors") == "1"
    assert kpi(get(client, site, city="~unic", **RANGE), "visitors") == "1"
    assert kpi(get(client, site, country="DE", browser="Safari", **RANGE), "visitors") == "1"
    assert panel_values(get(client, site, "panels/pages", country="DE", **RANGE)) == [
        ("/", 1),
        ("/blog", 1),
    ]


def test_filters_show_as_removable_chips(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, country="!DE", path="~blog", **RANGE)
    chips = response.context["chips"]
    assert [(c["label"], c["operator"], c["value"]) for c in chips] == [
        ("Country", "is not", "Germany"),
        ("Page", "contains", "blog"),
    ]
    assert chips[0]["remove"] == "period=custom&from=2023-01-01&to=2023-01-03&path=~blog"
    assert b"Remove filter Country is not Germany" in response.content


def test_add_filter_form_redirects_to_the_filtered_url(client, site, owner):
    client.force_login(owner)
    response = get(client, site, period="7d", fk="path", fo="contains", fv="blog")
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{site.public_id}/?period=7d&path=~blog"
    not_form = get(client, site, period="7d", fk="path", fo="is_not", fv="/a")
    assert not_form["Location"] == f"/sites/{site.public_id}/?period=7d&path=%21%2Fa"
    ignored = get(client, site, period="7d", fk="password", fo="is", fv="x")
    assert ignored["Location"] == f"/sites/{site.public_id}/?period=7d"


def test_a_bad_pattern_filter_is_ignored_with_a_message(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, pattern="(", **RANGE)
    assert response.status_code == 200
    assert response.context["state"].filters == {}
    assert b"filter ignored" in response.content


def test_unknown_parameters_are_not_filters(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, nonsense="1", **RANGE)
    assert response.context["state"].filters == {}
    assert kpi(response, "visitors") == "3"


# --- query counts ----------------------------------------------------------------------

# Queries a panel partial may make (session, user, site and membership lookups included):
# the panel's rows and its share denominator come from a fixed number of reads, whatever
# the traffic. "sources" merges the referrer breakdown by name; goals read no breakdown.
# One more on a cold cache: the site's complete imports (stats.query.sources.imported,
# cached for five minutes), asked by the planner for every statistic.
PANEL_QUERIES = {"sources": 14, "goals": 9}
PANEL_QUERIES_DEFAULT = 11


@pytest.mark.parametrize("name", list(dashboard.PANELS))
def test_each_panel_stays_within_its_query_budget(
    client, site, owner, traffic, name, django_assert_max_num_queries
):
    client.force_login(owner)
    budget = PANEL_QUERIES.get(name, PANEL_QUERIES_DEFAULT)
    with django_assert_max_num_queries(budget):
        assert get(client, site, f"panels/{name}", **RANGE).status_code == 200
    # The details count their rows and look whether the range has revenue (the rollups'
    # coverage and one sum over the events with revenue: docs/revenue.md).
    with django_assert_max_num_queries(budget + 3):
        assert get(client, site, f"panels/{name}/details", **RANGE).status_code == 200


def test_panel_queries_do_not_grow_with_the_traffic(client, site, owner, traffic):
    client.force_login(owner)

    def counts() -> dict[str, int]:
        found = {}
        for name in dashboard.PANELS:
            with CaptureQueriesContext(connection) as queries:
                get(client, site, f"panels/{name}", **RANGE)
            found[name] = len(queries)
        return found

    get(client, site, "panels/pages", **RANGE)  # the site's imports are cached from here
    before = counts()
    store(
        [
            event_row(site.pk, at(2, 9, n), visitor=100 + n, session=100 + n, path=f"/p{n}")
            for n in range(30)
        ]
    )
    assert counts() == before
