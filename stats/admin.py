from django.contrib import admin

from stats.models import DailySiteStats, Goal


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "path_pattern", "event_name", "created_at"]
    search_fields = ["name", "site__hostname"]
    autocomplete_fields = ["site"]


@admin.register(DailySiteStats)
class DailySiteStatsAdmin(admin.ModelAdmin):
    list_display = ["site", "day", "tz", "visitors", "views", "sessions", "bounces", "rolled_at"]
    list_filter = ["tz"]
    search_fields = ["site__hostname"]
    date_hierarchy = "day"
