from django.contrib import admin

from sites.models import SharedLink, Site, SiteDomain, SiteMembership


class SiteDomainInline(admin.TabularInline):
    model = SiteDomain
    extra = 0


class SiteMembershipInline(admin.TabularInline):
    model = SiteMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "hostname",
        "public_id",
        "id",
        "timezone",
        "tracking_state",
        "public",
        "created_at",
    ]
    list_filter = ["tracking_state", "public", "bot_filter", "timezone"]
    search_fields = ["display_name", "hostname", "public_id", "domains__domain"]
    readonly_fields = [
        "public_id",
        "id",
        "public_key",
        "identification_code",
        "first_event_at",
        "created_at",
        "modified_at",
    ]
    autocomplete_fields = ["organization"]
    inlines = [SiteDomainInline, SiteMembershipInline]


@admin.register(SiteMembership)
class SiteMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "site", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "site__hostname", "site__display_name"]
    autocomplete_fields = ["user", "site"]


@admin.register(SiteDomain)
class SiteDomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "site"]
    search_fields = ["domain", "site__hostname"]
    autocomplete_fields = ["site"]


@admin.register(SharedLink)
class SharedLinkAdmin(admin.ModelAdmin):
    """Shared dashboard links: listed and revoked here; created on the site's settings page,
    the only place that can show the token once (only its digest is stored)."""

    list_display = ["__str__", "site", "token_prefix", "protected", "created_by", "created_at"]
    search_fields = ["label", "token_prefix", "site__hostname", "site__display_name"]
    fields = ["site", "label", "token_prefix", "protected", "created_by", "created_at"]
    readonly_fields = fields

    @admin.display(boolean=True, description="password")
    def protected(self, link: SharedLink) -> bool:
        return link.has_password

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
