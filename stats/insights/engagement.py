"""How pages are read and forms filled in: reading reports per page (scroll depth, active
time, attention) and form abandonment and field hesitation."""

from __future__ import annotations

from collections import defaultdict
from functools import reduce
from operator import or_

from django.db.models import (
    Avg,
    Count,
    F,
    Q,
)

from stats.insights.expressions import (
    PropNumber,
    fetch_rows,
    grouped_percentiles,
    is_postgres,
    percentile_cont,
    prop_text,
    raw_sql,
    rounded,
)
from stats.insights.results import (
    FieldHesitation,
    FormAbandonment,
    Forms,
    Ranked,
    ReadingPage,
)
from stats.selectors import (
    Period,
    events_in,
)

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
    snippet, snippet_params = raw_sql(
        events_in(site_id, period)
        .filter(kind="engagement", name="reading_behavior")
        .annotate(visible_ms=PropNumber("visible_ms"), velocity=PropNumber("scroll_velocity"))
        .values("path", "scroll_depth", "duration_ms", "visible_ms", "velocity")
    )
    plausible, plausible_params = raw_sql(
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


def reading(
    site_id: int, period: Period, *, offset: int = 0, limit: int = 50
) -> Ranked[ReadingPage]:
    """Reading behaviour per page from engagement reports (``_reading_reports_sql``): the
    snippet's reports and Plausible's engaged time ``e`` / scroll depth ``sd`` per visit.

    ``avg_active_ms`` is the page's average engaged time per report (its time on page);
    ``attention`` is Σ active ms / Σ visible ms × 100 over the page's reports that measured
    visible time (a ratio of sums, so long visits weigh more than glances).
    """
    cte, params = _reading_reports_sql(site_id, period)
    measured = "active IS NOT NULL AND visible > 0"
    median = ", percentile_cont(0.5) WITHIN GROUP (ORDER BY depth)" if is_postgres() else ""
    page = fetch_rows(
        f"""{cte}
            SELECT path, count(*) AS n, avg(depth), avg(active), avg(velocity),
                   sum(CASE WHEN {measured} THEN active END),
                   sum(CASE WHEN {measured} THEN visible END){median}
            FROM reports GROUP BY path ORDER BY n DESC, path LIMIT %s OFFSET %s""",  # noqa: S608
        (*params, limit, offset),
    )
    if len(page) == limit or offset:
        total = fetch_rows(f"{cte} SELECT count(DISTINCT path) FROM reports", params)[0][0]  # noqa: S608
    else:
        total = len(page)
    paths = [row[0] for row in page]
    if is_postgres():
        medians = {row[0]: row[7] for row in page}
    else:
        samples: dict[str, list[float]] = defaultdict(list)
        if paths:
            marks = ", ".join(["%s"] * len(paths))
            for path, depth in fetch_rows(
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
            ReadingPage(
                url=path,
                views=views.get(path, 0),
                reports=int(reports),
                avg_scroll_depth=rounded(depth),
                median_scroll_depth=rounded(medians.get(path)),
                avg_active_ms=None if active is None else round(float(active)),
                avg_scroll_velocity=rounded(velocity),
                attention_pct=None if attention is None else min(attention, 100.0),
            )
        )
    return Ranked(rows, int(total))


# --- forms ----------------------------------------------------------------------------


def forms(site_id: int, period: Period, *, offset: int = 0, limit: int = 50) -> Forms:
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
    return Forms(
        abandonments=[
            FormAbandonment(
                form=row["form"] or "",
                url=row["path"],
                count=row["count"],
                visitors=row["visitors"],
                avg_fields_touched=rounded(row["avg_fields_touched"]),
                last_field=last_fields.get((row["form"], row["path"]), ""),
            )
            for row in hotspot_rows
        ],
        hesitations=[
            FieldHesitation(
                form=row["form"] or "",
                field=row["field"] or "",
                url=row["path"],
                count=row["count"],
                avg_hesitation_ms=round(row["avg_ms"]),
                median_hesitation_ms=round(
                    medians[(row["form"], row["field"], row["path"])]["pause"]["p50"]
                ),
            )
            for row in field_rows
        ],
        totals={"abandonments": abandon_total, "hesitations": field_total},
    )
