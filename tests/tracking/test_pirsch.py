"""Pirsch's write API: hits, events, sessions, batches, and every kind of credential."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from oauth2_provider.models import AccessToken

from accounts.services import api_client_create, api_client_revoke
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tracking.models import Event

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
# The seed's page view body (with values filled in).
SEED_HIT = {
    "url": "https://dummy.site/blog/first?utm_source=news",
    "ip": "123.45.67.89",
    "user_agent": UA,
    "accept_language": "de-DE,de;q=0.9",
    "sec_ch_ua": '"Chromium";v="128", "Google Chrome";v="128", "Not;A=Brand";v="24"',
    "sec_ch_ua_mobile": "?0",
    "sec_ch_ua_platform": '"Windows"',
    "sec_ch_ua_platform_version": '"15.0.0"',
    "sec_ch_width": "1920",
    "sec_ch_viewport_width": "1920",
    "title": "My first blogpost",
    "referrer": "https://www.google.com/",
    "screen_width": 1920,
    "screen_height": 1080,
    "tags": {"author": "John", "post": "My first blogpost"},
}


@pytest.fixture
def owner(site):
    user = UserFactory()
    SiteMembershipFactory(site=site, user=user, role="owner")
    return user


@pytest.fixture
def key(owner, site):
    return api_client_create(user=owner, type="key", site=site)[1]["key"]


@pytest.fixture
def oauth(owner, site):
    return api_client_create(user=owner, type="oauth", site=site)[1]


def bearer_for(client, oauth_payload) -> str:
    response = client.post(
        "/api/v1/token",
        data=json.dumps(
            {
                "client_id": oauth_payload["client_id"],
                "client_secret": oauth_payload["client_secret"],
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 200
    return response.json()["access_token"]


def send(client, path, body, credential):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {credential}"} if credential is not None else {}
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def test_seed_page_view_with_an_access_key(client, site, key, drain):
    response = send(client, "/api/v1/hit", SEED_HIT, key)
    assert response.status_code == 200
    [event] = drain()
    assert (event.site_id, event.protocol, event.kind, event.path, event.title) == (
        site.pk,
        "pirsch",
        "pageview",
        "/blog/first",
        "My first blogpost",
    )
    assert (event.browser, event.os, event.os_version, event.language) == (
        "Chrome",
        "Windows",
        "11",
        "de",
    )
    assert (event.source, event.utm_source, event.screen_class) == ("news", "news", "XXL")
    assert event.props == {"tags": {"author": "John", "post": "My first blogpost"}}


def test_page_view_with_an_oauth_token(client, site, oauth, drain):
    token = bearer_for(client, oauth)
    assert send(client, "/api/v1/hit", SEED_HIT, token).status_code == 200
    assert len(drain()) == 1


def test_event_with_meta_duration_and_non_interactive(client, site, key, drain):
    body = dict(
        SEED_HIT,
        event_name="Download",
        event_duration=42,
        event_meta={"file": "a.pdf", "size": 3},
        non_interactive=True,
    )
    assert send(client, "/api/v1/event", body, key).status_code == 200
    [event] = drain()
    assert (event.kind, event.name, event.duration_ms, event.interactive) == (
        "custom",
        "Download",
        42_000,
        False,
    )
    assert event.props == {
        "file": "a.pdf",
        "size": "3",
        "tags": {"author": "John", "post": "My first blogpost"},
    }


def test_session_keep_alive_extends_the_session_without_a_page_view(client, site, key, drain):
    assert (
        send(client, "/api/v1/session", SEED_HIT, key).status_code == 200
    )  # no session: nothing stored
    send(client, "/api/v1/hit", SEED_HIT, key)
    send(client, "/api/v1/session", SEED_HIT, key)
    pageview, keep_alive = drain()
    assert (keep_alive.kind, keep_alive.session_id) == ("heartbeat", pageview.session_id)
    assert Event.objects.filter(kind="pageview").count() == 1


def test_batches_honour_time(client, site, key, drain):
    batch = [
        dict(SEED_HIT, time="2023-01-02T14:15:32Z"),
        dict(SEED_HIT, time="2023-01-02T14:16:32Z", url="https://dummy.site/two"),
    ]
    assert send(client, "/api/v1/hit/batch", batch, key).status_code == 200
    events = drain()
    assert [e.timestamp for e in events] == [
        datetime(2023, 1, 2, 14, 15, 32, tzinfo=UTC),
        datetime(2023, 1, 2, 14, 16, 32, tzinfo=UTC),
    ]
    events_batch = [dict(SEED_HIT, event_name="Signup", time="2023-01-02T14:17:00Z")]
    assert send(client, "/api/v1/event/batch", events_batch, key).status_code == 200
    assert (
        send(
            client, "/api/v1/session/batch", [dict(SEED_HIT, time="2023-01-02T14:18:00Z")], key
        ).status_code
        == 200
    )
    assert [e.kind for e in drain()] == ["pageview", "pageview", "custom", "heartbeat"]


def test_batch_is_all_or_nothing(client, site, key, drain):
    batch = [dict(SEED_HIT, time="2023-01-02T14:15:32Z"), dict(SEED_HIT, time="not a time")]
    response = send(client, "/api/v1/hit/batch", batch, key)
    assert response.status_code == 400
    assert response.json() == {
        "validation": {"time": "time is required and must be an RFC 3339 date and time"},
        "error": [],
        "context": {"index": 1},
    }
    assert (
        send(
            client, "/api/v1/hit/batch", [dict(SEED_HIT, time="2023-01-02T14:15:32Z")] * 1001, key
        ).status_code
        == 400
    )
    assert send(client, "/api/v1/hit/batch", SEED_HIT, key).status_code == 400
    assert drain() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": ""}, "url"),
        ({"url": "ftp://dummy.site/"}, "url"),
        ({"ip": None}, "ip"),
        ({"user_agent": ""}, "user_agent"),
        ({"screen_width": "wide"}, "screen_width"),
        ({"tags": {"a": {"b": 1}}}, "tags"),
    ],
)
def test_validation_errors_in_pirsch_shape(client, site, key, drain, change, field):
    response = send(client, "/api/v1/hit", {**SEED_HIT, **change}, key)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"validation", "error", "context"} and field in body["validation"]
    assert drain() == []


def test_event_name_required(client, site, key, drain):
    response = send(client, "/api/v1/event", SEED_HIT, key)
    assert response.status_code == 400
    assert "event_name" in response.json()["validation"]


def test_account_client_writes_to_the_site_matching_the_url(client, site, owner, drain):
    other = SiteFactory(hostname="other.site")
    SiteMembershipFactory(site=other, user=owner, role="admin")
    key = api_client_create(user=owner, type="key")[1]["key"]
    assert send(client, "/api/v1/hit", SEED_HIT, key).status_code == 200
    assert (
        send(client, "/api/v1/hit", dict(SEED_HIT, url="https://other.site/x"), key).status_code
        == 200
    )
    response = send(client, "/api/v1/hit", dict(SEED_HIT, url="https://unknown.site/x"), key)
    assert response.status_code == 404
    assert sorted(e.site_id for e in drain()) == sorted([site.pk, other.pk])


def test_credentials_that_are_refused(client, site, owner, oauth, drain):
    other_site = SiteFactory(hostname="other.site")
    other_owner = UserFactory()
    SiteMembershipFactory(site=other_site, user=other_owner, role="owner")
    foreign_key = api_client_create(user=other_owner, type="key", site=other_site)[1]["key"]
    viewer = UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    viewer_key = api_client_create(user=viewer, type="key")[1]["key"]
    stranger_key = api_client_create(user=UserFactory(), type="key")[1]["key"]
    read_key = api_client_create(user=owner, type="read", site=site)[1]["key"]
    revoked_client, revoked = api_client_create(user=owner, type="key", site=site)
    api_client_revoke(client=revoked_client)
    expired_token = bearer_for(client, oauth)
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    no_write = api_client_create(user=owner, type="oauth", site=site, scopes=["statistics:read"])[1]
    no_write_token = bearer_for(client, no_write)
    cases = {
        None: 401,
        "": 401,
        "garbage": 401,
        "pa_" + "x" * 45: 401,
        site.public_key: 401,
        read_key: 401,
        revoked["key"]: 401,
        expired_token: 401,
        viewer_key: 403,
        stranger_key: 403,
        no_write_token: 403,
    }
    for credential, status in cases.items():
        response = send(client, "/api/v1/hit", SEED_HIT, credential)
        assert response.status_code == status, credential
        assert set(response.json()) == {"validation", "error", "context"}
    assert drain() == []
    # Another site's client writes only ever to its own site, whatever the URL says.
    assert send(client, "/api/v1/hit", SEED_HIT, foreign_key).status_code == 200
    assert [e.site_id for e in drain()] == [other_site.pk]


def test_empty_bearer_then_token_flow_like_the_official_sdk(client, site, oauth, drain):
    response = client.post(
        "/api/v1/hit",
        data=json.dumps(SEED_HIT),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer ",
    )
    assert response.status_code == 401
    token = bearer_for(client, oauth)
    assert send(client, "/api/v1/hit", SEED_HIT, token).status_code == 200


def test_wrong_method_and_oversized_body(client, site, key):
    assert client.get("/api/v1/hit", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 405
    response = send(client, "/api/v1/hit", dict(SEED_HIT, title="x" * 70_000), key)
    assert response.status_code == 413


@hsettings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda c: (
            st.lists(c, max_size=3)
            | st.dictionaries(
                st.sampled_from([*SEED_HIT, "time", "event_name", "event_meta", "event_duration"]),
                c,
                max_size=8,
            )
        ),
        max_leaves=15,
    )
)
def test_random_bodies_never_cause_a_server_error(client, site, key, body):
    for path in ("/api/v1/hit", "/api/v1/event/batch"):
        response = send(client, path, body, key)
        assert response.status_code in (200, 400, 404)
        if response.status_code != 200:
            assert set(response.json()) == {"validation", "error", "context"}


# The official JavaScript SDK's keep-alive (``PirschSession``: ip and user agent only) and
# the API reference's (plus the client hints): no ``url``.
SDK_KEEP_ALIVE = {"ip": SEED_HIT["ip"], "user_agent": UA}
DOCUMENTED_KEEP_ALIVE = {
    key: SEED_HIT[key]
    for key in (
        "ip",
        "user_agent",
        "sec_ch_ua",
        "sec_ch_ua_mobile",
        "sec_ch_ua_platform",
        "sec_ch_ua_platform_version",
        "sec_ch_width",
        "sec_ch_viewport_width",
    )
}


@pytest.mark.parametrize("body", [SDK_KEEP_ALIVE, DOCUMENTED_KEEP_ALIVE])
def test_keep_alive_without_url_extends_the_current_session(client, site, key, drain, body):
    assert send(client, "/api/v1/hit", SEED_HIT, key).status_code == 200
    response = send(client, "/api/v1/session", body, key)
    assert response.status_code == 200, response.content
    batch = [dict(body, time=datetime.now(UTC).isoformat())]
    assert send(client, "/api/v1/session/batch", batch, key).status_code == 200
    pageview, *keep_alives = drain()
    assert [(e.kind, e.session_id, e.site_id) for e in keep_alives] == [
        ("heartbeat", pageview.session_id, site.pk)
    ] * 2
    assert Event.objects.filter(kind="pageview").count() == 1


def test_keep_alive_without_url_needs_a_domain_bound_client(client, site, owner, drain):
    """An account client names the domain through the URL's host: without one, 400."""
    account_key = api_client_create(user=owner, type="key")[1]["key"]
    response = send(client, "/api/v1/session", SDK_KEEP_ALIVE, account_key)
    assert response.status_code == 400
    assert set(response.json()) == {"validation", "error", "context"}
    assert "url" in response.json()["validation"]
    assert drain() == []


def test_batches_are_processed_in_time_order(client, site, key, drain):
    """Entry and exit pages follow ``time``, whatever the order of the array."""
    batch = [
        dict(SEED_HIT, url="https://dummy.site/second", time="2023-01-02T14:16:00Z"),
        dict(SEED_HIT, url="https://dummy.site/third", time="2023-01-02T14:17:00Z"),
        dict(SEED_HIT, url="https://dummy.site/first", time="2023-01-02T14:15:00Z"),
    ]
    assert send(client, "/api/v1/hit/batch", batch, key).status_code == 200
    events = sorted(drain(), key=lambda e: e.timestamp)
    assert [e.path for e in events] == ["/first", "/second", "/third"]
    assert {e.entry_path for e in events} == {"/first"}
    assert len({e.session_id for e in events}) == 1
    assert [e.session_start for e in events] == [True, False, False]


@pytest.mark.parametrize("ip", ["123.456.789.0", "not an ip", "::gggg", "1.2.3"])
def test_an_invalid_ip_is_refused_naming_ip(client, site, key, drain, ip):
    """The guide's own placeholder is not an address: refused, never replaced by the
    sender's address (which would count the server as the visitor)."""
    for path, body in (
        ("/api/v1/hit", dict(SEED_HIT, ip=ip)),
        ("/api/v1/event", dict(SEED_HIT, ip=ip, event_name="Signup")),
        ("/api/v1/session", dict(SDK_KEEP_ALIVE, ip=ip)),
        ("/api/v1/hit/batch", [dict(SEED_HIT, ip=ip, time="2023-01-02T14:15:32Z")]),
    ):
        response = send(client, path, body, key)
        assert response.status_code == 400, (path, response.content)
        assert set(response.json()) == {"validation", "error", "context"}
        assert "ip" in response.json()["validation"]
    assert drain() == []


@pytest.mark.parametrize(
    ("ip", "stored_as"),
    [("2001:db8::7", "2001:db8::7"), ("203.0.113.9, 10.0.0.1", "203.0.113.9")],
)
def test_valid_ips_and_forwarded_lists_are_used(client, site, key, drain, ip, stored_as):
    """A forwarding header's list (what the SDK passes from ``x-forwarded-for``) gives its
    first address; the address is the visitor's, not the sender's."""
    from tracking.protocols import pirsch as protocol

    parsed = protocol.parse_hit(
        dict(SEED_HIT, ip=ip), protocol.Kind.PAGEVIEW, batch=False, now=datetime.now(UTC)
    )
    assert parsed.fields["ip"] == stored_as
    assert send(client, "/api/v1/hit", dict(SEED_HIT, ip=ip), key).status_code == 200
    assert len(drain()) == 1
