"""Unknown API paths and uncaught errors answer JSON, never an HTML page."""

import pytest
from django.test import Client


def test_unknown_api_paths_are_json_404(client, db):
    for path in ("/api/v2/anything", "/api/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert set(response.json()) == {"validation", "error", "context"}
    # Under /api/v1/ a path no Pirsch route claims answers identity-js's envelope (issue 13).
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_unknown_pages_keep_the_html_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.urls("tests.failing_urls")
def test_uncaught_errors_under_api_are_json_500(db):
    client = Client(raise_request_exception=False)
    response = client.get("/api/boom")
    assert response.status_code == 500
    assert response.json() == {"validation": {}, "error": ["internal error"], "context": {}}
