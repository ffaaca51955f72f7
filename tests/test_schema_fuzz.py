"""schemathesis over every operation of ``/api/schema/``, against a live server.

Each operation gets generated requests (valid data, then invalid data) sent once with a
valid credential of the right kind and once with an invalid one. A 5xx, an undocumented
status code or content type, a body that does not match the schema (error bodies are
described with exactly their protocol's keys) or a missing documented header fails.
The example count is bounded so the whole file runs in a couple of minutes on 2 cores.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import api_client_create, oauth_token_issue
from analytics_project.schema import openapi_document
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tracking.models import Event

EXAMPLES_PER_MODE = 5
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
OPERATIONS = sorted(
    (
        (path, method)
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method in ("get", "post", "delete")
    ),
    key=lambda operation: operation[1] == "delete",  # deletions last: the others read data
)
ERROR_KEYS = {
    "Pirsch": {"validation", "error", "context"},
    "identity": {"error"},
    "Plausible": {"errors"},
    "Footfall": {"error"},
    "Swetrix": {"statusCode", "message", "error"},
    "management": {"error"},  # {"error": {"code", "message", "fields"}} (issue #19)
}


def test_schema_document_is_valid_openapi(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    document = response.json()
    validate(document)
    assert document["openapi"].startswith("3.")
    yaml_response = client.get("/api/schema/", {"format": "yaml"})
    assert yaml_response["Content-Type"].startswith("application/yaml")


def test_every_operation_tag_is_declared(client):
    """Swagger UI groups operations by the document's tag list; an undeclared tag's
    operations land at the end without a description (Funnels and Ecommerce were)."""
    document = client.get("/api/schema/").json()
    declared = {tag["name"] for tag in document["tags"]}
    used = {
        tag
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for tag in operation.get("tags", [])
    }
    assert used - declared == set()


def test_schema_covers_every_public_api_route():
    """Every ingestion and API route the project serves is described (new ones must be added)."""
    from django.urls import get_resolver

    from tests.test_url_walk import iter_patterns

    described = {path.strip("/") for path in openapi_document()["paths"]}
    missing = []
    for route, _pattern in iter_patterns(get_resolver()):
        if not (route.startswith(("api/", "matomo.php", "piwik.php")) or route.startswith("log")):
            continue
        if route in ("api/schema/", "api/docs/") or "^" in route or "(?" in route:
            continue  # the schema itself, and the catch-all 404 routes
        normalized = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)  # <str:x> → {x}
        if normalized.strip("/") not in described:
            missing.append(route)
    assert missing == []


def test_docs_page_serves_swagger_ui_from_our_own_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "api-docs/swagger-init.js" in html
    assert "https://" not in html  # no CDN
    assert "script-src 'self' 'nonce-" in response["Content-Security-Policy"]


@pytest.fixture
def credentials(transactional_db, live_server, monkeypatch):
    """A site with an owner, every kind of credential, and a little traffic to read back."""
    import stats.api.identity.framework as identity_framework
    from accounts.api import views as account_views

    # Rate limits would turn most generated requests into 429s; they are tested elsewhere.
    monkeypatch.setattr(identity_framework, "RATE_LIMIT", 10**6)
    monkeypatch.setattr(account_views, "TOKEN_LIMIT_PER_CLIENT", 10**6, raising=False)
    monkeypatch.setattr(account_views, "TOKEN_LIMIT_PER_IP", 10**6)
    from django.conf import settings

    monkeypatch.setattr(settings, "PIRSCH_API_RATE_LIMIT", 10**6, raising=False)
    monkeypatch.setattr(settings, "PLAUSIBLE_API_RATE_LIMIT", 10**6, raising=False)
    owner = UserFactory()
    # The schema's examples name example.com: the explicit phase sends them as valid requests.
    site = SiteFactory(hostname="example.com")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    oauth_client, _ = api_client_create(user=owner, type="oauth", site=site)
    key = api_client_create(user=owner, type="key", site=site)[1]["key"]
    read_key = api_client_create(user=owner, type="read", site=site)[1]["key"]
    token = oauth_token_issue(client=oauth_client)[0]
    for path in ("/", "/pricing", "/blog?utm_source=news"):
        response = requests.post(
            f"{live_server.url}/api/v1/hit",
            data=json.dumps(
                {"url": f"https://example.com{path}", "ip": "198.51.100.7", "user_agent": CHROME}
            ),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 200
    _drain()
    return {
        "pirschOAuth": token,
        "pirschAccessKey": key,
        "identityKey": read_key,
        # Plausible's Stats and Sites APIs (issue #19).
        "plausibleKey": api_client_create(user=owner, type="plausible", scopes=["stats", "sites"])[
            1
        ]["key"],
        "site": site,
    }


def _drain():
    from django.conf import settings

    if settings.REDIS_URL:
        from tracking.consumer import EventConsumer

        consumer = EventConsumer(name="fuzz-drain", block_ms=1)
        while consumer.run_once():
            pass


_schemas: dict[str, schemathesis.BaseSchema] = {}


def _schema(base_url: str):
    if base_url not in _schemas:
        _schemas[base_url] = schemathesis.openapi.from_url(f"{base_url}/api/schema/")
    return _schemas[base_url]


PIRSCH_PATHS = {
    "/api/v1/token",
    "/api/v1/domain",
    *(f"/api/v1/{kind}{batch}" for kind in ("hit", "event", "session") for batch in ("", "/batch")),
}


def _error_family(path: str) -> str | None:
    if path.startswith("/api/manage/"):
        return "management"
    if (
        path.startswith(("/api/v1/statistics", "/api/v1/funnels", "/api/v1/ecommerce"))
        or path in PIRSCH_PATHS
    ):
        return "Pirsch"  # the funnel and ecommerce APIs use Pirsch's tokens and errors (#15)
    if path.startswith("/api/v1/"):
        return "identity"
    if path == "/api/event":
        return "Plausible"
    if path == "/api/collect":
        return "Footfall"
    if path.startswith("/log"):
        return "Swetrix"
    return None


def _assert_error_shape(path: str, response) -> None:
    """Belt and braces on top of the schema: a 4xx/5xx JSON body has exactly the family's keys."""
    family = _error_family(path)
    if family is None or response.status_code < 400:
        return
    assert set(response.json()) == ERROR_KEYS[family], (path, response.status_code, response.text)


def _fuzz_operation(
    base_url: str, credentials: dict, path: str, method: str, statuses: list[int]
) -> None:
    operation = _schema(base_url)[path][method.upper()]
    security = openapi_document()["paths"][path][method].get("security") or []
    # Bearer schemes only: the management API's session cookie (cookieAuth) is tested in
    # tests/stats/test_manage_api.py.
    schemes = [name for requirement in security for name in requirement if name in credentials]
    site = credentials["site"]

    def send(case, authorization: str | None):
        headers = {"Authorization": authorization} if authorization else {}
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS, headers=headers)
        _assert_error_shape(path, response)
        statuses.append(response.status_code)
        return response

    # The documented examples first: valid requests that must reach the success path.
    definition = openapi_document()["paths"][path][method]
    for media_type, content in definition.get("requestBody", {}).get("content", {}).items():
        if "example" in content:
            example = operation.Case(
                body=content["example"], media_type=media_type, headers={"User-Agent": CHROME}
            )
            for scheme in schemes or [None]:
                send(example, f"Bearer {credentials[scheme]}" if scheme else None)

    # Valid statistics requests name the real site so that the queries run on data.
    reads = path.startswith(("/api/v1/statistics", "/api/v1/ecommerce")) and method == "get"
    fixed = {"query": {"id": site.public_id}} if reads else {}
    if path.startswith("/api/manage/v1/sites/"):  # the management API: the real site too
        fixed = {"path_parameters": {"public_id": site.public_id}}
    strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE, **fixed)]
    if operation.body or list(operation.iter_parameters()):
        strategies.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    for strategy in strategies:

        @hsettings(
            max_examples=EXAMPLES_PER_MODE,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            report_multiple_bugs=False,
        )
        @given(case=strategy)
        def run(case):
            for scheme in schemes or [None]:
                send(case, f"Bearer {credentials[scheme]}" if scheme else None)
            if schemes:
                response = send(case, "Bearer not-a-valid-credential")
                assert response.status_code == 401, (path, response.status_code)

        run()


def test_every_operation_survives_generated_requests(live_server, credentials):
    """One live server and one set of credentials for all operations (set-up is the slow part)."""
    failures, statuses = {}, {}
    for path, method in OPERATIONS:
        label = f"{method.upper()} {path}"
        statuses[label] = []
        try:
            _fuzz_operation(live_server.url, credentials, path, method, statuses[label])
        except Exception as exc:  # collect every operation's failure, then report them all
            failures[label] = f"{type(exc).__name__}: {str(exc)[:3000]}"
    _drain()
    assert not failures, "\n\n".join(f"{op}\n{text}" for op, text in failures.items())
    # Not only refusals: the documented examples and the fixed site id reach the success path.
    succeeded = {label for label, codes in statuses.items() if any(200 <= c < 300 for c in codes)}
    for label in (
        "POST /api/event",
        "POST /api/v1/hit",
        "POST /api/v1/event",
        "GET /api/v1/statistics/visitor",
    ):
        assert label in succeeded, (label, statuses[label])
    assert sum(label.startswith("GET /api/v1/statistics/") for label in succeeded) >= 30


# Shapes the generators rarely reach, each a documented Plausible 400 (never a 5xx, nothing
# stored): props/revenue as JSON strings nested beyond what a decoder follows, and props
# over upstream's byte limits.
PLAUSIBLE_HOSTILE_BODIES = [
    {"props": "[" * 30_000 + "]" * 30_000},
    {"p": '{"a":' * 5_000 + "1" + "}" * 5_000},
    {"revenue": "[" * 30_000 + "]" * 30_000},
    {"$": '{"amount":' * 5_000 + "1" + "}" * 5_000},
    {"props": {"k" * 301: "v"}},
    {"props": json.dumps({"plan": "é" * 1001})},
]


@pytest.mark.parametrize("extra", PLAUSIBLE_HOSTILE_BODIES)
def test_plausible_hostile_props_and_revenue_answer_the_documented_400(
    transactional_db, live_server, extra
):
    from tracking.models import Event

    SiteFactory(hostname="example.com")
    operation = _schema(live_server.url)["/api/event"]["POST"]
    body = {"name": "pageview", "url": "https://example.com/", "domain": "example.com", **extra}
    case = operation.Case(body=body, media_type="application/json", headers={"User-Agent": CHROME})
    response = case.call(base_url=live_server.url, timeout=30)
    case.validate_response(response, checks=CHECKS)
    _assert_error_shape("/api/event", response)
    assert response.status_code == 400
    _drain()
    assert not Event.objects.exists()


# --- hostile statistics parameters (issue #21): each a 400 in Pirsch's shape, never a 500 ---

# Regular expressions Python's ``re`` accepts and PostgreSQL refuses, and plain garbage.
HOSTILE_PATTERNS = ["(?P<x>a)", "a{1001}", "[[:foo:]]", "(?u)a", r"\N{DIGIT ONE}", "(", "a**"]
ORM_LOOKUPS = ["gt", "isnull", "regex", "contains", "in", "foo__bar", "has_key", "0"]
ENDPOINTS = [
    "visitor", "total", "growth", "page", "events", "event/list", "session/list",
    "weekdays", "minutes", "hostname", "options/page", "overview", "city",
]  # fmt: skip
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["1e20", "NaN", "-0", "", " 1", "0x10", "100000000000000000000"]),
)
hostile = st.fixed_dictionaries(
    {},
    optional={
        "pattern": st.one_of(
            st.sampled_from(HOSTILE_PATTERNS), st.text("()[]{}*+?\\^$|.:aPu<>=!019,", max_size=12)
        ),
        "meta": st.tuples(
            st.text("abc_.-", min_size=1, max_size=6), st.sampled_from(ORM_LOOKUPS)
        ).map(lambda key: f"meta_{key[0]}__{key[1]}"),
        "tag": st.tuples(st.text("abc_", min_size=1, max_size=6), st.sampled_from(ORM_LOOKUPS)).map(
            lambda key: f"tag_{key[0]}__{key[1]}"
        ),
        "sort": st.sampled_from(
            ["meta", "meta_keys", "page_goal", "visitors", "count", "__class__"]
        ),
        "limit": numbers,
        "offset": numbers,
        "from": st.dates().map(date.isoformat),
        "to": st.dates().map(date.isoformat),
        "country": st.text("deDE!~^ ", max_size=4),
    },
)


@pytest.fixture
def pirsch_reader(db, settings):
    from tests.helpers import event_row, store

    settings.PIRSCH_API_RATE_LIMIT = 10**6
    owner = UserFactory()
    site = SiteFactory(hostname="example.com")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    store(
        [
            event_row(site.pk, datetime(2023, 1, 2, 9, tzinfo=UTC), path="/a", props={"k": "v"}),
            event_row(site.pk, datetime(2023, 1, 2, 9, 1, tzinfo=UTC), kind="custom", name="E"),
        ]
    )
    token = oauth_token_issue(client=api_client_create(user=owner, type="oauth", site=site)[0])[0]
    return site, token


@hsettings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(endpoint=st.sampled_from(ENDPOINTS), values=hostile)
def test_hostile_statistics_parameters_are_answered_in_pirsch_shape(
    client, pirsch_reader, endpoint, values
):
    site, token = pirsch_reader
    params = {"id": site.public_id, "from": "2023-01-01", "to": "2023-01-31"}
    for name, value in values.items():
        if name in ("meta", "tag"):
            params[value] = "x"
        else:
            params[name] = value
    before = Event.objects.count()
    response = client.get(
        f"/api/v1/statistics/{endpoint}", params, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code in (200, 400), (endpoint, params, response.content[:300])
    if response.status_code == 400:
        body = response.json()
        assert set(body) == {"validation", "error", "context"} and body["validation"], body
        assert set(body["validation"]) <= set(params), (body, params)
    assert Event.objects.count() == before
