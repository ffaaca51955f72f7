"""Frustration: a score per session from rage and dead clicks, errors, abandoned forms and
rapid navigations (capped per signal), its distribution and the sessions scored."""

from __future__ import annotations

from datetime import UTC, datetime

from stats.insights.expressions import (
    fetch_rows,
    least_of,
    raw_sql,
    seconds_between,
)
from stats.insights.formulas import (
    FRUSTRATION_BUCKETS,
    FRUSTRATION_ERRORS,
    FRUSTRATION_MAX,
    FRUSTRATION_WEIGHTS,
    RAPID_NAVIGATION_SECONDS,
)
from stats.insights.results import (
    Frustration,
    Ranked,
    ScoreBand,
    SessionFrustration,
    Signals,
    VisitorFrustration,
)
from stats.selectors import (
    Period,
    events_in,
    public_visitor_id,
)

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
    inner, params = raw_sql(
        events_in(site_id, period)
        .filter(kind__in=["pageview", "behaviour", "error"], **narrow)
        .values("id", "visitor_id", "session_id", "timestamp", "kind", "name")
    )
    group = "visitor_id, session_id" if per_session else "visitor_id"
    errors = ", ".join(f"'{name}'" for name in FRUSTRATION_ERRORS)
    score = " + ".join(
        least_of(f"{name} * {weight}", str(cap))
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
                        THEN {seconds_between('"timestamp"', previous_view)} END AS gap
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
            SELECT counted.*, {least_of(f"({score})", str(FRUSTRATION_MAX))} AS score
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
) -> Ranked[SessionFrustration]:
    """The ``frustration_score`` event type of ``/events``: one computed event per session
    with a score above zero (the formula of ``frustration``, per session), dated at the
    session's last signal in the period, newest first."""
    narrow = {
        key: value
        for key, value in (("visitor_id", visitor_id), ("session_id", session_id))
        if value is not None
    }
    sql, params = _frustration_sql(site_id, period, per_session=True, **narrow)
    answer = fetch_rows(
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
            SessionFrustration(
                **_signals(*counts),
                visitor_id=int(visitor),
                session_id=int(session),
                last_at=_as_datetime(last_at),
            )
            for visitor, session, last_at, *counts in rows
        ],
        total,
    )


def _signals(score, rage, dead, errors, abandons, rapid) -> dict[str, int]:
    """A score and its signal counts (``Signals``' fields) from one result row."""
    return vars(Signals(int(score), int(rage), int(dead), int(errors), int(abandons), int(rapid)))


def _as_datetime(value) -> datetime:
    """A timestamp column as an aware datetime (SQLite hands raw SQL results back as text)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def frustration(site_id: int, period: Period, *, offset: int = 0, limit: int = 50) -> Frustration:
    """Frustration scores of the visitors with at least one page view in the period.

    Scores come highest first. The average (one decimal) is over every such visitor (zeros
    included), so it reads as "how frustrated is a typical visitor". One query, whatever
    the number of visitors.
    """
    sql, params = _frustration_sql(site_id, period)
    bucket = " ".join(
        f"WHEN score >= {low} THEN {low}" for low, _high in reversed(FRUSTRATION_BUCKETS)
    )
    # One statement, one pass over the events: the requested page of scores, and per score
    # band the visitors and their summed scores (population, average and distribution).
    answer = fetch_rows(
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
    return Frustration(
        scores=[
            VisitorFrustration(**_signals(*counts), visitor_id=public_visitor_id(visitor_id))
            for visitor_id, *counts in rows
        ],
        average_score=round(average, 1) if count else 0,
        visitor_count=count,
        distribution=[
            ScoreBand(low, high, per_bucket.get(low, (0, 0.0))[0])
            for low, high in FRUSTRATION_BUCKETS
        ],
    )
