from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import ApiClient, Organization, OrganizationMember, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name", "public_id"]
    readonly_fields = ["public_id", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password", "public_id"]}),
        ("Profile", {"fields": ["full_name"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class OrganizationMemberInline(admin.TabularInline):
    model = OrganizationMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "public_id", "created_at"]
    search_fields = ["name", "public_id"]
    readonly_fields = ["public_id", "created_at"]
    inlines = [OrganizationMemberInline]


@admin.register(OrganizationMember)
class OrganizationMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = [
        "public_id",
        "type",
        "masked_secret",
        "description",
        "user",
        "site",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["type", "revoked_at"]
    search_fields = ["public_id", "description", "user__email", "site__hostname", "key_last4"]
    readonly_fields = [
        "public_id",
        "masked_secret",
        "key_prefix",
        "key_hash",
        "key_last4",
        "application",
        "created_at",
        "last_used_at",
    ]
    fields = [
        "public_id",
        "type",
        "description",
        "user",
        "site",
        "scopes",
        "masked_secret",
        "key_prefix",
        "key_hash",
        "key_last4",
        "application",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    autocomplete_fields = ["user", "site"]

    def has_add_permission(self, request) -> bool:
        # Secrets are generated and shown once by the client service (site settings or CLI).
        return False
