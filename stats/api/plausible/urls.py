"""Routes of Plausible's Stats and Sites APIs (included under ``/api/`` by the root URLconf,
before the ``/api/v1/`` catch-all; fixed names first, then ``sites/<site_id>``)."""

from django.urls import path

from stats.api.plausible import sites, views

urlpatterns = [
    path("v1/stats/realtime/visitors", views.RealtimeVisitors.as_view(), name="plausible-realtime"),
    path("v1/stats/aggregate", views.Aggregate.as_view(), name="plausible-aggregate"),
    path("v1/stats/timeseries", views.Timeseries.as_view(), name="plausible-timeseries"),
    path("v1/stats/breakdown", views.Breakdown.as_view(), name="plausible-breakdown"),
    path("v2/query", views.Query.as_view(), name="plausible-query"),
    path("v1/sites", sites.SiteList.as_view(), name="plausible-sites"),
    path("v1/sites/shared-links", sites.SharedLinks.as_view(), name="plausible-shared-links"),
    path("v1/sites/goals", sites.Goals.as_view(), name="plausible-goals"),
    path("v1/sites/goals/<str:goal_id>", sites.GoalDetail.as_view(), name="plausible-goal"),
    path("v1/sites/custom-props", sites.CustomProperties.as_view(), name="plausible-custom-props"),
    path(
        "v1/sites/custom-props/<str:prop>",
        sites.CustomPropertyDetail.as_view(),
        name="plausible-custom-prop",
    ),
    path("v1/sites/guests", sites.Guests.as_view(), name="plausible-guests"),
    path("v1/sites/guests/<str:email>", sites.GuestDetail.as_view(), name="plausible-guest"),
    path("v1/sites/<str:site_id>", sites.SiteDetail.as_view(), name="plausible-site"),
]
