"""Site settings pages: who may open each section, what each form does, what is refused."""

import html
from datetime import UTC, datetime

import pytest
from django.forms.models import model_to_dict
from oauth2_provider.models import AccessToken, Application

from accounts.models import ApiClient, Role
from accounts.services import api_client_create, oauth_token_issue
from sites import site_lookup
from sites.models import Invitation, SharedLink, Site, SiteDomain, SiteMembership
from stats.models import DailySiteStats, RollupState
from stats.rollups import rollup_site
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store
from tracking.models import Event
from tracking.snippet import enabled_collectors

SECTIONS = ["general", "install", "members", "clients", "tracking", "danger"]


@pytest.fixture
def world(db):
    site = SiteFactory(hostname="blog.example.com", display_name="Blog")
    people = {"anonymous": None, "other": UserFactory(email="other@example.com")}
    for role in (Role.OWNER, Role.ADMIN, Role.VIEWER):
        people[role.value] = UserFactory(email=f"{role.value}@example.com")
        SiteMembershipFactory(site=site, user=people[role.value], role=role)
    # "other" has a site of their own: a tenant, not a stranger to the product.
    SiteMembershipFactory(site=SiteFactory(), user=people["other"], role=Role.OWNER)
    return site, people


def as_user(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client


def snapshot(site: Site) -> dict:
    """Everything a settings action could change."""
    site_row = Site.objects.filter(pk=site.pk).first()
    return {
        "site": model_to_dict(site_row) if site_row else None,
        "domains": sorted(SiteDomain.objects.values_list("domain", flat=True)),
        "members": sorted(SiteMembership.objects.values_list("site_id", "user_id", "role")),
        "clients": sorted(ApiClient.objects.values_list("public_id", "revoked_at")),
        "links": SharedLink.objects.count(),
        "invitations": Invitation.objects.count(),
        "events": Event.objects.count(),
        "rollups": DailySiteStats.objects.count(),
    }


EXPECTED = {
    "owner": dict.fromkeys(SECTIONS, 200),
    "admin": {**dict.fromkeys(SECTIONS, 200), "danger": 403},
    "viewer": dict.fromkeys(SECTIONS, 403),
    "other": dict.fromkeys(SECTIONS, 404),
    "anonymous": dict.fromkeys(SECTIONS, 302),
}


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize("section", SECTIONS)
def test_each_section_answers_each_role(client, world, who, section):
    site, people = world
    response = as_user(client, people[who]).get(f"/sites/{site.public_id}/settings/{section}")
    assert response.status_code == EXPECTED[who][section]
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")
    if response.status_code == 403:
        assert "You cannot do this" in response.content.decode()


def test_settings_of_an_unknown_site_is_404(client, world):
    _, people = world
    as_user(client, people["owner"])
    assert client.get("/sites/NoSuchSite/settings/general").status_code == 404
    assert client.get("/sites/NoSuchSite/settings/danger").status_code == 404


def test_settings_nav_shows_only_sections_the_role_may_open(client, world):
    site, people = world
    owner_page = as_user(client, people["owner"]).get(f"/sites/{site.public_id}/settings/general")
    admin_page = as_user(client, people["admin"]).get(f"/sites/{site.public_id}/settings/general")
    danger = f'href="/sites/{site.public_id}/settings/danger"'
    assert danger in owner_page.content.decode()
    assert danger not in admin_page.content.decode()
    assert f'href="/sites/{site.public_id}/settings/members"' in admin_page.content.decode()


def test_settings_index_redirects_to_general(client, world):
    site, people = world
    response = as_user(client, people["admin"]).get(f"/sites/{site.public_id}/settings")
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{site.public_id}/settings/general"


# --- Refused actions write nothing ---------------------------------------------------------


def post_targets(site: Site, people) -> list[tuple[str, dict]]:
    owner_membership = SiteMembership.objects.get(site=site, user=people["owner"])
    link = SharedLink.objects.create(site=site, token_digest="d" * 64, token_prefix="dddddddd")
    client_ = ApiClient.objects.create(type="key", user=people["owner"], site=site, key_hash="x")
    pid = site.public_id
    return [
        (
            f"/sites/{pid}/settings/general",
            {
                "display_name": "Hacked",
                "hostname": "evil.example",
                "timezone": "UTC",
                "public": "on",
            },
        ),
        (f"/sites/{pid}/settings/general/links", {"label": "leak"}),
        (f"/sites/{pid}/settings/general/links/{link.pk}/revoke", {}),
        (f"/sites/{pid}/settings/members/invite", {"email": "new@example.com", "role": "viewer"}),
        (f"/sites/{pid}/settings/members/{owner_membership.pk}/role", {"role": "viewer"}),
        (f"/sites/{pid}/settings/members/{owner_membership.pk}/remove", {}),
        (f"/sites/{pid}/settings/members/transfer", {"membership": owner_membership.pk}),
        (f"/sites/{pid}/settings/clients/new", {"type": "key"}),
        (f"/sites/{pid}/settings/clients/{client_.public_id}/revoke", {}),
        (
            f"/sites/{pid}/settings/tracking",
            {"excluded_ips": "10.0.0.1", "behaviour_collectors": "on"},
        ),
        (f"/sites/{pid}/settings/danger/reset", {"confirm": "reset"}),
        (f"/sites/{pid}/settings/danger/delete", {"confirm": site.hostname}),
    ]


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("other", 404), ("anonymous", 302)])
def test_every_settings_action_is_refused_without_the_role_and_writes_nothing(
    client, world, who, status
):
    site, people = world
    store([event_row(site.pk, datetime(2026, 1, 5, 12, tzinfo=UTC))])
    targets = post_targets(site, people)
    before = snapshot(site)
    as_user(client, people[who])
    for url, data in targets:
        assert client.post(url, data).status_code == status, url
    assert snapshot(site) == before


def test_admins_cannot_reset_or_delete(client, world):
    site, people = world
    store([event_row(site.pk, datetime(2026, 1, 5, 12, tzinfo=UTC))])
    before = snapshot(site)
    as_user(client, people["admin"])
    pid = site.public_id
    assert (
        client.post(f"/sites/{pid}/settings/danger/reset", {"confirm": "reset"}).status_code == 403
    )
    assert (
        client.post(f"/sites/{pid}/settings/danger/delete", {"confirm": site.hostname}).status_code
        == 403
    )
    assert snapshot(site) == before


def test_settings_forms_need_csrf(world):
    from django.test import Client

    site, people = world
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people["owner"])
    before = snapshot(site)
    response = strict.post(
        f"/sites/{site.public_id}/settings/general",
        {"display_name": "X", "hostname": "x.example", "timezone": "UTC"},
    )
    assert response.status_code == 403
    assert snapshot(site) == before


# --- General ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_general_saves_name_hostname_time_zone_and_public_switch(client, world, who):
    site, people = world
    rollup_site(site)
    as_user(client, people[who])
    response = client.post(
        f"/sites/{site.public_id}/settings/general",
        {
            "display_name": "New <name>",
            "hostname": "https://www.News.Example.com/",
            "timezone": "Europe/Berlin",
            "public": "on",
        },
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.display_name, site.hostname, site.timezone, site.public) == (
        "New <name>",
        "news.example.com",
        "Europe/Berlin",
        True,
    )
    assert list(SiteDomain.objects.filter(site=site).values_list("domain", flat=True)) == [
        "news.example.com"
    ]
    # Days were rolled up in the old zone: they are recomputed in the new one.
    assert not RollupState.objects.filter(site_id=site.pk).exists()
    page = client.get(f"/sites/{site.public_id}/settings/general").content.decode()
    assert "Settings saved." in page
    assert "New &lt;name&gt;" in page and "New <name>" not in page


def test_general_refuses_a_name_with_line_breaks_and_changes_nothing(client, world):
    # A hostname another tenant has is accepted like any other (tests/test_security_accounts.py).
    site, people = world
    before = snapshot(site)
    response = as_user(client, people["owner"]).post(
        f"/sites/{site.public_id}/settings/general",
        {
            "display_name": "Other\r\nBcc: x@example.com",
            "hostname": "other.example",
            "timezone": "UTC",
        },
    )
    assert response.status_code == 200
    assert "The name cannot contain line breaks or control characters." in html.unescape(
        response.content.decode()
    )
    assert snapshot(site) == before


def test_shared_links_are_created_shown_once_and_revoked(client, world):
    site, people = world
    as_user(client, people["admin"])
    response = client.post(
        f"/sites/{site.public_id}/settings/general/links", {"label": "Team", "password": "pw"}
    )
    content = response.content.decode()
    link = SharedLink.objects.get(site=site)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    url = content.split('id="new-shared-link">')[1].split("<")[0]
    assert url.startswith("http://testserver/share/") and link.has_password
    token = url.rsplit("/", 2)[1]
    assert token.startswith(link.token_prefix) and token not in link.token_digest
    later = client.get(f"/sites/{site.public_id}/settings/general").content.decode()
    assert token not in later and f"/share/{link.token_prefix}…" in later
    revoke = client.post(f"/sites/{site.public_id}/settings/general/links/{link.pk}/revoke")
    assert revoke.status_code == 302 and not SharedLink.objects.exists()


def test_shared_link_of_another_site_cannot_be_revoked(client, world):
    site, people = world
    other_site = SiteFactory()
    link = SharedLink.objects.create(
        site=other_site, token_digest="e" * 64, token_prefix="eeeeeeee"
    )
    as_user(client, people["owner"]).post(
        f"/sites/{site.public_id}/settings/general/links/{link.pk}/revoke"
    )
    assert SharedLink.objects.filter(pk=link.pk).exists()


# --- Tracking --------------------------------------------------------------------------


def test_tracking_options_are_saved_and_reach_ingestion(client, world):
    site, people = world
    assert site_lookup.site_by_id(site.pk).bot_filter is True  # cached by ingestion
    response = as_user(client, people["admin"]).post(
        f"/sites/{site.public_id}/settings/tracking",
        {
            "excluded_ips": "203.0.113.7\n10.0.0.0/8, 2001:db8::/32\n10.1.2.3/8",
            "respect_dnt": "on",
            "long_lived_visitor_ids": "on",
            "behaviour_collectors": "on",
            "collector_clicks": "on",
            "collector_vitals": "on",
            "retention_days": "90",
        },
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.bot_filter is False
    assert site.excluded_ips == ["203.0.113.7/32", "10.0.0.0/8", "2001:db8::/32"]
    assert (site.respect_dnt, site.long_lived_visitor_ids, site.behaviour_collectors) == (
        True,
        True,
        True,
    )
    assert site.settings["collectors"] == {
        "clicks": True,
        "errors": False,
        "forms": False,
        "seo": False,
        "vitals": True,
    }
    assert enabled_collectors(site) == {"clicks", "vitals"}
    assert site.retention_days == 90
    config = site_lookup.site_by_id(site.pk)
    assert config.bot_filter is False and config.respect_dnt is True
    assert len(config.excluded_networks) == 3
    page = client.get(f"/sites/{site.public_id}/settings/tracking").content.decode()
    assert "within 30 seconds" in page
    assert 'name="collector_clicks" id="id_collector_clicks" checked' in page
    assert 'name="collector_errors" id="id_collector_errors" checked' not in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"excluded_ips": "10.0.0.1\nnot-an-ip"}, "Not an IP address or CIDR range: not-an-ip."),
        ({"excluded_ips": "300.1.1.1"}, "Not an IP address or CIDR range: 300.1.1.1."),
        ({"retention_days": "0"}, "greater than or equal to 1"),
        ({"retention_days": "abc"}, "Enter a whole number."),
    ],
)
def test_tracking_refuses_bad_input_and_saves_nothing(client, world, data, message):
    site, people = world
    before = snapshot(site)
    response = as_user(client, people["owner"]).post(
        f"/sites/{site.public_id}/settings/tracking", {"bot_filter": "on", **data}
    )
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert snapshot(site) == before


# --- Danger zone -----------------------------------------------------------------------


def test_reset_deletes_the_sites_statistics_only(client, world):
    site, people = world
    other = SiteFactory()
    day = datetime(2026, 1, 5, 12, tzinfo=UTC)
    store([event_row(site.pk, day, visitor=n) for n in range(3)] + [event_row(other.pk, day)])
    rollup_site(site)
    rollup_site(other)
    as_user(client, people["owner"])
    unconfirmed = client.post(f"/sites/{site.public_id}/settings/danger/reset")
    assert unconfirmed.status_code == 302 and Event.objects.filter(site_id=site.pk).count() == 3
    response = client.post(f"/sites/{site.public_id}/settings/danger/reset", {"confirm": "reset"})
    assert response.status_code == 302
    assert not Event.objects.filter(site_id=site.pk).exists()
    assert not DailySiteStats.objects.filter(site_id=site.pk).exists()
    assert Event.objects.filter(site_id=other.pk).count() == 1
    assert DailySiteStats.objects.filter(site_id=other.pk).count() == 1
    assert Site.objects.filter(pk=site.pk).exists()
    assert SiteMembership.objects.filter(site=site).count() == 3


def test_delete_needs_the_hostname_typed_and_removes_everything(client, world):
    site, people = world
    store([event_row(site.pk, datetime(2026, 1, 5, 12, tzinfo=UTC))])
    oauth, _ = api_client_create(user=people["owner"], type="oauth", site=site)
    oauth_token_issue(client=oauth)
    as_user(client, people["owner"])
    wrong = client.post(f"/sites/{site.public_id}/settings/danger/delete", {"confirm": "blog"})
    assert wrong.status_code == 400
    assert "Type blog.example.com exactly" in wrong.content.decode()
    assert Site.objects.filter(pk=site.pk).exists()
    response = client.post(
        f"/sites/{site.public_id}/settings/danger/delete", {"confirm": " Blog.Example.com "}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert not Site.objects.filter(pk=site.pk).exists()
    assert not Event.objects.filter(site_id=site.pk).exists()
    assert not SiteMembership.objects.filter(site_id=site.pk).exists()
    assert not SiteDomain.objects.filter(domain="blog.example.com").exists()
    assert site_lookup.site_by_domain("blog.example.com") is None
    assert not ApiClient.objects.exists()
    assert not Application.objects.exists() and not AccessToken.objects.exists()


def test_organization_roles_count_and_other_organizations_see_nothing(client, db):
    from tests.factories import OrganizationFactory, OrganizationMemberFactory

    organization = OrganizationFactory()
    site = SiteFactory(organization=organization)
    org_admin = OrganizationMemberFactory(organization=organization, role=Role.ADMIN).user
    org_viewer = OrganizationMemberFactory(organization=organization, role=Role.VIEWER).user
    outsider = OrganizationMemberFactory(role=Role.OWNER).user  # Owner of another organization
    SiteFactory(organization=OrganizationFactory())
    for user, general, danger in (
        (org_admin, 200, 403),
        (org_viewer, 403, 403),
        (outsider, 404, 404),
    ):
        as_user(client, user)
        assert client.get(f"/sites/{site.public_id}/settings/general").status_code == general
        assert client.get(f"/sites/{site.public_id}/settings/danger").status_code == danger
    as_user(client, org_admin)
    response = client.post(
        f"/sites/{site.public_id}/settings/general",
        {"display_name": "Renamed", "hostname": site.hostname, "timezone": "UTC"},
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.display_name == "Renamed"
