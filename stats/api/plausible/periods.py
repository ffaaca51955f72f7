"""Plausible's periods: named periods (``day``, ``7d``, ``month``, ``custom``…) and v2 date
ranges, resolved to local days in the site's calendar and capped by ``stats.ranges``."""

from __future__ import annotations

import json
from calendar import monthrange
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from stats import ranges
from stats.api.plausible.errors import PlausibleError
from stats.selectors import first_event_day

V1_PERIODS = ("day", "7d", "30d", "month", "6mo", "12mo", "custom")
V2_PERIODS = ("day", "7d", "28d", "30d", "91d", "month", "6mo", "12mo", "year", "all")


def _today(tz: str) -> date:
    return timezone.now().astimezone(ZoneInfo(tz)).date()


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def resolve_period(period: str, anchor: date, *, first_event: date | None = None) -> tuple:
    """(first, last) local days of a named period ending on ``anchor`` (Plausible's names)."""
    if period == "day":
        return anchor, anchor
    if period.endswith("d") and period[:-1].isdigit():
        return anchor - timedelta(days=int(period[:-1]) - 1), anchor
    if period == "month":
        return anchor.replace(day=1), month_end(anchor)
    if period in ("6mo", "12mo"):
        return _months_back(anchor, int(period[:-2]) - 1), month_end(anchor)
    if period == "year":
        return date(anchor.year, 1, 1), date(anchor.year, 12, 31)
    if period == "all":
        return (first_event or anchor), anchor
    raise PlausibleError(f"Invalid period {period}")


def v1_days(params, tz: str) -> tuple[date, date, str]:
    """(first, last, period) from v1's ``period`` and ``date`` (Plausible's messages)."""
    period = params.get("period") or "30d"
    if period not in V1_PERIODS:
        raise PlausibleError(
            f"Error parsing `period` parameter: invalid period `{period}`. Please find accepted "
            "values in our docs: https://plausible.io/docs/stats-api#time-periods"
        )
    raw_date = params.get("date")
    if period == "custom":
        if not raw_date:
            raise PlausibleError(
                "The `date` parameter is required when using a custom period. See "
                "https://plausible.io/docs/stats-api#time-periods"
            )
        parts = raw_date.split(",")
        try:
            if len(parts) != 2:
                raise ValueError
            first, last = (date.fromisoformat(p.strip()) for p in parts)
        except ValueError as exc:
            raise PlausibleError(
                "Invalid format for `date` parameter. When using a custom period, please include "
                "two ISO-8601 formatted dates joined by a comma. See "
                "https://plausible.io/docs/stats-api#time-periods"
            ) from exc
    else:
        if raw_date:
            try:
                anchor = date.fromisoformat(raw_date)
            except ValueError as exc:
                raise PlausibleError(
                    f"Error parsing `date` parameter: invalid date `{raw_date}`. Please specify "
                    "a valid date in ISO-8601 format."
                ) from exc
        else:
            anchor = _today(tz)
        first, last = resolve_period(period, anchor)
    _check(first, last)
    return first, last, period


def v2_days(date_range, tz: str, relative: str | None, site_id: int) -> tuple[date, date, str]:
    """(first, last, name) from v2's ``date_range`` (a name, or two ISO dates/timestamps)."""
    if isinstance(date_range, str):
        if date_range not in V2_PERIODS:
            raise PlausibleError(f"#/date_range: Invalid date_range {_json(date_range)}")
        try:
            anchor = date.fromisoformat(relative) if relative else _today(tz)
        except (TypeError, ValueError) as exc:
            raise PlausibleError(f"#/date: Invalid date {_json(relative)}") from exc
        first_event = None
        if date_range == "all":
            first_event = first_event_day(site_id, tz)
        first, last = resolve_period(date_range, anchor, first_event=first_event)
        first = min(first, last)
    elif (
        isinstance(date_range, list)
        and len(date_range) == 2
        and all(isinstance(v, str) for v in date_range)
    ):
        try:
            first, last = (ranges.parse_day(v, "date_range", timestamps=True) for v in date_range)
        except ranges.RangeError as exc:
            raise PlausibleError(f"#/date_range: Invalid date_range {_json(date_range)}") from exc
        date_range = "custom"
    else:
        raise PlausibleError(f"#/date_range: Invalid date_range {_json(date_range)}")
    _check(first, last)
    return first, last, date_range


def _check(first: date, last: date) -> None:
    try:
        ranges.check_range(first, last, "date_range", "date_range")
    except ranges.RangeError as exc:
        raise PlausibleError(f"Invalid date range: {exc.message}.") from exc


def _json(value) -> str:
    return json.dumps(value)[:200]
