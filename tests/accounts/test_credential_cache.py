"""Resolved credentials are remembered for a few seconds in the shared cache (keyed by the
digest the database stores): no database lookup per request, revocation forgets them at
once, an expired token stays refused, and without the cache the database answers."""

from datetime import timedelta

import pytest
from django.test import override_settings

from accounts import authentication
from accounts.authentication import AuthenticationFailed, authenticate_bearer
from accounts.services import api_client_create, api_client_revoke, oauth_token_issue
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory

KINDS = {"key", "oauth", "read"}


@pytest.fixture
def owner(db):
    user = UserFactory()
    SiteMembershipFactory(site=SiteFactory(), user=user, role="owner")
    return user


@pytest.mark.parametrize("kind", ["key", "read", "oauth"])
def test_a_remembered_credential_needs_no_database_lookup(owner, kind, django_assert_num_queries):
    client, secrets = api_client_create(
        user=owner, type=kind, site=owner.site_memberships.get().site
    )
    credential = secrets["key"] if kind != "oauth" else oauth_token_issue(client=client)[0]
    first = authenticate_bearer(f"Bearer {credential}", allowed_kinds=KINDS)
    with django_assert_num_queries(0):
        again = authenticate_bearer(f"Bearer {credential}", allowed_kinds=KINDS)
    assert (again.client.pk, again.site_id, again.scopes) == (
        first.client.pk,
        first.site_id,
        first.scopes,
    )


@pytest.mark.parametrize("kind", ["key", "oauth"])
def test_revoking_forgets_a_remembered_credential_at_once(owner, kind):
    client, secrets = api_client_create(
        user=owner, type=kind, site=owner.site_memberships.get().site
    )
    credential = secrets["key"] if kind == "key" else oauth_token_issue(client=client)[0]
    authenticate_bearer(f"Bearer {credential}", allowed_kinds=KINDS)
    api_client_revoke(client=client)
    with pytest.raises(AuthenticationFailed):
        authenticate_bearer(f"Bearer {credential}", allowed_kinds=KINDS)


def test_a_remembered_token_is_refused_once_it_expires(
    owner, monkeypatch, django_assert_num_queries
):
    client, _ = api_client_create(user=owner, type="oauth", site=owner.site_memberships.get().site)
    token, expires = oauth_token_issue(client=client)
    authenticate_bearer(f"Bearer {token}", allowed_kinds=KINDS)
    later = expires + timedelta(seconds=1)
    monkeypatch.setattr(authentication.timezone, "now", lambda: later)
    with django_assert_num_queries(0), pytest.raises(AuthenticationFailed):
        authenticate_bearer(f"Bearer {token}", allowed_kinds=KINDS)


def test_a_key_of_another_kind_is_not_taken_from_the_cache(owner):
    _client, secrets = api_client_create(
        user=owner, type="read", site=owner.site_memberships.get().site
    )
    authenticate_bearer(f"Bearer {secrets['key']}", allowed_kinds=KINDS)
    with pytest.raises(AuthenticationFailed):  # read keys are not allowed here
        authenticate_bearer(f"Bearer {secrets['key']}", allowed_kinds={"key", "oauth"})


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens here
        }
    }
)
def test_without_the_cache_the_database_answers(owner):
    _client, secrets = api_client_create(
        user=owner, type="key", site=owner.site_memberships.get().site
    )
    for _ in range(2):
        principal = authenticate_bearer(f"Bearer {secrets['key']}", allowed_kinds=KINDS)
        assert principal.kind == "key"
