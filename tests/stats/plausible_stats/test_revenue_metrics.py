"""Plausible v2's revenue metrics (``total_revenue``, ``average_revenue``) in its shape
``{"short", "value", "long", "currency"}``, from revenue stored converted into the site's
reporting currency: Plausible's documented examples (a goal breakdown where a page goal's
row is null; null metrics with ``meta.metric_warnings`` without revenue goals), and every
dimension's rows against a plain reference over the raw events."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.services import api_client_create
from stats.api.plausible.query import revenue_metric
from stats.models import Goal
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store
from tests.stats.plausible_stats.support import DAY, at, v1, v2
from tests.strategies import writes_a_site

RANGE = [str(DAY - timedelta(days=1)), str(DAY)]


def purchase(site, when, amount, *, visitor=1, session=1, source="", currency="EUR"):
    return event_row(
        site.pk,
        when,
        visitor=visitor,
        session=session,
        kind="custom",
        name="Purchase",
        source=source,
        revenue_amount=Decimal(amount),
        revenue_currency=currency,
        revenue_reporting=Decimal(amount),  # as converted at ingest (EUR → EUR, USD → USD)
        revenue_reporting_currency=currency,
    )


@pytest.fixture
def shop(site):
    """Two purchases on DAY (12.40 from Google, 30.00 direct), one the day before (7.10),
    one converted into another currency than the site's (not counted), page views."""
    Goal.objects.create(site=site, name="Purchase", event_name="Purchase")
    Goal.objects.create(site=site, name="Visit /", path_pattern="^/$")
    store(
        [
            event_row(site.pk, at(DAY, 9), visitor=1, session=1, path="/", source="Google"),
            purchase(site, at(DAY, 9, 5), "12.40", source="Google"),
            event_row(site.pk, at(DAY, 10), visitor=2, session=2, path="/"),
            purchase(site, at(DAY, 10, 1), "30.00", visitor=2, session=2),
            purchase(site, at(DAY - timedelta(days=1), 8), "7.10", visitor=3, session=3),
            purchase(site, at(DAY, 11), "99.00", visitor=4, session=4, currency="USD"),
        ]
    )
    return site


def euros(amount: str) -> dict:
    value = Decimal(amount)
    return {
        "short": f"€{value:.1f}",
        "value": float(value),
        "long": f"€{value:,.2f}",
        "currency": "EUR",
    }


def test_goal_breakdown_as_plausibles_example(client, key, shop):
    """Plausible's "Revenue metrics" example: by ``event:goal``, a page goal's row is null."""
    body = {
        "metrics": ["total_revenue", "average_revenue", "visitors"],
        "date_range": RANGE,
        "dimensions": ["event:goal"],
    }
    response = v2(client, key, body)
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["results"] == [
        {"metrics": [euros("49.50"), euros("16.50"), 4], "dimensions": ["Purchase"]},
        {"metrics": [None, None, 2], "dimensions": ["Visit /"]},
    ]
    assert data["meta"] == {}


def test_aggregate_under_a_goal_filter_and_per_source_and_day(client, key, shop):
    goal = [["is", "event:goal", ["Purchase"]]]
    body = {"metrics": ["total_revenue", "average_revenue"], "date_range": RANGE}
    aggregate = v2(client, key, {**body, "filters": goal}).json()
    assert aggregate["results"] == [{"metrics": [euros("49.50"), euros("16.50")], "dimensions": []}]
    # Without a goal filter: all the site's revenue goals.
    assert v2(client, key, body).json()["results"] == aggregate["results"]
    sources = v2(client, key, {**body, "dimensions": ["visit:source"]}).json()["results"]
    # Ordered by the first metric, descending (Plausible's default).
    assert sources == [
        {"metrics": [euros("37.10"), euros("18.55")], "dimensions": [""]},
        {"metrics": [euros("12.40"), euros("12.40")], "dimensions": ["Google"]},
    ]
    days = v2(client, key, {**body, "dimensions": ["time:day"]}).json()["results"]
    assert days == [
        {"metrics": [euros("7.10"), euros("7.10")], "dimensions": [RANGE[0]]},
        {"metrics": [euros("42.40"), euros("21.20")], "dimensions": [RANGE[1]]},
    ]


def test_without_revenue_goals_metrics_are_null_with_plausibles_warning(client, key, site):
    Goal.objects.create(site=site, name="Visit /", path_pattern="^/$")
    store([purchase(site, at(DAY, 9), "5.00")])
    body = {"metrics": ["visitors", "total_revenue"], "date_range": RANGE}
    data = v2(client, key, body).json()
    assert data["results"] == [{"metrics": [1, None], "dimensions": []}]
    assert data["meta"]["metric_warnings"] == {
        "total_revenue": {
            "code": "no_revenue_goals_matching",
            "warning": "Revenue metrics are null as there are no matching revenue goals.",
        }
    }


@pytest.mark.parametrize(
    ("amount", "currency", "short", "long"),
    [
        ("96336315", "USD", "$96.3M", "$96,336,315.00"),
        ("500200700.25", "EUR", "€500.2M", "€500,200,700.25"),
        ("1234.5", "GBP", "£1.2K", "£1,234.50"),
        ("0", "EUR", "€0.0", "€0.00"),
        ("12.5", "CHF", "CHF\u00a012.5", "CHF\u00a012.50"),
    ],
)
def test_revenue_values_in_plausibles_formats(amount, currency, short, long):
    value = revenue_metric(Decimal(amount), currency)
    assert value == {"short": short, "value": float(amount), "long": long, "currency": currency}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"metrics": ["total_revenue"], "dimensions": ["event:props:plan"]},
            400,
            "Footfall answers revenue metrics by event:goal alone, or by visit properties (but "
            "visit:exit_page), event:page, event:name and time (not `event:props:plan`).",
        ),
        (
            {"metrics": ["total_revenue"], "dimensions": ["event:goal", "visit:source"]},
            400,
            "Footfall answers revenue metrics by event:goal alone, or by visit properties (but "
            "visit:exit_page), event:page, event:name and time (not `event:goal`).",
        ),
    ],
)
def test_revenue_refusals(client, key, shop, body, status, message):
    response = v2(client, key, {"date_range": RANGE, **body})
    assert response.status_code == status
    assert response.json() == {"error": message}


def test_v1_does_not_know_revenue_metrics(client, key, shop):
    response = v1(client, "aggregate", key, metrics="total_revenue", period="7d", date=str(DAY))
    assert response.status_code == 400
    assert "total_revenue" in response.json()["error"]


# --- against a reference --------------------------------------------------------------------

PURCHASES = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2 * 24 * 60 - 1),  # minute within the range
        st.sampled_from(["Google", "Bing", ""]),
        st.sampled_from(["Purchase", "Refund", "Signup"]),
        st.sampled_from(["0.99", "12.40", "250.00"]),
        st.sampled_from(["EUR", "EUR", "USD"]),
    ),
    max_size=12,
)


@writes_a_site(25)
@given(purchases=PURCHASES, dimension=st.sampled_from([None, "visit:source", "time:day"]))
def test_revenue_rows_match_the_reference(client, db, purchases, dimension):
    owner = UserFactory()
    site = SiteFactory(timezone="UTC")  # reporting currency: EUR
    SiteMembershipFactory(site=site, user=owner, role="owner")
    key = api_client_create(user=owner, type="plausible")[1]["key"]
    Goal.objects.create(site=site, name="Purchase", event_name="Purchase")
    Goal.objects.create(site=site, name="Refund", event_name="Refund")
    rows = []
    start = at(DAY - timedelta(days=1), 0)
    for number, (minute, source, name, amount, currency) in enumerate(purchases):
        row = purchase(
            site, start + timedelta(minutes=minute), amount, visitor=number, session=number,
            source=source, currency=currency,
        )  # fmt: skip
        row["name"] = name
        rows.append(row)
    store(rows)
    body = {
        "site_id": site.hostname,
        "metrics": ["total_revenue", "average_revenue"],
        "date_range": RANGE,
    }
    if dimension:
        body["dimensions"] = [dimension]
    response = v2(client, key, body)
    assert response.status_code == 200, response.json()

    expected: dict[tuple, list[Decimal]] = defaultdict(list)
    for row in rows:
        if row["name"] in ("Purchase", "Refund") and row["revenue_reporting_currency"] == "EUR":
            label = {
                None: (),
                "visit:source": (row["source"],),
                "time:day": (row["timestamp"][:10],),
            }[dimension]
            expected[label].append(row["revenue_reporting"])
    answered = {tuple(r["dimensions"]): r["metrics"] for r in response.json()["results"]}
    for label, amounts in expected.items():
        total = sum(amounts, Decimal(0))
        assert answered[label] == [
            revenue_metric(total, "EUR"),
            revenue_metric(total / len(amounts), "EUR"),
        ]
    for label, metrics in answered.items():  # rows without revenue answer zero
        if label not in expected:
            assert metrics == [revenue_metric(None, "EUR")] * 2
