"""Ingestion endpoints of every supported protocol."""

from django.urls import path

from tracking.views import plausible

urlpatterns = [
    path("api/event", plausible.event, name="plausible-event"),
]
