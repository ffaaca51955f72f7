"""``GET /api/health``: 200 when every store answers, 500 naming the one that failed."""

import pytest

from analytics_project import health


def test_healthy_on_the_configured_stores(client, db, settings):
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    expected = {"database", "redis"} if settings.REDIS_URL else {"database"}
    assert set(body["checks"]) == expected and set(body["checks"].values()) == {"ok"}


def test_redis_down_is_500_naming_redis(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/api/health")
    assert response.status_code == 500
    body = response.json()
    assert body["failed"] == ["redis"]
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_database_down_is_500_naming_the_database(client, settings):
    from django.db import connection

    real = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = (
        "1" if real["ENGINE"].endswith("postgresql") else real.get("PORT", "")
    )
    if not real["ENGINE"].endswith("postgresql"):
        connection.settings_dict["NAME"] = "/nonexistent/dir/db.sqlite3"
    try:
        response = client.get("/api/health")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(real)
    assert response.status_code == 500
    assert "database" in response.json()["failed"]


def test_checks_report_errors_without_raising(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    assert health.check_redis() is not None
