"""Typed results of the query layer. Each has ``as_dict()``, the shape callers and the APIs
read today (Pirsch's field names and order), while they move to the typed fields."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta


@dataclass(frozen=True)
class DayMetrics:
    """One local day (or a sum of days): visitors are summed over days, as everywhere."""

    visitors: int = 0
    views: int = 0
    sessions: int = 0
    bounces: int = 0
    duration_ms: int = 0

    def __add__(self, other: DayMetrics) -> DayMetrics:
        return DayMetrics(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(DayMetrics))
        )

    @classmethod
    def of(cls, values: dict) -> DayMetrics:
        return cls(**{f.name: values.get(f.name, 0) for f in fields(cls)})

    @classmethod
    def total(cls, days: Iterable[DayMetrics]) -> DayMetrics:
        result = cls()
        for day in days:
            result += day
        return result

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class GroupMetrics:
    """One value of some columns on one local day (or a sum of days): ``Measure.GROUPS``.

    ``events`` counts page views and custom events; a session-day counts once under each
    value it has events under, and bounced (at most one page view, no interactive custom
    event) or lasted (first to last event) by its events under that value. For
    session-scoped columns that is the whole session-day, as in ``DayMetrics``."""

    visitors: int = 0
    sessions: int = 0
    views: int = 0
    events: int = 0
    bounces: int = 0
    duration_ms: int = 0

    def __add__(self, other: GroupMetrics) -> GroupMetrics:
        return GroupMetrics(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(GroupMetrics))
        )


def rate(part: int, whole: int) -> float:
    """``part / whole`` rounded to 4 places (0 without a whole): every share and rate."""
    return round(part / whole, 4) if whole else 0


@dataclass(frozen=True)
class Totals:
    """A period's totals (Pirsch's ``TotalVisitorStats``)."""

    visitors: int
    views: int
    sessions: int
    bounces: int

    @property
    def bounce_rate(self) -> float:
        return rate(self.bounces, self.sessions)

    @classmethod
    def of(cls, metrics: DayMetrics) -> Totals:
        return cls(metrics.visitors, metrics.views, metrics.sessions, metrics.bounces)

    def as_dict(self) -> dict:
        return {
            "visitors": self.visitors,
            "views": self.views,
            "sessions": self.sessions,
            "bounces": self.bounces,
            "bounce_rate": self.bounce_rate,
            "cr": 0,
            "custom_metric_avg": 0,
            "custom_metric_total": 0,
        }


@dataclass(frozen=True)
class BreakdownRow:
    """One value of a breakdown: its key columns and values, counts and shares."""

    columns: tuple[str, ...]
    key: tuple
    visitors: int
    views: int
    sessions: int
    relative_visitors: float
    relative_views: float

    def as_dict(self) -> dict:
        return {
            **dict(zip(self.columns, self.key, strict=True)),
            "visitors": self.visitors,
            "views": self.views,
            "sessions": self.sessions,
            "relative_visitors": self.relative_visitors,
            "relative_views": self.relative_views,
        }


@dataclass(frozen=True)
class SessionSummary:
    """One session of the session list (newest first)."""

    session_id: int
    visitor_id: int
    start: datetime
    end: datetime
    entry_path: str
    exit_path: str
    exit_title: str
    page_views: int
    interactions: int

    @property
    def duration_ms(self) -> int:
        return milliseconds(self.end - self.start)

    @property
    def is_bounce(self) -> bool:
        return self.page_views <= 1 and self.interactions == 0

    def as_dict(self) -> dict:
        return {
            **{f.name: getattr(self, f.name) for f in fields(self)},
            "duration_ms": self.duration_ms,
            "is_bounce": self.is_bounce,
        }


def milliseconds(delta: timedelta) -> int:
    """Whole milliseconds of a duration, exactly (no float rounding)."""
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
