"""Portable expressions: a prop as a number or text, percentiles (``percentile_cont`` on
PostgreSQL, the same interpolation in Python on SQLite), and raw-SQL helpers."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    F,
    FloatField,
    Func,
    QuerySet,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce

from stats.insights.formulas import (
    PERCENTILES,
)
from tracking.models import Event

# --- portable expressions -------------------------------------------------------------


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


class PropNumber(Func):
    """The number stored under ``key`` in ``props``; NULL when absent or not a number.

    Guarded by the JSON type so that one malformed row can never fail a whole report
    (a bare ``::float`` cast would raise on a string).
    """

    output_field = FloatField()

    def __init__(self, key: str):
        super().__init__(F("props"))
        self.key = key

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        sql = (
            f"CASE WHEN jsonb_typeof({column} -> %s) = 'number' "
            f"THEN ({column} ->> %s)::double precision END"
        )
        return sql, (*params, self.key, *params, self.key)

    def as_sql(self, compiler, connection, **extra):
        # SQLite (the embedded default): JSON1's json_type / json_extract.
        column, params = compiler.compile(self.source_expressions[0])
        path = f'$."{self.key}"'
        sql = (
            f"CASE WHEN json_type({column}, %s) IN ('integer', 'real') "
            f"THEN json_extract({column}, %s) END"
        )
        return sql, (*params, path, *params, path)


def prop_text(key: str) -> Coalesce:
    """The text stored under ``key`` in ``props`` ('' when absent).

    Wrapped in ``Coalesce`` so that comparisons are plain text comparisons (a bare key
    transform compares JSON values, which SQLite cannot do against a raw string).
    """
    return Coalesce(KeyTextTransform(key, "props"), Value(""), output_field=CharField())


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "percentile_cont"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, **extra)
        self.template = f"%(function)s({float(fraction)!r}) WITHIN GROUP (ORDER BY %(expressions)s)"


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """``percentile_cont`` in Python (linear interpolation between the closest ranks)."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def percentile_key(fraction: float) -> str:
    return f"p{round(fraction * 100)}"


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def grouped_percentiles(
    events: QuerySet[Event],
    group_by: Sequence[str],
    values: dict[str, Any],
    fractions: Sequence[float] = PERCENTILES,
) -> dict[tuple, dict[str, dict[str, float | None]]]:
    """Percentiles of several value expressions per group, plus each one's sample count.

    ``values`` maps a name to an expression (NULLs are not samples). Answer:
    ``{group: {name: {"p50": …, "samples": n}}}``. One ``GROUP BY`` query on PostgreSQL;
    on SQLite the samples are read once and ranked in Python.
    """
    result: dict[tuple, dict[str, dict[str, float | None]]] = {}
    if is_postgres():
        annotations = {}
        for name, expression in values.items():
            annotations[f"pct_{name}_samples"] = Count(expression)
            for fraction in fractions:
                annotations[f"pct_{name}_{percentile_key(fraction)}"] = PercentileCont(
                    expression, fraction
                )
        rows = (
            events.values(*group_by).annotate(**annotations).order_by()
            if group_by
            else [events.aggregate(**annotations)]
        )
        for row in rows:
            key = tuple(row[g] for g in group_by)
            result[key] = {
                name: {
                    "samples": row[f"pct_{name}_samples"],
                    **{
                        percentile_key(f): row[f"pct_{name}_{percentile_key(f)}"] for f in fractions
                    },
                }
                for name in values
            }
        return result
    samples: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    names = list(values)
    rows = events.annotate(**{f"_v_{n}": values[n] for n in names}).values_list(
        *group_by, *(f"_v_{n}" for n in names)
    )
    for row in rows.iterator(chunk_size=5000):
        key = tuple(row[: len(group_by)])
        for name, value in zip(names, row[len(group_by) :], strict=True):
            if value is not None:
                samples[key][name].append(float(value))
    for key, per_name in samples.items():
        result[key] = {
            name: {
                "samples": len(per_name.get(name, [])),
                **{
                    percentile_key(f): percentile_cont(per_name.get(name, []), f) for f in fractions
                },
            }
            for name in names
        }
    return result


def raw_sql(queryset: QuerySet) -> tuple[str, tuple]:
    """The SQL of a Django-built queryset, to be wrapped by a hand-written outer query."""
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def fetch_rows(sql: str, params: Iterable) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, tuple(params))
        return cursor.fetchall()


def seconds_between(later: str, earlier: str) -> str:
    """SQL for the seconds from ``earlier`` to ``later`` (two timestamp columns)."""
    if is_postgres():
        return f"extract(epoch FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def least_of(*sql: str) -> str:
    """SQL for the smallest of several numbers (``least`` / SQLite's scalar ``min``)."""
    return f"{'least' if is_postgres() else 'min'}({', '.join(sql)})"
