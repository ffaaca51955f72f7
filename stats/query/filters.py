"""Filters: request parameters validated, and applied to events or session rows.

Repeated values of one filter are ORed, different filters ANDed; ``!`` is "is not", ``~``
"contains", ``^`` "does not contain". The filterable attributes are the dimension
catalogue's (``stats.dimensions``)."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Expression, Q, QuerySet
from django.db.models.lookups import Exact, IContains

from stats import filter_values
from stats.dimensions import FILTER_FIELDS, SPECIAL_FILTERS
from stats.query.scope import SESSION_SCOPED


class QueryError(ValueError):
    """A parameter is wrong: ``field`` names it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


QS = TypeVar("QS", bound=QuerySet)  # events, rolled-up events or session rows
BOUNCE = Q(pageviews__lte=1, interactions=0)


def scoped_filter_names(filters: dict[str, list[str]]) -> list[str]:
    """The filters on session-scoped attributes."""
    return [name for name in filters if FILTER_FIELDS.get(name) in SESSION_SCOPED]


def _condition(column, raw: str) -> tuple[Q, bool]:
    """One filter value → (condition, negated). ``!`` not, ``~`` contains, ``^`` not contains.
    ``column`` is a field name, or an expression (a meta or tag value: ``filter_values``)."""
    if not isinstance(column, str):
        lookup = IContains if raw[:1] in ("~", "^") else Exact
        value = raw[1:] if raw[:1] in ("!", "~", "^") else raw
        return Q(lookup(column, value)), raw[:1] in ("!", "^")
    if raw.startswith("!"):
        return Q(**{column: raw[1:]}), True
    if raw.startswith("~"):
        return Q(**{f"{column}__icontains": raw[1:]}), False
    if raw.startswith("^"):
        return Q(**{f"{column}__icontains": raw[1:]}), True
    return Q(**{column: raw}), False


def apply_filters(events: QS, filters: dict[str, list[str]], *, prefix: str = "") -> QS:
    """Repeated values of one filter are ORed; different filters are ANDed. ``prefix`` names
    annotations to match instead of the attribute columns (``scoped_events``)."""
    for name, values in filters.items():
        if name == "pattern":
            for pattern in values:
                events = events.filter(path__regex=pattern)
            continue
        column: str | Expression
        if name == "event":
            column = "name"
            events = events.filter(kind="custom")
        elif name == "event_meta_key":
            events = events.filter(kind="custom", props__has_any_keys=values)
            continue
        elif name.startswith(("meta_", "tag_")):
            column = filter_values.json_key_column(name)  # the key as a value, never a lookup
        else:
            column = prefix + FILTER_FIELDS[name]
        positive, negative = Q(), Q()
        for value in values:
            condition, negated = _condition(column, value)
            if negated:
                negative &= ~condition
            else:
                positive |= condition
        events = events.filter(positive).filter(negative)
    return events


def validate_filters(params: dict[str, list[str]]) -> dict[str, list[str]]:
    """The filter parameters of a request; a bad regular expression is a ``QueryError``."""
    filters: dict[str, list[str]] = {}
    for name, values in params.items():
        values = [v for v in values if v != ""]
        if not values:
            continue
        if name in FILTER_FIELDS or name in SPECIAL_FILTERS or name.startswith(("meta_", "tag_")):
            try:  # unsafe values are refused before they reach the database
                filter_values.json_key(name)
                for pattern in values if name == "pattern" else ():
                    filter_values.check_pattern(pattern)
            except filter_values.FilterValueError as exc:
                raise QueryError(exc.field, exc.message) from exc
            filters[name] = [filter_values.normalize_code(name, v) for v in values]
    return filters
