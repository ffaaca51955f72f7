from django.urls import path, re_path

from stats.api.identity import views
from stats.api.identity.framework import not_found

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
    # Anything else under the identity API is a JSON 404 in its shape.
    re_path(r"^(?:visitors|sessions|events|stats|pages|live|insights)(?:/.*)?$", not_found),
]
