"""Funnel reads: a funnel's journeys over a ``StatsQuery`` and the reports built on them.

The events come from the one query layer (``stats.query.event_sets``: rolled-up events for
covered days, raw events for the rest, so every source and filter works as elsewhere).
Each part is read once, narrowed in SQL to the events that match a step (for strict order:
every page view and custom event), with a bit mask of the steps each matches computed by
the database, ordered by (unit, time, id) and streamed; the parts never share a day, so a
merge on that key gives each unit's events in order. ``engine.evaluate`` then chooses each
unit's journey. Filters select the sessions that may *enter* the funnel (first-touch
attribution); the later steps may happen in any of the visitor's sessions (visitor scope).
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import operator
import statistics
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from sites.selectors import site_reporting_currency
from stats import query as q
from stats.funnels import chains, engine
from stats.funnels.steps import ACTIVITY_KINDS, Step, parse_steps, step_q
from stats.models import Funnel, Goal
from tracking.models import Event

CHUNK = 2000
# Time-to-convert histogram buckets (upper bounds in seconds; the last is open).
BUCKETS = (
    ("< 1 min", 60),
    ("1–5 min", 300),
    ("5–15 min", 900),
    ("15–60 min", 3600),
    ("1–6 h", 6 * 3600),
    ("6–24 h", 86_400),
    ("1–7 d", 7 * 86_400),
    ("> 7 d", None),
)
BREAKDOWN_LIMIT = 50


@dataclass(frozen=True)
class Definition:
    steps: tuple[Step, ...]
    scope: str = "visitor"
    order: str = "sequential"
    window_seconds: int = 86_400
    open: bool = False

    @property
    def window(self) -> int:
        """In microseconds, as the engine's times."""
        return self.window_seconds * 1_000_000


@dataclass
class Unit:
    """One visitor's (or session's) journey and the events behind it."""

    key: int
    journey: engine.Journey
    ids: list  # event id per reached step (first..last)
    sessions: list[int]  # session id per reached step
    visitor_id: int


def definition_of(funnel: Funnel) -> Definition:
    goal_ids = set(Goal.objects.filter(site_id=funnel.site_id).values_list("pk", flat=True))
    return Definition(
        parse_steps(funnel.steps, goal_ids | _goal_ids_in(funnel.steps)),
        funnel.scope,
        funnel.order,
        funnel.window_seconds,
        funnel.open,
    )


def _goal_ids_in(raw) -> set[int]:
    """Goals named by stored steps: a goal deleted since matches nothing, it is no error."""
    ids = set()
    for step in raw if isinstance(raw, list) else ():
        for alternative in step.get("alternatives", ()) if isinstance(step, dict) else ():
            if isinstance(alternative, dict) and isinstance(alternative.get("goal"), int):
                ids.add(alternative["goal"])
    return ids


def _mask(site_id: int, definition: Definition) -> tuple[Q, Case, Q]:
    """(any step, the bit mask of the steps an event matches, step 1)."""
    goals = {g.pk: (g.event_name, g.path_pattern) for g in Goal.objects.filter(site_id=site_id)}
    conditions = [step_q(step, goals) for step in definition.steps]
    any_step = Q(pk__in=[])
    mask = None
    for bit, condition in enumerate(conditions):
        any_step |= condition
        term = Case(
            When(condition, then=Value(1 << bit)), default=Value(0), output_field=IntegerField()
        )
        mask = term if mask is None else mask + term
    return any_step, mask, conditions[0]


def _allowed_sessions(query: q.StatsQuery) -> set[int] | None:
    """The sessions that pass the query's filters (None: no filters, every session)."""
    if not query.filters:
        return None
    sessions: set[int] = set()
    for events in q.event_sets(query):
        sessions.update(
            events.order_by().values_list("session_id", flat=True).distinct().iterator(CHUNK)
        )
    return sessions


def _narrowed(query: q.StatsQuery, definition: Definition, *, semi_join: bool = True) -> list:
    """Each part's candidate events (unfiltered: filters decide who may *enter*), with their
    step mask (``funnel_mask``) and, on PostgreSQL, their time in µs (``funnel_at``).
    ``semi_join=False`` keeps the units without a step-1 event (``chains`` drops them more
    cheaply than a second scan of the range finds them)."""
    unit_column = "visitor_id" if definition.scope == "visitor" else "session_id"
    any_step, mask, first_step = _mask(query.site_id, definition)
    micros = _micros_column()
    parts = q.event_sets(dataclasses.replace(query, filters={}))
    entering = None
    if not definition.open and semi_join:
        # A closed funnel is entered at step 1 only: units without a step-1 event in the
        # range cannot count, so they are left in the database (a semi-join per part).
        entering = Q(pk__in=[])
        for part in parts:
            entering |= Q(**{f"{unit_column}__in": part.filter(first_step).values(unit_column)})
    narrowed = []
    for events in parts:
        if entering is not None:
            events = events.filter(entering)
        if definition.order == "strict":
            events = events.filter(kind__in=ACTIVITY_KINDS)
        else:
            events = events.filter(any_step)
        events = events.annotate(funnel_mask=mask)
        if micros is not None:
            events = events.annotate(funnel_at=micros)
        narrowed.append(events)
    return narrowed


def journeys(query: q.StatsQuery, definition: Definition) -> list[Unit]:
    """Every unit's journey through the funnel in the query's range (units reaching no step
    are left out), evaluated in Python by ``engine.evaluate`` (every mode, both databases;
    ``tally`` takes the SQL path where it can)."""
    unit_column = "visitor_id" if definition.scope == "visitor" else "session_id"
    allowed = _allowed_sessions(query)
    narrowed = _narrowed(query, definition)
    grouped = (
        _unit_arrays(narrowed, unit_column)
        if connection.vendor == "postgresql"
        else _unit_stream(narrowed, unit_column)
    )
    return _evaluate(
        definition,
        (
            (
                key,
                times,
                masks,
                ids,
                sessions,
                visitors,
                None if allowed is None else [s in allowed for s in sessions],
            )
            for key, times, masks, ids, sessions, visitors in grouped
        ),
    )


def _evaluate(definition: Definition, grouped: Iterable) -> list[Unit]:
    """``engine.evaluate`` per unit: (key, times, masks, ids, sessions, visitors, allowed
    flags or None for all)."""
    units = []
    steps, order, window, is_open = (
        len(definition.steps),
        definition.order,
        definition.window,
        definition.open,
    )
    evaluate = engine.evaluate
    for key, times, masks, ids, sessions, visitors, flags in grouped:
        if flags is None:
            flags = [True] * len(times)
        journey = evaluate(
            list(zip(times, masks, flags, strict=True)), steps, order, window, is_open
        )
        if journey is None:
            continue
        units.append(
            Unit(
                key,
                journey,
                [ids[i] for i in journey.reached],
                [sessions[i] for i in journey.reached],
                visitors[journey.reached[0]],
            )
        )
    return units


# One unit's candidate events in (time, id) order: (unit, times µs, masks, ids, sessions,
# visitor ids).
UnitArrays = tuple[int, list[int], list[int], list, list[int], list[int]]


def _unit_arrays(parts: list, unit_column: str) -> Iterable[UnitArrays]:
    """PostgreSQL: one row per unit, its events as arrays ordered by (time, id). The parts
    are read as one ``UNION ALL`` sorted by (unit, time, id) and aggregated in that order,
    so Python receives a few arrays per unit (converted in C) instead of a tuple per event;
    ids come as text (no ``UUID`` object per event)."""
    selects, params = [], []
    for events in parts:
        sql, part_params = (
            events.order_by()
            .values(
                fu=F(unit_column),
                ft=F("funnel_at"),
                fi=F("id"),
                fm=F("funnel_mask"),
                fs=F("session_id"),
                fv=F("visitor_id"),
            )
            .query.sql_with_params()
        )
        selects.append(f"({sql})")
        params.extend(part_params)
    union = " UNION ALL ".join(selects)
    sql = (
        "SELECT fu, array_agg(ft), array_agg(fm), array_agg(fi::text), array_agg(fs), "  # noqa: S608
        "array_agg(fv) FROM (SELECT * FROM (" + union + ") AS p ORDER BY fu, ft, fi) AS o "
        "GROUP BY fu ORDER BY fu"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            yield from rows


def _unit_stream(parts: list, unit_column: str) -> Iterable[UnitArrays]:
    """Elsewhere (the embedded SQLite): each part's events streamed in (unit, time, id)
    order and merged (the parts never share a day, so no (unit, time) is in two of them)."""
    streams = [
        events.order_by(unit_column, "timestamp", "id")
        .values_list(unit_column, "timestamp", "id", "funnel_mask", "session_id", "visitor_id")
        .iterator(CHUNK)
        for events in parts
    ]
    merged = (
        heapq.merge(*streams, key=operator.itemgetter(0, 1)) if len(streams) > 1 else streams[0]
    )
    for key, group in itertools.groupby(merged, key=operator.itemgetter(0)):
        events = list(group)
        yield (
            key,
            [_micros(e[1]) for e in events],
            [e[3] for e in events],
            [e[2] for e in events],
            [e[4] for e in events],
            [e[5] for e in events],
        )


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def _micros_column():
    """The event time as integer microseconds since the epoch, computed by PostgreSQL (much
    cheaper than building a datetime per row); None elsewhere (converted in Python)."""
    if connection.vendor != "postgresql":
        return None
    return RawSQL("""(extract(epoch FROM "timestamp") * 1000000)::bigint""", ())


def _micros(value) -> int:
    return value if isinstance(value, int) else (value - EPOCH) // MICROSECOND


def at_time(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def step_counts(units: list[Unit], steps: int) -> list[dict]:
    """Per step: units reaching it, entering at it, dropping before it, times to convert."""
    counts = [{"visitors": 0, "entered": 0, "dropped": 0, "times_ms": []} for _ in range(steps)]
    for unit in units:
        journey = unit.journey
        counts[journey.first]["entered"] += 1
        for step in range(journey.first, journey.last + 1):
            counts[step]["visitors"] += 1
            if step > journey.first:
                delta = (
                    journey.reached_at[step - journey.first]
                    - journey.reached_at[step - journey.first - 1]
                )
                counts[step]["times_ms"].append(delta // 1000)
        if journey.last + 1 < steps:
            counts[journey.last + 1]["dropped"] += 1
    return counts


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _times(times_ms: list[int]) -> dict:
    histogram = Counter()
    for ms in times_ms:
        for label, bound in BUCKETS:
            if bound is None or ms < bound * 1000:
                histogram[label] += 1
                break
    return {
        "count": len(times_ms),
        "median_seconds": round(statistics.median(times_ms) / 1000, 3) if times_ms else None,
        "mean_seconds": round(statistics.fmean(times_ms) / 1000, 3) if times_ms else None,
        "distribution": [{"bucket": label, "count": histogram[label]} for label, _ in BUCKETS],
    }


def _carries_revenue(step: Step) -> bool:
    """Pages never carry revenue; events and goals may."""
    return any(a.type != "page" for a in step.alternatives)


Money = tuple[Decimal, int]  # the sum of a step's revenue and the number of events with any


@dataclass
class Tally:
    """A funnel's answer before formatting: per step the units reaching it, entering at it,
    dropping before it and the times to convert (``step_counts``' shape), and the revenue of
    the events reaching it (None: the step cannot carry revenue, or no currency was asked);
    ``cut``: the units the SQL path left to ``engine.evaluate`` (``chains``)."""

    counts: list[dict]
    revenue: list[Money | None]
    currency: str | None = None
    cut: list[Unit] = dataclasses.field(default_factory=list)

    def add(self, other: Tally) -> None:
        for mine, theirs in zip(self.counts, other.counts, strict=True):
            for key in ("visitors", "entered", "dropped"):
                mine[key] += theirs[key]
            mine["times_ms"].extend(theirs["times_ms"])
        self.revenue = [
            None if a is None and b is None else _add_money(a, b)
            for a, b in zip(self.revenue, other.revenue, strict=True)
        ]


def _add_money(a: Money | None, b: Money | None) -> Money:
    a, b = a or (Decimal(0), 0), b or (Decimal(0), 0)
    return a[0] + b[0], a[1] + b[1]


def _revenue(units: list[Unit], definition: Definition, currency: str) -> list[Money | None]:
    """Per step, the revenue the events that reached it carried in the site's reporting
    ``currency`` (converted at ingest, docs/revenue.md) and the number of those events with
    revenue, or None when no step alternative can carry revenue (pages never do). Read from
    raw events by id."""
    result: list[Money | None] = []
    for index, step in enumerate(definition.steps):
        if not _carries_revenue(step):
            result.append(None)
            continue
        ids = [
            unit.ids[index - unit.journey.first]
            for unit in units
            if unit.journey.first <= index <= unit.journey.last
        ]
        total, count = Decimal(0), 0
        for start in range(0, len(ids), CHUNK):
            row = Event.objects.filter(
                id__in=ids[start : start + CHUNK],
                revenue_reporting__isnull=False,
                revenue_reporting_currency=currency,
            ).aggregate(amount=Sum("revenue_reporting"), count=Count("id"))
            total += row["amount"] or 0
            count += row["count"]
        result.append((total, count))
    return result


def _tally_units(units: list[Unit], definition: Definition, currency: str | None) -> Tally:
    steps = len(definition.steps)
    revenue = _revenue(units, definition, currency) if currency else [None] * steps
    return Tally(step_counts(units, steps), revenue, currency)


def _in_sql(definition: Definition) -> bool:
    """Whether ``chains`` evaluates the funnel (closed sequential, on PostgreSQL)."""
    return (
        connection.vendor == "postgresql"
        and definition.order == "sequential"
        and not definition.open
    )


DECIMAL = DecimalField(max_digits=18, decimal_places=4)


def _candidates(
    query: q.StatsQuery, definition: Definition, currency: str | None, *, full: bool = False
) -> tuple[str, list]:
    """The candidate events of ``chains`` (its columns) over both parts, as SQL; sessions
    and visitors (``fs``, ``fv``) only when ``full`` (the fewer columns, the cheaper the
    sort). Whether an event's session passes the filters is a semi-join on the filtered
    events, so no session list travels through Python."""
    unit_column = "visitor_id" if definition.scope == "visitor" else "session_id"
    ok: Value | Case = Value(True)
    if query.filters:
        passing = Q(pk__in=[])
        for part in q.event_sets(query):
            passing |= Q(session_id__in=part.order_by().values("session_id"))
        ok = Case(
            When(passing, then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    revenue: Cast | Case = Cast(Value(None), DECIMAL)
    if currency and any(_carries_revenue(step) for step in definition.steps):
        revenue = Case(
            When(revenue_reporting_currency=currency, then=F("revenue_reporting")),
            default=None,
            output_field=DECIMAL,
        )
    selects, params = [], []
    columns = {"fu": F(unit_column), "ft": F("timestamp"), "fi": F("id")}
    columns |= {"fm": F("funnel_mask"), "fo": ok, "fr": revenue}
    if full:
        columns |= {"fs": F("session_id"), "fv": F("visitor_id")}
    for events in _narrowed(query, definition, semi_join=False):
        sql, part_params = events.order_by().values(**columns).query.sql_with_params()
        selects.append(f"({sql})")
        params.extend(part_params)
    return " UNION ALL ".join(selects), params


def _cut_units(query: q.StatsQuery, definition: Definition, keys: list[int]) -> list[Unit]:
    """``engine.evaluate`` for the units whose first entry the window cut (``chains``)."""
    if not keys:
        return []
    candidates, params = _candidates(query, definition, None, full=True)
    with connection.cursor() as cursor:
        cursor.execute(chains.arrays_sql(candidates), [*params, keys])
        return _evaluate(definition, cursor.fetchall())


def _tally_sql(query: q.StatsQuery, definition: Definition, currency: str | None) -> Tally:
    steps = len(definition.steps)
    candidates, params = _candidates(query, definition, currency)
    journeys_sql = chains.journeys_sql(candidates, steps, definition.window)
    with connection.cursor() as cursor:
        cursor.execute(chains.tally_sql(journeys_sql, steps), params)
        row = dict(zip([c.name for c in cursor.description], cursor.fetchone(), strict=True))
    counts = [{"visitors": row["n0"], "entered": row["n0"], "dropped": 0, "times_ms": []}]
    for k in range(1, steps):
        counts.append(
            {
                "visitors": row[f"n{k}"],
                "entered": 0,
                "dropped": row[f"d{k}"],
                "times_ms": list(row[f"x{k}"] or ()),
            }
        )
    revenue: list[Money | None] = [
        (row[f"s{k}"] or Decimal(0), row[f"c{k}"]) if currency and _carries_revenue(step) else None
        for k, step in enumerate(definition.steps)
    ]
    tally = Tally(counts, revenue, currency)
    tally.cut = _cut_units(query, definition, row["cut_units"] or [])
    if tally.cut:
        tally.add(_tally_units(tally.cut, definition, currency))
    return tally


def tally(
    query: q.StatsQuery, definition: Definition, currency: str | None = None
) -> tuple[Tally, list[Unit] | None]:
    """The funnel's counts, times and (in ``currency``) revenue; and, from the Python path,
    every unit's journey (None from the SQL path, which keeps them in the database)."""
    if _in_sql(definition):
        return _tally_sql(query, definition, currency), None
    units = journeys(query, definition)
    return _tally_units(units, definition, currency), units


def _money(money: Money | None, currency: str | None) -> tuple[list[dict], list[dict]] | None:
    if money is None or not money[1] or currency is None:
        return None
    total, count = money
    cent = Decimal("0.01")
    return (
        [{"currency": currency, "amount": str(total.quantize(cent))}],
        [{"currency": currency, "amount": str((total / count).quantize(cent))}],
    )


def _steps_report(tally: Tally, definition: Definition) -> list[dict]:
    counts = tally.counts
    first = counts[0]["visitors"]
    rows = []
    for index, (step, count) in enumerate(zip(definition.steps, counts, strict=True)):
        previous = counts[index - 1]["visitors"] if index else 0
        money = _money(tally.revenue[index], tally.currency)
        rows.append(
            {
                "step": index + 1,
                "name": step.name,
                "visitors": count["visitors"],
                "entered": count["entered"],
                "conversion_from_first": _ratio(count["visitors"], first)
                if index
                else 1.0
                if first
                else 0.0,
                "conversion_from_previous": _ratio(count["visitors"], previous)
                if index
                else 1.0
                if first
                else 0.0,
                "dropped": count["dropped"],
                "drop_off": _ratio(count["dropped"], previous) if index else 0.0,
                "time_to_convert": _times(count["times_ms"]) if index else None,
                "revenue": money[0] if money else None,
                "average_revenue": money[1] if money else None,
            }
        )
    return rows


def pirsch_data(tally: Tally) -> list[dict]:
    """Pirsch's ``FunnelStepData`` per step."""
    counts = tally.counts
    first = counts[0]["visitors"]
    data = []
    for index, count in enumerate(counts):
        previous = counts[index - 1]["visitors"] if index else 0
        data.append(
            {
                "step": index + 1,
                "visitors": count["visitors"],
                "relative_visitors": _ratio(count["visitors"], first),
                "previous_visitors": previous,
                "relative_previous_visitors": _ratio(previous, first) if index else 0.0,
                "dropped": count["dropped"] if index else 0,
                "drop_off": _ratio(count["dropped"], previous) if index else 0.0,
            }
        )
    return data


def _entry_values(query: q.StatsQuery, units: list[Unit], dimension: str) -> dict:
    """The breakdown value of each unit's entry event: the session's value for a session
    attribute (``stats.query.SESSION_SCOPE``), the event's own for page-level columns."""
    column = q.FILTER_FIELDS[dimension]
    ids = [unit.ids[0] for unit in units]
    values = {}
    base = dataclasses.replace(query, filters={})
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        sql, params = q.events_sql(
            base, "id", column, refine=lambda qs, c=chunk: qs.filter(id__in=c)
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM ({sql}) e", params)  # noqa: S608 - Django-built
            for event_id, value in cursor.fetchall():
                values[_uuid(event_id)] = value or ""
    return values


def _uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _grouped_counts(
    query: q.StatsQuery, units: list[Unit], definition: Definition, dimension: str
) -> dict[str, Tally]:
    """Per entry value, the tally of the units (no times or revenue needed)."""
    values = _entry_values(query, units, dimension)
    grouped: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        grouped[values.get(_uuid(unit.ids[0]), "")].append(unit)
    return {value: _tally_units(members, definition, None) for value, members in grouped.items()}


def _grouped_counts_sql(
    query: q.StatsQuery, definition: Definition, dimension: str, cut: list[Unit]
) -> dict[str, Tally]:
    """The SQL path's breakdown: the journeys not cut grouped by the entry event's value in
    the database (the values of the range's step-1 events, read as ``_entry_values`` does),
    plus ``cut``, the units ``engine.evaluate`` chose for."""
    steps = len(definition.steps)
    candidates, params = _candidates(query, definition, None)
    first_step = _mask(query.site_id, definition)[2]
    column = q.FILTER_FIELDS[dimension]
    values_sql, values_params = q.events_sql(
        dataclasses.replace(query, filters={}),
        "id",
        column,
        refine=lambda qs: qs.filter(first_step),
    )
    values = f'SELECT b.id, b."{column}" AS value FROM ({values_sql}) b'  # noqa: S608
    sql = chains.breakdown_sql(
        chains.journeys_sql(candidates, steps, definition.window, ("entry",)), values, steps
    )
    grouped: dict[str, Tally] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *values_params])
        for value, *reached in cursor.fetchall():
            counts = [
                {
                    "visitors": n,
                    "entered": n if k == 0 else 0,
                    "dropped": reached[k - 1] - n if k else 0,  # closed: every unit entered at 1
                    "times_ms": [],
                }
                for k, n in enumerate(reached)
            ]
            grouped[value] = Tally(counts, [None] * steps)
    for value, extra in _grouped_counts(query, cut, definition, dimension).items():
        if value in grouped:
            grouped[value].add(extra)
        else:
            grouped[value] = extra
    return grouped


def _breakdown(grouped: dict[str, Tally], definition: Definition) -> list[dict]:
    rows = []
    for value, counts in grouped.items():
        steps = _steps_report(counts, definition)
        rows.append(
            {
                "value": value,
                "steps": _pick(steps, (*COMPARED_STEP_FIELDS, "dropped", "drop_off")),
                "conversion_rate": _ratio(steps[-1]["visitors"], steps[0]["visitors"]),
            }
        )
    rows.sort(key=lambda r: (-r["steps"][0]["visitors"], r["value"]))
    return rows[:BREAKDOWN_LIMIT]


# The step fields a comparison or a breakdown row repeats (times and revenue stay in the main
# report, where they are computed once).
COMPARED_STEP_FIELDS = ("step", "visitors", "conversion_from_first", "conversion_from_previous")


def _pick(steps: list[dict], fields: tuple[str, ...]) -> list[dict]:
    return [{field: step[field] for field in fields} for step in steps]


def definition_json(funnel: Funnel) -> dict:
    return {
        "id": funnel.pk,
        "site": funnel.site.public_id,
        "name": funnel.name,
        "steps": funnel.steps,
        "scope": funnel.scope,
        "order": funnel.order,
        "window_seconds": funnel.window_seconds,
        "open": funnel.open,
    }


def funnel_report(
    funnel: Funnel,
    query: q.StatsQuery,
    *,
    breakdown: str | None = None,
    compare: bool = False,
) -> dict:
    """Footfall's full funnel result (docs/funnels.md, "Report")."""
    definition = definition_of(funnel)
    counted, units = tally(query, definition, site_reporting_currency(funnel.site_id))
    steps = _steps_report(counted, definition)
    report = {
        "funnel": definition_json(funnel),
        "from": query.first_day.isoformat(),
        "to": query.last_day.isoformat(),
        "tz": query.tz,
        "filters": query.filters,
        "steps": steps,
        "conversion_rate": _ratio(steps[-1]["visitors"], steps[0]["visitors"]),
    }
    if compare:
        previous_query = query.previous()
        previous = _steps_report(tally(previous_query, definition)[0], definition)
        report["previous"] = {
            "from": previous_query.first_day.isoformat(),
            "to": previous_query.last_day.isoformat(),
            "steps": _pick(previous, COMPARED_STEP_FIELDS),
            "conversion_rate": _ratio(previous[-1]["visitors"], previous[0]["visitors"]),
        }
    if breakdown:
        grouped = (
            _grouped_counts(query, units, definition, breakdown)
            if units is not None
            else _grouped_counts_sql(query, definition, breakdown, counted.cut)
        )
        report["breakdown"] = {"dimension": breakdown, "rows": _breakdown(grouped, definition)}
    return report


def funnel_pirsch(funnel: Funnel, query: q.StatsQuery) -> list[dict]:
    return pirsch_data(tally(query, definition_of(funnel))[0])


def _dropped_rows(units: list[Unit], index: int) -> list[tuple]:
    """(last step time, unit key, row) of the units that reached step ``index - 1`` last."""
    rows = []
    for unit in units:
        journey = unit.journey
        if journey.first <= index - 1 and journey.last == index - 1:
            rows.append(
                (
                    journey.reached_at[-1],
                    unit.key,
                    {
                        "visitor_id": unit.visitor_id,
                        "session_id": unit.sessions[-1],
                        "entered_at": at_time(journey.reached_at[0]),
                        "last_step_at": at_time(journey.reached_at[-1]),
                        "last_step": journey.last + 1,
                    },
                )
            )
    return rows


def _dropped_sql(
    query: q.StatsQuery, definition: Definition, index: int, limit: int
) -> tuple[int, list[tuple]]:
    steps = len(definition.steps)
    candidates, params = _candidates(query, definition, None, full=True)
    sql = chains.dropped_sql(
        chains.journeys_sql(candidates, steps, definition.window, ("dropped",)), steps, index - 1
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        fetched = cursor.fetchall()
    total = fetched[0][0] if fetched else 0
    cut_keys = (fetched[0][1] if fetched else None) or []
    rows = [
        (
            last_at,
            key,
            {
                "visitor_id": visitor,
                "session_id": session,
                "entered_at": at_time(entered),
                "last_step_at": at_time(last_at),
                "last_step": index,
            },
        )
        for _total, _cut, key, visitor, session, entered, last_at in fetched
        if key is not None
    ]
    extra = _dropped_rows(_cut_units(query, definition, cut_keys), index)
    return total + len(extra), rows + extra


def dropped_sessions(funnel: Funnel, query: q.StatsQuery, step: int, limit: int = 100) -> dict:
    """The units counted in step ``step``'s ``dropped`` (1-based, ≥ 2): they reached the
    step before and not this one; each with the session where it last progressed, newest
    first (then by unit)."""
    definition = definition_of(funnel)
    if _in_sql(definition):
        total, rows = _dropped_sql(query, definition, step - 1, limit)
    else:
        rows = _dropped_rows(journeys(query, definition), step - 1)
        total = len(rows)
    rows.sort(key=lambda r: (-r[0], r[1]))
    return {"total": total, "sessions": [row for _at, _key, row in rows[:limit]]}
