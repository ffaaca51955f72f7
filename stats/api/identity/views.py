"""The identity-js-style endpoints: thin DRF views over ``stats.selectors``, answered in
identity-js's shapes by ``stats.api.identity.serializers``. Keys, the rate limit, the
site, the dates, paging and errors: ``stats.api.identity.drf``."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers as fields
from rest_framework.response import Response

from stats import insights, selectors
from stats.api.identity import serializers
from stats.api.identity.drf import (
    END_DATE,
    LIMIT,
    RATE_LIMIT_HEADERS,
    SITE,
    START_DATE,
    IdentityView,
)
from stats.api.identity.framework import IdentityError
from stats.query import StatsQuery
from stats.revenue import revenue_total

FRUSTRATION_SCORE = serializers.FRUSTRATION_SCORE
TAG = "Visitor API (identity-js)"
ERRORS = {
    status: OpenApiResponse(serializers.IdentityErrorSerializer, "identity-js's error body.")
    for status in (400, 401, 404, 429)
}


def identity_schema(operation_id: str, summary: str, answer, parameters=(), **kwargs):
    """The operation of one endpoint: its answer, the parameters every endpoint reads
    and the documented refusals."""
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        tags=[TAG],
        parameters=[SITE, *parameters, *RATE_LIMIT_HEADERS],
        responses={200: OpenApiResponse(answer, summary), **ERRORS},
        **kwargs,
    )


def data_of(name: str, serializer) -> fields.Serializer:
    """``{"data": <serializer>}``."""
    return inline_serializer(name, {"data": serializer})


def _text(name: str, max_length: int, description: str = "") -> OpenApiParameter:
    return OpenApiParameter(
        name, {"type": "string", "maxLength": max_length}, description=description
    )


def _ids(request, key: str, parse) -> int | None:
    value = request.GET.get(key)
    if not value:
        return None
    parsed = parse(value)
    if parsed is None:
        raise IdentityError(404, "not_found", f"Unknown {key}.")
    return parsed


class Visitors(IdentityView):
    @identity_schema(
        "identityVisitors",
        "Paginated visitors",
        serializers.IdentityVisitorSerializer(many=True),
        [
            START_DATE,
            END_DATE,
            _text("browser", 100),
            _text("os", 100),
            _text("country", 100),
            _text(
                "search",
                200,
                "Visitor id (or its prefix), browser, OS, city, country code or country name.",
            ),
        ],
    )
    def get(self, request) -> Response:
        rows = selectors.visitor_list(
            self.site.pk,
            self.period,
            browser=request.GET.get("browser", ""),
            os=request.GET.get("os", ""),
            country=request.GET.get("country", ""),
            search=request.GET.get("search", ""),
        )
        page = self.paginator.paginate_queryset(rows, request, self)
        context = {"site_id": self.site.pk}
        data = serializers.IdentityVisitorSerializer(page, many=True, context=context).data
        return self.paginator.get_paginated_response(data)


class VisitorDetail(IdentityView):
    @identity_schema(
        "identityVisitor",
        "One visitor with sessions and recent events",
        data_of("IdentityVisitorAnswer", serializers.IdentityVisitorDetailSerializer()),
        [START_DATE, END_DATE],
    )
    def get(self, request, visitor_id: str) -> Response:
        internal = selectors.visitor_id_from_public(visitor_id)
        detail = selectors.visitor_detail(self.site.pk, internal) if internal is not None else None
        if detail is None:
            raise IdentityError(404, "not_found", "Visitor not found.")
        context = {"site_id": self.site.pk}
        data = serializers.IdentityVisitorDetailSerializer(detail, context=context).data
        return Response({"data": data})


class Sessions(IdentityView):
    @identity_schema(
        "identitySessions",
        "Paginated sessions",
        serializers.IdentitySessionSerializer(many=True),
        [START_DATE, END_DATE, _text("visitor_id", 64), _text("url", 500)],
    )
    def get(self, request) -> Response:
        rows = selectors.session_list(
            self.site.pk,
            self.period,
            visitor_id=_ids(request, "visitor_id", selectors.visitor_id_from_public),
            url=request.GET.get("url", ""),
        )
        page = self.paginator.paginate_queryset(rows, request, self)
        data = serializers.IdentitySessionSerializer(page, many=True).data
        return self.paginator.get_paginated_response(data)


class SessionDetail(IdentityView):
    @identity_schema(
        "identitySession",
        "One session with its events in order (at most 500)",
        data_of("IdentitySessionAnswer", serializers.IdentitySessionDetailSerializer()),
    )
    def get(self, request, session_id: str) -> Response:
        internal = selectors.session_id_from_public(session_id)
        detail = selectors.session_detail(self.site.pk, internal) if internal is not None else None
        if detail is None:
            raise IdentityError(404, "not_found", "Session not found.")
        return Response({"data": serializers.IdentitySessionDetailSerializer(detail).data})


class Events(IdentityView):
    @identity_schema(
        "identityEvents",
        "Paginated events",
        serializers.IdentityEventSerializer(many=True),
        [
            START_DATE,
            END_DATE,
            _text(
                "type",
                200,
                "`page_view`, a stored event name, or `frustration_score` (one computed event "
                "per session with a score above 0, data: score and its signal counts).",
            ),
            _text("visitor_id", 64),
            _text("session_id", 64),
        ],
    )
    def get(self, request) -> Response:
        visitor_id = _ids(request, "visitor_id", selectors.visitor_id_from_public)
        session_id = _ids(request, "session_id", selectors.session_id_from_public)
        type = request.GET.get("type", "")
        paginator = self.paginator
        if type == FRUSTRATION_SCORE:
            scores = insights.frustration_events(
                self.site.pk,
                self.period,
                offset=paginator.offset,
                limit=paginator.limit,
                visitor_id=visitor_id,
                session_id=session_id,
            )
            data = serializers.IdentityEventSerializer(scores.rows, many=True).data
            return paginator.paged(data, scores.total)
        rows = selectors.event_rows(
            self.site.pk, self.period, type=type, visitor_id=visitor_id, session_id=session_id
        )
        page = paginator.paginate_queryset(rows, request, self)
        data = serializers.IdentityEventSerializer(page, many=True).data
        return paginator.get_paginated_response(data)


class EventTypes(IdentityView):
    @identity_schema(
        "identityEventTypes",
        "Event counts per type",
        data_of("IdentityEventTypes", serializers.IdentityEventTypeSerializer(many=True)),
        [START_DATE, END_DATE],
    )
    def get(self, request) -> Response:
        counts = selectors.event_type_counts(self.site.pk, self.period)
        frustrated = insights.frustration_events(self.site.pk, self.period, limit=0).total
        if frustrated:
            counts = sorted(
                [*counts, {"name": FRUSTRATION_SCORE, "count": frustrated}],
                key=lambda row: (-row["count"], row["name"]),
            )
        return Response({"data": counts})


class Stats(IdentityView):
    @identity_schema(
        "identityStats",
        "Aggregate statistics",
        data_of("IdentityStatsAnswer", serializers.IdentityStatsSerializer()),
        [START_DATE, END_DATE],
    )
    def get(self, request) -> Response:
        period = self.period
        summary = selectors.stats_summary(self.site.pk, period)
        money = revenue_total(
            StatsQuery(self.site.pk, period.first_day, period.last_day, period.tz)
        )
        return Response({"data": serializers.IdentityStatsSerializer((summary, money)).data})


class PagesTop(IdentityView):
    @identity_schema(
        "identityTopPages",
        "Most visited pages and pages per session",
        data_of("IdentityTopPagesAnswer", serializers.IdentityTopPagesSerializer()),
        [START_DATE, END_DATE, LIMIT],
    )
    def get(self, request) -> Response:
        top = selectors.top_pages(self.site.pk, self.period, limit=self.paginator.limit)
        return Response({"data": serializers.IdentityTopPagesSerializer(top).data})


class Live(IdentityView):
    @identity_schema(
        "identityLive",
        "Visitors active within the last N minutes",
        inline_serializer(
            "IdentityLiveAnswer",
            {
                "data": serializers.IdentityLiveVisitorSerializer(many=True),
                "count": fields.IntegerField(),
            },
        ),
        [
            OpenApiParameter(
                "threshold_minutes",
                {"type": "integer", "minimum": 1, "maximum": 1440, "default": 5},
            )
        ],
    )
    def get(self, request) -> Response:
        try:
            minutes = int(request.GET.get("threshold_minutes", 5))
        except ValueError:
            minutes = 5
        latest = selectors.live_visitors(self.site.pk, max(1, min(minutes, 1440)))
        visitors = serializers.IdentityLiveVisitorSerializer(latest, many=True).data
        return Response({"data": visitors, "count": len(visitors)})
