"""Event-level reads of Plausible's API that ``stats.query`` has no breakdown for.

Goals (``event:goal`` filters and breakdowns, ``conversion_rate``), custom-property
breakdowns (``event:props:<name>``), the ``events`` metric per value or per time bucket and
``time_on_page``. Every read goes through the query layer's parts (``stats.query.
event_sets``: rolled-up events for covered days, raw events for the rest, the query's
filters applied), and keeps Footfall's definitions: visitors and visits of a range are the
sums of each local day's distinct visitors and sessions (docs/statistics.md), so these
numbers add up with every other read.

Plausible's definitions kept here: a goal is reached by a custom event of its name or a page
view matching its path; ``events`` counts page views and custom events; a property breakdown
lists ``(none)`` for events without the property; ``conversion_rate`` is converted visitors
over the visitors of the same question without goal and property filters, in percent with
one decimal; time on page is the mean gap from a page view to the session's next event that
day (``stats.query.time_on_page``), in whole seconds.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, F, Q, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, ExtractHour

from stats import pirsch_selectors
from stats import query as q
from stats.models import Goal

COUNTED_KINDS = ("pageview", "custom")
NONE_VALUE = "(none)"
ZERO = {"visitors": 0, "visits": 0, "pageviews": 0, "events": 0}
PAGE_FILTERS = ("path", "pattern")


def goal_target(goal: Goal) -> Q:
    """The events that reach ``goal``."""
    if goal.event_name:
        return Q(kind="custom", name=goal.event_name)
    return Q(kind="pageview", path__regex=goal.path_pattern)


def goals_target(goals: Iterable[Goal]) -> Q:
    target = Q(pk__in=[])
    for goal in goals:
        target |= goal_target(goal)
    return target


def _group_expression(group: str | None):
    if group is None:
        return Value("")
    if group == "hour":
        return None  # annotated per part (its time zone)
    if group.startswith("props:"):
        return Coalesce(
            KeyTextTransform(group[len("props:") :], "props"),
            Value(NONE_VALUE),
            output_field=TextField(),
        )
    return F(group)  # a column: name, path


def event_counts(
    query: q.StatsQuery,
    *,
    target: Q | None = None,
    group: str | None = None,
    kinds: tuple[str, ...] = COUNTED_KINDS,
) -> dict[object, dict[str, int]]:
    """Visitors, visits, page views and events per value of ``group`` (``None``: one row
    keyed ``""``; ``"day"``: the local day; ``"hour"``; a column; ``"props:<name>"``) over
    the query's events of ``kinds`` matching ``target``. Visitors and visits are summed
    over local days."""
    totals: dict[object, dict[str, int]] = defaultdict(lambda: dict(ZERO))
    for events in q.event_sets(query):
        events = events.filter(kind__in=kinds)
        if target is not None:
            events = events.filter(target)
        events = events.annotate(_day=query._local_day())
        if group == "day":
            key_field = "_day"
        elif group == "hour":
            events = events.annotate(_key=ExtractHour("timestamp", tzinfo=query.zone))
            key_field = "_key"
        else:
            events = events.annotate(_key=_group_expression(group))
            key_field = "_key"
        rows = (
            events.values(key_field, "_day")
            .annotate(
                visitors=Count("visitor_id", distinct=True),
                visits=Count("session_id", distinct=True),
                pageviews=Count("id", filter=Q(kind="pageview")),
                events=Count("id"),
            )
            .order_by()
        )
        for row in rows:
            key = row[key_field]
            if group == "day" and isinstance(key, datetime):
                key = key.date()
            target_row = totals[key]
            for name in ZERO:
                target_row[name] += row[name]
    return dict(totals)


def conversion_rate(converted: int, total: int) -> float:
    """Plausible's ``conversion_rate``: percent, one decimal, 0 without visitors."""
    return round(converted * 100 / total, 1) if total else 0


def without_goal_and_props(query: q.StatsQuery) -> q.StatsQuery:
    """The denominator's query: the same filters but the custom-property ones (goals are
    never in ``query.filters``)."""
    filters = {k: v for k, v in query.filters.items() if not k.startswith("meta_")}
    return dataclasses.replace(query, filters=filters)


def goal_rows(query: q.StatsQuery, goals: list[Goal]) -> list[tuple[str, dict[str, int]]]:
    """(goal name, counts) per goal with at least one conversion, most visitors first."""
    rows = []
    for goal in goals:
        counts = event_counts(query, target=goal_target(goal)).get("", dict(ZERO))
        if counts["events"]:
            rows.append((goal.name, counts))
    rows.sort(key=lambda kv: (-kv[1]["visitors"], -kv[1]["events"], kv[0]))
    return rows


def _page_paths(query: q.StatsQuery) -> set[str]:
    """The paths of the page views the query (its page filters included) selects."""
    return {
        path
        for events in q.event_sets(query)
        for path in events.filter(kind="pageview").values_list("path", flat=True).distinct()
    }


def _page_gaps(query: q.StatsQuery, paths: set[str]) -> dict[str, tuple[int, int]]:
    """Per path: (sum of ms, number) of the gaps from its page views to the session's next
    event that day, measured over the events *without* the page filters (the next event is
    usually on another page); the other filters still apply."""
    if not paths:
        return {}
    unfiltered = dataclasses.replace(
        query, filters={k: v for k, v in query.filters.items() if k not in PAGE_FILTERS}
    )
    return pirsch_selectors._time_on_page(unfiltered, paths)


def time_on_page_by_path(query: q.StatsQuery, paths: set[str]) -> dict[str, int]:
    """Per page path of ``paths``: the mean seconds on that page (0 without a gap)."""
    gaps = _page_gaps(query, paths)
    return {
        path: round(gaps[path][0] / gaps[path][1] / 1000) if gaps.get(path, (0, 0))[1] else 0
        for path in paths
    }


def mean_time_on_page(query: q.StatsQuery) -> int:
    """``time_on_page`` of the pages the query's page filters select, all together."""
    gaps = _page_gaps(query, _page_paths(query))
    total = sum(t for t, _n in gaps.values())
    count = sum(n for _t, n in gaps.values())
    return round(total / count / 1000) if count else 0
