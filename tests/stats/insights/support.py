"""What the insights API tests share: the day, the request helpers and event rows."""

from datetime import UTC, datetime, timedelta

from stats import insights
from tests.helpers import event_row

DAY = "2026-01-05"
NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
INSIGHTS = (
    "frustration",
    "errors",
    "clicks",
    "seo",
    "journeys",
    "reading",
    "forms",
    "acquisition",
    "web-metrics",
)


def at(seconds: float) -> datetime:
    return NOON + timedelta(seconds=seconds)


def api(client, name, key, **params):
    params.setdefault("start_date", DAY)
    params.setdefault("end_date", DAY)
    return client.get(f"/api/v1/insights/{name}", params, HTTP_AUTHORIZATION=f"Bearer {key}")


def data(client, name, key, **params):
    response = api(client, name, key, **params)
    assert response.status_code == 200, response.content
    return response.json()


def row(site, seconds, kind="pageview", name="", visitor=1, session=1, path="/", **fields):
    if kind != "pageview":
        fields["name"] = name
    return event_row(
        site.pk,
        at(seconds),
        visitor=visitor,
        session=session,
        kind=kind,
        path=path,
        protocol="footfall",
        **fields,
    )


def signal(site, seconds, name, visitor=1, session=1, path="/", **props):
    kind = "error" if name in insights.ERROR_TYPES else "behaviour"
    return row(site, seconds, kind, name, visitor, session, path, props=props)


def reading_report(site, seconds, path, scroll, active, visible, velocity):
    return row(
        site,
        seconds,
        "engagement",
        "reading_behavior",
        path=path,
        duration_ms=active,
        scroll_depth=scroll,
        props={
            "visible_ms": visible,
            "active_ms": active,
            "scroll_depth": scroll,
            "scroll_velocity": velocity,
            "page_height": 3000,
        },
    )


def traffic_with(site, groups: int) -> list[dict]:
    """``groups`` distinct pages, elements, errors, forms and fields, two sessions each."""
    rows = []
    for n in range(groups):
        path, visitor = f"/page-{n}", n + 1
        for session in (2 * n, 2 * n + 1):
            rows += [
                row(site, session, visitor=visitor, session=session, path=path),
                row(site, session + 1, visitor=visitor, session=session, path="/next"),
                signal(site, session + 2, "rage_click", visitor, session, path, selector=f"b{n}"),
                signal(site, session + 2, "js_exception", visitor, session, path, message=f"e{n}"),
                signal(site, session + 2, "form_abandon", visitor, session, path, form=f"f{n}"),
                signal(
                    site,
                    session + 2,
                    "form_hesitation",
                    visitor,
                    session,
                    path,
                    form=f"f{n}",
                    field="input",
                    hesitation_ms=100 * n,
                ),
                signal(site, session + 2, "web_vitals", visitor, session, path, lcp=1000 + n),
                signal(site, session + 2, "seo_diagnostics", visitor, session, path, issues=[]),
                reading_report(site, session + 3, path, 50, 1000, 2000, 10.0),
            ]
    return rows
