"""Routes of the management API (included under ``/api/manage/v1/``): plain ``path()``s so
the tenant walk (tests/test_url_walk.py) fills every parameter."""

from django.urls import path

from stats.api.manage import views

COLLECTION = {"get": "list", "post": "create"}
MEMBER = {"get": "retrieve", "delete": "destroy"}
SITE = "sites/<str:public_id>/"

urlpatterns = [
    path(f"{SITE}funnels", views.FunnelViewSet.as_view(COLLECTION), name="manage-funnels"),
    path(
        f"{SITE}funnels/<str:funnel_id>",
        views.FunnelViewSet.as_view({**MEMBER, "patch": "partial_update"}),
        name="manage-funnel",
    ),
    path(f"{SITE}reports", views.ReportViewSet.as_view(COLLECTION), name="manage-reports"),
    path(
        f"{SITE}reports/<str:report_id>",
        views.ReportViewSet.as_view(MEMBER),
        name="manage-report",
    ),
    path(f"{SITE}webhooks", views.WebhookViewSet.as_view(COLLECTION), name="manage-webhooks"),
    path(
        f"{SITE}webhooks/<str:webhook_id>",
        views.WebhookViewSet.as_view(MEMBER),
        name="manage-webhook",
    ),
    path(f"{SITE}alerts", views.AlertViewSet.as_view(COLLECTION), name="manage-alerts"),
    path(f"{SITE}alerts/<str:alert_id>", views.AlertViewSet.as_view(MEMBER), name="manage-alert"),
    path(f"{SITE}imports", views.ImportViewSet.as_view({"get": "list"}), name="manage-imports"),
    path(
        f"{SITE}imports/<str:import_id>",
        views.ImportViewSet.as_view({"get": "retrieve"}),
        name="manage-import",
    ),
    path("clients", views.ClientViewSet.as_view(COLLECTION), name="manage-clients"),
    path("clients/<str:client_id>", views.ClientViewSet.as_view(MEMBER), name="manage-client"),
]
