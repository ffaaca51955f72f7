from django.urls import path, re_path

from analytics_project.api_errors import pirsch_error
from stats.api import funnel as funnel_views
from stats.api import pirsch as views


def unknown(request, *args):
    return pirsch_error(404, error=["statistics endpoint not found"])


urlpatterns = [
    path("visitor", views.visitor),
    path("total", views.total),
    path("growth", views.growth),
    path("hours", views.hours),
    path("minutes", views.minutes),
    path("weekdays", views.weekdays),
    path("active", views.active),
    path("overview", views.overview),
    path("hostname", views.hostname),
    path("page", views.page),
    path("page/entry", views.entry_page),
    path("page/exit", views.exit_page),
    path("duration/session", views.duration_session),
    path("duration/page", views.duration_page),
    path("event/meta", views.event_meta),
    path("event/list", views.event_list),
    path("event/page", views.event_page),
    path("tags", views.tag_keys),
    path("tag/details", views.tag_details),
    path("session/list", views.session_list),
    path("session/details", views.session_details),
    path("goals", views.goals),
    path("referrer", views.referrer),
    path("channel", views.channel),
    path("utm/source", views.utm_source),
    path("utm/medium", views.utm_medium),
    path("utm/campaign", views.utm_campaign),
    path("utm/content", views.utm_content),
    path("utm/term", views.utm_term),
    path("country", views.country),
    path("region", views.region),
    path("city", views.city),
    path("browser", views.browser),
    path("browser/version", views.browser_version),
    path("os", views.os),
    path("os/version", views.os_version),
    path("platform", views.platform),
    path("screen", views.screen),
    path("language", views.language),
    path("events", views.events),
    *(path(f"options/{name}", view) for name, view in views.OPTION_VIEWS.items()),
    path("funnel", funnel_views.statistics_funnel),  # issue #15
    re_path(r"^.*$", unknown),
]
