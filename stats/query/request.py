"""What a statistics request asks: a site, a range of local days, a time zone, filters."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import FirstValue, TruncDay
from django.utils import timezone

from stats.dimensions import FILTER_FIELDS
from stats.models import RolledEvent
from stats.query.filters import QueryError, _condition, apply_filters, scoped_filter_names
from stats.query.scope import SCOPED_PREFIX, scoped_events
from tracking.models import Event
from tracking.protocols.matomo import uid_hash

__all__ = ["DateRange", "Measure", "QueryError", "StatsQuery", "today"]


class Measure(StrEnum):
    """What a source is asked (each source implements the ones it can answer)."""

    DAYS = "days"  # visitors, views, sessions, bounces, duration per day
    VISITORS = "visitors"  # the period's visitors (summed over days)
    BREAKDOWN = "breakdown"  # per day and value of a dimension (``exit`` included)
    PAGE_TIME = "page_time"  # time on page per day: (sum of ms, number)
    SESSIONS = "sessions"  # the session list (newest first)
    REVENUE = "revenue"  # revenue and conversions per value of a dimension (events only)
    # Per day and value of any columns together (several dimensions at once, e.g. Plausible
    # v2's): visitors, sessions, views, events, bounces and duration (events only).
    GROUPS = "groups"


@dataclass(frozen=True)
class DateRange:
    """Local days ``first_day``..``last_day`` in time zone ``tz``: the one range type."""

    first_day: date
    last_day: date
    tz: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=self.zone)

    def days(self) -> list[date]:
        return [
            self.first_day + timedelta(days=n)
            for n in range((self.last_day - self.first_day).days + 1)
        ]


@dataclass
class StatsQuery:
    site_id: int
    first_day: date
    last_day: date
    tz: str = "UTC"
    filters: dict[str, list[str]] = field(default_factory=dict)
    # Read raw events only, never rollups: the reference every other path is checked against.
    raw: bool = False
    # Add imported data (complete Plausible imports: ``stats.query.sources.imported``) for
    # the days it covers; False: the site's own data only (exports, the dashboard's switch).
    imports: bool = True

    @property
    def range(self) -> DateRange:
        return DateRange(self.first_day, self.last_day, self.tz)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def start(self) -> datetime:
        return self.range.start

    @property
    def end(self) -> datetime:
        return self.range.end

    def days(self) -> list[date]:
        return self.range.days()

    def previous(self) -> StatsQuery:
        """The period of equal length just before this one (for growth)."""
        length = (self.last_day - self.first_day).days + 1
        return dataclasses.replace(
            self,
            first_day=self.first_day - timedelta(days=length),
            last_day=self.first_day - timedelta(days=1),
        )

    # --- events ----------------------------------------------------------------
    def events(self, model: type[Event] | type[RolledEvent] = Event) -> QuerySet:
        """The range's events with the filters applied: raw (``Event``) by default, or the
        rolled-up copy of covered days (``RolledEvent``, same columns)."""
        events = model.objects.filter(
            site_id=self.site_id, timestamp__gte=self.start, timestamp__lt=self.end
        )
        filters = dict(self.filters)
        exit_paths = filters.pop("exit_path", None)
        if "uid" in filters:  # Matomo's User ID, stored only as its per-site hash
            filters["meta_uid"] = [*filters.get("meta_uid", []), *self._uid_hashes(filters)]
            del filters["uid"]
        events, filters = self._session_filtered(events, filters, model)
        events = apply_filters(events, filters)
        if exit_paths:
            events = events.filter(session_id__in=self._exiting_sessions(exit_paths, model))
        return events

    def _uid_hashes(self, filters: dict[str, list[str]]) -> list[str]:
        """``uid`` filter values (a user id in clear) as the hashes stored: only whole ids
        can match, so "contains" (``~``) means "is" and ``^`` means "is not" (``!``)."""
        hashes = []
        for value in filters["uid"]:
            prefix = value[:1] if value[:1] in ("!", "^", "~") else ""
            negation = "!" if prefix in ("!", "^") else ""
            hashes.append(negation + uid_hash(self.site_id, value[len(prefix) :]))
        return hashes

    def _session_filtered(
        self, events: QuerySet, filters: dict[str, list[str]], model
    ) -> tuple[QuerySet, dict[str, list[str]]]:
        """Raw events under the session-attribute filters, matched on the session's value
        (``SESSION_SCOPE``), and the filters left. Rolled-up events store that value."""
        names = scoped_filter_names(filters)
        if model is not Event or not names:
            return events, filters
        session = {name: filters[name] for name in names}
        matching = apply_filters(
            scoped_events(self, {FILTER_FIELDS[name] for name in names}),
            session,
            prefix=SCOPED_PREFIX,
        )
        rest = {name: values for name, values in filters.items() if name not in session}
        return events.filter(id__in=matching.values("id")), rest

    def _exiting_sessions(self, values: list[str], model=Event) -> QuerySet:
        """Sessions whose last page view in the range matches the ``exit_path`` values."""
        last_views = model.objects.filter(
            site_id=self.site_id,
            timestamp__gte=self.start,
            timestamp__lt=self.end,
            kind="pageview",
        ).annotate(
            exit_path=Window(
                FirstValue("path"),
                partition_by=[F("session_id")],
                order_by=[F("timestamp").desc(), F("id").desc()],
            )
        )
        positive, negative = Q(), Q()
        for value in values:
            condition, negated = _condition("exit_path", value)
            if negated:
                negative &= ~condition
            else:
                positive |= condition
        return last_views.filter(positive).filter(negative).values("session_id")

    def _local_day(self):
        return TruncDay("timestamp", tzinfo=self.zone)


def today(query: StatsQuery) -> date:
    return timezone.now().astimezone(query.zone).date()
