"""Ingestion endpoints of every supported protocol."""

from django.urls import path

from tracking.views import matomo, plausible, swetrix

urlpatterns = [
    path("api/event", plausible.event, name="plausible-event"),
    path("matomo.php", matomo.track, name="matomo-track"),
    path("piwik.php", matomo.track, name="piwik-track"),
    path("log", swetrix.pageview, name="swetrix-pageview"),
    path("log/", swetrix.pageview),
    path("log/custom", swetrix.custom, name="swetrix-custom"),
    path("log/hb", swetrix.heartbeat, name="swetrix-heartbeat"),
    path("log/error", swetrix.error, name="swetrix-error"),
]
