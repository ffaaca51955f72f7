"""identity-js's wire shapes of the read selectors' results (``stats.selectors``): the
selectors return rows, events and typed values; only this module names them as
identity-js does."""

from __future__ import annotations

from stats.query.results import rate
from stats.revenue import Revenue
from stats.selectors import (
    SessionDetail,
    StatsSummary,
    TopPages,
    VisitorDetail,
    avg_session_ms,
    country_name,
    epoch_ms,
    event_type_name,
    fingerprint_hash,
    public_session_id,
    public_visitor_id,
    views_per_session,
)
from stats.visitor_traits import bot_score, visitor_timezone
from tracking.models import Event

# The seed's computed event type: a session's frustration score (``stats.insights``).
FRUSTRATION_SCORE = "frustration_score"


def visitor_json(site_id: int, row: dict) -> dict:
    return {
        "visitor_id": public_visitor_id(row["visitor_id"]),
        "fingerprint_hash": fingerprint_hash(site_id, row["visitor_id"]),
        "first_seen_at": epoch_ms(row["first_seen"]),
        "last_seen_at": epoch_ms(row["last_seen"]),
        "visit_count": row["visits"],
        "browser_name": row["browser_name"] or None,
        "browser_version": row["browser_ver"] or None,
        "os": row["os_name"] or None,
        "mobile": 1 if row["device"] in ("mobile", "tablet") else 0,
        "screen_width": row["width"],
        "screen_height": row["height"],
        "timezone": visitor_timezone(row["country"], row["city_name"]),
        "language": row["lang"] or None,
        "geo_country": country_name(row["country"]),
        "geo_country_code": row["country"] or None,
        "geo_city": row["city_name"] or None,
        "bot_score": bot_score(row["browser_name"]),
        # Not measured: a blocker that stops the snippet leaves no events at all.
        "ad_block": None,
    }


def session_json(row: dict) -> dict:
    return {
        "session_id": public_session_id(row["session_id"]),
        "visitor_id": public_visitor_id(row["visitor"]),
        "url": row["entry"] or None,
        "referrer": row["referrer_value"] or None,
        "utm_source": row["utm"] or None,
        "started_at": epoch_ms(row["started"]),
        "ended_at": epoch_ms(row["ended"]),
        "duration_ms": int((row["ended"] - row["started"]).total_seconds() * 1000),
        "click_count": row["clicks"],
        "max_scroll_depth": row["max_scroll"],
        "browser_name": row["browser_name"] or None,
        "os": row["os_name"] or None,
        "geo_country_code": row["country"] or None,
        "geo_city": row["city_name"] or None,
    }


def event_json(event: Event) -> dict:
    data = {"url": event.path}
    if event.title:
        data["title"] = event.title
    if event.props:
        data["props"] = event.props
    if event.duration_ms is not None:
        data["duration_ms"] = event.duration_ms
    if event.scroll_depth is not None:
        data["scroll_depth"] = event.scroll_depth
    return {
        "id": str(event.id),
        "name": event_type_name(event.kind, event.name),
        "visitor_id": public_visitor_id(event.visitor_id),
        "session_id": public_session_id(event.session_id),
        "data": data,
        "created_at": epoch_ms(event.timestamp),
    }


def session_detail_json(detail: SessionDetail) -> dict:
    data = session_json(detail.row)
    data["events"] = [event_json(e) for e in detail.events]
    if detail.visit:
        data["visit"] = detail.visit
    return data


def visitor_detail_json(site_id: int, detail: VisitorDetail) -> dict:
    data = visitor_json(site_id, detail.row)
    data["aliases"] = []
    data["sessions"] = [
        {
            "session_id": s["session_id"],
            "url": s["url"],
            "started_at": s["started_at"],
            "duration_ms": s["duration_ms"],
        }
        for s in (session_json(row) for row in detail.sessions)
    ]
    data["events"] = [event_json(e) for e in detail.events]
    return data


def stats_json(summary: StatsSummary, money: Revenue | None = None) -> dict:
    """``/stats``; with ``money``, Footfall's extra ``revenue``, ``average_revenue`` and
    ``revenue_currency`` (docs/revenue.md)."""
    totals = summary.totals
    extra = {**money.fields(), "revenue_currency": money.currency} if money else {}
    return {
        "visitors": totals.visitors,
        "sessions": totals.sessions,
        "page_views": totals.views,
        "events": summary.events,
        "bounce_rate": rate(totals.bounces, totals.sessions),
        "avg_session_duration_ms": avg_session_ms(totals),
        "pages_per_session": views_per_session(totals),
        **extra,
    }


def page_counts_json(top: TopPages) -> list[dict]:
    return [
        {"url": page.path, "views": page.views, "unique_visitors": page.unique_visitors}
        for page in top.pages
    ]


def top_pages_json(top: TopPages) -> dict:
    return {"top_pages": page_counts_json(top), "avg_pages_per_session": top.pages_per_session}


def live_visitor_json(event: Event) -> dict:
    return {
        "visitor_id": public_visitor_id(event.visitor_id),
        "current_page": event.path,
        "browser_name": event.browser or None,
        "geo_country": country_name(event.country_code),
        "geo_city": event.city or None,
    }


def frustration_event_json(row: dict) -> dict:
    """A session's frustration score as an identity-js event (``/events?type=...``)."""
    session = public_session_id(row["session_id"])
    return {
        "id": f"fs_{session[4:]}",
        "name": FRUSTRATION_SCORE,
        "visitor_id": public_visitor_id(row["visitor_id"]),
        "session_id": session,
        "data": {
            key: row[key]
            for key in (
                "score",
                "rage_clicks",
                "dead_clicks",
                "errors",
                "form_abandons",
                "rapid_navigations",
            )
        },
        "created_at": epoch_ms(row["last_at"]),
    }
