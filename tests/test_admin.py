"""The Django admin: every model's list and change pages work for staff, secrets are read-only."""

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.services import api_client_create
from sites.models import SharedLink
from sites.sharing import shared_link_create, shared_link_resolve
from tests.factories import (
    OrganizationFactory,
    OrganizationMemberFactory,
    SiteFactory,
    SiteMembershipFactory,
    UserFactory,
)


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    owner = UserFactory()
    site = SiteFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    OrganizationMemberFactory(organization=OrganizationFactory(), user=owner)
    api_client_create(user=owner, type="key", site=site)
    shared_link_create(site=site, label="Board", password="s3cret-pass", created_by=owner)
    return client


def test_every_registered_model_lists_and_opens(staff_client):
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert staff_client.get(changelist).status_code == 200, changelist
        obj = (
            model_admin.get_queryset(None).first() if hasattr(model_admin, "get_queryset") else None
        )
        if obj is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            assert staff_client.get(change).status_code == 200, change


def test_api_client_secrets_are_read_only_and_not_shown(staff_client):
    from accounts.models import ApiClient

    client_obj = ApiClient.objects.get()
    page = staff_client.get(
        reverse("admin:accounts_apiclient_change", args=[client_obj.pk])
    ).content.decode()
    assert 'name="key_hash"' not in page and 'name="key_prefix"' not in page
    assert f"pa_…{client_obj.key_last4}" in page


def test_non_staff_are_sent_to_log_in(client, db):
    client.force_login(UserFactory())
    response = client.get(reverse("admin:sites_site_changelist"))
    assert response.status_code == 302


def test_staff_create_a_client_and_see_its_secret_once_then_revoke_it(staff_client):
    from accounts.models import ApiClient
    from sites.models import Site

    site = Site.objects.get()
    owner = site.memberships.get().user
    response = staff_client.post(
        reverse("admin:accounts_apiclient_add"),
        {"type": "key", "description": "from admin", "user": owner.pk, "site": site.pk},
        follow=True,
    )
    assert response.status_code == 200
    created = ApiClient.objects.get(description="from admin")
    [message] = [str(m) for m in response.context["messages"] if "shown only once" in str(m)]
    key = message.rsplit(" ", 1)[-1]
    assert key.startswith("pa_") and key.endswith(created.key_last4)
    page = staff_client.get(
        reverse("admin:accounts_apiclient_change", args=[created.pk])
    ).content.decode()
    assert key not in page
    staff_client.post(
        reverse("admin:accounts_apiclient_changelist"),
        {"action": "revoke_clients", "_selected_action": [created.pk]},
    )
    created.refresh_from_db()
    assert created.revoked_at is not None


def test_staff_revoke_a_shared_link_but_cannot_create_or_read_its_secrets(staff_client):
    link, token = shared_link_create(site=SharedLink.objects.get().site, password="pw-123456")
    assert shared_link_resolve(token) == link
    page = staff_client.get(reverse("admin:sites_sharedlink_change", args=[link.pk]))
    assert page.status_code == 200
    assert link.token_digest not in page.content.decode()
    assert link.password not in page.content.decode()
    assert staff_client.get(reverse("admin:sites_sharedlink_add")).status_code == 403
    staff_client.post(reverse("admin:sites_sharedlink_delete", args=[link.pk]), {"post": "yes"})
    assert shared_link_resolve(token) is None  # the link no longer opens the dashboard
