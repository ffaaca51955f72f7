"""Dashboard: exact KPIs, the chart, ranges and named periods."""

from datetime import UTC, datetime

import pytest

from tests.helpers import event_row, store
from tests.stats.dashboard.support import (
    RANGE,
    get,
    kpi,
)

# --- numbers -------------------------------------------------------------------------


def test_kpis_are_exact(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, **RANGE)
    assert [(card["key"], card["value"]) for card in response.context["kpis"]] == [
        ("visitors", "3"),
        ("visits", "3"),
        ("views", "4"),
        ("views_per_visit", "1.33"),
        ("bounce_rate", "33%"),  # only visitor 2 bounced
        ("visit_duration", "2m 00s"),  # (300 s + 0 s + 60 s) / 3
    ]
    assert b'<div class="kpi-value">1.33</div>' in response.content


def test_kpi_change_against_the_previous_period(client, site, owner, traffic):
    # 29–31 Dec is the period before 1–3 Jan: one visitor, one view, one bounce.
    store([event_row(site.pk, datetime(2022, 12, 30, 12, tzinfo=UTC), visitor=9, session=9)])
    client.force_login(owner)
    cards = {c["key"]: c for c in get(client, site, **RANGE).context["kpis"]}
    assert (cards["visitors"]["change"], cards["visitors"]["tone"]) == ("200%", "up")
    assert (cards["views"]["change"], cards["views"]["direction"]) == ("300%", "up")
    # Bounce rate went from 100 % to 33 %: down, and down is good.
    assert (cards["bounce_rate"]["change"], cards["bounce_rate"]["direction"]) == ("67%", "down")
    assert cards["bounce_rate"]["tone"] == "up"


def test_kpis_without_a_previous_period_say_so(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, **RANGE)
    assert all(card["change"] is None for card in response.context["kpis"])
    assert b"no previous data" in response.content


def test_range_in_the_url_changes_the_numbers(client, site, owner, traffic):
    client.force_login(owner)
    first_day = get(client, site, period="custom", **{"from": "2023-01-01", "to": "2023-01-01"})
    assert kpi(first_day, "visitors") == "2"
    assert first_day.context["state"].scale == "hour"
    # In Berlin the phone visit is on 3 Jan.
    third_day = get(client, site, period="custom", **{"from": "2023-01-03", "to": "2023-01-03"})
    assert kpi(third_day, "visitors") == "1"


def test_chart_has_one_point_per_day_and_an_accessible_table(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, **RANGE)
    points = response.context["points"]
    assert [(p.visitors, p.views) for p in points] == [(2, 3), (0, 0), (1, 1)]
    html = response.content.decode()
    assert 'role="img"' in html
    assert '<title id="chart-title">' in html
    assert "<caption>Visitors and page views per day" in html
    assert '<th scope="row">Sun 1 Jan 2023</th><td>2</td><td>3</td>' in html


def test_hourly_chart_for_one_day(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, period="custom", **{"from": "2023-01-01", "to": "2023-01-01"})
    points = response.context["points"]
    assert len(points) == 24
    # 10:00 and 11:00 UTC are 11:00 and 12:00 in Berlin.
    assert [(p.label, p.visitors, p.views) for p in points if p.visitors] == [
        ("11:00", 1, 2),
        ("12:00", 1, 1),
    ]


def test_weekly_and_monthly_scales_for_long_ranges(client, site, owner, traffic):
    client.force_login(owner)
    weekly = get(client, site, period="custom", **{"from": "2022-12-01", "to": "2023-03-31"})
    assert weekly.context["state"].scale == "week"
    monthly = get(client, site, period="custom", **{"from": "2022-01-01", "to": "2023-12-31"})
    assert monthly.context["state"].scale == "month"
    january = next(p for p in monthly.context["points"] if p.label == "Jan 2023")
    assert (january.visitors, january.views) == (3, 4)


def test_previous_period_overlay(client, site, owner, traffic):
    store([event_row(site.pk, datetime(2022, 12, 29, 12, tzinfo=UTC), visitor=9, session=9)])
    client.force_login(owner)
    plain = get(client, site, **RANGE)
    assert plain.context["chart"]["previous"] == ""
    compared = get(client, site, compare="previous", **RANGE)
    assert [p.previous_visitors for p in compared.context["points"]] == [1, 0, 0]
    assert b'class="series-prev"' in compared.content
    assert b"Hide previous period" in compared.content


@pytest.mark.parametrize(
    "period", ["today", "yesterday", "7d", "30d", "month", "lastmonth", "year", "12mo", "all"]
)
def test_every_named_period_renders(client, site, owner, traffic, period):
    client.force_login(owner)
    response = get(client, site, period=period)
    assert response.status_code == 200
    state = response.context["state"]
    assert state.period == period
    assert state.first_day <= state.last_day


def test_all_time_starts_at_the_first_event(client, site, owner, traffic):
    client.force_login(owner)
    state = get(client, site, period="all").context["state"]
    assert state.first_day.isoformat() == "2023-01-01"


def test_bad_range_falls_back_with_a_message(client, site, owner):
    client.force_login(owner)
    response = get(client, site, period="custom", **{"from": "2023-02-01", "to": "2023-01-01"})
    assert response.status_code == 200
    assert response.context["state"].period == "30d"
    assert b"before the start date" in response.content
    response = get(client, site, period="custom", **{"from": "nope", "to": "2023-01-01"})
    assert response.context["state"].period == "30d"
    assert get(client, site, period="forever").context["state"].period == "30d"


def test_range_picker_urls_are_made_canonical(client, site, owner):
    client.force_login(owner)
    response = get(client, site, period="7d", **{"from": "2023-01-01", "to": "2023-01-03"})
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{site.public_id}/?period=7d"
