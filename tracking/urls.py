"""Ingestion endpoints of every supported protocol."""

from django.urls import path, re_path

from tracking.views import footfall, matomo, pirsch, plausible, swetrix

urlpatterns = [
    path("api/event", plausible.event, name="plausible-event"),
    path("api/v1/hit", pirsch.hit, name="pirsch-hit"),
    path("api/v1/hit/batch", pirsch.hit_batch, name="pirsch-hit-batch"),
    path("api/v1/event", pirsch.event, name="pirsch-event"),
    path("api/v1/event/batch", pirsch.event_batch, name="pirsch-event-batch"),
    path("api/v1/session", pirsch.session, name="pirsch-session"),
    path("api/v1/session/batch", pirsch.session_batch, name="pirsch-session-batch"),
    path("matomo.php", matomo.track, name="matomo-track"),
    path("piwik.php", matomo.track, name="piwik-track"),
    path("log", swetrix.pageview, name="swetrix-pageview"),
    path("log/", swetrix.pageview),
    path("log/custom", swetrix.custom, name="swetrix-custom"),
    path("log/hb", swetrix.heartbeat, name="swetrix-heartbeat"),
    path("log/error", swetrix.error, name="swetrix-error"),
    path("log/noscript", swetrix.noscript, name="swetrix-noscript"),
    re_path(r"^log/.+", swetrix.not_found),  # Swetrix's JSON 404, never an HTML page
    path("api/collect", footfall.collect, name="footfall-collect"),
    path("js/footfall.js", footfall.core_script, name="footfall-script"),
    path("js/footfall.behaviour.js", footfall.behaviour_script, name="footfall-behaviour-script"),
]
