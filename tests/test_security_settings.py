"""Production settings pass ``check --deploy``; every answer carries the hardening headers."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import path

from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_is_clean_with_production_settings():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "DJANGO_")) and key != "DEBUG"
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        SECURE_SSL_REDIRECT="true",
        # No SECURE_HSTS_SECONDS: HSTS is on by default in production (issue #21, item 10).
        ALLOWED_HOSTS="analytics.example.com",
        CSRF_TRUSTED_ORIGINS="https://analytics.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='analytics_project.settings'; django.setup()",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.fixture
def owner_client(client, db):
    owner = UserFactory()
    site = SiteFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    client.force_login(owner)
    return client


def test_dashboard_pages_carry_csp_with_a_nonce_and_no_framing(owner_client):
    response = owner_client.get("/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(
        [*part.strip().split(" ", 1), ""][:2] for part in policy.split(";") if part.strip()
    )
    assert directives["default-src"] == "'self'"
    assert (
        directives["script-src"].startswith("'self' 'nonce-")
        or directives["script-src"] == "'self'"
    )
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_each_request_gets_a_fresh_nonce(client, db):
    first = client.get("/api/docs/")["Content-Security-Policy"]
    second = client.get("/api/docs/")["Content-Security-Policy"]
    assert "'nonce-" in first and "'nonce-" in second
    assert first != second


def test_login_page_has_no_inline_script_or_style(client, db):
    response = client.get("/accounts/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<style" not in html
    assert " style=" not in html
    for script in html.split("<script")[1:]:
        head = script.split(">", 1)[0]
        assert "src=" in head or "nonce=" in head, head


def test_ingestion_answers_carry_nosniff_but_no_csp(client, db):
    response = client.post("/api/event", data="{}", content_type="text/plain", HTTP_USER_AGENT="x")
    assert response.status_code == 400
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_SSL_REDIRECT=False)
def test_hsts_when_configured_over_https(client, db):
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def _page(request):
    from django.http import HttpResponse

    return HttpResponse("<p>ok</p>")


def _embeddable_page(request):
    from analytics_project.security import embeddable

    return embeddable(_page)(request)


urlpatterns = [path("framed/", _embeddable_page), path("plain/", _page)]  # for this test only


@pytest.mark.urls(__name__)
def test_embeddable_hook_allows_framing_for_the_decorated_view_only(client, db):
    framed = client.get("/framed/")
    assert "X-Frame-Options" not in framed
    assert "frame-ancestors *" in framed["Content-Security-Policy"]
    assert "script-src 'self'" in framed["Content-Security-Policy"]  # the rest unchanged
    plain = client.get("/plain/")
    assert plain["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in plain["Content-Security-Policy"]


CORS_FREE_PATHS = [
    "/",
    "/accounts/login/",
    "/api/v1/domain",
    "/api/v1/visitors",
    "/api/v1/statistics/visitor",
    "/api/v1/token",
    "/api/health",
    "/api/schema/",
    "/api/docs/",
]


@pytest.mark.parametrize("path", CORS_FREE_PATHS)
def test_only_ingestion_endpoints_answer_cors(client, db, path):
    for method in ("get", "options"):
        response = getattr(client, method)(path, HTTP_ORIGIN="https://evil.example")
        assert "Access-Control-Allow-Origin" not in response, (path, method)


@pytest.mark.parametrize(
    "path", ["/api/event", "/api/collect", "/matomo.php", "/log", "/api/v1/hit", "/js/footfall.js"]
)
def test_ingestion_endpoints_answer_cors(client, db, path):
    response = client.options(path, HTTP_ORIGIN="https://blog.example")
    if path.startswith("/js/"):
        response = client.get(path)
    assert response["Access-Control-Allow-Origin"] in ("https://blog.example", "*")
    if path == "/matomo.php":
        # Matomo's own answer (issue #13): harmless, the tracking endpoints never read a
        # cookie or a session; credentials are token_auth in the request.
        assert response.get("Access-Control-Allow-Credentials") in (None, "true")
    else:
        assert "Access-Control-Allow-Credentials" not in response


def test_session_and_csrf_cookies_are_secure_in_production():
    from django.conf import settings

    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.CSRF_COOKIE_SECURE is True
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


def test_a_nul_in_a_query_or_path_is_never_a_server_error(client, db):
    assert client.get("/api/v1/statistics/visitor?id=%00&from=%00").status_code == 401
    response = client.get("/api/v1/visitors/%00")
    assert response.status_code in (401, 404)
    assert client.get("/sites/%00/").status_code in (302, 404)
