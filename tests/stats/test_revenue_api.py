"""Revenue in the APIs (docs/revenue.md): Pirsch's statistics and identity-js' ``/stats``
carry ``revenue`` and ``average_revenue`` in the site's reporting currency; breakdown rows
add up to the total; goals carry their events' revenue."""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from accounts.services import api_client_create
from sites.exchange_rates import convert
from stats.models import Goal
from tests.factories import SiteFactory, SiteMembershipFactory
from tests.helpers import event_row, store

DAY = datetime(2024, 1, 5, 10, tzinfo=UTC)
RANGE = {"from": "2024-01-01", "to": "2024-01-31"}


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="shop.example", reporting_currency="GBP")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    Goal.objects.create(site=site, name="Bought", event_name="Purchase")
    Goal.objects.create(site=site, name="Saw pricing", path_pattern="^/pricing")
    return site


def gbp(amount: str, currency: str) -> Decimal:
    return convert(Decimal(amount), currency, "GBP", DAY.date())


def row(site, n, kind="custom", **fields):
    values = {"visitor": n, "session": n, **fields}
    if "revenue_amount" in fields:
        value = gbp(fields["revenue_amount"], fields["revenue_currency"])
        values.update(revenue_reporting=value and str(value), revenue_reporting_currency="GBP")
        if value is None:
            values.update(revenue_reporting=None, revenue_reporting_currency="")
    return event_row(site.pk, DAY, kind=kind, **values)


@pytest.fixture
def traffic(site):
    de = {"country_code": "DE", "source": "Google", "channel": "Organic Search"}
    gb = {"country_code": "GB", "source": "", "channel": "Direct"}
    store(
        [
            row(site, 1, kind="pageview", path="/pricing", **de),
            row(
                site,
                1,
                name="Purchase",
                path="/done",
                revenue_amount="100",
                revenue_currency="USD",
                **de,
            ),
            row(site, 2, kind="pageview", path="/", **gb),
            row(
                site,
                2,
                name="Purchase",
                path="/done",
                revenue_amount="30",
                revenue_currency="GBP",
                **gb,
            ),
            row(
                site, 3, name="Donate", path="/", revenue_amount="10", revenue_currency="EUR", **gb
            ),
            row(
                site,
                4,
                name="Purchase",
                path="/done",
                revenue_amount="500",
                revenue_currency="ARS",
                **de,
            ),
        ]
    )
    return [gbp("100", "USD"), gbp("30", "GBP"), gbp("10", "EUR")]


def get(client, path, token, site, **params):
    response = client.get(
        f"/api/v1/statistics/{path}",
        {"id": site.public_id, **RANGE, **params},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    return response.json()


def cents(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), ROUND_HALF_UP))


def test_total_has_revenue_in_the_reporting_currency(client, site, token, traffic):
    total = get(client, "total", token, site)
    assert total["revenue_currency"] == "GBP"
    assert total["revenue"] == cents(sum(traffic))  # the ARS purchase has no rate
    assert total["average_revenue"] == cents(sum(traffic) / 3)
    filtered = get(client, "total", token, site, country="DE")
    assert (filtered["revenue"], filtered["average_revenue"]) == (cents(traffic[0]),) * 2


@pytest.mark.parametrize(
    ("path", "key"),
    [("country", "country_code"), ("referrer", "referrer_name"), ("channel", "channel")],
)
def test_breakdown_rows_add_up_to_the_total(client, site, token, traffic, path, key):
    rows = get(client, path, token, site)
    assert round(sum(r["revenue"] for r in rows), 2) == cents(sum(traffic))
    assert all(set(r) >= {"revenue", "average_revenue"} for r in rows)


def test_country_rows_and_events_and_goals(client, site, token, traffic):
    by_country = {r["country_code"]: r for r in get(client, "country", token, site)}
    assert by_country["DE"]["revenue"] == cents(traffic[0])
    assert by_country["GB"]["revenue"] == cents(traffic[1] + traffic[2])
    assert by_country["GB"]["average_revenue"] == cents((traffic[1] + traffic[2]) / 2)
    events = {r["name"]: r for r in get(client, "events", token, site)}
    assert events["Purchase"]["revenue"] == cents(traffic[0] + traffic[1])
    assert events["Donate"]["revenue"] == cents(traffic[2])
    goals = {g["page_goal"]["name"]: g for g in get(client, "goals", token, site)}
    assert goals["Bought"]["revenue"] == cents(traffic[0] + traffic[1])
    assert goals["Bought"]["average_revenue"] == cents((traffic[0] + traffic[1]) / 2)
    assert (goals["Saw pricing"]["revenue"], goals["Saw pricing"]["average_revenue"]) == (0.0, None)


def test_identity_stats_have_the_revenue_fields(client, owner, site, traffic):
    key = api_client_create(user=owner, type="read", site=site)[1]["key"]
    response = client.get(
        "/api/v1/stats",
        {"start_date": "2024-01-01", "end_date": "2024-01-31"},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["revenue_currency"] == "GBP"
    assert (data["revenue"], data["average_revenue"]) == (
        cents(sum(traffic)),
        cents(sum(traffic) / 3),
    )


def test_revenue_of_another_site_never_counts(client, site, token, traffic):
    other = SiteFactory(reporting_currency="GBP")
    store([row(other, 9, name="Purchase", revenue_amount="999", revenue_currency="GBP")])
    assert get(client, "total", token, site)["revenue"] == cents(sum(traffic))
