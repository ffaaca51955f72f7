"""Reports, alerts, webhooks and the delivery log in the Django admin.

Deliveries are read-only (they are the record of what was sent). Webhook secrets are
never shown: only their prefix; they are created on the site's Webhooks page.
"""

from django.contrib import admin

from stats.notifications.models import Alert, Delivery, DeliveryAttempt, Report, Webhook


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("email", "frequency", "site", "created_at")
    list_filter = ("frequency",)
    search_fields = ("email", "site__hostname")
    raw_id_fields = ("site", "user", "created_by")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("kind", "site", "threshold", "hours", "cooldown_hours", "last_fired_at")
    list_filter = ("kind", "enabled")
    raw_id_fields = ("site", "goal")
    readonly_fields = ("checked_until", "last_fired_at")


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("__str__", "format", "site", "secret_prefix", "created_at")
    list_filter = ("format",)
    raw_id_fields = ("site",)
    exclude = ("secret_sealed",)
    # Changed only on the site's page, where the SSRF guard checks it on saving.
    readonly_fields = ("url", "secret_prefix")

    def has_add_permission(self, request) -> bool:
        return False  # a webhook's secret is shown once, on the site's Webhooks page


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("at", "ok", "status_code", "response", "error", "duration_ms")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("key", "channel", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "channel")
    search_fields = ("key", "recipient")
    inlines = [AttemptInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Delivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
