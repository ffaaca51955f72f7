"""The source planner: the one place that decides which source answers which days.

A request's days are answered by one source each (docs/statistics.md, "The read path"):

- ``CLAIMANTS`` first (sources of data from elsewhere, e.g. imported data): each answers
  the days it claims for a measure;
- of the other days, the whole past days the rollups cover (a prefix: ``covered_days``)
  come from the **daily tables** (no filters), or the **session rows** (filters on visit
  attributes only, for the measures session rows hold), or else
- the **events**: rolled-up events for covered days and raw events for the rest
  (``split``), one statement over both on PostgreSQL; raw events only on the embedded
  default (``stats.query.engine``).

``covered_days`` and ``split`` live in ``stats.query.coverage`` (below the sources, which
read events through its ``event_sets``).

Every measure (``stats.query.measures``) asks ``plan()`` for its parts and ``combine()``s
the answers; nothing else looks at rollup coverage or the database engine.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol, TypeVar

from stats.dimensions import SESSION_DIMENSIONS, SESSION_FILTERS
from stats.query.coverage import after, covered_days
from stats.query.engine import engine
from stats.query.request import Measure, StatsQuery
from stats.query.sources import imported


class Source(StrEnum):
    """The native sources (``stats.query.sources``)."""

    DAILY = "daily"  # DailySiteStats / DailyDimensionStats
    SESSION_ROWS = "session_rows"  # SessionDay
    EVENTS = "events"  # RolledEvent rows of covered days + raw Event rows


class ClaimingSource(Protocol):
    """A source of days from elsewhere (imported data): the days of ``query`` it answers for
    ``measure`` (sorted; none when it cannot answer the measure, filters or dimension),
    and the measures themselves (as ``stats.query.sources.daily.DailyTables``)."""

    name: str

    def claims(self, query: StatsQuery, measure: Measure, dimension: str | None) -> list[date]: ...

    def days(self, query: StatsQuery) -> dict[date, dict]: ...

    def visitors(self, query: StatsQuery) -> int: ...

    def dimension_days(self, query: StatsQuery, dimension: str) -> dict[date, dict]: ...

    def page_time_days(self, query: StatsQuery) -> dict[date, tuple[int, int]]: ...


# The extension point: sources answering days before the native ones do, one entry each,
# in priority order. Imported data goes here as ``imported.SOURCE`` (its module,
# ``stats/query/sources/imported.py``, imports ``Measure`` from ``stats.query.request``,
# never this module, so importing it here makes no cycle).
CLAIMANTS: list[ClaimingSource] = [imported.SOURCE]


@dataclass(frozen=True)
class Part:
    """Days of a request (``query``) and the source that answers them."""

    source: Source | ClaimingSource
    query: StatsQuery


def uses_session_rows(query: StatsQuery) -> bool:
    """Whether filtered metrics come from ``SessionDay`` rows for covered days: every filter
    is a session attribute (PostgreSQL only; the embedded SQLite answers from raw events)."""
    return bool(query.filters) and engine().session_rows and set(query.filters) <= SESSION_FILTERS


def _covered_source(query: StatsQuery, measure: Measure, dimension: str | None) -> Source | None:
    """Which rolled-up source answers the covered days for ``measure`` (None: the events)."""
    if measure is Measure.REVENUE:
        return None  # only events carry revenue (their rolled-up copies for covered days)
    if measure is Measure.GROUPS:
        return None  # any columns together: no rolled-up table is keyed by every combination
    if measure is Measure.SESSIONS:
        if not engine().session_rows:
            return None
        return Source.SESSION_ROWS if not query.filters or uses_session_rows(query) else None
    if not query.filters:
        return Source.DAILY
    if measure is Measure.PAGE_TIME or not uses_session_rows(query):
        return None
    if measure is Measure.BREAKDOWN and dimension not in (*SESSION_DIMENSIONS, "exit"):
        return None
    return Source.SESSION_ROWS


def native_parts(query: StatsQuery, measure: Measure, dimension: str | None = None) -> list[Part]:
    """The native sources' parts of ``query``: a rolled-up source for the covered days
    when one answers the measure, the events for the rest."""
    covered = covered_days(query)
    source = _covered_source(query, measure, dimension) if covered else None
    parts = []
    if source is not None:
        parts.append(
            Part(source, dataclasses.replace(query, first_day=covered[0], last_day=covered[-1]))
        )
    else:
        covered = []
    rest = after(query, covered)
    if rest is not None:
        parts.append(Part(Source.EVENTS, rest))
    return parts


def plan(query: StatsQuery, measure: Measure, dimension: str | None = None) -> list[Part]:
    """Which source answers which days of ``query`` for ``measure``: disjoint parts, oldest
    days first. Days a claimant claims are its own; runs of the other days get the native
    sources (``native_parts``)."""
    claimed: dict[date, ClaimingSource] = {}
    for claimant in CLAIMANTS:
        for day in claimant.claims(query, measure, dimension):
            claimed.setdefault(day, claimant)
    if not claimed:
        return native_parts(query, measure, dimension)
    parts: list[Part] = []
    for owner, run in itertools.groupby(query.days(), key=claimed.get):
        days = list(run)
        segment = dataclasses.replace(query, first_day=days[0], last_day=days[-1])
        if owner is None:
            parts.extend(native_parts(segment, measure, dimension))
        else:
            parts.append(Part(owner, segment))
    return parts


T = TypeVar("T")


def combine(answers: Iterable[Mapping[date, T]]) -> dict[date, T]:
    """Per-day answers of disjoint parts merged into one, in day order."""
    merged: dict[date, T] = {}
    for answer in answers:
        merged.update(answer)
    return dict(sorted(merged.items()))
