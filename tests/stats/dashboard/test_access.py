"""Dashboard: access per role, public sites and shared links."""

import pytest
from django.urls import Resolver404, resolve

from sites.models import SharedLink
from sites.sharing import shared_link_create, shared_link_resolve, shared_link_revoke
from tests.factories import (
    OrganizationFactory,
    OrganizationMemberFactory,
    SiteFactory,
    SiteMembershipFactory,
    UserFactory,
)
from tests.stats.dashboard.support import (
    PAGES,
    RANGE,
    get,
    kpi,
)

# --- access --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "viewer"])
def test_every_page_and_partial_answers_each_role(client, site, traffic, role):
    user = UserFactory()
    SiteMembershipFactory(site=site, user=user, role=role)
    client.force_login(user)
    for path in PAGES:
        response = get(client, site, path, **RANGE)
        assert response.status_code == 200, path
        if path.startswith("panels/") and not path.endswith("details"):
            assert b"could not be loaded" not in response.content, path


def test_organization_role_gives_access(client, site, traffic):
    organization = OrganizationFactory()
    site.organization = organization
    site.save()
    member = OrganizationMemberFactory(organization=organization, role="viewer").user
    client.force_login(member)
    assert get(client, site, **RANGE).status_code == 200


def test_other_tenant_gets_404_everywhere(client, site, traffic):
    stranger = UserFactory()
    SiteMembershipFactory(user=stranger, role="owner")  # owns another site
    client.force_login(stranger)
    for path in PAGES:
        assert get(client, site, path, **RANGE).status_code == 404, path


def test_unknown_site_is_404_for_a_signed_in_user(client, owner):
    client.force_login(owner)
    assert client.get("/sites/doesnotexist/").status_code == 404


def test_anonymous_visitor_of_a_private_site_is_sent_to_log_in(client, site, traffic):
    for path in PAGES:
        response = get(client, site, path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next=")


def test_unknown_panel_is_404(client, site, owner):
    client.force_login(owner)
    assert get(client, site, "panels/nope").status_code == 404
    assert get(client, site, "panels/nope/details").status_code == 404


def test_only_get_is_allowed(client, site, owner):
    client.force_login(owner)
    assert client.post(f"/sites/{site.public_id}/").status_code == 405


def test_settings_link_only_for_those_who_may_manage_settings(client, site, traffic):
    settings_link = f"/sites/{site.public_id}/settings/general".encode()
    for role, shown in [("owner", True), ("admin", True), ("viewer", False)]:
        user = UserFactory()
        SiteMembershipFactory(site=site, user=user, role=role)
        client.force_login(user)
        assert (settings_link in get(client, site, **RANGE).content) is shown, role


def test_dashboard_urls_leave_settings_and_new_site_paths_to_the_sites_app(site):
    for path in ("/sites/new", f"/sites/{site.public_id}/settings/general"):
        try:
            match = resolve(path)
        except Resolver404:
            continue
        assert match.func.__module__ != "stats.views", path


# --- public sites and shared links -----------------------------------------------------


def test_public_site_is_readable_without_log_in(client, site, traffic):
    site.public = True
    site.save()
    response = get(client, site, **RANGE)
    assert response.status_code == 200
    assert kpi(response, "visitors") == "3"
    assert b"read-only" in response.content
    assert b"/settings/" not in response.content
    assert b"/behaviour/" not in response.content
    for path in PAGES:
        assert get(client, site, path, **RANGE).status_code == 200, path


def test_public_site_stays_closed_to_other_sites(client, site, traffic):
    site.public = True
    site.save()
    private = SiteFactory()
    assert get(client, private).status_code == 302


def test_shared_link_without_password_opens_the_dashboard_read_only(client, site, traffic):
    _link, token = shared_link_create(site=site, label="Board")
    response = client.get(f"/share/{token}/")
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{site.public_id}/"
    page = get(client, site, **RANGE)
    assert page.status_code == 200
    assert kpi(page, "visitors") == "3"
    assert b"shared" in page.content
    assert b"/settings/" not in page.content
    assert get(client, site, "panels/pages", **RANGE).status_code == 200


def test_shared_link_is_stored_as_a_digest(site):
    link, token = shared_link_create(site=site, password="s3cret")
    stored = SharedLink.objects.get(pk=link.pk)
    assert token not in (stored.token_digest, stored.password)
    assert stored.token_prefix == token[:8]
    assert stored.password.startswith("pbkdf2_") or "$" in stored.password
    assert shared_link_resolve(token) == link
    assert shared_link_resolve(token + "x") is None


def test_shared_link_with_password(client, site, traffic):
    _link, token = shared_link_create(site=site, password="open sesame")
    form = client.get(f"/share/{token}/")
    assert form.status_code == 200
    assert b'type="password"' in form.content
    assert b"csrfmiddlewaretoken" in form.content
    # The password form alone grants nothing.
    assert get(client, site).status_code == 302
    wrong = client.post(f"/share/{token}/", {"password": "wrong"})
    assert wrong.status_code == 403
    assert b"not right" in wrong.content
    assert get(client, site).status_code == 302
    right = client.post(f"/share/{token}/", {"password": "open sesame"})
    assert right.status_code == 302
    assert get(client, site, **RANGE).status_code == 200


def test_shared_link_password_attempts_are_limited(client, site):
    _link, token = shared_link_create(site=site, password="open sesame")
    for _ in range(10):
        client.post(f"/share/{token}/", {"password": "wrong"})
    blocked = client.post(f"/share/{token}/", {"password": "open sesame"})
    assert blocked.status_code == 403
    assert b"Too many attempts" in blocked.content
    assert get(client, site).status_code == 302


def test_revoking_a_shared_link_ends_its_sessions(client, site, traffic):
    link, token = shared_link_create(site=site)
    client.get(f"/share/{token}/")
    assert get(client, site).status_code == 200
    other = SiteFactory()
    assert shared_link_revoke(site=other, link_id=link.pk) is False
    assert shared_link_revoke(site=site, link_id=link.pk) is True
    assert get(client, site).status_code == 302
    assert client.get(f"/share/{token}/").status_code == 404


def test_shared_link_grant_does_not_open_other_sites(client, site):
    other = SiteFactory()
    _link, token = shared_link_create(site=site)
    client.get(f"/share/{token}/")
    assert get(client, other).status_code == 302


def test_unknown_share_token_is_404(client, db):
    assert client.get("/share/nope/").status_code == 404
