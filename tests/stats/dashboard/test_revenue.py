"""The dashboard's Revenue KPI and sortable Revenue column (docs/revenue.md): shown only when
the range (or the previous one, for the KPI) has revenue, in the site's reporting currency."""

import re
from datetime import UTC, datetime
from decimal import Decimal

from sites.exchange_rates import convert
from stats.models import Goal
from tests.helpers import event_row, store

RANGE = {"period": "custom", "from": "2023-01-02", "to": "2023-01-03"}
DAY = datetime(2023, 1, 2, 10, tzinfo=UTC)


def page(client, site, path="", **params):
    return client.get(f"/sites/{site.public_id}/{path}", {**RANGE, **params})


def kpi(html: str, key: str) -> str | None:
    found = re.search(
        rf'data-kpi="{key}">\s*<div class="kpi-label">([^<]*)</div>\s*'
        rf'<div class="kpi-value">([^<]*)</div>',
        html,
    )
    return f"{found[1]}: {found[2]}" if found else None


def test_no_revenue_no_kpi_and_no_column(client, owner, site):
    store([event_row(site.pk, DAY, path="/")])
    client.force_login(owner)
    assert kpi(page(client, site).content.decode(), "revenue") is None
    details = page(client, site, "panels/countries/details").content.decode()
    assert 'data-column="revenue"' not in details


def test_revenue_kpi_and_sortable_column(client, owner, site):
    """Visitor 1 (DE) buys for 100 USD, visitor 2 (GB) for 30 EUR and 10 EUR, visitor 3 (FR)
    visits only: GB has more visitors' revenue rows but DE the most revenue."""
    Goal.objects.create(site=site, name="Bought", event_name="Purchase")
    usd = convert(Decimal("100"), "USD", "EUR", DAY.date())
    rows = [
        event_row(site.pk, DAY, path="/", visitor=1, session=1, country_code="DE"),
        event_row(
            site.pk,
            DAY,
            kind="custom",
            name="Purchase",
            visitor=1,
            session=1,
            country_code="DE",
            revenue_amount="100",
            revenue_currency="USD",
        ),
        event_row(site.pk, DAY, path="/", visitor=2, session=2, country_code="GB"),
        event_row(site.pk, DAY, path="/", visitor=4, session=4, country_code="GB"),
        event_row(
            site.pk,
            DAY,
            kind="custom",
            name="Purchase",
            visitor=2,
            session=2,
            country_code="GB",
            revenue_amount="30",
            revenue_currency="EUR",
        ),
        event_row(
            site.pk,
            DAY,
            kind="custom",
            name="Purchase",
            visitor=2,
            session=2,
            country_code="GB",
            revenue_amount="10",
            revenue_currency="EUR",
        ),
        event_row(site.pk, DAY, path="/", visitor=3, session=3, country_code="FR"),
        event_row(
            site.pk,
            DAY,
            kind="custom",
            name="Purchase",
            visitor=3,
            session=3,
            country_code="FR",
            revenue_amount="5",
            revenue_currency="ARS",
        ),
    ]
    store(rows)
    client.force_login(owner)
    html = page(client, site).content.decode()
    assert kpi(html, "revenue") == f"Revenue (EUR): {usd + 40:,.2f}"
    assert "1 event with revenue in a currency without an exchange rate is left out" in html

    details = page(client, site, "panels/countries/details").content.decode()
    assert 'data-column="revenue"' in details
    order = re.findall(r"<tr><td>(?:<a [^>]*>)?([^<]+)", details)
    assert order[:3] == ["United Kingdom", "Germany", "France"]  # by visitors
    assert 'href="?' in details and "sort=revenue" in details
    by_revenue = page(client, site, "panels/countries/details", sort="revenue").content.decode()
    order = re.findall(r"<tr><td>(?:<a [^>]*>)?([^<]+)", by_revenue)
    assert order[:3] == ["Germany", "United Kingdom", "France"]
    cells = re.findall(r'<td class="num" data-column="revenue">([^<]*)</td>', by_revenue)
    assert cells[:3] == [f"{usd:,.2f}", "40.00", "0.00"]
    goals = page(client, site, "panels/goals/details").content.decode()
    assert re.findall(r'<td class="num" data-column="revenue">([^<]*)<', goals) == [
        f"{usd + 40:,.2f}"
    ]
