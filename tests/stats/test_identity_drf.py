"""The identity-js API on Django REST framework (issue #19): what DRF could have changed
and must not have. Every answer after a valid key carries ``X-RateLimit-*`` (refusals
too), a refusal is identity-js's ``{"error": {"status", "message", "code"}}`` (never
DRF's ``{"detail": …}`` nor HTML), the ``Accept`` header changes no byte, and the
serializers the OpenAPI document is generated from declare exactly the keys answered."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

import stats.api.identity.framework as identity_framework
from accounts.services import api_client_create
from stats import selectors
from stats.api.identity import serializers
from tests.factories import SiteFactory, SiteMembershipFactory
from tests.helpers import event_row, store

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="drf.site")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


def api(client, path, key=None, method="get", **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return getattr(client, method)(f"/api/v1/{path}", params, **headers)


def error(response) -> dict:
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message", "code"}
    assert body["error"]["status"] == response.status_code
    return body["error"]


def test_every_answer_after_a_valid_key_carries_the_rate_limit_headers(
    client, owner, site, read_key
):
    other = SiteFactory(hostname="second.site")
    SiteMembershipFactory(site=other, user=owner, role="owner")
    account_key = api_client_create(user=owner, type="read")[1]["key"]
    answers = [
        api(client, "stats", read_key),  # 200
        api(client, "visitors", read_key, start_date="2025-1-1"),  # 400 invalid_date
        api(client, "events", read_key, page="100001"),  # 400 invalid_parameter
        api(client, "visitors/v_nothexatall", read_key),  # 404 from the view
        api(client, "stats", account_key),  # 404: two sites, none named
    ]
    assert [r.status_code for r in answers] == [200, 400, 400, 404, 404]
    remaining = [int(r["X-RateLimit-Remaining"]) for r in answers[:4]]
    assert remaining == [59, 58, 57, 56]  # one count per request of the key, refusals too
    for response in answers:
        assert all(response.has_header(name) for name in RATE_HEADERS), response
        assert response["X-RateLimit-Limit"] == "60"
        assert not response.has_header("Retry-After")
    assert [error(r)["code"] for r in answers[1:]] == [
        "invalid_date",
        "invalid_parameter",
        "not_found",
        "not_found",
    ]
    # No valid key: nothing was counted, so no headers.
    refused = api(client, "stats", "garbage")
    assert refused.status_code == 401 and not refused.has_header("X-RateLimit-Limit")


def test_the_limit_is_read_at_each_request_and_429_is_identity_shaped(
    client, read_key, monkeypatch
):
    monkeypatch.setattr(identity_framework, "RATE_LIMIT", 2)
    assert [api(client, "live", read_key).status_code for _ in range(2)] == [200, 200]
    response = api(client, "insights/clicks", read_key)
    assert response.status_code == 429
    assert error(response) == {
        "status": 429,
        "message": "Rate limit exceeded. Max 2 requests per minute.",
        "code": "rate_limited",
    }
    assert response["X-RateLimit-Limit"] == "2" and response["X-RateLimit-Remaining"] == "0"
    reset = int(response["X-RateLimit-Reset"])
    now = int(timezone.now().timestamp())
    assert now < reset <= now + 60
    assert 1 <= int(response["Retry-After"]) <= 60


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer garbage",
        "Basic dXNlcjpwYXNz",
        "Token sk_live_abc",
        "Bearer " + "x" * 600,
    ],
)
def test_bad_credentials_are_identity_shaped_401s(client, site, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    for path in ("stats", "visitors", "insights/forms"):
        response = client.get(f"/api/v1/{path}", **headers)
        assert response.status_code == 401
        body = error(response)
        assert body["code"] == "unauthorized"
        assert body["message"].startswith("Missing or invalid API key. ")
        assert "detail" not in response.json()


def test_other_kinds_of_credentials_are_refused_with_the_reason(client, owner, site):
    pa_key = api_client_create(user=owner, type="key", site=site)[1]["key"]
    oauth_client, _ = api_client_create(user=owner, type="oauth", site=site)
    reasons = {
        site.public_key: "Public keys (pk_live_) identify a site to the tracker",
        pa_key: "This kind of key cannot be used here.",
    }
    for key, reason in reasons.items():
        body = error(api(client, "stats", key))
        assert body["code"] == "unauthorized" and reason in body["message"], body
    assert oauth_client.type == "oauth"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "head", "options"])
def test_only_get_is_served_and_the_method_is_checked_before_the_key(client, read_key, method):
    for key in (None, read_key):
        response = api(client, "stats", key, method=method)
        assert response.status_code == 404, (method, key)
        if method != "head":
            assert error(response) == {
                "status": 404,
                "message": "Endpoint not found. The API is read-only (GET).",
                "code": "not_found",
            }
        assert not response.has_header("Allow")


def test_accept_headers_and_format_parameters_change_no_byte(client, read_key):
    plain = api(client, "events/types", read_key)
    assert plain.status_code == 200
    for accept in ("text/html", "application/json; indent=4", "application/xml", "*/*"):
        response = client.get(
            "/api/v1/events/types", HTTP_AUTHORIZATION=f"Bearer {read_key}", HTTP_ACCEPT=accept
        )
        assert (response.status_code, response["Content-Type"]) == (200, "application/json")
        assert response.content == plain.content, accept
    response = api(client, "events/types", read_key, format="api")
    assert response.status_code == 200 and response.content == plain.content


def test_an_unexpected_failure_is_an_identity_shaped_500(client, read_key, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the selector broke")

    monkeypatch.setattr(selectors, "stats_summary", broken)
    response = api(client, "stats", read_key)
    assert response.status_code == 500
    assert error(response) == {
        "status": 500,
        "message": "Internal error.",
        "code": "internal_error",
    }
    assert response.has_header("X-RateLimit-Limit")


@pytest.fixture
def stored(site):
    now = timezone.now().astimezone(UTC)
    store(
        [
            event_row(
                site.pk,
                now - timedelta(minutes=3),
                visitor=1,
                session=10,
                path="/",
                session_start=True,
            ),
            event_row(
                site.pk,
                now - timedelta(minutes=2),
                visitor=1,
                session=10,
                kind="custom",
                name="Signup",
                path="/",
                props={"plan": "pro"},
            ),
        ]
    )
    return site


def test_the_serializers_declare_exactly_the_keys_answered(client, read_key, stored):
    """The OpenAPI document is generated from the serializers' fields: they must be the
    keys the shape functions write (optional fields aside)."""

    def declared(serializer_class) -> set[str]:
        return set(serializer_class().fields)

    def required(serializer_class) -> set[str]:
        return {name for name, field in serializer_class().fields.items() if field.required}

    visitors = api(client, "visitors", read_key).json()["data"]
    sessions = api(client, "sessions", read_key).json()["data"]
    events = api(client, "events", read_key).json()["data"]
    live = api(client, "live", read_key).json()["data"]
    stats = api(client, "stats", read_key).json()["data"]
    top = api(client, "pages/top", read_key).json()["data"]
    visitor = api(client, f"visitors/{visitors[0]['visitor_id']}", read_key).json()["data"]
    session = api(client, f"sessions/{sessions[0]['session_id']}", read_key).json()["data"]
    cases = [
        (serializers.IdentityVisitorSerializer, visitors[0]),
        (serializers.IdentitySessionSerializer, sessions[0]),
        (serializers.IdentityLiveVisitorSerializer, live[0]),
        (serializers.IdentityStatsSerializer, stats),
        (serializers.IdentityTopPagesSerializer, top),
        (serializers.IdentityVisitorDetailSerializer, visitor),
        (serializers.IdentitySessionDetailSerializer, session),
        (serializers.IdentityPageCountSerializer, top["top_pages"][0]),
        (serializers.IdentityVisitorSessionSerializer, visitor["sessions"][0]),
    ]
    cases += [(serializers.IdentityEventSerializer, event) for event in events]
    for serializer_class, answer in cases:
        assert required(serializer_class) <= set(answer) <= declared(serializer_class), (
            serializer_class.__name__,
            sorted(answer),
        )
    pagination = api(client, "events", read_key).json()["pagination"]
    assert set(pagination) == declared(serializers.IdentityPaginationSerializer)


def test_the_generated_document_describes_every_identity_route_from_the_views():
    from analytics_project.schema import hand_written_document, openapi_document

    document = openapi_document()
    identity = {
        path: item
        for path, item in document["paths"].items()
        if any(
            tag in ("Visitor API (identity-js)", "Insights (identity-js)")
            for operation in item.values()
            if isinstance(operation, dict)
            for tag in operation.get("tags", [])
        )
    }
    assert len(identity) == 18
    hand = hand_written_document()["paths"]
    assert not set(identity) & set(hand)  # none written by hand any more
    for path, item in identity.items():
        operation = item["get"]
        assert operation["security"] == [{"identityKey": []}], path
        assert set(operation["responses"]) == {"200", "400", "401", "404", "429"}, path
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert "site_id" in names, path
        # Documented where they are sent: on every answer after a valid key.
        for status, response in operation["responses"].items():
            headers = set(response.get("headers", {}))
            expected = set() if status == "401" else set(RATE_HEADERS)
            if status == "429":
                expected.add("Retry-After")
            assert headers == expected, (path, status, headers)
    error_schema = document["components"]["schemas"]["IdentityErrorDetail"]
    assert set(error_schema["properties"]) == {"status", "message", "code"}
    assert json.dumps(document["components"]["securitySchemes"]["identityKey"])
