"""SQL over the planned event parts (PostgreSQL): the parts' Django-built queries joined
with ``UNION ALL``, session-scoped columns as their sessions' values. Statements around
them are composed with ``psycopg.sql`` (``compose``): identifiers quoted by psycopg, the
inner queries kept with their parameters."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from django.db.models import QuerySet
from psycopg import sql

from stats.dimensions import FILTER_FIELDS
from stats.models import RolledEvent
from stats.query.coverage import event_sets, split
from stats.query.filters import apply_filters, scoped_filter_names
from stats.query.request import StatsQuery
from stats.query.scope import SCOPED_PREFIX, SESSION_SCOPED, scoped_events

Refine = Callable[[QuerySet], QuerySet] | None


def compose(template: str, **parts: str | sql.Composable) -> str:
    """PostgreSQL ``template`` with its ``{name}`` parts filled: strings are SQL built by
    Django (their ``%s`` parameters passed with the statement's), ``sql.Identifier`` and
    other ``Composable`` parts are quoted by psycopg. Never a value: values are parameters."""
    filled = {
        name: part if isinstance(part, sql.Composable) else sql.SQL(part)
        for name, part in parts.items()
    }
    return sql.SQL(template).format(**filled).as_string(None)


def identifiers(names) -> sql.Composable:
    """Column names, quoted and comma-separated."""
    return sql.SQL(", ").join(sql.Identifier(name) for name in names)


def sql_of(queryset) -> tuple[str, tuple]:
    """A queryset's SQL and parameters."""
    query_sql, params = queryset.query.sql_with_params()
    return query_sql, tuple(params)


def events_sql(query: StatsQuery, *columns: str, refine: Refine = None) -> tuple[str, tuple]:
    """SQL selecting ``columns`` of the query's events from both parts (``UNION ALL``);
    ``refine`` narrows each part's queryset first (e.g. to one kind of event). Session-scoped
    columns are the session's values (``SESSION_SCOPE``): stored so in rolled-up events,
    computed for raw ones (so are session-attribute filters: read in the same pass)."""
    if not any(c in SESSION_SCOPED for c in columns) and not scoped_filter_names(query.filters):
        return union_sql([refine(qs) if refine else qs for qs in event_sets(query)], columns)
    rolled, rest = split(query)
    parts: list[tuple[str, tuple]] = []
    if rolled:
        events = rolled.events(RolledEvent)
        parts.append(sql_of((refine(events) if refine else events).values(*columns)))
    if rest:
        parts.append(scoped_sql(rest, columns, refine))
    return " UNION ALL ".join(f"({part})" for part, _ in parts), tuple(
        param for _, params in parts for param in params
    )


def scoped_sql(
    query: StatsQuery, columns: tuple[str, ...], refine: Refine = None
) -> tuple[str, tuple]:
    """SQL selecting ``columns`` of the query's raw events, session-scoped ones as the
    session's values: computed over all the range's events (one pass of window functions,
    which the session-attribute filters also read), then narrowed to the events the other
    filters (and ``refine``) keep, so a filter on one event never changes its session."""
    session = {name: query.filters[name] for name in scoped_filter_names(query.filters)}
    others = {name: values for name, values in query.filters.items() if name not in session}
    needed = {c for c in columns if c in SESSION_SCOPED} | {FILTER_FIELDS[n] for n in session}
    named = [SCOPED_PREFIX + c if c in SESSION_SCOPED else c for c in columns]
    windowed = apply_filters(
        scoped_events(dataclasses.replace(query, filters={}), needed), session, prefix=SCOPED_PREFIX
    )
    base, params = sql_of(windowed.values(*dict.fromkeys(("id", *named))))
    select = sql.SQL(", ").join(
        sql.SQL("w.{} AS {}").format(sql.Identifier(name), sql.Identifier(column))
        for name, column in zip(named, columns, strict=True)
    )
    statement = compose("SELECT {select} FROM ({base}) w", select=select, base=base)
    if others or refine:
        events = dataclasses.replace(query, filters=others).events()
        kept, kept_params = sql_of((refine(events) if refine else events).values("id"))
        statement = compose("{statement} WHERE w.id IN ({kept})", statement=statement, kept=kept)
        params = (*params, *kept_params)
    return statement, tuple(params)


def union_sql(parts: list[QuerySet], columns: tuple[str, ...]) -> tuple[str, tuple]:
    """SQL and parameters selecting ``columns`` from every queryset (``UNION ALL``)."""
    selected = [part.values(*columns) for part in parts]
    combined = selected[0].union(*selected[1:], all=True) if len(selected) > 1 else selected[0]
    return sql_of(combined)
