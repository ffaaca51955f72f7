"""The Behaviour pages, included at ``sites/<public_id>/behaviour/``."""

from django.urls import path

from stats import behaviour_views

urlpatterns = [
    path("", behaviour_views.behaviour_index, name="behaviour"),
    path("<str:section>", behaviour_views.behaviour_section, name="behaviour_section"),
]
