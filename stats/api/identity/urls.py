from django.urls import path

from stats.api.identity import insights, views

urlpatterns = [
    path("visitors", views.visitors, name="identity-visitors"),
    path("visitors/<str:visitor_id>", views.visitor_detail, name="identity-visitor"),
    path("sessions", views.sessions, name="identity-sessions"),
    path("sessions/<str:session_id>", views.session_detail, name="identity-session"),
    path("events", views.events, name="identity-events"),
    path("events/types", views.event_types, name="identity-event-types"),
    path("stats", views.stats, name="identity-stats"),
    path("pages/top", views.pages_top, name="identity-pages-top"),
    path("live", views.live, name="identity-live"),
    path("insights/frustration", insights.frustration, name="identity-insights-frustration"),
    path("insights/errors", insights.errors, name="identity-insights-errors"),
    path("insights/clicks", insights.clicks, name="identity-insights-clicks"),
    path("insights/seo", insights.seo, name="identity-insights-seo"),
    path("insights/journeys", insights.journeys, name="identity-insights-journeys"),
    path("insights/reading", insights.reading, name="identity-insights-reading"),
    path("insights/forms", insights.forms, name="identity-insights-forms"),
    path("insights/acquisition", insights.acquisition, name="identity-insights-acquisition"),
    path("insights/web-metrics", insights.web_metrics, name="identity-insights-web-metrics"),
    # Anything else under /api/v1/ is a JSON 404 in identity-js's shape: the catch-all is
    # the root URLconf's last route (``analytics_project.urls``), after the ingestion routes.
]
