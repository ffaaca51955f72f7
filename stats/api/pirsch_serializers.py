"""Pirsch's wire shapes of the statistics read by ``stats.api.pirsch``: field names, the
constant fields Pirsch always sends (``cr``, ``custom_metric_*``), its timestamps and its
public ids. The views parse and query; only this module names and shapes the answers."""

from __future__ import annotations

from datetime import UTC

from stats.query import growth_rate
from stats.query.results import rate
from stats.selectors import public_session_id, public_visitor_id

# Fields Pirsch sends for goals and custom metrics, which Footfall does not compute.
NO_CUSTOM_METRICS = {"cr": 0, "custom_metric_avg": 0, "custom_metric_total": 0}
UTM_FIELDS = ("source", "medium", "campaign", "content", "term")


def utc(moment) -> str:
    """Pirsch's timestamp: UTC with microseconds and a ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def with_rates(row: dict) -> dict:
    """An hour or minute row with its bounce rate and the custom-metric fields."""
    return {**row, "bounce_rate": rate(row["bounces"], row["sessions"]), **NO_CUSTOM_METRICS}


def renamed(rows: list[dict], rename: dict[str, str]) -> list[dict]:
    """Breakdown rows with their fields named as Pirsch names them."""
    return [{rename.get(k, k): v for k, v in row.items()} for row in rows]


def overview_json(figures: dict, members: int) -> dict:
    return {
        "visitors": figures["visitors"],
        "views": figures["views"],
        "visitors_growth": growth_rate(figures["visitors"], figures["previous_visitors"]),
        "views_growth": growth_rate(figures["views"], figures["previous_views"]),
        "visitors_time_series": [{**point, **NO_CUSTOM_METRICS} for point in figures["series"]],
        "member": members,
    }


def page_json(row: dict, details: dict) -> dict:
    """A ``page`` row: the page breakdown's counts and revenue with the page's hostname,
    title, bounces and time on page (``stats.pirsch_selectors.page_details``)."""
    return {
        "hostname": details["hostname"],
        "path": row["path"],
        "title": details["title"],
        "visitors": row["visitors"],
        "views": row["views"],
        "sessions": row["sessions"],
        "bounces": details["bounces"],
        "relative_visitors": row["relative_visitors"],
        "relative_views": row["relative_views"],
        "bounce_rate": rate(details["bounces"], row["sessions"]),
        "average_time_spent_seconds": details["seconds"],
        "revenue": row["revenue"],
        "average_revenue": row["average_revenue"],
    }


def session_json(summary: dict) -> dict:
    """A ``session/list`` row (``stats.query.session_summaries``)."""
    return {
        "visitor_id": public_visitor_id(summary["visitor_id"]),
        "session_id": public_session_id(summary["session_id"]),
        "time": utc(summary["end"]),
        "start": utc(summary["start"]),
        "duration_seconds": summary["duration_ms"] // 1000,
        "entry_path": summary["entry_path"],
        "exit_path": summary["exit_path"],
        "page_views": summary["page_views"],
        "is_bounce": summary["is_bounce"],
    }


def _step_context(row: dict) -> dict:
    return {
        "path": row["path"],
        "title": row["title"],
        "language": row["language"],
        "country_code": row["country_code"],
        "city": row["city"],
        "referrer": row["referrer"],
        "referrer_name": row["source"],
        "referrer_icon": "",
        "os": row["os"],
        "os_version": row["os_version"],
        "browser": row["browser"],
        "browser_version": row["browser_version"],
        "desktop": row["device_type"] == "desktop",
        "mobile": row["device_type"] in ("mobile", "tablet"),
        "screen_class": row["screen_class"],
        **{f"utm_{k}": row[f"utm_{k}"] for k in UTM_FIELDS},
    }


def step_json(row: dict, visitor_id: str, session_id: str) -> dict:
    """One ``session/details`` step (``stats.pirsch_selectors.session_steps``): a page view
    with its tags, or an event with its metadata, the other side ``None``."""
    common = {"visitor_id": visitor_id, "session_id": session_id, "time": utc(row["timestamp"])}
    props = row["props"] if isinstance(row["props"], dict) else {}
    if row["kind"] == "pageview":
        tags = props.get("tags") if isinstance(props.get("tags"), dict) else {}
        step = {
            **common,
            "duration_seconds": row["seconds_to_next"],
            **_step_context(row),
            "tag_keys": [str(k) for k in tags],
            "tag_values": [str(v) for v in tags.values()],
        }
        return {"page_view": step, "event": None}
    meta = {k: v for k, v in props.items() if k != "tags"}
    step = {
        **common,
        "name": row["name"],
        "meta_keys": [str(k) for k in meta],
        "meta_values": [str(v) for v in meta.values()],
        "duration_seconds": (row["duration_ms"] or 0) // 1000,
        **_step_context(row),
    }
    return {"page_view": None, "event": step}
