"""Payment processors never become a session's source (docs/revenue.md)."""

from datetime import UTC, datetime

import pytest

from sites import site_lookup
from tests.factories import SiteFactory
from tracking import pipeline
from tracking.enrichment.payment_processors import PAYMENT_PROCESSORS, is_payment_processor
from tracking.enrichment.referrers import classify_referrer
from tracking.hits import Hit, Kind, Protocol

UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)
RETURNS = [
    "https://checkout.stripe.com/c/pay/cs_live_a1b2c3",
    "https://www.paypal.com/checkoutnow?token=EC-123",
    "https://buy.paddle.com/checkout/123",
    "https://checkoutshopper-live.adyen.com/checkoutshopper/",
    "https://www.mollie.com/checkout/select-method/abc",
    "https://assets.braintreegateway.com/3ds",
    "https://pay.klarna.com/eu/checkout",
    "https://pay.checkout.com/page/123",
    "https://squareup.com/pay-invoice/abc",
    "https://example.lemonsqueezy.com/checkout/buy/123",
    "https://secure.2checkout.com/order/checkout.php",
    "https://secure.verifone.cloud/checkout",
    "https://pay.amazon.com/checkout",
]


@pytest.mark.parametrize("referrer", RETURNS)
def test_a_processor_referrer_counts_as_none(referrer):
    info = classify_referrer(referrer, page_host="shop.example")
    assert (info.referrer, info.referrer_host, info.source, info.channel) == ("", "", "", "Direct")


def test_the_list_is_matched_by_domain_not_by_substring():
    assert {"Stripe", "PayPal", "Paddle", "Adyen", "Mollie", "Braintree", "Klarna"} <= set(
        PAYMENT_PROCESSORS
    )
    assert is_payment_processor("checkout.stripe.com")
    assert is_payment_processor("pay.amazon.com")
    for host in ("amazon.com", "notstripe.com", "stripe.com.evil.example", "paypal.example"):
        assert not is_payment_processor(host)
    assert classify_referrer("https://www.amazon.com/gp/product/1").source == "Amazon"


@pytest.fixture
def config(db):
    return site_lookup.site_by_id(SiteFactory(hostname="shop.example").pk)


def visit(config, at, referrer="", url="https://shop.example/", **fields) -> dict:
    hit = Hit(
        site=config,
        protocol=Protocol.PLAUSIBLE,
        kind=Kind.PAGEVIEW,
        name="pageview",
        url=url,
        referrer=referrer,
        user_agent=UA,
        ip="198.51.100.23",
        **fields,
    )
    return pipeline.enrich(hit, at)


def at(minute: int) -> datetime:
    return datetime(2026, 3, 10, 12, minute, tzinfo=UTC)


def acquisition(row: dict) -> tuple:
    return row["source"], row["channel"], row["referrer_host"], row["utm_campaign"]


def test_coming_back_from_checkout_keeps_the_sessions_source(config):
    first = visit(
        config, at(0), "https://www.google.com/", url="https://shop.example/?utm_campaign=spring"
    )
    back = visit(
        config, at(6), "https://checkout.stripe.com/c/pay/cs_1", url="https://shop.example/thanks"
    )
    assert acquisition(first) == ("Google", "Organic Search", "google.com", "spring")
    assert acquisition(back) == acquisition(first)
    assert back["session_id"] == first["session_id"]


def test_a_direct_session_stays_direct_after_paying(config):
    first = visit(config, at(0))
    back = visit(
        config,
        at(4),
        "https://www.paypal.com/checkoutnow?token=EC-1",
        url="https://shop.example/thanks",
    )
    assert acquisition(back) == acquisition(first) == ("", "Direct", "", "")
    # Whereas a real referrer later in a direct session does say where it came from.
    later = visit(config, at(8), "https://news.ycombinator.com/item?id=1")
    assert later["source"] == "Hacker News"


def test_a_session_starting_on_the_way_back_is_direct_not_the_processor(config):
    row = visit(
        config, at(0), "https://buy.paddle.com/checkout/1", url="https://shop.example/thanks"
    )
    assert row["session_start"] is True
    assert acquisition(row) == ("", "Direct", "", "")
