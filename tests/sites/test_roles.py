"""The one place that answers "may this user do X on this site": every role × every action."""

import pytest

from accounts.models import OrganizationMember
from sites.permissions import Action, can, site_role, sites_for_user
from tests.factories import OrganizationFactory, SiteFactory, SiteMembershipFactory, UserFactory

ALLOWED = {
    "viewer": {Action.VIEW_STATS, Action.EXPORT_STATS},
    "admin": {
        Action.VIEW_STATS,
        Action.EXPORT_STATS,
        Action.WRITE_EVENTS,
        Action.MANAGE_SETTINGS,
        Action.MANAGE_MEMBERS,
        Action.MANAGE_CLIENTS,
    },
    "owner": set(Action),
    None: set(),
}


@pytest.mark.parametrize("role", ["viewer", "admin", "owner", None])
@pytest.mark.parametrize("action", list(Action))
def test_each_role_and_action(db, role, action):
    site = SiteFactory()
    user = UserFactory()
    if role:
        SiteMembershipFactory(site=site, user=user, role=role)
    assert can(user, action, site) is (action in ALLOWED[role])


def test_organization_role_applies_to_its_sites_and_the_stronger_role_wins(db):
    org = OrganizationFactory()
    site = SiteFactory(organization=org)
    user = UserFactory()
    OrganizationMember.objects.create(organization=org, user=user, role="admin")
    assert site_role(user, site) == "admin"
    SiteMembershipFactory(site=site, user=user, role="viewer")
    assert site_role(user, site) == "admin"
    SiteMembershipFactory(site=SiteFactory(organization=org), user=user, role="owner")
    other = SiteFactory()
    assert site_role(user, other) is None


def test_superuser_inactive_and_anonymous(db):
    from django.contrib.auth.models import AnonymousUser

    site = SiteFactory()
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert can(admin, Action.DELETE_SITE, site)
    inactive = UserFactory(is_active=False)
    SiteMembershipFactory(site=site, user=inactive, role="owner")
    assert not can(inactive, Action.VIEW_STATS, site)
    assert not can(AnonymousUser(), Action.VIEW_STATS, site)
    assert not can(None, Action.VIEW_STATS, site)


def test_sites_for_user_never_leaks_other_sites(db):
    org = OrganizationFactory()
    user = UserFactory()
    own = SiteFactory()
    SiteMembershipFactory(site=own, user=user, role="viewer")
    org_site = SiteFactory(organization=org)
    OrganizationMember.objects.create(organization=org, user=user, role="viewer")
    SiteFactory()
    SiteFactory(organization=OrganizationFactory())
    assert set(sites_for_user(user)) == {own, org_site}
