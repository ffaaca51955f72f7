from django.contrib import admin
from django.urls import include, path, re_path

from accounts.throttling import throttled_login
from analytics_project import health, schema
from stats import views as stats_views
from stats.api import ecommerce as ecommerce_api
from stats.api import funnel as funnel_api
from stats.api import pirsch_export
from stats.api.identity.framework import not_found as api_v1_not_found
from stats.api.manage import views as manage_api

urlpatterns = [
    path("api/health", health.health, name="health"),
    path("api/schema/", schema.schema_view, name="api-schema"),
    path("api/docs/", schema.docs_view, name="api-docs"),
    # The admin's log-in shares the product log-in's lock (accounts.throttling).
    path("admin/login/", throttled_login(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("account/", include("accounts.account_urls")),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/statistics", pirsch_export.statistics, name="pirsch-statistics"),
    path("api/v1/statistics/", include("stats.api.pirsch_urls")),
    # Funnels (issue #15): Footfall's own API (docs/api.md, "Funnels").
    path("api/v1/funnels", funnel_api.funnels, name="api-funnels"),
    path("api/v1/funnels/<str:funnel_id>", funnel_api.funnel_detail, name="api-funnel"),
    path("api/v1/funnels/<str:funnel_id>/report", funnel_api.funnel_report),
    path("api/v1/funnels/<str:funnel_id>/dropped", funnel_api.funnel_dropped),
    # Ecommerce (issue #15): Footfall's own API (docs/api.md, "Ecommerce").
    path("api/v1/ecommerce", ecommerce_api.ecommerce, name="api-ecommerce"),
    path("api/v1/ecommerce/orders", ecommerce_api.orders, name="api-ecommerce-orders"),
    path("api/v1/", include("stats.api.identity.urls")),
    # Plausible's Stats API (v1, v2) and Sites API (issue #19): docs/api.md.
    path("api/", include("stats.api.plausible.urls")),
    # Footfall's management API (issue #19): docs/api.md, "Management API".
    path("api/manage/v1/", include("stats.api.manage.urls")),
    path("api/manage/", include([re_path(r"^.*$", manage_api.not_found, name="api-manage-404")])),
    path("", include("tracking.urls")),
    path("sites/<str:public_id>/behaviour/", include("stats.behaviour_urls")),
    path("sites/<str:public_id>/", include("stats.urls")),
    path("share/<str:token>/", stats_views.shared_link_open, name="shared_link"),
    path("", include("stats.notifications.urls")),  # reports, alerts, webhooks, unsubscribe
    path("", include("stats.site_urls")),  # the sites list and resetting statistics
    path("", include("sites.urls")),
    # Last, so it never shadows a route above: any other path under /api/v1/ (Pirsch's
    # /api/v1/statistics/ keeps its own 404) answers identity-js's 404 envelope.
    path("api/v1/", include([re_path(r"^.*$", api_v1_not_found, name="api-v1-not-found")])),
]

handler404 = "analytics_project.errors.not_found"
handler500 = "analytics_project.errors.server_error"
