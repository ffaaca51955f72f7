"""Helpers shared by the Plausible Stats API tests: the day, requests in v1 and v2 form."""

import json
from datetime import UTC, date, datetime

DAY = date(2026, 11, 10)  # a Tuesday, long past (raw events, no rollups)


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def v1(client, path, key, **params):
    params.setdefault("site_id", "shop.example")
    return client.get(f"/api/v1/stats/{path}", params, HTTP_AUTHORIZATION=f"Bearer {key}")


def v2(client, key, body):
    return client.post(
        "/api/v2/query",
        json.dumps({"site_id": "shop.example", **body}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def custom(day: date = DAY) -> dict:
    return {"period": "custom", "date": f"{day},{day}"}
