"""``GET /api/health``: 200 when every configured store answers, 500 naming the one that failed."""

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        logger.warning("health: database check failed: %s", exc)
        return type(exc).__name__
    return None


def check_redis() -> str | None:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        logger.warning("health: redis check failed: %s", exc)
        return type(exc).__name__
    return None


def health(request):
    checks = {"database": check_database()}
    if settings.REDIS_URL:
        checks["redis"] = check_redis()
    failed = [name for name, error in checks.items() if error]
    body = {
        "status": "ok" if not failed else "error",
        "checks": {
            name: ("ok" if error is None else f"error: {error}") for name, error in checks.items()
        },
    }
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=500 if failed else 200)
