"""Revenue statistics (``stats.revenue``) against a plain Python oracle over the raw events:
totals, every breakdown dimension (whose rows add up to the total), filters, goals, rolled-up
and raw days alike. Run without DATABASE_URL it checks the embedded SQLite default."""

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from sites.exchange_rates import convert
from stats import query as q
from stats import revenue
from stats.rollups import rollup_pending
from tests.factories import SiteFactory
from tests.helpers import event_row, store

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
START = datetime(2026, 3, 1, tzinfo=UTC)
# A session's attributes, the same on each of its events (as the pipeline writes them).
SESSIONS = {
    1: {"country_code": "DE", "source": "Google", "channel": "Organic Search", "browser": "Chrome"},
    2: {"country_code": "GB", "source": "", "channel": "Direct", "browser": "Firefox"},
    3: {"country_code": "DE", "source": "Newsletter", "channel": "Email", "utm_campaign": "spring"},
    4: {"country_code": "", "source": "Google", "channel": "Organic Search", "browser": "Chrome"},
}
AMOUNTS = st.one_of(
    st.none(),
    st.tuples(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2),
        st.sampled_from(["EUR", "USD", "GBP", "JPY", "ARS", ""]),
    ),
)
EVENTS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=6 * 24 * 60),  # minute within six days
        st.integers(min_value=1, max_value=4),  # session (its visitor is the same number)
        st.sampled_from(["pageview", "custom", "custom"]),
        st.sampled_from(["/", "/pricing", "/checkout"]),
        st.sampled_from(["Signup", "Purchase"]),
        AMOUNTS,
    ),
    max_size=40,
)
DIMENSIONS = [
    "page",
    "entry",
    "referrer",
    "channel",
    "utm_campaign",
    "country",
    "browser",
    "platform",
    "event",
    "hour",
]


def rows_of(site, events) -> list[dict]:
    rows = []
    for minute, session, kind, path, name, amount in events:
        at = START + timedelta(minutes=minute)
        fields = {
            **SESSIONS[session],
            "path": path,
            "entry_path": "/",
        }
        if kind == "custom":
            fields["name"] = name
            if amount is not None:
                fields["revenue_amount"] = str(amount[0])
                fields["revenue_currency"] = amount[1]
        rows.append(
            event_row(site.pk, at, visitor=session, session=100 + session, kind=kind, **fields)
        )
    return rows


def oracle(rows: list[dict], query: q.StatsQuery, key) -> dict:
    """Revenue (total, count) per key over the raw rows in the query's range, with the
    filters this test draws (country, event), straight from the definition."""
    result: dict = {}
    for row in rows:
        at = datetime.fromisoformat(row["timestamp"])
        if not (query.start <= at < query.end) or row["revenue_reporting"] is None:
            continue
        if "country" in query.filters and row["country_code"] not in query.filters["country"]:
            continue
        if "event" in query.filters and row["name"] not in query.filters["event"]:
            continue
        k = key(row, at)
        total, count = result.get(k, (Decimal(0), 0))
        result[k] = (total + Decimal(row["revenue_reporting"]), count + 1)
    return result


def column_key(dimension: str, zone):
    columns, _kind = q.DIMENSIONS[dimension]

    def key(row, at):
        return tuple(at.astimezone(zone).hour if c == "hour" else row.get(c) or "" for c in columns)

    return key


@hsettings(
    max_examples=20,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    events=EVENTS,
    tz=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
    filters=st.sampled_from([{}, {"country": ["DE"]}, {"event": ["Purchase"]}]),
    rolled=st.booleans(),
)
def test_oracle_revenue_totals_and_every_breakdown(db, events, tz, filters, rolled):
    site = SiteFactory(timezone=tz)
    rows = rows_of(site, events)
    store(rows)
    if rolled:
        rollup_pending(NOW)  # covered days read the rolled-up copies (PostgreSQL)
    query = q.StatsQuery(site.pk, date(2026, 2, 28), date(2026, 3, 5), tz, filters)
    expected = oracle(rows, query, lambda row, at: "all").get("all", (Decimal(0), 0))
    total = revenue.revenue_total(query)
    assert (total.currency, total.total, total.conversions) == ("EUR", *expected)
    for dimension in DIMENSIONS:
        by_value = revenue.revenue_by(query, dimension)
        want = oracle(rows, query, column_key(dimension, query.zone))
        got = {
            tuple(v or "" if not isinstance(v, int) else v for v in k): (r.total, r.conversions)
            for k, r in by_value.items()
        }
        assert got == want, dimension
        # The rows add up to the total: every conversion is under exactly one value.
        assert sum((r.total for r in by_value.values()), Decimal(0)) == total.total
        assert sum(r.conversions for r in by_value.values()) == total.conversions


def test_mixed_currencies_sum_in_the_reporting_currency(db):
    site = SiteFactory(reporting_currency="EUR")
    day = datetime(2024, 1, 5, 15, tzinfo=UTC)
    sent = [("100.00", "USD"), ("50.00", "GBP"), ("20.00", "EUR"), ("999.00", "ARS")]
    store(
        [
            event_row(
                site.pk,
                day,
                kind="custom",
                name="Purchase",
                session=n,
                visitor=n,
                revenue_amount=amount,
                revenue_currency=currency,
            )
            for n, (amount, currency) in enumerate(sent, 1)
        ]
    )
    query = q.StatsQuery(site.pk, date(2024, 1, 5), date(2024, 1, 5), "UTC", {})
    total = revenue.revenue_total(query)
    parts = [convert(Decimal(a), c, "EUR", day.date()) for a, c in sent[:3]]
    assert total.total == sum(parts) and total.conversions == 3
    assert total.fields() == {
        "revenue": float(sum(parts).quantize(Decimal("0.01"), ROUND_HALF_UP)),
        "average_revenue": float((sum(parts) / 3).quantize(Decimal("0.01"), ROUND_HALF_UP)),
    }
    assert revenue.unconverted_count(query) == 1  # the ARS purchase: kept, not counted


def test_no_revenue_gives_zero_and_no_average(db):
    site = SiteFactory()
    store([event_row(site.pk, datetime(2026, 3, 2, tzinfo=UTC))])
    query = q.StatsQuery(site.pk, date(2026, 3, 2), date(2026, 3, 2), "UTC", {})
    assert revenue.revenue_total(query).fields() == {"revenue": 0.0, "average_revenue": None}
    rows = revenue.with_revenue(q.breakdown(query, "country"), query, "country")
    assert [(r["revenue"], r["average_revenue"]) for r in rows] == [(0.0, None)]
