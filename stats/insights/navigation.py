"""How visitors move and arrive: page-to-page journeys (transitions, entries and exits) and
acquisition (referrers, UTM parameters, from ``stats.query`` breakdowns)."""

from __future__ import annotations

from stats.insights.expressions import (
    fetch_rows,
    raw_sql,
)
from stats.insights.results import Acquisition, DropOff, Journeys, SourceRow, Transition
from stats.query import StatsQuery, breakdown
from stats.selectors import (
    Period,
    events_in,
)

# --- journeys -------------------------------------------------------------------------


def journeys(site_id: int, period: Period, *, offset: int = 0, limit: int = 50) -> Journeys:
    """Page → next page transitions within sessions, and where sessions end (drop-off).

    ``transitions`` (most frequent first): ``count`` is how often a page view of ``from``
    was directly followed by a page view of ``to`` in the same session; ``share`` is that
    count over ``from``'s page views. ``drop_offs`` per page: ``exits`` are page views
    that were the last of their session in the period, ``drop_off`` = exits / views.
    """
    inner, params = raw_sql(
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
    answer = fetch_rows(
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
    return Journeys(
        transitions=[
            Transition(
                from_path=path,
                to_path=next_path,
                count=count,
                share=round(count / int(views), 4),
                from_views=int(views),
                from_exits=int(exits),
                drop_off=round(int(exits) / int(views), 4),
            )
            for path, next_path, count, views, exits in transitions
        ],
        total=total,
        drop_offs=[
            DropOff(path, int(views), int(exits), round(int(exits) / int(views), 4))
            for path, views, exits in drop_offs
        ],
    )


# --- acquisition ----------------------------------------------------------------------


def acquisition(site_id: int, period: Period, *, offset: int = 0, limit: int = 50) -> Acquisition:
    """Referrers, UTM source / medium / campaign and channels, through the statistics query
    layer (``stats.query.breakdown``), so the numbers equal the Pirsch API's."""
    query = StatsQuery(site_id, period.first_day, period.last_day, period.tz)

    def listed(dimension: str, column: str) -> list[SourceRow]:
        return [
            SourceRow(
                value=row[column],
                visitors=row["visitors"],
                sessions=row["sessions"],
                views=row["views"],
                relative_visitors=row["relative_visitors"],
                referrer_name=(row["source"] or None) if dimension == "referrer" else None,
            )
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
    return Acquisition(
        **{name: rows[offset : offset + limit] for name, rows in lists.items()},
        totals={name: len(rows) for name, rows in lists.items()},
    )
