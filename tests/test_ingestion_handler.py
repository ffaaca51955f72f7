"""The lean handler for ingestion paths (``analytics_project.wsgi``) answers exactly as the
full middleware stack does: same status, headers and body, for accepted, refused and
preflight requests of every protocol, and nothing else is routed to it."""

import io
import json
import sys

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from analytics_project import wsgi
from tests.factories import SiteFactory

UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Safari/537.36"
)


@pytest.fixture
def site(db):
    return SiteFactory(hostname="dummy.site", display_name="Dummy", timezone="UTC")


@pytest.fixture(autouse=True)
def _keep_test_connection():
    # As Django's test client does: a handler must not close the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def call(app, method, path, *, query="", body=b"", headers=None, scheme="http"):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "HTTP_USER_AGENT": UA,
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        **(headers or {}),
    }
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = status
        answer["headers"] = sorted(response_headers)

    chunks = app(environ, start_response)
    answer["body"] = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return answer


def requests_for(site):
    plausible = json.dumps(
        {"name": "pageview", "url": "http://dummy.site/a", "domain": "dummy.site"}
    )
    return [
        ("POST", "/api/event", "", plausible.encode(), {}),
        ("POST", "/api/event", "", b"{not json", {}),
        ("POST", "/api/event", "", b'{"name": "pageview"}', {}),
        ("GET", "/api/event", "", b"", {}),
        (
            "OPTIONS",
            "/api/event",
            "",
            b"",
            {"HTTP_ORIGIN": "https://dummy.site", "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "x"},
        ),
        ("POST", "/log", "", json.dumps({"pid": site.pid, "pg": "/b"}).encode(), {}),
        ("POST", "/log", "", b"[]", {}),
        ("POST", "/log/custom", "", b"{}", {}),
        ("POST", "/log/hb", "", json.dumps({"pid": site.pid}).encode(), {}),
        (
            "GET",
            "/matomo.php",
            f"idsite={site.pk}&rec=1&url=http%3A%2F%2Fdummy.site%2Fm&send_image=0",
            b"",
            {},
        ),
        ("GET", "/matomo.php", "idsite=abc%00&rec=1", b"", {}),
        ("GET", "/piwik.php", "", b"", {}),
        (
            "POST",
            "/api/collect",
            "",
            json.dumps(
                {"k": site.public_key, "u": "http://dummy.site/c", "e": [{"t": "pageview"}]}
            ).encode(),
            {},
        ),
        ("POST", "/api/collect", "", b"{}", {}),
        ("POST", "/api/v1/hit", "", b"{}", {"HTTP_AUTHORIZATION": "Bearer pa_nope"}),
        ("POST", "/api/v1/hit/batch", "", b"[]", {}),
        ("POST", "/api/v1/event", "", b"{}", {}),
        ("POST", "/api/v1/session", "", b"{}", {}),
        ("POST", "/api/event", "", plausible.encode(), {"HTTP_X_FORWARDED_PROTO": "https"}),
    ]


def test_ingestion_paths_answer_as_through_the_full_stack(site, drain):
    for method, path, query, body, headers in requests_for(site):
        full = call(wsgi.django_application, method, path, query=query, body=body, headers=headers)
        lean = call(wsgi.ingestion_handler, method, path, query=query, body=body, headers=headers)
        assert lean == full, (method, path, query)
    # Each accepted request was stored twice, once per handler.
    events = drain()
    assert sorted((e.protocol, e.path) for e in events) == [
        *[("footfall", "/c")] * 2,
        *[("matomo", "/m")] * 2,
        *[("plausible", "/a")] * 4,
        *[("swetrix", "/")] * 2,  # the heartbeat
        *[("swetrix", "/b")] * 2,
    ]


def test_https_answers_are_the_same(site, settings):
    for scheme in ("http", "https"):
        full = call(wsgi.django_application, "GET", "/piwik.php", scheme=scheme)
        lean = call(wsgi.ingestion_handler, "GET", "/piwik.php", scheme=scheme)
        assert lean == full


def test_only_ingestion_paths_take_the_lean_handler(site, monkeypatch):
    taken = []

    def spy(environ, start_response):
        taken.append(environ["PATH_INFO"])
        return wsgi.django_application(environ, start_response)

    monkeypatch.setattr(wsgi, "ingestion_handler", spy)
    for path in ("/api/event", "/log", "/matomo.php", "/api/collect", "/api/v1/hit/batch"):
        call(wsgi.application, "POST", path, body=b"{}")
    for path in ("/js/footfall.js", "/api/health", "/api/event/", "/accounts/login/", "/log/x"):
        call(wsgi.application, "GET", path)
    assert taken == ["/api/event", "/log", "/matomo.php", "/api/collect", "/api/v1/hit/batch"]


def test_the_lean_stack_keeps_the_products_order_without_session_csrf_or_auth():
    from django.conf import settings

    lean = wsgi.ingestion_middleware(list(settings.MIDDLEWARE), ("/api/", "/matomo.php"))
    assert lean != settings.MIDDLEWARE
    assert [m for m in settings.MIDDLEWARE if m in lean] == lean
    for dropped in wsgi.NOT_FOR_INGESTION:
        assert dropped not in lean
    # The CSP middleware stays while one ingestion path would still get a policy.
    assert "csp.middleware.CSPMiddleware" in lean
    everything = wsgi.ingestion_middleware(list(settings.MIDDLEWARE), ("/",))
    assert "csp.middleware.CSPMiddleware" not in everything
    assert "django.middleware.security.SecurityMiddleware" in everything
