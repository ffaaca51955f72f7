"""The ``/visitors`` filters (browser, OS, country, a free-text search, bots) on events,
session rows or raw events' session values."""

from __future__ import annotations

import pycountry
from django.db.models import Q, QuerySet

from stats.visitor_traits import BOT_BROWSER_PATTERN


def _visitor_id_range(text: str) -> tuple[int, int] | None:
    """The stored ids whose public id starts with ``text`` (``v_`` and 1-16 hex digits, or
    16 hex digits alone), as one signed range: ids are shown as unsigned hex, so a prefix
    is an aligned block of the unsigned space, which never straddles the sign bit."""
    digits = text[2:] if text[:2].lower() == "v_" else (text if len(text) == 16 else "")
    if not 1 <= len(digits) <= 16 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        return None
    shift = 4 * (16 - len(digits))
    low = int(digits, 16) << shift
    high = low + (1 << shift) - 1

    def signed(value: int) -> int:
        return value - 2**64 if value >= 2**63 else value

    return signed(low), signed(high)


def _country_codes(text: str) -> list[str]:
    """Codes of the countries whose name contains ``text`` (``serb`` → ``RS``)."""
    wanted = text.strip().casefold()
    if len(wanted) < 2:
        return []
    return [
        country.alpha_2
        for country in pycountry.countries
        if any(
            wanted in getattr(country, field, "").casefold()
            for field in ("name", "common_name", "official_name")
        )
    ]


def visitor_search(search: str, prefix: str = "") -> Q:
    """``search``: visitor id (prefix), browser, OS, city, country code or country name.
    ``prefix`` names the session-scoped columns (``stats.query.SCOPED_PREFIX``)."""
    condition = (
        Q(**{f"{prefix}browser__icontains": search})
        | Q(**{f"{prefix}os__icontains": search})
        | Q(**{f"{prefix}city__icontains": search})
        | Q(**{f"{prefix}country_code__iexact": search})
    )
    id_range = _visitor_id_range(search.strip())
    if id_range is not None:
        condition |= Q(visitor_id__gte=id_range[0], visitor_id__lte=id_range[1])
    codes = _country_codes(search)
    if codes:
        condition |= Q(**{f"{prefix}country_code__in": codes})
    return condition


# The session-scoped columns ``_visitor_filters`` reads.
VISITOR_FILTER_COLUMNS = ("browser", "os", "country_code", "city")


def filter_visitors(
    rows: QuerySet,
    *,
    browser: str,
    os: str,
    country: str,
    search: str,
    bots: bool = True,
    prefix: str = "",
):
    """The ``/visitors`` filters, on events or session rows (the same column names), or
    with ``prefix`` on raw events' session values (``stats.query.scoped_events``);
    ``bots=False`` leaves out automated clients' rows (``stats.visitor_traits``)."""
    if not bots:
        rows = rows.exclude(**{f"{prefix}browser__iregex": BOT_BROWSER_PATTERN})
    if browser:
        rows = rows.filter(**{f"{prefix}browser__iexact": browser})
    if os:
        rows = rows.filter(**{f"{prefix}os__iexact": os})
    if country:
        rows = rows.filter(**{f"{prefix}country_code__iexact": country})
    if search:
        rows = rows.filter(visitor_search(search, prefix))
    return rows
