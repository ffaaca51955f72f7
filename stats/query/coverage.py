"""Which days the rollups cover, and a query's events split where they stop.

The rollups (``stats.rollups``) write whole past days of the site's time zone; how far they
have read is ``RollupState.received_until``. This module reads that boundary:

- ``rolled_until`` / ``site_covered_days``: by site, for the rollups themselves, the
  daily tables (``stats.query.sources.daily``) and ``stats.services``;
- ``covered_days`` / ``split`` / ``event_sets``: by request, for the planner
  (``stats.query.plan``) and every source reading events (``RolledEvent`` rows for the
  covered days, raw events for the rest).

Within one HTTP request the boundary is read once per (site, time zone) and kept until the
request ends (``analytics_project.request_memo``): the planner and every source of one
answer then split at the same day (a rollup run finishing mid-request cannot make them
disagree), and an answer made of several plans (totals, revenue, a breakdown's shares)
reads it once instead of once per plan and source. Outside requests (the rollups
themselves, commands, tasks) it is read every time; a rollup run inside a request (eager
Celery) forgets the kept boundaries when it saves or deletes a ``RollupState``.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from analytics_project.request_memo import forget, remembered
from stats.models import RolledEvent, RollupState
from stats.query.engine import engine
from stats.query.request import StatsQuery, today

BOUNDARY = "rollup-boundary"  # the kept fact's name (``analytics_project.request_memo``)


@receiver(post_save, sender=RollupState, dispatch_uid="stats-coverage-state-saved")
@receiver(post_delete, sender=RollupState, dispatch_uid="stats-coverage-state-deleted")
def _state_changed(**kwargs: Any) -> None:
    forget(BOUNDARY)


def _read_covered_until(site_id: int, tz: str) -> date | None:
    state = (
        RollupState.objects.filter(site_id=site_id, site__timezone=tz)
        .values_list("received_until", flat=True)
        .first()
    )
    return state.astimezone(ZoneInfo(tz)).date() - timedelta(days=1) if state else None


def _covered_until(site_id: int, tz: str) -> date | None:
    """The last local day every event of which had been rolled up at the last run (read
    once per request).

    Rollups are kept in the site's time zone only: a query in another zone covers nothing.
    """
    return remembered((BOUNDARY, site_id, tz), lambda: _read_covered_until(site_id, tz))


def rolled_until(site_id: int, tz: str) -> datetime | None:
    """The start of the first local day the rollups do not cover (events before it are in
    every rolled-up table), or None before the first run."""
    covered_until = _covered_until(site_id, tz)
    if covered_until is None:
        return None
    return datetime.combine(covered_until + timedelta(days=1), time.min, tzinfo=ZoneInfo(tz))


def site_covered_days(site_id: int, first: date, last: date, tz: str) -> list[date]:
    """The days of [first, last] that the rollups (totals, breakdowns, session rows) cover."""
    if last < first:
        return []
    covered_until = _covered_until(site_id, tz)
    if covered_until is None:
        return []
    return [first + timedelta(days=n) for n in range((min(last, covered_until) - first).days + 1)]


def covered_days(query: StatsQuery) -> list[date]:
    """The days of the query the rollups cover: whole past days, in the site's time zone."""
    if query.raw:
        return []
    return site_covered_days(
        query.site_id,
        query.first_day,
        min(query.last_day, today(query) - timedelta(days=1)),
        query.tz,
    )


def after(query: StatsQuery, covered: list[date]) -> StatsQuery | None:
    """The query over the days after ``covered`` (covered days are a prefix), or None."""
    if covered and covered[-1] >= query.last_day:
        return None
    first = covered[-1] + timedelta(days=1) if covered else query.first_day
    return dataclasses.replace(query, first_day=first)


def uses_rolled_events(query: StatsQuery) -> bool:
    """Whether covered days may be read from ``RolledEvent`` rows (PostgreSQL only). Not with
    ``exit_path``: its "last page view in the range" would change if the range were split."""
    return engine().rolled_events and "exit_path" not in query.filters


def split(query: StatsQuery) -> tuple[StatsQuery | None, StatsQuery | None]:
    """The query as (days read from ``RolledEvent`` rows, days read from raw events): the
    covered days are a prefix of the range; either part may be None."""
    covered = covered_days(query) if uses_rolled_events(query) else []
    if not covered:
        return None, query
    return dataclasses.replace(query, first_day=covered[0], last_day=covered[-1]), after(
        query, covered
    )


def event_sets(query: StatsQuery) -> list[QuerySet]:
    """The query's events in at most two disjoint parts: ``RolledEvent`` rows for the days
    the rollups cover, raw events for the rest."""
    rolled, rest = split(query)
    return ([rolled.events(RolledEvent)] if rolled else []) + ([rest.events()] if rest else [])
