from django.urls import path

from sites import api, matomo_api, views

S = "sites/<str:public_id>/settings"

urlpatterns = [
    # The sites list ("") and resetting statistics: stats.site_urls (included before these).
    path("index.php", matomo_api.api, name="matomo-api"),
    path("api/v1/domain", api.domain, name="pirsch-domain"),  # Pirsch's (its token: accounts)
    path("accounts/invitations/<str:token>/", views.invitation, name="invitation"),
    path("sites/new", views.site_new, name="site_new"),
    path(f"{S}", views.settings_index, name="site_settings"),
    path(f"{S}/general", views.settings_general, name="site_settings_general"),
    path(f"{S}/general/verify", views.site_verify, name="site_verify"),
    path(f"{S}/general/links", views.shared_link_new, name="site_shared_link_new"),
    path(
        f"{S}/general/links/<int:link_id>/revoke",
        views.shared_link_delete,
        name="site_shared_link_revoke",
    ),
    path(f"{S}/install", views.settings_install, name="site_settings_install"),
    path(f"{S}/install/status", views.install_status, name="site_install_status"),
    path(f"{S}/members", views.settings_members, name="site_settings_members"),
    path(f"{S}/members/invite", views.member_invite, name="site_member_invite"),
    path(f"{S}/members/transfer", views.member_transfer, name="site_member_transfer"),
    path(f"{S}/members/<int:membership_id>/role", views.member_role, name="site_member_role"),
    path(f"{S}/members/<int:membership_id>/remove", views.member_remove, name="site_member_remove"),
    path(
        f"{S}/invitations/<int:invitation_id>/revoke",
        views.invitation_delete,
        name="site_invitation_revoke",
    ),
    path(f"{S}/clients", views.settings_clients, name="site_settings_clients"),
    path(f"{S}/clients/new", views.client_new, name="site_client_new"),
    path(f"{S}/clients/<str:client_id>/revoke", views.client_revoke, name="site_client_revoke"),
    path(f"{S}/tracking", views.settings_tracking, name="site_settings_tracking"),
    path(f"{S}/danger", views.settings_danger, name="site_settings_danger"),
    path(f"{S}/danger/delete", views.site_delete, name="site_delete"),
]
