"""The routes of Pirsch's statistics API (``/api/v1/statistics/<endpoint>``), each view
described in the OpenAPI document by ``pirsch_schema.documented``."""

from django.urls import path, re_path

from analytics_project.api_errors import pirsch_error
from stats.api import funnel as funnel_views
from stats.api import pirsch as views
from stats.api.pirsch_schema import documented


def unknown(request, *args):
    return pirsch_error(404, error=["statistics endpoint not found"])


ENDPOINTS = {
    "visitor": views.visitor,
    "total": views.total,
    "growth": views.growth,
    "hours": views.hours,
    "minutes": views.minutes,
    "weekdays": views.weekdays,
    "active": views.active,
    "overview": views.overview,
    "hostname": views.hostname,
    "page": views.page,
    "page/entry": views.entry_page,
    "page/exit": views.exit_page,
    "duration/session": views.duration_session,
    "duration/page": views.duration_page,
    "event/meta": views.event_meta,
    "event/list": views.event_list,
    "event/page": views.event_page,
    "tags": views.tag_keys,
    "tag/details": views.tag_details,
    "session/list": views.session_list,
    "session/details": views.session_details,
    "goals": views.goals,
    "referrer": views.referrer,
    "channel": views.channel,
    "utm/source": views.utm_source,
    "utm/medium": views.utm_medium,
    "utm/campaign": views.utm_campaign,
    "utm/content": views.utm_content,
    "utm/term": views.utm_term,
    "country": views.country,
    "region": views.region,
    "city": views.city,
    "browser": views.browser,
    "browser/version": views.browser_version,
    "os": views.os,
    "os/version": views.os_version,
    "platform": views.platform,
    "screen": views.screen,
    "language": views.language,
    "events": views.events,
    **{f"options/{name}": view for name, view in views.OPTION_VIEWS.items()},
    "funnel": funnel_views.statistics_funnel,  # issue #15
}

urlpatterns = [
    *(path(endpoint, documented(endpoint, view)) for endpoint, view in ENDPOINTS.items()),
    re_path(r"^.*$", unknown),
]
