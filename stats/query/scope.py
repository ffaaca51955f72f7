"""Session scope: the visit's attributes as statistics read them.

On each local day a session's value of a group of attributes is that of its first event
(by time, then id) that has the group's key. ``tracking.sessions`` stamps new events alike;
this reads the rows already stored. docs/statistics.md, "Session scope"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from django.db.models import Case, F, QuerySet, Value, When, Window
from django.db.models.functions import FirstValue, TruncDate

from tracking.models import Event


class DayRange(Protocol):
    """What ``scoped_events`` reads of a request (``stats.query.request.StatsQuery``): its
    site and local days. A protocol, so this module, below the request, imports none."""

    @property
    def site_id(self) -> int: ...

    @property
    def zone(self) -> ZoneInfo: ...

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...


@dataclass(frozen=True)
class ScopeGroup:
    """Session attributes taken together from one event. The first column is the key: an
    event whose key is one of ``weak`` does not say (so a later event may), and among such
    events an earlier entry of ``weak`` wins (a "Direct" over nothing at all)."""

    columns: tuple[str, ...]
    weak: tuple[str, ...] = ("",)

    def rank_sql(self) -> str:
        """SQL ranking an event for the group: 0 when it has a value (fixed literals)."""
        whens = " ".join(f"WHEN '{value}' THEN {n}" for n, value in enumerate(self.weak, 1))
        return f'(CASE "{self.columns[0]}" {whens} ELSE 0 END)'

    def rank(self) -> Case:
        """``rank_sql`` for the ORM."""
        whens = [
            When(**{self.columns[0]: value}, then=Value(n)) for n, value in enumerate(self.weak, 1)
        ]
        return Case(*whens, default=Value(0))


# Session-scoped attributes: on each local day, a session's value of a group is that of its
# first event (by time, then id) that has the group's key, else that of its first event
# with the best-ranked ``weak`` key. Every event of the session-day counts under it,
# whatever it carries itself (heartbeats, custom events and older rows often carry
# nothing). ``tracking.sessions`` stamps new events alike; this reads the rows already
# stored, including those written before their session had a value. Statistics take it
# from here everywhere: the rollups store it in session rows and rolled-up events, raw
# reads compute it (``scoped_events``). ``hostname`` belongs to the page, not the visit.
# docs/statistics.md, "Session scope".
SESSION_SCOPE = (
    ScopeGroup(("entry_path",)),
    ScopeGroup(
        (
            "channel",
            "referrer",
            "source",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_content",
            "utm_term",
        ),
        ("Direct", ""),  # a direct hit says nothing: a later referrer fills it in
    ),
    ScopeGroup(("browser", "browser_version")),
    ScopeGroup(("os", "os_version")),
    ScopeGroup(("device_type",)),
    ScopeGroup(("screen_class",)),
    ScopeGroup(("language",)),
    ScopeGroup(("country_code", "region", "city")),
)
SESSION_SCOPED = {column: group for group in SESSION_SCOPE for column in group.columns}
SCOPED_PREFIX = "session_"  # raw events' annotations holding the session's values


def scoped_events(query: DayRange, columns) -> QuerySet[Event]:
    """The range's raw events (no filters), each annotated with its session's value of every
    session-scoped column in ``columns`` as ``session_<column>`` (window functions over the
    session's events of the local day)."""
    day = TruncDate("timestamp", tzinfo=query.zone)
    annotations = {}
    for column in columns:
        annotations[SCOPED_PREFIX + column] = Window(
            FirstValue(column),
            partition_by=[day, F("session_id")],
            order_by=[SESSION_SCOPED[column].rank().asc(), F("timestamp").asc(), F("id").asc()],
        )
    return Event.objects.filter(
        site_id=query.site_id, timestamp__gte=query.start, timestamp__lt=query.end
    ).annotate(**annotations)
