"""The Pirsch-style endpoints on Django REST framework (issue #19): what the DRF layer must
not change on the wire, and the order of its checks.

The views are DRF ``APIView``s (``accounts.api.auth.PirschAPIView``); DRF's own habits
(``{"detail": …}`` errors, 403 for a refused credential, the browsable HTML API, 406 for
an ``Accept`` it cannot serve, ``OPTIONS`` metadata, ``HEAD`` as ``GET``) must never reach
a Pirsch client.
"""

from __future__ import annotations

import json

import pytest
from django.http import JsonResponse
from hypothesis import given
from hypothesis import strategies as st

from accounts.api.drf import JsonBytesRenderer
from accounts.models import Scope
from accounts.services import api_client_create, oauth_token_issue
from tests.factories import SiteFactory, SiteMembershipFactory

PIRSCH_KEYS = {"validation", "error", "context"}
FROZEN = 1_800_000_000


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="example.com")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


@pytest.fixture
def frozen_clock(monkeypatch):
    """Every request of a test inside one rate-limit window."""
    from analytics_project import ratelimit

    monkeypatch.setattr(ratelimit.time, "time", lambda: float(FROZEN))


def token_for(owner, site, scopes=None) -> str:
    client = api_client_create(user=owner, type="oauth", site=site, scopes=scopes)[0]
    return oauth_token_issue(client=client)[0]


def total(client, site, credential, **extra):
    return client.get(
        "/api/v1/statistics/total",
        {"id": site.public_id, "from": "2023-01-01", "to": "2023-01-31"},
        HTTP_AUTHORIZATION=f"Bearer {credential}",
        **extra,
    )


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/statistics/total", "post"),
        ("/api/v1/statistics/total", "head"),
        ("/api/v1/statistics/total", "options"),
        ("/api/v1/statistics", "post"),
        ("/api/v1/domain", "options"),
        ("/api/v1/token", "get"),
        ("/api/v1/token", "options"),
        ("/api/v1/funnels", "put"),
        ("/api/v1/ecommerce", "head"),
    ],
)
def test_a_method_the_endpoint_lacks_is_pirschs_405_before_any_credential(client, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    if method != "head":
        assert json.loads(response.content) == {
            "validation": {},
            "error": ["method not allowed"],
            "context": {},
        }


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer not-a-token",
        "Basic Zm9vOmJhcg==",
        "Bearer sk_live_" + "x" * 40,
        "Bearer pk_live_abc",
    ],
)
def test_a_missing_or_bad_credential_is_pirschs_401(client, site, authorization):
    response = client.get(
        "/api/v1/statistics/total", {"id": site.public_id}, HTTP_AUTHORIZATION=authorization
    )
    assert response.status_code == 401
    body = response.json()
    assert set(body) == PIRSCH_KEYS and "detail" not in body
    assert body["validation"] == {} and len(body["error"]) == 1 and body["error"][0]
    assert "X-RateLimit-Limit" not in response  # nothing was counted


def test_any_accept_header_is_answered_with_the_same_json(client, owner, site, settings):
    settings.PIRSCH_API_RATE_LIMIT = 10**6
    token = token_for(owner, site)
    plain = total(client, site, token)
    for accept in ("text/html", "application/xml", "text/html;q=1, */*;q=0"):
        answer = total(client, site, token, HTTP_ACCEPT=accept)
        assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
        assert answer.content == plain.content


def test_an_access_key_is_refused_before_it_is_counted(client, owner, site, frozen_clock):
    key = api_client_create(user=owner, type="key", site=site)[1]["key"]
    response = total(client, site, key)
    assert response.status_code == 403
    assert response.json()["error"] == [
        "access keys (pa_) can only send data; use an oAuth client to read"
    ]
    assert "X-RateLimit-Limit" not in response


def test_a_client_without_the_scope_is_counted_then_refused(
    client, owner, site, frozen_clock, settings
):
    """Pirsch's order: credential, its kind, the count, then the scope (so a client
    probing scopes spends its budget)."""
    settings.PIRSCH_API_RATE_LIMIT = 2
    token = token_for(owner, site, scopes=[Scope.READ_DOMAINS])
    answers = [total(client, site, token) for _ in range(3)]
    assert [a.status_code for a in answers] == [403, 403, 429]
    assert answers[0].json()["error"] == ["the client is missing the scope statistics:read"]
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert set(answers[2].json()) == PIRSCH_KEYS
    assert answers[2].json()["error"] == ["too many requests, retry later"]
    assert int(answers[2]["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        ("/api/v1/funnels", "get", None),
        ("/api/v1/ecommerce/orders", "get", None),
        ("/api/v1/statistics", "delete", {"kind": "events"}),
    ],
)
def test_every_pirsch_style_endpoint_is_throttled_in_pirschs_shape(
    client, owner, site, frozen_clock, settings, path, method, body
):
    settings.PIRSCH_API_RATE_LIMIT = 1
    token = token_for(owner, site, scopes=[Scope.READ_STATISTICS, Scope.MANAGE_SITE])
    params = {"id": site.public_id, "from": "2023-01-01", "to": "2023-01-31"}

    def call():
        if body is None:
            return client.get(path, params, HTTP_AUTHORIZATION=f"Bearer {token}")
        return getattr(client, method)(
            path,
            data=json.dumps({**body, "id": site.public_id}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    first, second = call(), call()
    assert first.status_code == 200 and first["X-RateLimit-Remaining"] == "0"
    assert second.status_code == 429
    assert second.json() == {
        "validation": {},
        "error": ["too many requests, retry later"],
        "context": {},
    }
    assert second["X-RateLimit-Limit"] == "1"
    assert second["X-RateLimit-Reset"] == str(FROZEN - FROZEN % 60 + 60)
    assert int(second["Retry-After"]) >= 1


def test_the_token_endpoints_own_limit_is_drfs_throttle_in_pirschs_shape(
    client, frozen_clock, monkeypatch
):
    from accounts.api import views as token_views

    monkeypatch.setattr(token_views, "TOKEN_LIMIT_PER_IP", 2)
    answers = [
        client.post("/api/v1/token", data="{}", content_type="application/json") for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [400, 400, 429]
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[2].json()["error"] == ["too many requests, retry later"]


def test_json_nested_too_deeply_in_a_deletion_is_a_400_not_a_500(client, owner, site, settings):
    settings.PIRSCH_API_RATE_LIMIT = 10**6
    token = token_for(owner, site, scopes=[Scope.MANAGE_SITE])
    response = client.delete(
        "/api/v1/statistics",
        data="[" * 100_000 + "]" * 100_000,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 400
    assert response.json()["error"] == ["the request body must be JSON"]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False, places=2)
    | st.datetimes()
    | st.dates(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(data=json_values.filter(lambda value: value is not None))
def test_the_renderer_writes_exactly_the_bytes_json_response_wrote(data):
    """The oracle is what the plain views answered: ``JsonResponse(data, safe=False)``
    (``None`` is no answer body: an empty one)."""
    assert JsonBytesRenderer().render(data) == JsonResponse(data, safe=False).content


def test_no_data_renders_an_empty_body():
    assert JsonBytesRenderer().render(None) == b""
