"""Per-session figures of a period's summed metrics (``stats.query.DayMetrics``, summed once
by ``DayMetrics.total``), as the identity-js API, the web metrics and the dashboard show them.
Shares and rates are ``stats.query.rate`` (four places)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from stats.query import DayMetrics


def summed(days: Iterable[Mapping[str, int]]) -> DayMetrics:
    """The sum of ``daily_metrics`` days (dicts, as the dashboard passes them around)."""
    return DayMetrics.total(DayMetrics.of(dict(day)) for day in days)


def views_per_session(metrics: DayMetrics) -> float:
    return round(metrics.views / metrics.sessions, 2) if metrics.sessions else 0


def avg_session_ms(metrics: DayMetrics) -> int:
    """Average session duration in whole milliseconds, rounded down."""
    return int(metrics.duration_ms / metrics.sessions) if metrics.sessions else 0
