"""Routes of reports, alerts and webhooks (included at the root by analytics_project.urls)."""

from django.urls import path

from stats.notifications import views

S = "sites/<str:public_id>/settings"

urlpatterns = [
    path(f"{S}/reports", views.reports_page, name="notifications_reports"),
    path(
        f"{S}/reports/<int:report_id>/delete",
        views.report_delete,
        name="notifications_report_delete",
    ),
    path(f"{S}/reports/<int:report_id>/test", views.report_test, name="notifications_report_test"),
    path(f"{S}/alerts", views.alerts_page, name="notifications_alerts"),
    path(
        f"{S}/alerts/<int:alert_id>/delete", views.alert_delete, name="notifications_alert_delete"
    ),
    path(f"{S}/alerts/<int:alert_id>/test", views.alert_test, name="notifications_alert_test"),
    path(f"{S}/webhooks", views.webhooks_page, name="notifications_webhooks"),
    path(f"{S}/webhooks/<int:webhook_id>", views.webhook_log, name="notifications_webhook_log"),
    path(
        f"{S}/webhooks/<int:webhook_id>/delete",
        views.webhook_delete,
        name="notifications_webhook_delete",
    ),
    path(
        f"{S}/webhooks/<int:webhook_id>/test",
        views.webhook_test,
        name="notifications_webhook_test",
    ),
    path(
        "notifications/unsubscribe/<str:token>",
        views.unsubscribe,
        name="notifications_unsubscribe",
    ),
]
