from django.contrib import admin

from tracking.models import DeadLetter, DroppedEventCount, Event, VisitorSalt


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = [
        "timestamp",
        "site",
        "protocol",
        "kind",
        "name",
        "path",
        "source",
        "country_code",
        "browser",
    ]
    list_filter = ["protocol", "kind", "device_type", "channel"]
    search_fields = ["name", "path", "site__hostname"]
    date_hierarchy = "timestamp"
    show_full_result_count = False  # counting a large events table is slow

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(VisitorSalt)
class VisitorSaltAdmin(admin.ModelAdmin):
    list_display = ["day"]
    # The salt itself is a secret: never shown.
    fields = ["day"]
    readonly_fields = ["day"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(DroppedEventCount)
class DroppedEventCountAdmin(admin.ModelAdmin):
    list_display = ["day", "site", "reason", "count"]
    list_filter = ["reason"]
    search_fields = ["site__hostname"]


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ["stream_id", "created_at", "replayed_at", "error"]
    readonly_fields = ["stream_id", "payload", "error", "created_at", "replayed_at"]
