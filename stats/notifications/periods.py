"""Report periods and when they are due, in the site's time zone.

A report covers a whole previous calendar period and is due at 09:00 local time on the
day after it ends: daily → yesterday, on every day; weekly → Monday–Sunday, on Mondays;
monthly → the previous month, on the 1st; quarterly → the previous quarter, on the 1st of
January, April, July and October. 09:00 exists on every day in every zone (daylight-saving
changes happen at night), so each period has exactly one due time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SEND_AT = time(9, 0)


@dataclass(frozen=True)
class ReportPeriod:
    frequency: str
    first_day: date
    last_day: date
    due_at: datetime  # aware, in the site's zone

    @property
    def label(self) -> str:
        first, last = self.first_day, self.last_day
        if self.frequency == "daily":
            return f"{first:%A} {first.day} {first:%B %Y}"
        if self.frequency == "monthly":
            return f"{first:%B %Y}"
        if self.frequency == "quarterly":
            return f"Q{(first.month - 1) // 3 + 1} {first.year}"
        if first.year != last.year:
            return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"
        if first.month != last.month:
            return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
        return f"{first.day}–{last.day} {last:%b %Y}"

    def previous(self) -> tuple[date, date]:
        """The calendar period before this one (what the changes compare with)."""
        return period_containing(self.frequency, self.first_day - timedelta(days=1))


def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def period_containing(frequency: str, day: date) -> tuple[date, date]:
    if frequency == "daily":
        return day, day
    if frequency == "weekly":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    if frequency == "monthly":
        first = day.replace(day=1)
        return first, _month_start(first, -1) - timedelta(days=1)
    if frequency == "quarterly":
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return first, _month_start(first, -3) - timedelta(days=1)
    raise ValueError(f"unknown frequency {frequency!r}")


def due_at(last_day: date, tz: str) -> datetime:
    return datetime.combine(last_day + timedelta(days=1), SEND_AT, tzinfo=ZoneInfo(tz))


def latest_due(frequency: str, now: datetime, tz: str) -> ReportPeriod:
    """The most recent period whose due time is at or before ``now``."""
    today = now.astimezone(ZoneInfo(tz)).date()
    current_first, _ = period_containing(frequency, today)
    first, last = period_containing(frequency, current_first - timedelta(days=1))
    if due_at(last, tz) > now:
        first, last = period_containing(frequency, first - timedelta(days=1))
    return ReportPeriod(frequency, first, last, due_at(last, tz))
