"""What goes wrong on pages: JavaScript error groups, click issues (rage, dead, phantom
clicks) per element, and SEO diagnostics per page."""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import reduce
from operator import or_

from django.db.models import (
    Count,
    F,
    Max,
    Min,
    Q,
    Window,
)
from django.db.models.functions import RowNumber

from stats.insights.expressions import (
    prop_text,
)
from stats.insights.formulas import (
    CLICK_ISSUES,
    ERROR_PAGES_LISTED,
    ERROR_TYPES,
)
from stats.insights.results import (
    ClickIssues,
    ErrorGroup,
    PageHits,
    Ranked,
    Seo,
    SeoIssue,
    SeoPage,
)
from stats.selectors import (
    Period,
    events_in,
)

# --- errors ---------------------------------------------------------------------------


def errors(
    site_id: int, period: Period, *, offset: int = 0, limit: int = 50, type: str = ""
) -> Ranked[ErrorGroup]:
    """JavaScript errors and console warnings grouped by type and message, most frequent first.

    Each group: count, affected visitors and sessions, the number of distinct pages and the
    most affected ones, first and last seen, and the source/line/column of the
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
    pages: dict[tuple, list[PageHits]] = defaultdict(list)
    for row in (
        events.filter(in_page)
        .values("name", "message", "path")
        .annotate(count=Count("id"))
        .order_by("-count", "path")
    ):
        listed = pages[(row["name"], row["message"])]
        if len(listed) < ERROR_PAGES_LISTED:
            listed.append(PageHits(row["path"], row["count"]))
    result = []
    for row in page:
        key = (row["name"], row["message"])
        props = latest.get(key) or {}
        result.append(
            ErrorGroup(
                type=row["name"],
                message=row["message"] or "",
                count=row["count"],
                visitors=row["visitors"],
                sessions=row["sessions"],
                page_count=row["page_count"],
                pages=pages[key],
                first_seen=row["first_seen"],
                last_seen=row["last_seen"],
                source=props.get("source") if isinstance(props.get("source"), str) else None,
                line=props.get("line") if isinstance(props.get("line"), int) else None,
                column=props.get("column") if isinstance(props.get("column"), int) else None,
            )
        )
    return Ranked(result, total)


# --- click issues ---------------------------------------------------------------------


def clicks(
    site_id: int, period: Period, *, offset: int = 0, limit: int = 50
) -> Ranked[ClickIssues]:
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
            ClickIssues(
                selector=row["selector"] or "",
                url=row["path"],
                rage_clicks=row["rage_clicks"],
                dead_clicks=row["dead_clicks"],
                phantom_clicks=row["phantom_clicks"],
                total=row["total"],
                visitors=row["visitors"],
                last_seen=row["last_seen"],
            )
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


def seo(site_id: int, period: Period, *, offset: int = 0, limit: int = 50) -> Seo:
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
            SeoPage(
                url=row["path"],
                issues=codes,
                h1_count=_int_prop(props, "h1_count"),
                images_without_alt=_int_prop(props, "images_without_alt"),
                title_length=_int_prop(props, "title_length"),
                description_length=_int_prop(props, "description_length"),
                reports=report_counts.get(row["path"], 0),
                last_checked=row["timestamp"],
            )
        )
    pages.sort(key=lambda p: (-p.issue_count, p.url))
    return Seo(
        pages=pages[offset : offset + limit],
        total=len(pages),
        issues=[
            SeoIssue(code, count)
            for code, count in sorted(issue_pages.items(), key=lambda i: (-i[1], i[0]))
        ],
        pages_with_issues=sum(1 for p in pages if p.issue_count),
    )
