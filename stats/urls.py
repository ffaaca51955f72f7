"""The site dashboard, included at ``sites/<public_id>/`` (only these sub-paths match, so
``sites/new`` and ``sites/<public_id>/settings/…`` fall through to ``sites.urls``)."""

from django.urls import path

from stats import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("panels/<str:panel_name>", views.panel, name="dashboard_panel"),
    path("panels/<str:panel_name>/details", views.panel_details, name="dashboard_panel_details"),
    path("live", views.live, name="dashboard_live"),
    path("live/data", views.live_data, name="dashboard_live_data"),
    path("live/badge", views.live_badge, name="dashboard_live_badge"),
    path("export.csv", views.export_csv, name="dashboard_export"),
]
