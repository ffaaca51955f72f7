"""A period's totals, summed once from per-day metrics (``stats.query.daily_metrics``).

Each API rounds and names the derived figures its own way (its serializer); the sums and
the shares every API agrees on are here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SUMMED = ("visitors", "views", "sessions", "bounces", "duration_ms")


@dataclass(frozen=True)
class Totals:
    """Summed per-day metrics. ``visitors`` is the sum of each day's unique visitors."""

    visitors: int = 0
    views: int = 0
    sessions: int = 0
    bounces: int = 0
    duration_ms: int = 0

    @classmethod
    def of_days(cls, days: Iterable[Mapping[str, int]]) -> Totals:
        days = list(days)
        return cls(**{key: sum(day.get(key, 0) for day in days) for key in SUMMED})

    @property
    def bounce_rate(self) -> float:
        """Bounced sessions' share, four decimals (0 without sessions)."""
        return round(self.bounces / self.sessions, 4) if self.sessions else 0

    @property
    def views_per_session(self) -> float:
        return round(self.views / self.sessions, 2) if self.sessions else 0

    @property
    def avg_session_ms(self) -> int:
        """Average session duration in whole milliseconds, rounded down."""
        return int(self.duration_ms / self.sessions) if self.sessions else 0
