"""What the dashboard tests share: the range, the pages and partials, visitors' fields and
the request helpers."""

from datetime import UTC, datetime

from stats import dashboard

RANGE = {"period": "custom", "from": "2023-01-01", "to": "2023-01-03"}
PARTIALS = [f"panels/{name}" for name in dashboard.PANELS] + [
    f"panels/{name}/details" for name in dashboard.PANELS
]
PAGES = ["", "live", "live/data", "live/badge", "export.csv", *PARTIALS]

LONDON_CHROME = {
    "visitor": 1,
    "session": 1,
    "entry_path": "/",
    "country_code": "GB",
    "region": "GB-ENG",
    "city": "London",
    "language": "en",
    "browser": "Chrome",
    "os": "Windows",
    "device_type": "desktop",
    "screen_class": "XL",
    "referrer": "google.com/search",
    "source": "Google",
    "channel": "Organic Search",
}
BERLIN_FIREFOX = {
    "visitor": 2,
    "session": 2,
    "entry_path": "/",
    "country_code": "DE",
    "region": "DE-BE",
    "city": "Berlin",
    "language": "de",
    "browser": "Firefox",
    "os": "Linux",
    "device_type": "desktop",
    "screen_class": "L",
    "channel": "Direct",
}
MUNICH_PHONE = {
    "visitor": 3,
    "session": 3,
    "entry_path": "/blog",
    "country_code": "DE",
    "region": "DE-BY",
    "city": "Munich",
    "language": "de",
    "browser": "Safari",
    "os": "iOS",
    "device_type": "mobile",
    "screen_class": "S",
    "utm_source": "newsletter",
    "channel": "Email",
}


def at(day, hour, minute=0):
    return datetime(2023, 1, day, hour, minute, tzinfo=UTC)


def get(client, site, sub="", /, **params):
    return client.get(f"/sites/{site.public_id}/{sub}", params)


def kpi(response, key):
    return next(card["value"] for card in response.context["kpis"] if card["key"] == key)


def panel_values(response):
    return [(row["label"], row["visitors"]) for row in response.context["rows"]]
