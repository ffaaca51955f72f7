"""The identity-js insights endpoints: thin DRF views over ``stats.insights``.

Every answer is ``{"data": {...}, "pagination": {...}}``: ``page``/``limit`` page the
endpoint's main list (scores, error groups, elements, pages, transitions); endpoints with
several lists (forms, acquisition) page each list alike, report each list's size under
``data.totals`` and paginate over the longest one. Shapes: ``docs/insights.md``.
"""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers as fields
from rest_framework.response import Response

from stats import insights
from stats.api.identity import serializers
from stats.api.identity.drf import (
    END_DATE,
    LIMIT,
    PAGE,
    RATE_LIMIT_HEADERS,
    SITE,
    START_DATE,
    IdentityView,
)
from stats.api.identity.serializers import IdentityPaginationSerializer
from stats.api.identity.views import ERRORS

TAG = "Insights (identity-js)"
ERROR_TYPES = ["js_exception", "promise_rejection", "console_error", "console_warning"]


def insight_schema(name: str, keys: tuple[str, ...], *extra: OpenApiParameter):
    """``GET /api/v1/insights/<name>``: ``data`` has ``keys`` (docs/insights.md)."""
    title = "".join(part.title() for part in name.split("-"))
    answer = inline_serializer(
        f"Insight{title}",
        {
            "data": inline_serializer(
                f"Insight{title}Data", {key: fields.JSONField() for key in keys}
            ),
            "pagination": IdentityPaginationSerializer(),
        },
    )
    return extend_schema_view(
        get=extend_schema(
            operation_id="insights_" + name.replace("-", "_"),
            summary=f"Behaviour insight: {name}",
            tags=[TAG],
            parameters=[SITE, START_DATE, END_DATE, PAGE, LIMIT, *extra, *RATE_LIMIT_HEADERS],
            responses={
                200: OpenApiResponse(answer, "The insight (see docs/insights.md)."),
                **ERRORS,
            },
        )
    )


class InsightView(IdentityView):
    """An insight of the site's period, paged by ``page``/``limit``."""

    def page(self, request) -> tuple[dict, int]:
        """The insight's ``data`` and the length of the list it pages."""
        raise NotImplementedError

    def get(self, request) -> Response:
        data, total = self.page(request)
        return self.paginator.paged(data, total)

    def window(self) -> dict:
        return {"offset": self.paginator.offset, "limit": self.paginator.limit}


@insight_schema("frustration", ("scores", "average", "distribution"))
class Frustration(InsightView):
    def page(self, request) -> tuple[dict, int]:
        result = insights.frustration(self.site.pk, self.period, **self.window())
        return serializers.frustration_json(result), result.total


@insight_schema(
    "errors", ("errors",), OpenApiParameter("type", {"type": "string", "enum": ERROR_TYPES})
)
class Errors(InsightView):
    def page(self, request) -> tuple[dict, int]:
        result = insights.errors(
            self.site.pk, self.period, **self.window(), type=request.GET.get("type", "")
        )
        return {"errors": serializers.error_groups_json(result.rows)}, result.total


@insight_schema("clicks", ("elements",))
class Clicks(InsightView):
    def page(self, request) -> tuple[dict, int]:
        result = insights.clicks(self.site.pk, self.period, **self.window())
        return {"elements": serializers.click_issues_json(result.rows)}, result.total


@insight_schema("seo", ("pages", "issues", "pages_checked", "pages_with_issues"))
class Seo(InsightView):
    def page(self, request) -> tuple[dict, int]:
        result = insights.seo(self.site.pk, self.period, **self.window())
        return serializers.seo_json(result), result.total


@insight_schema("journeys", ("transitions", "drop_offs"))
class Journeys(InsightView):
    def page(self, request) -> tuple[dict, int]:
        result = insights.journeys(self.site.pk, self.period, **self.window())
        return serializers.journeys_json(result), result.total


@insight_schema("reading", ("pages",))
class Reading(InsightView):
    def page(self, request) -> tuple[dict, int]:
        result = insights.reading(self.site.pk, self.period, **self.window())
        return {"pages": serializers.reading_json(result.rows)}, result.total


@insight_schema("forms", ("abandonments", "hesitations", "totals"))
class Forms(InsightView):
    def page(self, request) -> tuple[dict, int]:
        result = insights.forms(self.site.pk, self.period, **self.window())
        return serializers.forms_json(result), max(result.totals.values())


@insight_schema(
    "acquisition",
    ("referrers", "utm_sources", "utm_mediums", "utm_campaigns", "channels", "totals"),
)
class Acquisition(InsightView):
    def page(self, request) -> tuple[dict, int]:
        result = insights.acquisition(self.site.pk, self.period, **self.window())
        return serializers.acquisition_json(result), max(result.totals.values())


@insight_schema(
    "web-metrics",
    (
        "web_vitals",
        "pages",
        "avg_session_duration_ms",
        "bounce_rate",
        "sessions",
        "top_pages",
    ),
)
class WebMetrics(InsightView):
    def page(self, request) -> tuple[dict, int]:
        result = insights.web_metrics(self.site.pk, self.period, **self.window())
        return serializers.web_metrics_json(result), result.total
