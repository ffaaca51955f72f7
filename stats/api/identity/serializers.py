"""identity-js's wire shapes of the read selectors' results (``stats.selectors``): the
selectors return rows, events and typed values; only this module names them as
identity-js does.

The ``*_json`` functions write each shape; the DRF serializers below declare the same
fields (they are what the generated OpenAPI document describes) and answer with those
functions, so the bytes on the wire are exactly the functions' (the recorded responses,
tests/stats/test_recorded_responses.py). A serializer's declared fields and its answer's
keys are compared in tests/stats/test_identity_drf.py.
"""

from __future__ import annotations

import dataclasses

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from stats.insights.results import (
    Acquisition,
    ClickIssues,
    ErrorGroup,
    Forms,
    Frustration,
    Journeys,
    ReadingPage,
    Seo,
    SessionFrustration,
    Signals,
    SourceRow,
    Vital,
    WebMetrics,
)
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


def _signals_json(row: Signals) -> dict:
    """The score and its signal counts, named and ordered as ``Signals`` declares them."""
    return {field.name: getattr(row, field.name) for field in dataclasses.fields(Signals)}


def frustration_event_json(row: SessionFrustration) -> dict:
    """A session's frustration score as an identity-js event (``/events?type=...``)."""
    session = public_session_id(row.session_id)
    return {
        "id": f"fs_{session[4:]}",
        "name": FRUSTRATION_SCORE,
        "visitor_id": public_visitor_id(row.visitor_id),
        "session_id": session,
        "data": _signals_json(row),
        "created_at": epoch_ms(row.last_at),
    }


# --- insights (``stats.insights``; shapes in docs/insights.md) ----------------------------


def frustration_json(result: Frustration) -> dict:
    return {
        "scores": [{"visitor_id": row.visitor_id, **_signals_json(row)} for row in result.scores],
        "average": {"avg_score": result.average_score, "visitor_count": result.visitor_count},
        "distribution": [
            {"from": band.low, "to": band.high, "visitors": band.visitors}
            for band in result.distribution
        ],
    }


def error_groups_json(rows: list[ErrorGroup]) -> list[dict]:
    return [
        {
            "type": row.type,
            "message": row.message,
            "count": row.count,
            "visitors": row.visitors,
            "sessions": row.sessions,
            "page_count": row.page_count,
            "pages": [{"url": page.url, "count": page.count} for page in row.pages],
            "first_seen": epoch_ms(row.first_seen),
            "last_seen": epoch_ms(row.last_seen),
            "source": row.source,
            "line": row.line,
            "column": row.column,
        }
        for row in rows
    ]


def click_issues_json(rows: list[ClickIssues]) -> list[dict]:
    return [
        {
            "selector": row.selector,
            "url": row.url,
            "rage_clicks": row.rage_clicks,
            "dead_clicks": row.dead_clicks,
            "phantom_clicks": row.phantom_clicks,
            "total": row.total,
            "visitors": row.visitors,
            "last_seen": epoch_ms(row.last_seen),
        }
        for row in rows
    ]


def seo_json(result: Seo) -> dict:
    return {
        "pages": [
            {
                "url": page.url,
                "issues": page.issues,
                "issue_count": page.issue_count,
                "h1_count": page.h1_count,
                "images_without_alt": page.images_without_alt,
                "title_length": page.title_length,
                "description_length": page.description_length,
                "reports": page.reports,
                "last_checked": epoch_ms(page.last_checked),
            }
            for page in result.pages
        ],
        "issues": [{"code": issue.code, "pages": issue.pages} for issue in result.issues],
        "pages_checked": result.pages_checked,
        "pages_with_issues": result.pages_with_issues,
    }


def journeys_json(result: Journeys) -> dict:
    return {
        "transitions": [
            {
                "from": row.from_path,
                "to": row.to_path,
                "count": row.count,
                "share": row.share,
                "from_views": row.from_views,
                "from_exits": row.from_exits,
                "drop_off": row.drop_off,
            }
            for row in result.transitions
        ],
        "drop_offs": [
            {"url": row.url, "views": row.views, "exits": row.exits, "drop_off": row.drop_off}
            for row in result.drop_offs
        ],
    }


def reading_json(rows: list[ReadingPage]) -> list[dict]:
    return [
        {
            "url": row.url,
            "views": row.views,
            "reports": row.reports,
            "avg_scroll_depth": row.avg_scroll_depth,
            "median_scroll_depth": row.median_scroll_depth,
            "avg_active_ms": row.avg_active_ms,
            "avg_scroll_velocity": row.avg_scroll_velocity,
            "attention_pct": row.attention_pct,
        }
        for row in rows
    ]


def forms_json(result: Forms) -> dict:
    return {
        "abandonments": [
            {
                "form": row.form,
                "url": row.url,
                "count": row.count,
                "visitors": row.visitors,
                "avg_fields_touched": row.avg_fields_touched,
                "last_field": row.last_field,
            }
            for row in result.abandonments
        ],
        "hesitations": [
            {
                "form": row.form,
                "field": row.field,
                "url": row.url,
                "count": row.count,
                "avg_hesitation_ms": row.avg_hesitation_ms,
                "median_hesitation_ms": row.median_hesitation_ms,
            }
            for row in result.hesitations
        ],
        "totals": result.totals,
    }


def _sources_json(rows: list[SourceRow], column: str) -> list[dict]:
    return [
        {
            column: row.value,
            "visitors": row.visitors,
            "sessions": row.sessions,
            "views": row.views,
            "relative_visitors": row.relative_visitors,
            **({"referrer_name": row.referrer_name} if column == "referrer" else {}),
        }
        for row in rows
    ]


def acquisition_json(result: Acquisition) -> dict:
    return {
        "referrers": _sources_json(result.referrers, "referrer"),
        "utm_sources": _sources_json(result.utm_sources, "utm_source"),
        "utm_mediums": _sources_json(result.utm_mediums, "utm_medium"),
        "utm_campaigns": _sources_json(result.utm_campaigns, "utm_campaign"),
        "channels": _sources_json(result.channels, "channel"),
        "totals": result.totals,
    }


def _vitals_json(vitals: dict[str, Vital]) -> dict:
    return {
        metric: {"samples": vital.samples, **vital.percentiles} for metric, vital in vitals.items()
    }


def web_metrics_json(result: WebMetrics) -> dict:
    return {
        "web_vitals": _vitals_json(result.vitals),
        "pages": [
            {"url": page.url, "reports": page.reports, **_vitals_json(page.vitals)}
            for page in result.pages
        ],
        "avg_session_duration_ms": result.avg_session_duration_ms,
        "bounce_rate": result.bounce_rate,
        "sessions": result.sessions,
        "top_pages": [
            {"url": page.path, "views": page.views, "unique_visitors": page.unique_visitors}
            for page in result.top_pages
        ],
    }


# --- DRF serializers (output only) ------------------------------------------------------


class _Output(serializers.Serializer):
    # Output only: the answer is ``shape(instance)``, the declared fields describe it.

    def shape(self, instance) -> dict:
        raise NotImplementedError

    def to_representation(self, instance) -> dict:
        return self.shape(instance)


def _text(**kwargs) -> serializers.CharField:
    return serializers.CharField(allow_null=True, **kwargs)


def _number(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(allow_null=True, **kwargs)


@extend_schema_field({"type": "null", "description": "Not measured (null)."})
class _Null(serializers.Field):
    pass


class IdentityVisitorSerializer(_Output):
    visitor_id = serializers.CharField()
    fingerprint_hash = serializers.CharField()
    first_seen_at = serializers.IntegerField(help_text="Epoch milliseconds.")
    last_seen_at = serializers.IntegerField()
    visit_count = serializers.IntegerField()
    browser_name = _text()
    browser_version = _text()
    os = _text()
    mobile = serializers.ChoiceField(choices=[0, 1])
    screen_width = _number()
    screen_height = _number()
    timezone = _text(
        help_text="IANA zone from the visitor's country (and city); null when unknown."
    )
    language = _text()
    geo_country = _text()
    geo_country_code = _text()
    geo_city = _text()
    bot_score = serializers.ChoiceField(
        choices=[0, 100],
        help_text="100 when the browser is an automated client's, else 0 (docs/insights.md).",
    )
    ad_block = _Null()

    def shape(self, row: dict) -> dict:
        return visitor_json(self.context["site_id"], row)


class IdentitySessionSerializer(_Output):
    session_id = serializers.CharField()
    visitor_id = serializers.CharField()
    url = _text()
    referrer = _text()
    utm_source = _text()
    started_at = serializers.IntegerField()
    ended_at = serializers.IntegerField()
    duration_ms = serializers.IntegerField()
    click_count = serializers.IntegerField(
        help_text="Click signals only (rage, dead, phantom, plain, outbound-link and "
        "download clicks)."
    )
    max_scroll_depth = _number()
    browser_name = _text()
    os = _text()
    geo_country_code = _text()
    geo_city = _text()

    def shape(self, row: dict) -> dict:
        return session_json(row)


class IdentityEventSerializer(_Output):
    """A stored event, or (``type=frustration_score``) a session's computed score."""

    id = serializers.CharField()
    name = serializers.CharField()
    visitor_id = serializers.CharField()
    session_id = serializers.CharField()
    data = serializers.DictField(help_text="`url` and the event's fields; a score's signals.")
    created_at = serializers.IntegerField()

    def shape(self, instance) -> dict:
        # A score is a typed row; stored events are models or rolled-up rows like them.
        if isinstance(instance, SessionFrustration):
            return frustration_event_json(instance)
        return event_json(instance)


class IdentityVisitorSessionSerializer(serializers.Serializer):
    session_id = serializers.CharField()
    url = _text()
    started_at = serializers.IntegerField()
    duration_ms = serializers.IntegerField()


class IdentityVisitorDetailSerializer(IdentityVisitorSerializer):
    aliases = serializers.ListField(child=serializers.CharField())
    sessions = IdentityVisitorSessionSerializer(many=True)
    events = IdentityEventSerializer(many=True)

    def shape(self, detail: VisitorDetail) -> dict:
        return visitor_detail_json(self.context["site_id"], detail)


class IdentitySessionDetailSerializer(IdentitySessionSerializer):
    events = IdentityEventSerializer(many=True, help_text="In order, at most 500.")
    visit = serializers.DictField(
        required=False, help_text="Matomo's visit fields, for a session Matomo recorded."
    )

    def shape(self, detail: SessionDetail) -> dict:
        return session_detail_json(detail)


class IdentityStatsSerializer(_Output):
    visitors = serializers.IntegerField()
    sessions = serializers.IntegerField()
    page_views = serializers.IntegerField()
    events = serializers.IntegerField()
    bounce_rate = serializers.FloatField()
    avg_session_duration_ms = serializers.IntegerField()
    pages_per_session = serializers.FloatField()
    revenue = serializers.FloatField(
        required=False,
        help_text="Footfall extension: revenue in the site's reporting currency (docs/revenue.md).",
    )
    average_revenue = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="Footfall extension: revenue per conversion with revenue.",
    )
    revenue_currency = serializers.CharField(
        required=False, help_text="Footfall extension: the site's reporting currency."
    )

    def shape(self, instance: tuple[StatsSummary, Revenue | None]) -> dict:
        return stats_json(*instance)


class IdentityPageCountSerializer(serializers.Serializer):
    url = serializers.CharField()
    views = serializers.IntegerField()
    unique_visitors = serializers.IntegerField()


class IdentityTopPagesSerializer(_Output):
    top_pages = IdentityPageCountSerializer(many=True)
    avg_pages_per_session = serializers.FloatField()

    def shape(self, top: TopPages) -> dict:
        return top_pages_json(top)


class IdentityLiveVisitorSerializer(_Output):
    visitor_id = serializers.CharField()
    current_page = serializers.CharField()
    browser_name = _text()
    geo_country = _text()
    geo_city = _text()

    def shape(self, event: Event) -> dict:
        return live_visitor_json(event)


class IdentityEventTypeSerializer(serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField()


class IdentityPaginationSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
    total_pages = serializers.IntegerField()
    has_next = serializers.BooleanField()
    has_prev = serializers.BooleanField()


ERROR_CODES = [
    "invalid_date",
    "invalid_parameter",
    "unauthorized",
    "not_found",
    "rate_limited",
    "internal_error",
]


class IdentityErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    message = serializers.CharField()
    code = serializers.ChoiceField(choices=ERROR_CODES)


class IdentityErrorSerializer(serializers.Serializer):
    """identity-js's error body (``analytics_project.api_errors.identity_error``)."""

    error = IdentityErrorDetailSerializer()
