"""Load the hot path's data before the first hit (bot patterns, referrer database, GeoIP,
exchange rates).

Compiling the crawler patterns and reading the referrer database take about a second;
without this the first visitors of every new worker process would wait for it.
"""

from django.conf import settings

from sites.exchange_rates import get_rates
from tracking.enrichment.bots import bot_reason
from tracking.enrichment.geo import get_locator
from tracking.enrichment.referrers import classify_referrer
from tracking.enrichment.useragent import parse_user_agent


def warm_up() -> None:
    bot_reason("Mozilla/5.0 (warm-up)")
    classify_referrer("https://www.google.com/")
    classify_referrer("", utm_source="google")
    parse_user_agent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36"
    )
    get_rates()  # the ECB rates revenue is converted with (about 0.3 s)
    locator = get_locator(settings.GEOIP_DATABASE)
    if locator is not None:
        locator.lookup("8.8.8.8")
