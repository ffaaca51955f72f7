from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Email reports, traffic alerts and webhooks (docs/notifications.md)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "stats.notifications"
    label = "notifications"
    verbose_name = "Reports and alerts"
