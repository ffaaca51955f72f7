"""What the identity-js visitor shape says about a visitor beyond its events: time zone and
bot score, derived from the columns Footfall stores (``docs/insights.md`` › Visitors).

No raw user agent or IP address is stored, so both come from the enriched columns:

* ``timezone``: the country's IANA zone when the country has one (``zone.tab`` of the
  pinned ``tzdata``), else the zone of that country named after the visitor's city
  (``US`` + ``New York`` → ``America/New_York``), else unknown (``null``).
* ``bot_score``: 100 when the browser family parsed from the user agent names an
  automated client (crawler, headless browser, HTTP library), else 0. Such events exist
  only where a site keeps bots on purpose (bot filter off, or Pirsch's
  ``disable_bot_filter``); the seed excludes ``bot_score > 40`` from ``/visitors``.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from importlib import resources

# Browser families (ua-parser's names, as stored in ``Event.browser``) of automated clients.
# A plain alternation: the same expression runs as PostgreSQL ``~*`` and as Django's SQLite
# REGEXP, so the ``/visitors`` exclusion and the score agree everywhere.
BOT_BROWSER_PATTERN = (
    r"(bot|crawl|spider|slurp|scrap|headless|phantom|archiv|fetch|curl|wget|python|perl"
    r"|java|okhttp|axios|http|go-|node|lighthouse|monitor|uptime|feed|rss|preview|scanner"
    r"|checker|validator|nutch|heritrix|larbin|httrack|libwww|findlinks|ia_archiver|yeti"
    r"|daumoa|jersey|simplepie|datanyze|wordpress|whatsapp|slack|discord|telegram)"
)
BOT_SCORE = 100
# The seed: "Bots (bot_score > 40) are automatically excluded."
BOT_SCORE_LISTED_MAX = 40


@functools.cache
def _bot_regex():

    return re.compile(BOT_BROWSER_PATTERN, re.I)


def bot_score(browser: str | None) -> int:
    """0 or 100: whether the stored browser family is an automated client's."""
    return BOT_SCORE if browser and _bot_regex().search(browser) else 0


@functools.cache
def _zones_by_country() -> dict[str, list[str]]:
    table = resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text()
    zones: dict[str, list[str]] = defaultdict(list)
    for line in table.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            zones[fields[0].upper()].append(fields[2])
    return dict(zones)


def _city_key(name: str) -> str:
    return name.replace("_", " ").strip().casefold()


def visitor_timezone(country_code: str | None, city: str | None) -> str | None:
    """The visitor's IANA time zone as far as the stored country and city tell it."""
    if not country_code:
        return None
    zones = _zones_by_country().get(country_code.upper(), [])
    if len(zones) == 1:
        return zones[0]
    if city:
        wanted = _city_key(city)
        for zone in zones:
            if _city_key(zone.rsplit("/", 1)[-1]) == wanted:
                return zone
    return None
