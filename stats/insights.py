"""Behaviour insights from the snippet's events: frustration, errors, clicks, SEO, journeys,
reading, forms, acquisition and web vitals.

Read by the identity-js insights API (``stats.api.identity.insights``) and the dashboard's
Behaviour pages (``stats.behaviour_views``), so both always show the same numbers. Every
figure is computed from raw ``Event`` rows of one site and one ``Period`` by set-based
queries (window functions for orders within a session, ``percentile_cont`` for
percentiles on PostgreSQL). The embedded SQLite default runs the same SQL where it is
portable; percentiles are computed in Python there, with the same interpolation as
``percentile_cont``. The formulas are written down in ``docs/insights.md``.

Bots are dropped at ingestion, so nothing here filters them.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    CharField,
    Count,
    F,
    FloatField,
    Func,
    Max,
    Min,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, RowNumber

from stats.selectors import (
    Period,
    epoch_ms,
    events_in,
    public_visitor_id,
    stats_summary,
    top_pages,
)
from tracking.models import Event

# --- the formulas' constants (docs/insights.md explains each) -------------------------

# A page view less than this many seconds after the previous page view of the same
# session is a rapid navigation (bouncing around without reading).
RAPID_NAVIGATION_SECONDS = 3
# Frustration score: points per occurrence and the most one signal may contribute.
FRUSTRATION_WEIGHTS: dict[str, tuple[int, int]] = {
    "rage_clicks": (15, 45),
    "dead_clicks": (5, 20),
    "errors": (10, 30),
    "form_abandons": (15, 30),
    "rapid_navigations": (5, 15),
}
FRUSTRATION_MAX = 100
# Score bands of the distribution (inclusive bounds).
FRUSTRATION_BUCKETS = ((0, 19), (20, 39), (40, 59), (60, 79), (80, 100))
# Errors that count towards frustration (warnings do not).
FRUSTRATION_ERRORS = ("js_exception", "promise_rejection", "console_error")
ERROR_TYPES = (*FRUSTRATION_ERRORS, "console_warning")
CLICK_ISSUES = ("rage_click", "dead_click", "phantom_click")
SEO_ISSUE_CODES = (
    "missing_title",
    "missing_meta_description",
    "missing_h1",
    "multiple_h1",
    "images_without_alt",
    "missing_canonical",
)
WEB_VITALS = ("lcp", "inp", "fid", "cls", "ttfb")
PERCENTILES = (0.5, 0.75, 0.95)
# How many distinct pages an error group lists.
ERROR_PAGES_LISTED = 5


@dataclass(frozen=True)
class Ranked:
    """One page of a ranked list and how many rows the whole list has."""

    rows: list[dict]
    total: int


# --- portable expressions -------------------------------------------------------------


def _postgres() -> bool:
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


def _pkey(fraction: float) -> str:
    return f"p{round(fraction * 100)}"


def _round(value: float | None, digits: int = 1) -> float | None:
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
    if _postgres():
        annotations = {}
        for name, expression in values.items():
            annotations[f"pct_{name}_samples"] = Count(expression)
            for fraction in fractions:
                annotations[f"pct_{name}_{_pkey(fraction)}"] = PercentileCont(expression, fraction)
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
                    **{_pkey(f): row[f"pct_{name}_{_pkey(f)}"] for f in fractions},
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
                **{_pkey(f): percentile_cont(per_name.get(name, []), f) for f in fractions},
            }
            for name in names
        }
    return result


def _raw(queryset: QuerySet) -> tuple[str, tuple]:
    """The SQL of a Django-built queryset, to be wrapped by a hand-written outer query."""
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def _fetch(sql: str, params: Iterable) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, tuple(params))
        return cursor.fetchall()


def _seconds_between(later: str, earlier: str) -> str:
    """SQL for the seconds from ``earlier`` to ``later`` (two timestamp columns)."""
    if _postgres():
        return f"extract(epoch FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def _least(*sql: str) -> str:
    """SQL for the smallest of several numbers (``least`` / SQLite's scalar ``min``)."""
    return f"{'least' if _postgres() else 'min'}({', '.join(sql)})"


# --- frustration ----------------------------------------------------------------------


def frustration_score(
    *,
    rage_clicks: int,
    dead_clicks: int,
    errors: int,
    form_abandons: int,
    rapid_navigations: int,
) -> int:
    """The score of one visitor (the same formula as the SQL in ``frustration``)."""
    counts = {
        "rage_clicks": rage_clicks,
        "dead_clicks": dead_clicks,
        "errors": errors,
        "form_abandons": form_abandons,
        "rapid_navigations": rapid_navigations,
    }
    points = sum(
        min(counts[name] * weight, cap) for name, (weight, cap) in FRUSTRATION_WEIGHTS.items()
    )
    return min(points, FRUSTRATION_MAX)


def _frustration_sql(
    site_id: int, period: Period, *, per_session: bool = False, **narrow: int
) -> tuple[str, tuple]:
    """The ``scored`` CTE: signal counts and score per visitor (or per session, with the
    session's last signal time ``last_at``), of the visitors (sessions) with a page view.
    ``narrow``: ``visitor_id=`` / ``session_id=`` equality filters."""
    inner, params = _raw(
        events_in(site_id, period)
        .filter(kind__in=["pageview", "behaviour", "error"], **narrow)
        .values("id", "visitor_id", "session_id", "timestamp", "kind", "name")
    )
    group = "visitor_id, session_id" if per_session else "visitor_id"
    errors = ", ".join(f"'{name}'" for name in FRUSTRATION_ERRORS)
    score = " + ".join(
        _least(f"{name} * {weight}", str(cap))
        for name, (weight, cap) in FRUSTRATION_WEIGHTS.items()
    )
    # One pass over the events, no join: the window partitions page views apart from the
    # other kinds, so each page view's lag is the previous page view of its session.
    previous_view = (
        'lag("timestamp") OVER (PARTITION BY visitor_id, session_id, kind ORDER BY "timestamp", id)'
    )
    sql = f"""
        WITH steps AS (
            SELECT visitor_id, session_id, kind, name, "timestamp",
                   CASE WHEN kind = 'pageview'
                        THEN {_seconds_between('"timestamp"', previous_view)} END AS gap
            FROM ({inner}) e
        ),
        counted AS (
            SELECT {group}, max("timestamp") AS last_at,
                   SUM(CASE WHEN kind = 'behaviour' AND name = 'rage_click' THEN 1 ELSE 0 END)
                       AS rage_clicks,
                   SUM(CASE WHEN kind = 'behaviour' AND name = 'dead_click' THEN 1 ELSE 0 END)
                       AS dead_clicks,
                   SUM(CASE WHEN kind = 'error' AND name IN ({errors}) THEN 1 ELSE 0 END)
                       AS errors,
                   SUM(CASE WHEN kind = 'behaviour' AND name = 'form_abandon' THEN 1 ELSE 0 END)
                       AS form_abandons,
                   SUM(CASE WHEN gap < {RAPID_NAVIGATION_SECONDS} THEN 1 ELSE 0 END)
                       AS rapid_navigations,
                   SUM(CASE WHEN kind = 'pageview' THEN 1 ELSE 0 END) AS page_views
            FROM steps GROUP BY {group}
        ),
        scored AS (
            SELECT counted.*, {_least(f"({score})", str(FRUSTRATION_MAX))} AS score
            FROM counted WHERE page_views > 0
        )
    """  # noqa: S608 - Django-built inner query; constants only
    return sql, params


def frustration_events(
    site_id: int,
    period: Period,
    *,
    offset: int = 0,
    limit: int = 50,
    visitor_id: int | None = None,
    session_id: int | None = None,
) -> Ranked:
    """The ``frustration_score`` event type of ``/events``: one computed event per session
    with a score above zero (the formula of ``frustration``, per session), dated at the
    session's last signal in the period, newest first."""
    narrow = {
        key: value
        for key, value in (("visitor_id", visitor_id), ("session_id", session_id))
        if value is not None
    }
    sql, params = _frustration_sql(site_id, period, per_session=True, **narrow)
    answer = _fetch(
        f"""{sql}
            SELECT * FROM (
                SELECT 'row', visitor_id, session_id, last_at, score, rage_clicks, dead_clicks,
                       errors, form_abandons, rapid_navigations
                FROM scored WHERE score > 0
                ORDER BY last_at DESC, session_id DESC LIMIT %s OFFSET %s
            ) page
            UNION ALL
            SELECT 'total', 0, 0, NULL, count(*), 0, 0, 0, 0, 0 FROM scored WHERE score > 0""",  # noqa: S608 - Django-built inner query
        (*params, limit, offset),
    )
    total = next(int(row[4]) for row in answer if row[0] == "total")
    rows = sorted(
        (row[1:] for row in answer if row[0] == "row"),
        key=lambda r: (_as_datetime(r[2]), r[1]),
        reverse=True,
    )
    return Ranked(
        [
            {
                "visitor_id": int(visitor),
                "session_id": int(session),
                "last_at": _as_datetime(last_at),
                "score": int(score),
                "rage_clicks": int(rage),
                "dead_clicks": int(dead),
                "errors": int(errors),
                "form_abandons": int(abandons),
                "rapid_navigations": int(rapid),
            }
            for visitor, session, last_at, score, rage, dead, errors, abandons, rapid in rows
        ],
        total,
    )


def _as_datetime(value) -> datetime:
    """A timestamp column as an aware datetime (SQLite hands raw SQL results back as text)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def frustration(site_id: int, period: Period, *, offset: int = 0, limit: int = 50) -> dict:
    """Frustration scores of the visitors with at least one page view in the period.

    Answer: ``{"scores": [...], "average": {"avg_score", "visitor_count"}, "distribution":
    [{"from", "to", "visitors"}], "total": n}``, scores highest first. The average is over
    every such visitor (zeros included), so it reads as "how frustrated is a typical
    visitor". One query, whatever the number of visitors.
    """
    sql, params = _frustration_sql(site_id, period)
    bucket = " ".join(
        f"WHEN score >= {low} THEN {low}" for low, _high in reversed(FRUSTRATION_BUCKETS)
    )
    # One statement, one pass over the events: the requested page of scores, and per score
    # band the visitors and their summed scores (population, average and distribution).
    answer = _fetch(
        f"""{sql}
            SELECT * FROM (
                SELECT 'score', visitor_id, score, rage_clicks, dead_clicks, errors,
                       form_abandons, rapid_navigations
                FROM scored ORDER BY score DESC, visitor_id LIMIT %s OFFSET %s
            ) page
            UNION ALL
            SELECT 'band', CASE {bucket} END, count(*), sum(score), 0, 0, 0, 0
            FROM scored GROUP BY CASE {bucket} END""",  # noqa: S608 - Django-built inner query
        (*params, limit, offset),
    )
    rows = sorted(
        (tuple(int(v) for v in row[1:]) for row in answer if row[0] == "score"),
        key=lambda r: (-r[1], r[0]),
    )
    per_bucket = {
        int(low): (int(visitors), float(points))
        for kind, low, visitors, points, *_zeros in answer
        if kind == "band"
    }
    count = sum(visitors for visitors, _points in per_bucket.values())
    average = sum(points for _visitors, points in per_bucket.values()) / count if count else 0
    return {
        "scores": [
            {
                "visitor_id": public_visitor_id(visitor_id),
                "score": int(score),
                "rage_clicks": int(rage),
                "dead_clicks": int(dead),
                "errors": int(errors),
                "form_abandons": int(abandons),
                "rapid_navigations": int(rapid),
            }
            for visitor_id, score, rage, dead, errors, abandons, rapid in rows
        ],
        "average": {
            "avg_score": round(average, 1) if count else 0,
            "visitor_count": count,
        },
        "distribution": [
            {"from": low, "to": high, "visitors": per_bucket.get(low, (0, 0.0))[0]}
            for low, high in FRUSTRATION_BUCKETS
        ],
        "total": count,
    }


# --- errors ---------------------------------------------------------------------------


def errors(
    site_id: int, period: Period, *, offset: int = 0, limit: int = 50, type: str = ""
) -> Ranked:
    """JavaScript errors and console warnings grouped by type and message, most frequent first.

    Each group: count, affected visitors and sessions, the number of distinct pages and the
    most affected ones, first and last seen (epoch ms), and the source/line/column of the
    latest occurrence.
    """
    events = events_in(site_id, period).filter(kind="error", name__in=ERROR_TYPES)
    if type:
        events = events.filter(name=type)
    events = events.annotate(message=prop_text("message"))
    groups = (
        events.values("name", "message")
        .annotate(
            count=Count("id"),
            visitors=Count("visitor_id", distinct=True),
            sessions=Count("session_id", distinct=True),
            page_count=Count("path", distinct=True),
            first_seen=Min("timestamp"),
            last_seen=Max("timestamp"),
        )
        .order_by("-count", "-last_seen", "name", "message")
    )
    total = groups.count()
    page = list(groups[offset : offset + limit])
    if not page:
        return Ranked([], total)

    in_page = reduce(or_, (Q(name=row["name"], message=row["message"]) for row in page))
    latest: dict[tuple, dict] = {}
    for event in (
        events.filter(in_page)
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("name"), F("message")],
                order_by=[F("timestamp").desc(), F("id").desc()],
            )
        )
        .filter(position=1)
        .values("name", "message", "props")
    ):
        latest[(event["name"], event["message"])] = event["props"]
    pages: dict[tuple, list[dict]] = defaultdict(list)
    for row in (
        events.filter(in_page)
        .values("name", "message", "path")
        .annotate(count=Count("id"))
        .order_by("-count", "path")
    ):
        listed = pages[(row["name"], row["message"])]
        if len(listed) < ERROR_PAGES_LISTED:
            listed.append({"url": row["path"], "count": row["count"]})
    result = []
    for row in page:
        key = (row["name"], row["message"])
        props = latest.get(key) or {}
        result.append(
            {
                "type": row["name"],
                "message": row["message"] or "",
                "count": row["count"],
                "visitors": row["visitors"],
                "sessions": row["sessions"],
                "page_count": row["page_count"],
                "pages": pages[key],
                "first_seen": epoch_ms(row["first_seen"]),
                "last_seen": epoch_ms(row["last_seen"]),
                "source": props.get("source") if isinstance(props.get("source"), str) else None,
                "line": props.get("line") if isinstance(props.get("line"), int) else None,
                "column": props.get("column") if isinstance(props.get("column"), int) else None,
            }
        )
    return Ranked(result, total)


# --- click issues ---------------------------------------------------------------------


def clicks(site_id: int, period: Period, *, offset: int = 0, limit: int = 50) -> Ranked:
    """Elements (selector on a page) with rage, dead or phantom clicks, most issues first."""
    groups = (
        events_in(site_id, period)
        .filter(kind="behaviour", name__in=CLICK_ISSUES)
        .annotate(selector=prop_text("selector"))
        .values("selector", "path")
        .annotate(
            rage_clicks=Count("id", filter=Q(name="rage_click")),
            dead_clicks=Count("id", filter=Q(name="dead_click")),
            phantom_clicks=Count("id", filter=Q(name="phantom_click")),
            total=Count("id"),
            visitors=Count("visitor_id", distinct=True),
            last_seen=Max("timestamp"),
        )
        .order_by("-total", "-rage_clicks", "path", "selector")
    )
    total = groups.count()
    return Ranked(
        [
            {
                "selector": row["selector"] or "",
                "url": row["path"],
                "rage_clicks": row["rage_clicks"],
                "dead_clicks": row["dead_clicks"],
                "phantom_clicks": row["phantom_clicks"],
                "total": row["total"],
                "visitors": row["visitors"],
                "last_seen": epoch_ms(row["last_seen"]),
            }
            for row in groups[offset : offset + limit]
        ],
        total,
    )


# --- SEO ------------------------------------------------------------------------------


def _issue_codes(props: dict) -> list[str]:
    issues = props.get("issues") if isinstance(props, dict) else None
    if not isinstance(issues, list):
        return []
    return [code for code in issues if isinstance(code, str)]


def _int_prop(props: dict, key: str) -> int | None:
    value = props.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def seo(site_id: int, period: Period, *, offset: int = 0, limit: int = 50) -> dict:
    """Each page's latest SEO diagnostics and, over those, how many pages have each issue.

    A page's state is its latest report in the period (a fixed page stops counting as soon
    as a visit reports it fixed). Pages with the most issues come first.
    """
    reports = events_in(site_id, period).filter(kind="behaviour", name="seo_diagnostics")
    report_counts = dict(
        reports.values("path").annotate(n=Count("id")).order_by().values_list("path", "n")
    )
    latest = (
        reports.annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("path")],
                order_by=[F("timestamp").desc(), F("id").desc()],
            )
        )
        .filter(position=1)
        .values("path", "props", "timestamp")
    )
    pages = []
    issue_pages: Counter[str] = Counter()
    for row in latest.iterator(chunk_size=2000):
        props = row["props"] if isinstance(row["props"], dict) else {}
        codes = _issue_codes(props)
        issue_pages.update(set(codes))
        pages.append(
            {
                "url": row["path"],
                "issues": codes,
                "issue_count": len(codes),
                "h1_count": _int_prop(props, "h1_count"),
                "images_without_alt": _int_prop(props, "images_without_alt"),
                "title_length": _int_prop(props, "title_length"),
                "description_length": _int_prop(props, "description_length"),
                "reports": report_counts.get(row["path"], 0),
                "last_checked": epoch_ms(row["timestamp"]),
            }
        )
    pages.sort(key=lambda p: (-p["issue_count"], p["url"]))
    return {
        "pages": pages[offset : offset + limit],
        "total": len(pages),
        "issues": [
            {"code": code, "pages": count}
            for code, count in sorted(issue_pages.items(), key=lambda i: (-i[1], i[0]))
        ],
        "pages_checked": len(pages),
        "pages_with_issues": sum(1 for p in pages if p["issue_count"]),
    }


# --- journeys -------------------------------------------------------------------------


def journeys(site_id: int, period: Period, *, offset: int = 0, limit: int = 50) -> dict:
    """Page → next page transitions within sessions, and where sessions end (drop-off).

    ``transitions`` (most frequent first): ``count`` is how often a page view of ``from``
    was directly followed by a page view of ``to`` in the same session; ``share`` is that
    count over ``from``'s page views. ``drop_offs`` per page: ``exits`` are page views
    that were the last of their session in the period, ``drop_off`` = exits / views.
    """
    inner, params = _raw(
        events_in(site_id, period)
        .filter(kind="pageview")
        .values("id", "visitor_id", "session_id", "timestamp", "path")
    )
    # Grouped once by (page, next page); a NULL next page is an exit. Views and exits per
    # page are window sums over those groups, so no query joins two derived tables.
    base = f"""
        WITH grouped AS (
            SELECT path, next_path, count(*) AS n FROM (
                SELECT path, lead(path) OVER (
                    PARTITION BY visitor_id, session_id ORDER BY "timestamp", id
                ) AS next_path
                FROM ({inner}) e
            ) steps
            GROUP BY path, next_path
        )
    """  # noqa: S608 - Django-built inner query
    # One statement: the page of transitions, the pages with most exits and the number of
    # distinct transitions, each part numbered so that the database's order is kept.
    answer = _fetch(
        f"""{base}
            SELECT * FROM (
                SELECT 'move' AS part,
                       row_number() OVER (ORDER BY n DESC, path, next_path) AS position,
                       path, next_path, n, views, exits
                FROM (
                    SELECT path, next_path, n,
                           SUM(n) OVER (PARTITION BY path) AS views,
                           SUM(CASE WHEN next_path IS NULL THEN n ELSE 0 END)
                               OVER (PARTITION BY path) AS exits
                    FROM grouped
                ) per_page
                WHERE next_path IS NOT NULL
                ORDER BY position LIMIT %s OFFSET %s
            ) moves
            UNION ALL
            SELECT * FROM (
                SELECT 'page', row_number() OVER (ORDER BY exits DESC, views DESC, path),
                       path, NULL, 0, views, exits
                FROM (
                    SELECT path, SUM(n) AS views,
                           SUM(CASE WHEN next_path IS NULL THEN n ELSE 0 END) AS exits
                    FROM grouped GROUP BY path
                ) per_page
                ORDER BY 2 LIMIT %s
            ) pages
            UNION ALL
            SELECT 'total', 0, NULL, NULL, count(*), 0, 0
            FROM grouped WHERE next_path IS NOT NULL""",  # noqa: S608 - Django-built inner query
        (*params, limit, offset, limit),
    )
    answer.sort(key=lambda row: (row[0], row[1]))
    transitions = [row[2:] for row in answer if row[0] == "move"]
    drop_offs = [(row[2], row[5], row[6]) for row in answer if row[0] == "page"]
    total = next(int(row[4]) for row in answer if row[0] == "total")
    return {
        "transitions": [
            {
                "from": path,
                "to": next_path,
                "count": count,
                "share": round(count / int(views), 4),
                "from_views": int(views),
                "from_exits": int(exits),
                "drop_off": round(int(exits) / int(views), 4),
            }
            for path, next_path, count, views, exits in transitions
        ],
        "total": total,
        "drop_offs": [
            {
                "url": path,
                "views": int(views),
                "exits": int(exits),
                "drop_off": round(int(exits) / int(views), 4),
            }
            for path, views, exits in drop_offs
        ],
    }


# --- reading --------------------------------------------------------------------------


def _reading_reports_sql(site_id: int, period: Period) -> tuple[str, tuple]:
    """The ``reports`` CTE: one row per reading report, from both sources of engaged time.

    * The snippet's ``reading_behavior`` (one per page view, sent on hide): scroll depth,
      active ms, visible ms and scroll velocity.
    * Plausible's ``engagement`` events: the tracker sends one on every hide or SPA
      navigation, ``e`` the engaged ms since the previous one and ``sd`` the deepest scroll
      so far, so one visit of a page (session and path) is Σ ``e`` and max ``sd``, the way
      upstream aggregates scroll depth per visit. No visible time: no attention from them.
    """
    snippet, snippet_params = _raw(
        events_in(site_id, period)
        .filter(kind="engagement", name="reading_behavior")
        .annotate(visible_ms=PropNumber("visible_ms"), velocity=PropNumber("scroll_velocity"))
        .values("path", "scroll_depth", "duration_ms", "visible_ms", "velocity")
    )
    plausible, plausible_params = _raw(
        events_in(site_id, period)
        .filter(kind="engagement", name="engagement")
        .values("session_id", "path", "scroll_depth", "duration_ms")
    )
    sql = f"""
        WITH reports AS (
            SELECT path, scroll_depth AS depth, duration_ms AS active, visible_ms AS visible,
                   velocity
            FROM ({snippet}) s
            UNION ALL
            SELECT path, max(scroll_depth), sum(duration_ms), NULL, NULL
            FROM ({plausible}) p GROUP BY session_id, path
        )
    """  # noqa: S608 - Django-built inner queries
    return sql, (*snippet_params, *plausible_params)


def reading(site_id: int, period: Period, *, offset: int = 0, limit: int = 50) -> Ranked:
    """Reading behaviour per page from engagement reports (``_reading_reports_sql``): the
    snippet's reports and Plausible's engaged time ``e`` / scroll depth ``sd`` per visit.

    ``avg_active_ms`` is the page's average engaged time per report (its time on page);
    ``attention`` is Σ active ms / Σ visible ms × 100 over the page's reports that measured
    visible time (a ratio of sums, so long visits weigh more than glances).
    """
    cte, params = _reading_reports_sql(site_id, period)
    measured = "active IS NOT NULL AND visible > 0"
    median = ", percentile_cont(0.5) WITHIN GROUP (ORDER BY depth)" if _postgres() else ""
    page = _fetch(
        f"""{cte}
            SELECT path, count(*) AS n, avg(depth), avg(active), avg(velocity),
                   sum(CASE WHEN {measured} THEN active END),
                   sum(CASE WHEN {measured} THEN visible END){median}
            FROM reports GROUP BY path ORDER BY n DESC, path LIMIT %s OFFSET %s""",  # noqa: S608
        (*params, limit, offset),
    )
    if len(page) == limit or offset:
        total = _fetch(f"{cte} SELECT count(DISTINCT path) FROM reports", params)[0][0]  # noqa: S608
    else:
        total = len(page)
    paths = [row[0] for row in page]
    if _postgres():
        medians = {row[0]: row[7] for row in page}
    else:
        samples: dict[str, list[float]] = defaultdict(list)
        if paths:
            marks = ", ".join(["%s"] * len(paths))
            for path, depth in _fetch(
                f"{cte} SELECT path, depth FROM reports "  # noqa: S608
                f"WHERE depth IS NOT NULL AND path IN ({marks})",
                (*params, *paths),
            ):
                samples[path].append(float(depth))
        medians = {path: percentile_cont(samples.get(path, []), 0.5) for path in paths}
    views = dict(
        events_in(site_id, period)
        .filter(kind="pageview", path__in=paths)
        .values("path")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("path", "n")
    )
    rows = []
    for path, reports, depth, active, velocity, active_sum, visible_sum, *_ in page:
        attention = round(100 * float(active_sum) / float(visible_sum), 1) if visible_sum else None
        rows.append(
            {
                "url": path,
                "views": views.get(path, 0),
                "reports": int(reports),
                "avg_scroll_depth": _round(depth),
                "median_scroll_depth": _round(medians.get(path)),
                "avg_active_ms": None if active is None else round(float(active)),
                "avg_scroll_velocity": _round(velocity),
                "attention_pct": None if attention is None else min(attention, 100.0),
            }
        )
    return Ranked(rows, int(total))


# --- forms ----------------------------------------------------------------------------


def forms(site_id: int, period: Period, *, offset: int = 0, limit: int = 50) -> dict:
    """Abandonment hotspots (form on a page) and the fields where visitors hesitate.

    Abandonments come most frequent first, each with the field most often touched last.
    Hesitation fields come longest average pause first (the median is given alongside).
    """
    events = events_in(site_id, period).filter(kind="behaviour")
    abandons = events.filter(name="form_abandon").annotate(form=prop_text("form"))
    hotspots = (
        abandons.annotate(touched=PropNumber("fields_touched"))
        .values("form", "path")
        .annotate(
            count=Count("id"),
            visitors=Count("visitor_id", distinct=True),
            avg_fields_touched=Avg("touched"),
        )
        .order_by("-count", "path", "form")
    )
    abandon_total = hotspots.count()
    hotspot_rows = list(hotspots[offset : offset + limit])
    last_fields: dict[tuple, str] = {}
    if hotspot_rows:
        in_page = reduce(
            or_,
            (Q(path=row["path"], form=row["form"]) for row in hotspot_rows),
        )
        for row in (
            abandons.filter(in_page)
            .annotate(last_field=prop_text("last_field"))
            .values("form", "path", "last_field")
            .annotate(n=Count("id"))
            .order_by("-n", "last_field")
        ):
            last_fields.setdefault((row["form"], row["path"]), row["last_field"] or "")
    hesitations = (
        events.filter(name="form_hesitation")
        .annotate(
            form=prop_text("form"), field=prop_text("field"), pause=PropNumber("hesitation_ms")
        )
        .filter(pause__isnull=False)
    )
    fields = (
        hesitations.values("form", "field", "path")
        .annotate(count=Count("id"), avg_ms=Avg("pause"))
        .order_by("-avg_ms", "-count", "path", "form", "field")
    )
    field_total = fields.count()
    field_rows = list(fields[offset : offset + limit])
    medians = (
        grouped_percentiles(
            hesitations.filter(path__in={row["path"] for row in field_rows}),
            ["form", "field", "path"],
            {"pause": F("pause")},
            (0.5,),
        )
        if field_rows
        else {}
    )
    return {
        "abandonments": [
            {
                "form": row["form"] or "",
                "url": row["path"],
                "count": row["count"],
                "visitors": row["visitors"],
                "avg_fields_touched": _round(row["avg_fields_touched"]),
                "last_field": last_fields.get((row["form"], row["path"]), ""),
            }
            for row in hotspot_rows
        ],
        "hesitations": [
            {
                "form": row["form"] or "",
                "field": row["field"] or "",
                "url": row["path"],
                "count": row["count"],
                "avg_hesitation_ms": round(row["avg_ms"]),
                "median_hesitation_ms": round(
                    medians[(row["form"], row["field"], row["path"])]["pause"]["p50"]
                ),
            }
            for row in field_rows
        ],
        "totals": {"abandonments": abandon_total, "hesitations": field_total},
    }


# --- acquisition ----------------------------------------------------------------------


def acquisition(site_id: int, period: Period, *, offset: int = 0, limit: int = 50) -> dict:
    """Referrers, UTM source / medium / campaign and channels, through the statistics query
    layer (``stats.query.breakdown``), so the numbers equal the Pirsch API's."""
    from stats.query import StatsQuery, breakdown

    query = StatsQuery(site_id, period.first_day, period.last_day, period.tz)

    def listed(dimension: str, column: str) -> list[dict]:
        return [
            {
                column: row[column],
                "visitors": row["visitors"],
                "sessions": row["sessions"],
                "views": row["views"],
                "relative_visitors": row["relative_visitors"],
                **({"referrer_name": row["source"] or None} if dimension == "referrer" else {}),
            }
            for row in breakdown(query, dimension)
            if row[column]
        ]

    lists = {
        "referrers": listed("referrer", "referrer"),
        "utm_sources": listed("utm_source", "utm_source"),
        "utm_mediums": listed("utm_medium", "utm_medium"),
        "utm_campaigns": listed("utm_campaign", "utm_campaign"),
        "channels": listed("channel", "channel"),
    }
    return {
        **{name: rows[offset : offset + limit] for name, rows in lists.items()},
        "totals": {name: len(rows) for name, rows in lists.items()},
    }


# --- web metrics ----------------------------------------------------------------------


def _vitals_json(per_metric: dict[str, dict]) -> dict:
    """Milliseconds as whole numbers, CLS with three decimals."""

    def shown(metric: str, value: float | None) -> float | int | None:
        if value is None:
            return None
        return round(value, 3) if metric == "cls" else round(value)

    return {
        metric: {
            "samples": values["samples"],
            **{_pkey(f): shown(metric, values[_pkey(f)]) for f in PERCENTILES},
        }
        for metric, values in per_metric.items()
    }


def web_metrics(site_id: int, period: Period, *, offset: int = 0, limit: int = 50) -> dict:
    """Web vitals percentiles (p50/p75/p95) overall and per page, with the period's average
    session duration, bounce rate and top pages from ``stats.selectors``.

    LCP, INP, FID and TTFB are milliseconds; CLS is unitless. Pages with the most vitals
    reports come first.
    """
    reports = events_in(site_id, period).filter(kind="behaviour", name="web_vitals")
    metrics = {metric: PropNumber(metric) for metric in WEB_VITALS}
    overall = grouped_percentiles(reports, [], metrics).get(())
    empty = {m: {"samples": 0, **{_pkey(f): None for f in PERCENTILES}} for m in WEB_VITALS}
    per_page = reports.values("path").annotate(n=Count("id")).order_by("-n", "path")
    total = per_page.count()
    page = list(per_page[offset : offset + limit])
    page_vitals = (
        grouped_percentiles(
            reports.filter(path__in=[row["path"] for row in page]), ["path"], metrics
        )
        if page
        else {}
    )
    summary = stats_summary(site_id, period).totals
    return {
        "web_vitals": _vitals_json(overall or empty),
        "pages": [
            {
                "url": row["path"],
                "reports": row["n"],
                **_vitals_json(page_vitals.get((row["path"],), empty)),
            }
            for row in page
        ],
        "total": total,
        "avg_session_duration_ms": summary.avg_session_ms,
        "bounce_rate": summary.bounce_rate,
        "sessions": summary.sessions,
        "top_pages": [
            {"url": page.path, "views": page.views, "unique_visitors": page.unique_visitors}
            for page in top_pages(site_id, period, limit=10).pages
        ],
    }
