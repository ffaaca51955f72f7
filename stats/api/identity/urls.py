from django.urls import path

from stats.api.identity import insights, views

urlpatterns = [
    path("visitors", views.Visitors.as_view(), name="identity-visitors"),
    path("visitors/<str:visitor_id>", views.VisitorDetail.as_view(), name="identity-visitor"),
    path("sessions", views.Sessions.as_view(), name="identity-sessions"),
    path("sessions/<str:session_id>", views.SessionDetail.as_view(), name="identity-session"),
    path("events", views.Events.as_view(), name="identity-events"),
    path("events/types", views.EventTypes.as_view(), name="identity-event-types"),
    path("stats", views.Stats.as_view(), name="identity-stats"),
    path("pages/top", views.PagesTop.as_view(), name="identity-pages-top"),
    path("live", views.Live.as_view(), name="identity-live"),
    path(
        "insights/frustration",
        insights.Frustration.as_view(),
        name="identity-insights-frustration",
    ),
    path("insights/errors", insights.Errors.as_view(), name="identity-insights-errors"),
    path("insights/clicks", insights.Clicks.as_view(), name="identity-insights-clicks"),
    path("insights/seo", insights.Seo.as_view(), name="identity-insights-seo"),
    path("insights/journeys", insights.Journeys.as_view(), name="identity-insights-journeys"),
    path("insights/reading", insights.Reading.as_view(), name="identity-insights-reading"),
    path("insights/forms", insights.Forms.as_view(), name="identity-insights-forms"),
    path(
        "insights/acquisition",
        insights.Acquisition.as_view(),
        name="identity-insights-acquisition",
    ),
    path(
        "insights/web-metrics",
        insights.WebMetrics.as_view(),
        name="identity-insights-web-metrics",
    ),
    # Anything else under /api/v1/ is a JSON 404 in identity-js's shape: the catch-all is
    # the root URLconf's last route (``analytics_project.urls``), after the ingestion routes.
]
