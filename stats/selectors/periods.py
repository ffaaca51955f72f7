"""The time span of a read: a ``Period`` of a site's local days as UTC instants, the
events in it, and the all-time span of one session or visitor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Max, Min, QuerySet

from sites.models import Site
from stats.models import RolledEvent
from stats.query.coverage import rolled_until
from tracking.models import Event


@dataclass(frozen=True)
class Period:
    """A date range in a site's time zone, as UTC datetimes [start, end)."""

    start: datetime
    end: datetime
    first_day: date | None = None
    last_day: date | None = None
    tz: str = "UTC"

    @classmethod
    def of_days(cls, first: date, last: date, tz: str) -> Period:
        zone = ZoneInfo(tz)
        start = datetime.combine(first, time.min, tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
        return cls(start, end, first, last, tz)


def events_in(site_id: int, period: Period) -> QuerySet[Event]:
    return Event.objects.filter(
        site_id=site_id, timestamp__gte=period.start, timestamp__lt=period.end
    )


def all_time_bounds(site_id: int, **lookup) -> tuple[datetime, datetime] | None:
    """First and last event time of one session or visitor, all time: rolled-up days by
    index (``RolledEvent``), the days after them from raw events (no index by session or
    visitor there, but only a day or so of rows)."""
    site = Site.objects.filter(pk=site_id).only("timezone").first()
    boundary = rolled_until(site_id, site.timezone) if site else None
    parts = [Event.objects.filter(site_id=site_id, **lookup)]
    if boundary is not None and connection.vendor == "postgresql":
        parts = [
            RolledEvent.objects.filter(site_id=site_id, timestamp__lt=boundary, **lookup),
            parts[0].filter(timestamp__gte=boundary),
        ]
    found = [part.aggregate(first=Min("timestamp"), last=Max("timestamp")) for part in parts]
    firsts = [f["first"] for f in found if f["first"] is not None]
    if not firsts:
        return None
    return min(firsts), max(f["last"] for f in found if f["last"] is not None)
