"""Account settings under ``/account/``."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.account_index, name="account"),
    path("profile", views.profile, name="account_profile"),
    path("password", views.password, name="account_password"),
    path("clients", views.clients, name="account_clients"),
    path("clients/new", views.client_new, name="account_client_new"),
    path("clients/<str:client_id>/revoke", views.client_revoke, name="account_client_revoke"),
]
