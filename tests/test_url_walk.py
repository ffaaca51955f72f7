"""A generated tenant-isolation walk over every URL pattern of the product.

Every route of ``get_resolver()`` is classified (ingestion, public page, API, dashboard,
admin); a route the walk cannot classify, or whose path parameter it cannot fill, FAILS
the test, so pages added later are covered as soon as they land. Each route is then
requested (GET and POST) with the victim's ids filled in, by:

* an anonymous visitor,
* a logged-in user of another organization (owner of their own site),
* an anonymous visitor holding a shared link to another site,
* API credentials of another organization (OAuth token, ``pa_`` and ``sk_live_`` keys),

and must answer 401/403/404/405 or a log-in redirect, with none of the victim's data
(hostname, display name, path, event name, public id) in the body, and must change
nothing (site, members, clients, links, invitations, events all intact).
The victim's owner sees the data (a positive control: the markers are really there).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import ApiClient
from accounts.services import api_client_create, oauth_token_issue
from sites.models import Invitation, SharedLink, Site, SiteMembership
from sites.services import invitation_create
from stats.models import Import
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store
from tracking.models import Event

VICTIM_HOST = "victim-secret.example"
VICTIM_NAME = "Victim Secret Dashboard"
VICTIM_PATH = "/victim-secret-page"
VICTIM_EVENT = "VictimSecretEvent"

# Routes anyone may call; the walk still checks they show no victim data.
INGESTION = {
    "api/event",
    "api/collect",
    "api/v1/hit",
    "api/v1/hit/batch",
    "api/v1/event",
    "api/v1/event/batch",
    "api/v1/session",
    "api/v1/session/batch",
    "matomo.php",
    "piwik.php",
    "log",
    "log/",
    "log/custom",
    "log/hb",
    "log/error",
    "log/noscript",
    "^log/.+",  # Swetrix's JSON 404 for any other /log/ path
    "js/footfall.js",
    "js/footfall.behaviour.js",
}
PUBLIC = {
    "api/health",
    "api/schema/",
    "api/docs/",
    "api/v1/token",
    "accounts/login/",
    "accounts/logout/",
    "accounts/signup/",
    "accounts/password/reset/",
    "accounts/password/reset/done/",
    "accounts/password/reset/<uidb64>/<token>/",
    "accounts/password/reset/complete/",
    "accounts/invitations/<str:token>/",
    # Sign-up verification: the same answer whatever exists; a forged token is 404 and the
    # e-mail change link acts only on the logged-in account (tests/test_security_accounts.py).
    "accounts/signup/done/",
    "accounts/verify/resend/",
    "accounts/verify/<str:token>/",
    "accounts/email/confirm/<str:token>/",
    "share/<str:token>/",  # with a valid token it opens that link's site only (tested below)
    # Signed per address; a forged token is 404 (tests/notifications/test_reports.py).
    "notifications/unsubscribe/<str:token>",
    # Matomo's Reporting API (for its log importer): token_auth only, Matomo's error JSON with
    # 200; another tenant's token sees nothing (tests/tracking/test_matomo_log_importer.py).
    "index.php",
}
OK_DENIALS = {401, 403, 404, 405}
# API routes that list the caller's own objects (200 for anyone logged in; the markers
# check still applies): the management API's API clients (issue #19).
CALLERS_OWN = {"api/manage/v1/clients"}


def iter_patterns(resolver, prefix: str = ""):
    """``(route, pattern)`` for every URL pattern, nested includes flattened."""
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from iter_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def classify(route: str) -> str | None:
    """ingestion | public | api | admin | dashboard, or None when the walk cannot tell."""
    if route in INGESTION:
        return "ingestion"
    if route in PUBLIC:
        return "public"
    if route.startswith("admin/"):
        return "admin"
    if route.startswith("api/v1/"):
        return "api"
    if route.startswith("^api/v1/") or route.startswith("api/v1/^"):
        return "api"
    if route.startswith("api/v2/"):  # Plausible's Stats API v2 (issue #19)
        return "api"
    if route.startswith("api/manage/"):  # Footfall's management API (issue #19)
        return "api"
    if route in ("", "sites/new") or route.startswith(("sites/", "account/", "accounts/")):
        return "dashboard"
    return None


PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def fill(route: str, values: dict[str, list[str]]) -> list[str]:
    """Every URL for ``route`` with each parameter replaced by each of its values.

    Regex routes (catch-alls) get a sample unknown sub-path. Raises KeyError naming a
    parameter the walk has no value for.
    """
    if "^" in route or "(?" in route or "$" in route:
        head = route.split("^", 1)[0]
        return ["/" + head + "unknown-sub-path"]
    urls = ["/" + route]
    for match in PARAMETER.finditer(route):
        name = match.group("name")
        if name not in values:
            raise KeyError(f"no value for <{name}> in route {route!r}: add it to the walk")
        urls = [url.replace(match.group(0), value, 1) for url in urls for value in values[name]]
    return urls


@pytest.fixture
def world(db, client):
    from sites.sharing import shared_link_create
    from stats.dashboard import PANELS
    from stats.rollups import rollup_pending
    from stats.selectors import public_session_id, public_visitor_id

    owner = UserFactory()
    victim = SiteFactory(hostname=VICTIM_HOST, display_name=VICTIM_NAME)
    membership = SiteMembershipFactory(site=victim, user=owner, role="owner")
    viewer = SiteMembershipFactory(site=victim, role="viewer")
    victim_client, _ = api_client_create(user=owner, type="oauth", site=victim)
    link, _ = shared_link_create(site=victim, label="victim link", created_by=owner)
    invitation, _ = invitation_create(
        site=victim, email="invitee@example.com", role="viewer", invited_by=owner
    )
    now = datetime.now(UTC)
    store(
        [
            event_row(victim.pk, now - timedelta(days=1), path=VICTIM_PATH, hostname=VICTIM_HOST),
            event_row(
                victim.pk,
                now - timedelta(minutes=2),
                kind="custom",
                name=VICTIM_EVENT,
                path=VICTIM_PATH,
                hostname=VICTIM_HOST,
            ),
            # A Matomo ecommerce order (issue #15): its id and item name are markers too.
            event_row(
                victim.pk,
                now - timedelta(minutes=1),
                kind="custom",
                name="Ecommerce Order",
                protocol="matomo",
                props={
                    "order_id": VICTIM_EVENT,
                    "items": f'[["SKU","{VICTIM_NAME}",[],"5",1]]',
                },
                revenue_amount="5",
                revenue_currency="",
            ),
        ]
    )
    rollup_pending()

    attacker = UserFactory()
    attacker_site = SiteFactory(hostname="attacker.example", display_name="Attacker site")
    SiteMembershipFactory(site=attacker_site, user=attacker, role="owner")
    attacker_oauth, _ = api_client_create(user=attacker, type="oauth")
    _, attacker_link_token = shared_link_create(site=attacker_site, created_by=attacker)

    from stats.behaviour_views import SECTIONS
    from stats.notifications import services as notifications

    victim_report = notifications.report_create(
        site=victim, email="victim-reader@example.com", frequency="weekly"
    )
    from stats.notifications.models import Webhook
    from stats.notifications.webhooks import seal

    victim_webhook = Webhook.objects.create(
        site=victim,
        url="https://hooks.example.com/victim",
        format="json",
        secret_sealed=seal("whsec_victim"),
        secret_prefix="whsec_vict",
        created_at=now,
    )
    victim_alert = notifications.alert_create(
        site=victim,
        kind="no-data",
        emails=["victim-reader@example.com"],
        webhook_ids=[victim_webhook.pk],
    )

    from stats.models import Funnel

    victim_funnel = Funnel.objects.create(
        site=victim,
        name=VICTIM_NAME,
        steps=[
            {"alternatives": [{"type": "page", "path": VICTIM_PATH}]},
            {"alternatives": [{"type": "event", "name": VICTIM_EVENT}]},
        ],
    )

    from stats.models import Goal

    victim_goal = Goal.objects.create(site=victim, name=VICTIM_EVENT, event_name=VICTIM_EVENT)
    victim_import = Import.objects.create(
        id="victim-import", site=victim, kind="plausible", file_hash="0" * 64
    )
    values = {
        # Plausible's Sites API (issue #19): sites by domain, goals, properties, guests.
        "site_id": [VICTIM_HOST],
        "goal_id": [str(victim_goal.pk)],
        "prop": ["plan"],
        "email": [viewer.user.email],
        "public_id": [victim.public_id],
        "funnel_id": [str(victim_funnel.pk)],
        "panel_name": list(PANELS),
        "section": list(SECTIONS),
        "membership_id": [str(membership.pk), str(viewer.pk)],
        "invitation_id": [str(invitation.pk)],
        "client_id": [victim_client.public_id],
        "link_id": [str(link.pk)],
        "token": ["not-a-real-token"],
        "uidb64": ["MQ"],
        "visitor_id": [public_visitor_id(1)],
        "session_id": [public_session_id(1)],
        "report_id": [str(victim_report.pk)],
        "alert_id": [str(victim_alert.pk)],
        "webhook_id": [str(victim_webhook.pk)],
        "import_id": [victim_import.pk],  # the management API (issue #19)
    }
    api_credentials = {
        "attacker account oauth token": oauth_token_issue(client=attacker_oauth)[0],
        "attacker pa_ key": api_client_create(user=attacker, type="key", site=attacker_site)[1][
            "key"
        ],
        "attacker account sk_live_ key": api_client_create(user=attacker, type="read")[1]["key"],
        "attacker plausible key": api_client_create(
            user=attacker, type="plausible", scopes=["stats", "sites"]
        )[1]["key"],
        "attacker site sk_live_ key": api_client_create(
            user=attacker, type="read", site=attacker_site
        )[1]["key"],
    }
    return {
        "owner": owner,
        "victim": victim,
        "attacker": attacker,
        "attacker_link_token": attacker_link_token,
        "values": values,
        "api_credentials": api_credentials,
        "markers": [VICTIM_HOST, VICTIM_NAME, VICTIM_PATH, VICTIM_EVENT, victim.public_id],
    }


def snapshot(victim: Site) -> dict:
    victim.refresh_from_db()
    return {
        "site": (victim.display_name, victim.hostname, victim.tracking_state, victim.settings),
        "members": sorted(
            SiteMembership.objects.filter(site=victim).values_list("user_id", "role")
        ),
        "clients": sorted(
            ApiClient.objects.filter(site=victim).values_list("public_id", "revoked_at")
        ),
        "links": sorted(SharedLink.objects.filter(site=victim).values_list("pk", flat=True)),
        "invitations": sorted(Invitation.objects.filter(site=victim).values_list("pk", "email")),
        "events": Event.objects.filter(site=victim).count(),
        "notifications": _notifications(victim),
        "funnels": _funnels(victim),
        "goals": sorted(victim.goals.values_list("pk", "name")),
        "imports": sorted(Import.objects.filter(site=victim).values_list("pk", "status")),
    }


def _funnels(victim: Site) -> list:
    from stats.models import Funnel

    return sorted(Funnel.objects.filter(site=victim).values_list("pk", "name", "steps", "order"))


def _notifications(victim: Site) -> tuple:
    from stats.notifications.models import Alert, Delivery, Report, Webhook

    return (
        sorted(Report.objects.filter(site=victim).values_list("pk", "email")),
        sorted(Alert.objects.filter(site=victim).values_list("pk", "emails")),
        Webhook.objects.filter(site=victim).count(),
        Delivery.objects.filter(site=victim).count(),
    )


POST_DATA = {
    "display_name": "Pwned",
    "hostname": "pwned.example",
    "timezone": "UTC",
    "role": "owner",
    "email": "attacker@example.com",
    "confirm": VICTIM_HOST,
    "name": VICTIM_HOST,
    "label": "pwned",
    "type": "oauth",
    "scopes": ["statistics:read"],
}


VICTIM_PARAMETERS = (
    "public_id",
    "membership_id",
    "invitation_id",
    "client_id",
    "link_id",
    "report_id",
    "alert_id",
    "webhook_id",
    "funnel_id",
    "site_id",
    "goal_id",
    "import_id",
)


def walk_urls(world) -> list[tuple[str, str, bool]]:
    """(family, url, names a victim object) for every classified route; fails on a route
    it cannot handle."""
    unclassified, unfillable, urls = [], [], []
    for route, _pattern in iter_patterns(get_resolver()):
        family = classify(route)
        if family is None:
            unclassified.append(route)
            continue
        if family in ("ingestion", "admin"):
            continue  # writes: tests/test_tenant_isolation.py; admin: staff only, below
        parameters = {m.group("name") for m in PARAMETER.finditer(route)}
        victim_specific = (family == "api" and route not in CALLERS_OWN) or bool(
            parameters & set(VICTIM_PARAMETERS)
        )
        try:
            urls.extend((family, url, victim_specific) for url in fill(route, world["values"]))
        except KeyError as exc:
            unfillable.append(str(exc))
    assert unclassified == [], f"routes the tenant walk cannot classify: {unclassified}"
    assert unfillable == [], unfillable
    return urls


def assert_denied(response, url: str, who: str, markers: list[str], victim_specific: bool):
    status = response.status_code
    location = response.get("Location", "")
    login_redirect = status == 302 and "/login/" in location
    body = response.content.decode("utf-8", "replace")
    assert status < 500, (who, url, status)
    if victim_specific:
        assert status in OK_DENIALS or login_redirect, (who, url, status, location, body[:300])
    leaked = [marker for marker in markers if marker in body]
    assert leaked == [], (who, url, status, leaked)


def test_every_route_is_classified_and_fillable(world):
    assert len(walk_urls(world)) > 40


def test_owner_sees_the_victim_data(client, world):
    """Positive control: the markers the walk looks for are really on the owner's pages."""
    client.force_login(world["owner"])
    response = client.get(f"/sites/{world['victim'].public_id}/")
    assert response.status_code == 200
    assert VICTIM_NAME in response.content.decode()


@pytest.mark.parametrize("who", ["anonymous", "other organization", "other site's shared link"])
def test_dashboard_and_api_routes_deny_other_tenants(client, world, who):
    before = snapshot(world["victim"])
    if who == "other organization":
        client.force_login(world["attacker"])
    elif who == "other site's shared link":
        assert client.get(f"/share/{world['attacker_link_token']}/").status_code == 302
    for family, url, victim_specific in walk_urls(world):
        for method in ("get", "post"):
            if family == "public" and method == "post":
                continue  # log-in, sign-up and reset forms: not tenant data
            kwargs = {"data": POST_DATA} if method == "post" else {}
            response = getattr(client, method)(url, **kwargs)
            assert_denied(response, url, f"{who} {method}", world["markers"], victim_specific)
            if who == "other organization" and url.startswith("/accounts/logout"):
                client.force_login(world["attacker"])
    assert snapshot(world["victim"]) == before


def test_api_routes_deny_other_tenants_credentials(client, world):
    before = snapshot(world["victim"])
    victim_id = world["victim"].public_id
    today = datetime.now(UTC).date()
    query = {
        "id": victim_id,
        "site": victim_id,
        "from": (today - timedelta(days=30)).isoformat(),
        "to": today.isoformat(),
        "event": VICTIM_EVENT,
        "event_meta_key": "x",
        "key": "x",
        "site_id": VICTIM_HOST,  # Plausible's APIs name the site by its domain
    }
    for family, url, _ in walk_urls(world):
        if family == "public":
            continue
        for name, credential in world["api_credentials"].items():
            headers = {"HTTP_AUTHORIZATION": f"Bearer {credential}"}
            response = client.get(url, query, **headers)
            victim_specific = family == "dashboard" or "/api/v1/statistics/" in url
            assert_denied(response, url, name, world["markers"], victim_specific)
            if family == "dashboard":  # a bearer credential never logs anyone in
                assert response.status_code == 302 or response.status_code in OK_DENIALS
    assert snapshot(world["victim"]) == before


def test_admin_is_staff_only(client, world):
    for route, _pattern in iter_patterns(get_resolver()):
        if classify(route) != "admin" or "<" in route or "^" in route:
            continue
        if route in ("admin/login/", "admin/logout/"):
            continue  # the admin's own log-in form
        for who in ("anonymous", "other organization"):
            if who == "other organization":
                client.force_login(world["attacker"])
            response = client.get("/" + route)
            assert response.status_code in (302, 404), (route, who, response.status_code)
            if response.status_code == 302:
                assert "/admin/login/" in response["Location"]
        client.logout()


def test_a_valid_shared_link_opens_only_its_own_site(client, world):
    from sites.sharing import shared_link_create

    _, token = shared_link_create(site=world["victim"])
    response = client.get(f"/share/{token}/")
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{world['victim'].public_id}/"
    assert VICTIM_NAME in client.get(response["Location"]).content.decode()
    # The grant is for that site only: the attacker's site stays closed to this visitor.
    attacker_site = Site.objects.get(hostname="attacker.example")
    denied = client.get(f"/sites/{attacker_site.public_id}/")
    assert denied.status_code in OK_DENIALS or "/login/" in denied.get("Location", "")
    assert "Attacker site" not in denied.content.decode()


def test_walk_fails_on_an_unknown_parameter():
    with pytest.raises(KeyError, match="no value for <widget_id>"):
        fill("sites/<str:public_id>/widgets/<int:widget_id>", {"public_id": ["x"]})
    assert classify("brand-new-page/") is None
