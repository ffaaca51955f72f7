"""One query layer for statistics: a ``StatsQuery`` answered from the sources the planner
chooses (``stats.query.plan``: the one place deciding which source answers which days).

Modules: ``request`` (what is asked), ``filters`` and ``scope`` (how events are narrowed and
which visit attributes they carry), ``plan`` (which source answers which days),
``sources/`` (daily tables, session rows, events in SQL or Python), ``measures`` (daily
metrics, totals, breakdowns, time on page), ``sessions`` (the session list), ``events``
(custom events, tags, goals, live), ``results`` (typed results), ``sql`` (SQL over the
event parts), ``engine`` (the database engine, chosen once). The definitions are in
``stats.query.measures``; docs/statistics.md draws the read path.

This package re-exports the names other modules import from ``stats.query`` (the
submodules keep their names: ``stats.query.plan`` is the planner module).
"""

from zoneinfo import ZoneInfo

from stats.dimensions import (
    COMPUTED_COLUMNS,
    DIMENSIONS,
    FILTER_FIELDS,
    SESSION_COLUMNS,
    SESSION_DIMENSIONS,
    SESSION_FILTERS,
)
from stats.query.coverage import (
    after,
    covered_days,
    event_sets,
    split,
    uses_rolled_events,
)
from stats.query.engine import engine
from stats.query.events import (
    active_visitors,
    event_list,
    event_meta,
    event_pages,
    goals,
    recent_breakdown,
    tags,
)
from stats.query.filters import (
    BOUNCE,
    QueryError,
    apply_filters,
    scoped_filter_names,
    validate_filters,
)
from stats.query.measures import (
    ZERO_METRICS,
    _dimension_days,
    _growth,
    _page_time_days,
    _visitors_total,
    breakdown,
    breakdown_rows,
    concurrently,
    daily_from_events,
    daily_metrics,
    day_metrics,
    dimension_days,
    dimension_days_from_events,
    duration_series,
    exit_days_from_events,
    exit_pages,
    groups,
    growth,
    growth_rate,
    hours,
    page_time_days,
    page_time_days_from_events,
    period_totals,
    period_visitors,
    scale_fields,
    time_on_page,
    totals,
    visitor_series,
    visitors_total,
)
from stats.query.plan import uses_session_rows
from stats.query.request import DateRange, StatsQuery
from stats.query.results import (
    BreakdownRow,
    DayMetrics,
    GroupMetrics,
    SessionSummary,
    Totals,
    milliseconds,
)
from stats.query.scope import (
    SCOPED_PREFIX,
    SESSION_SCOPE,
    SESSION_SCOPED,
    ScopeGroup,
    scoped_events,
)
from stats.query.sessions import (
    active_since,
    latest_event_at,
    newest_first,
    session_list,
    session_summaries,
)
from stats.query.sources.events_python import (
    daily_from_events_orm,
    page_time_samples,
    session_summaries_from_events,
    time_on_page_python,
)
from stats.query.sources.session_rows import (
    daily_from_session_rows,
    dimension_days_from_session_rows,
    exit_days_from_session_rows,
    session_days,
)
from stats.query.sql import events_sql, scoped_sql, sql_of, union_sql

# Older private names other modules still use (``stats.funnels.selectors``, tests).
_covered = covered_days
_events_sql = events_sql
_sql = sql_of

__all__ = [
    "BOUNCE",
    "COMPUTED_COLUMNS",
    "DIMENSIONS",
    "FILTER_FIELDS",
    "SCOPED_PREFIX",
    "SESSION_COLUMNS",
    "SESSION_DIMENSIONS",
    "SESSION_FILTERS",
    "SESSION_SCOPE",
    "SESSION_SCOPED",
    "ZERO_METRICS",
    "BreakdownRow",
    "DateRange",
    "DayMetrics",
    "GroupMetrics",
    "QueryError",
    "ScopeGroup",
    "SessionSummary",
    "StatsQuery",
    "Totals",
    "ZoneInfo",
    "_covered",
    "_dimension_days",
    "_events_sql",
    "_growth",
    "_page_time_days",
    "_sql",
    "_visitors_total",
    "active_since",
    "active_visitors",
    "after",
    "apply_filters",
    "breakdown",
    "breakdown_rows",
    "concurrently",
    "covered_days",
    "daily_from_events",
    "daily_from_events_orm",
    "daily_from_session_rows",
    "daily_metrics",
    "day_metrics",
    "dimension_days",
    "dimension_days_from_events",
    "dimension_days_from_session_rows",
    "duration_series",
    "engine",
    "event_list",
    "event_meta",
    "event_pages",
    "event_sets",
    "events_sql",
    "exit_days_from_events",
    "exit_days_from_session_rows",
    "exit_pages",
    "goals",
    "groups",
    "growth",
    "growth_rate",
    "hours",
    "latest_event_at",
    "milliseconds",
    "newest_first",
    "page_time_days",
    "page_time_days_from_events",
    "page_time_samples",
    "period_totals",
    "period_visitors",
    "recent_breakdown",
    "scale_fields",
    "scoped_events",
    "scoped_filter_names",
    "scoped_sql",
    "session_days",
    "session_list",
    "session_summaries",
    "session_summaries_from_events",
    "split",
    "sql_of",
    "tags",
    "time_on_page",
    "time_on_page_python",
    "totals",
    "union_sql",
    "uses_rolled_events",
    "uses_session_rows",
    "validate_filters",
    "visitor_series",
    "visitors_total",
]
