"""The Pirsch statistics endpoints added after the first set: weekdays, minutes, hostname,
page details, events, options, session details, overview, the CSV export and deletion."""

import csv
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest

from accounts.services import api_client_create, oauth_token_issue
from stats.selectors import public_session_id, public_visitor_id
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store
from tracking.models import Event

PIRSCH_KEYS = {"validation", "error", "context"}
JAN = {"from": "2023-01-01", "to": "2023-01-31"}


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="example.com", timezone="Europe/Berlin")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2023, 1, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def traffic(site):
    """Monday 2 January (Berlin = UTC+1): visitor 1 reads / then /pricing and signs up;
    visitor 2 bounces from / on the blog host. Tuesday 3 January: visitor 3 lands on
    /pricing, sends a non-interactive Signup and a keep-alive (a bounce)."""
    one = {"visitor": 1, "session": 1, "hostname": "example.com", "country_code": "DE"}
    two = {"visitor": 2, "session": 2, "hostname": "blog.example.com", "country_code": "GB"}
    three = {"visitor": 3, "session": 3, "hostname": "example.com", "country_code": "DE"}
    store(
        [
            event_row(site.pk, at(2, 9), path="/", title="Home", **one),
            event_row(site.pk, at(2, 9, 2), path="/pricing", title="Pricing", **one),
            event_row(
                site.pk,
                at(2, 9, 3, 30),
                kind="custom",
                name="Signup",
                path="/pricing",
                props={"plan": "pro", "source": "ad"},
                duration_ms=4000,
                **one,
            ),
            event_row(site.pk, at(2, 9, 15), path="/", title="Home", **two),
            event_row(
                site.pk,
                at(3, 17, 45),
                path="/pricing",
                title="Pricing",
                props={"tags": {"author": "John"}},
                **three,
            ),
            event_row(
                site.pk,
                at(3, 17, 46),
                kind="custom",
                name="Signup",
                path="/pricing",
                props={"plan": "free"},
                interactive=False,
                **three,
            ),
            event_row(site.pk, at(3, 17, 50), kind="heartbeat", name="session", **three),
        ]
    )


def get(client, endpoint, token, **params):
    return client.get(
        f"/api/v1/statistics/{endpoint}", params, HTTP_AUTHORIZATION=f"Bearer {token}"
    )


@pytest.fixture(params=["raw", "rolled-up"])
def rolled(request, traffic):
    """Each answer is checked from raw events and again after the rollups ran."""
    if request.param == "rolled-up":
        from stats.rollups import rollup_pending

        rollup_pending()
    return request.param


def test_weekdays(client, site, token, rolled):
    rows = get(client, "weekdays", token, id=site.public_id, **JAN).json()
    assert len(rows) == 7 * 24
    assert set(rows[0]) == {"weekday", "hour", "visitors", "views", "sessions", "bounces"}
    busy = [r for r in rows if r["visitors"]]
    assert busy == [
        # Monday (0) 10:00 Berlin: visitors 1 and 2; Tuesday 18:00: visitor 3.
        {"weekday": 0, "hour": 10, "visitors": 2, "views": 3, "sessions": 2, "bounces": 1},
        {"weekday": 1, "hour": 18, "visitors": 1, "views": 1, "sessions": 1, "bounces": 1},
    ]


def test_hours_have_bounces(client, site, token, rolled):
    rows = get(client, "hours", token, id=site.public_id, **JAN).json()
    busy = {r["hour"]: (r["visitors"], r["views"], r["bounces"], r["bounce_rate"]) for r in rows}
    assert {h: v for h, v in busy.items() if v[0]} == {10: (2, 3, 1, 0.5), 18: (1, 1, 1, 1.0)}
    assert {"cr", "custom_metric_avg", "custom_metric_total"} <= set(rows[0])


def test_minutes(client, site, token, rolled):
    rows = get(client, "minutes", token, id=site.public_id, **JAN).json()
    assert [r["minute"] for r in rows] == list(range(60))
    busy = {r["minute"]: (r["visitors"], r["views"], r["sessions"], r["bounces"]) for r in rows}
    assert {m: v for m, v in busy.items() if v != (0, 0, 0, 0)} == {
        0: (1, 1, 1, 0),
        2: (1, 1, 1, 0),
        3: (1, 0, 1, 0),
        15: (1, 1, 1, 1),
        45: (1, 1, 1, 1),
        46: (1, 0, 1, 0),
        50: (1, 0, 1, 0),
    }
    assert rows[15]["bounce_rate"] == 1.0 and rows[0]["bounce_rate"] == 0
    assert {"cr", "custom_metric_avg", "custom_metric_total"} <= set(rows[0])


def test_hostname(client, site, token, rolled):
    assert get(client, "hostname", token, id=site.public_id, **JAN).json() == [
        {
            "hostname": "example.com",
            "visitors": 2,
            "views": 3,
            "sessions": 2,
            "bounces": 1,
            "relative_visitors": 0.6667,
            "relative_views": 0.75,
            "bounce_rate": 0.5,
        },
        {
            "hostname": "blog.example.com",
            "visitors": 1,
            "views": 1,
            "sessions": 1,
            "bounces": 1,
            "relative_visitors": 0.3333,
            "relative_views": 0.25,
            "bounce_rate": 1.0,
        },
    ]


def test_pages_have_title_bounces_and_time_on_page(client, site, token, rolled):
    rows = get(
        client, "page", token, id=site.public_id, include_avg_time_on_page="true", **JAN
    ).json()
    for row in rows:  # ``relative_visitors`` is the breakdown's (tested with it)
        assert 0 < row.pop("relative_visitors") <= 1
    assert rows == [
        {
            "hostname": "example.com",
            "path": "/",
            "title": "Home",
            "visitors": 2,
            "views": 2,
            "sessions": 2,
            "bounces": 1,
            "relative_views": 0.5,
            "bounce_rate": 0.5,
            "average_time_spent_seconds": 120,  # / → /pricing after two minutes
            "revenue": 0.0,  # Footfall's extra fields (docs/revenue.md)
            "average_revenue": None,
        },
        {
            "hostname": "example.com",
            "path": "/pricing",
            "title": "Pricing",
            "visitors": 2,
            "views": 2,
            "sessions": 2,
            "bounces": 1,
            "relative_views": 0.5,
            "bounce_rate": 0.5,
            "average_time_spent_seconds": 75,  # 90 s to the sign-up, 60 s to the next event
            "revenue": 0.0,
            "average_revenue": None,
        },
    ]
    plain = get(client, "page", token, id=site.public_id, **JAN).json()
    assert [r["average_time_spent_seconds"] for r in plain] == [0, 0]  # only when asked


def test_events_have_count_duration_and_meta_keys(client, site, token, rolled):
    assert get(client, "events", token, id=site.public_id, **JAN).json() == [
        {
            "name": "Signup",
            "count": 2,
            "visitors": 2,
            "views": 2,
            "cr": 0.6667,
            "average_duration_seconds": 4,
            "meta_keys": ["plan", "source"],
            "revenue": 0.0,
            "average_revenue": None,
        }
    ]


@pytest.mark.parametrize(
    ("option", "params", "values"),
    [
        ("page", {}, ["/", "/pricing"]),
        ("hostname", {}, ["example.com", "blog.example.com"]),
        ("country", {}, ["DE", "GB"]),
        ("event", {}, ["Signup"]),
        ("metadata", {}, ["plan", "source"]),
        ("tag", {}, ["author"]),
        ("tag/value", {"tag": "author"}, ["John"]),
        ("referrer", {}, []),
        ("utm/source", {}, []),
        ("page", {"country": "gb"}, ["/"]),
    ],
)
def test_filter_options(client, site, token, traffic, option, params, values):
    response = get(client, f"options/{option}", token, id=site.public_id, **JAN, **params)
    assert response.status_code == 200
    assert response.json() == values


def test_tag_value_options_need_the_tag(client, site, token, traffic):
    response = get(client, "options/tag/value", token, id=site.public_id, **JAN)
    assert response.status_code == 400 and "tag" in response.json()["validation"]


def test_session_details(client, site, token, rolled):
    ids = {"visitor_id": public_visitor_id(1), "session_id": public_session_id(1)}
    listed = get(client, "session/list", token, id=site.public_id, **JAN).json()
    assert {"visitor_id": listed[-1]["visitor_id"], "session_id": listed[-1]["session_id"]} == ids
    steps = get(client, "session/details", token, id=site.public_id, **JAN, **ids).json()
    assert [(s["page_view"] or s["event"])["time"] for s in steps] == [  # chronological
        "2023-01-02T09:00:00.000000Z",
        "2023-01-02T09:02:00.000000Z",
        "2023-01-02T09:03:30.000000Z",
    ]
    first, second, signup = steps
    assert first["event"] is None and second["event"] is None and signup["page_view"] is None
    assert (first["page_view"]["path"], first["page_view"]["title"]) == ("/", "Home")
    assert first["page_view"]["duration_seconds"] == 120
    assert second["page_view"]["duration_seconds"] == 90
    assert first["page_view"]["visitor_id"] == ids["visitor_id"]
    assert first["page_view"]["country_code"] == "DE"
    assert (signup["event"]["name"], signup["event"]["duration_seconds"]) == ("Signup", 4)
    assert (signup["event"]["meta_keys"], signup["event"]["meta_values"]) == (
        ["plan", "source"],
        ["pro", "ad"],
    )
    assert {"tag_keys", "tag_values", "desktop", "mobile"} <= set(first["page_view"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"session_id": "ses_0000000000000001"}, "visitor_id"),
        ({"visitor_id": "v_0000000000000001"}, "session_id"),
        ({"visitor_id": "1", "session_id": "ses_0000000000000001"}, "visitor_id"),
        ({"visitor_id": "v_0000000000000001", "session_id": "ses_zz"}, "session_id"),
    ],
)
def test_session_details_need_both_ids(client, site, token, params, field):
    response = get(client, "session/details", token, id=site.public_id, **JAN, **params)
    assert response.status_code == 400 and field in response.json()["validation"]


def test_overview(client, owner, site, token, traffic):
    SiteMembershipFactory(site=site, role="viewer")
    body = get(
        client, "overview", token, id=site.public_id, **{"from": "2023-01-02", "to": "2023-01-03"}
    ).json()
    assert {k: body[k] for k in ("visitors", "views", "visitors_growth", "views_growth")} == {
        "visitors": 3,
        "views": 4,
        "visitors_growth": 0,  # nothing the two days before
        "views_growth": 0,
    }
    assert body["member"] == 2
    assert [(p["day"], p["visitors"]) for p in body["visitors_time_series"]] == [
        ("2023-01-02T00:00:00Z", 2),
        ("2023-01-03T00:00:00Z", 1),
    ]
    # Pirsch documents it with the domain id alone: the last 30 days.
    response = get(client, "overview", token, id=site.public_id)
    assert response.status_code == 200 and len(response.json()["visitors_time_series"]) == 30


# --- the CSV export --------------------------------------------------------------------


def export(client, token, **params):
    return client.get("/api/v1/statistics", params, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_csv_export_of_a_selection(client, site, token, traffic):
    store(
        [
            event_row(
                site.pk,
                at(2, 12),
                kind="custom",
                name='=HYPERLINK("https://evil.example")',
                visitor=9,
                session=9,
            ),
            event_row(site.pk, at(2, 12), visitor=9, session=9, path="/x", title="@SUM(A1)"),
        ]
    )
    response = export(
        client, token, id=site.public_id, pages="true", events="1", country="true", **JAN
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["country.csv", "events.csv", "pages.csv"]
    # ``country=true`` selects a file; it is no filter on the country "TRUE".
    countries = list(csv.DictReader(io.StringIO(archive.read("country.csv").decode())))
    assert {(row["country_code"], row["visitors"]) for row in countries} == {
        ("DE", "2"),
        ("GB", "1"),
        ("", "1"),  # visitor 9
    }
    events = list(csv.DictReader(io.StringIO(archive.read("events.csv").decode())))
    assert {row["name"] for row in events} == {"Signup", '\'=HYPERLINK("https://evil.example")'}
    pages = list(csv.DictReader(io.StringIO(archive.read("pages.csv").decode())))
    assert [(row["path"], row["visitors"]) for row in pages][:2] == [("/", "2"), ("/pricing", "2")]


def test_csv_export_of_everything_and_its_refusals(client, owner, site, token, traffic):
    response = export(client, token, id=site.public_id, **JAN)
    names = set(zipfile.ZipFile(io.BytesIO(response.content)).namelist())
    assert {"visitors.csv", "pages.csv", "hostname.csv", "utm_source.csv", "growth.csv"} <= names
    assert export(client, token, id=site.public_id).status_code == 400
    other_owner = UserFactory()
    other = SiteFactory(hostname="other.example")
    SiteMembershipFactory(site=other, user=other_owner, role="owner")
    other_token = oauth_token_issue(
        client=api_client_create(user=other_owner, type="oauth", site=other)[0]
    )[0]
    response = export(client, other_token, id=site.public_id, **JAN)
    assert response.status_code == 404 and set(response.json()) == PIRSCH_KEYS
    assert export(client, "garbage", id=site.public_id, **JAN).status_code == 401


# --- DELETE /api/v1/statistics -----------------------------------------------------------


def delete(client, credential, body):
    return client.delete(
        "/api/v1/statistics",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {credential}",
    )


def totals(client, token, site, **dates):
    return get(client, "total", token, id=site.public_id, **(dates or JAN)).json()


@pytest.mark.parametrize("rolled_up", [False, True], ids=["raw", "rolled-up"])
def test_delete_a_range(client, site, token, traffic, rolled_up):
    from stats.rollups import rollup_pending

    if rolled_up:
        rollup_pending()
    body = {"id": site.public_id, "kind": "", "from": "2023-01-03", "to": "2023-01-03"}
    response = delete(client, token, body)
    assert response.status_code == 200, response.content
    assert not Event.objects.filter(site=site, visitor_id=3).exists()
    assert Event.objects.filter(site=site).count() == 4
    assert totals(client, token, site)["visitors"] == 2
    rollup_pending()
    assert totals(client, token, site)["visitors"] == 2


def test_delete_events_only(client, site, token, traffic):
    from stats.rollups import rollup_pending

    rollup_pending()
    assert delete(client, token, {"id": site.public_id, "kind": "events"}).status_code == 200
    assert not Event.objects.filter(site=site, kind="custom").exists()
    assert Event.objects.filter(site=site, kind="pageview").count() == 4
    assert get(client, "events", token, id=site.public_id, **JAN).json() == []
    assert totals(client, token, site)["views"] == 4


def test_delete_everything(client, site, token, traffic):
    assert delete(client, token, {"id": site.public_id}).status_code == 200
    assert not Event.objects.filter(site=site).exists()
    assert totals(client, token, site)["visitors"] == 0


def test_delete_is_for_owners_and_admins_of_the_domain_only(client, owner, site, token, traffic):
    viewer = UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    other_owner = UserFactory()
    other = SiteFactory(hostname="other.example")
    SiteMembershipFactory(site=other, user=other_owner, role="owner")
    read_only = api_client_create(user=owner, type="oauth", site=site, scopes=["statistics:read"])
    refused = {
        "viewer's client": (
            oauth_token_issue(client=api_client_create(user=viewer, type="oauth")[0])[0],
            403,
        ),
        "other tenant": (
            oauth_token_issue(client=api_client_create(user=other_owner, type="oauth")[0])[0],
            404,
        ),
        "no site:manage scope": (oauth_token_issue(client=read_only[0])[0], 403),
        "pa_ key": (api_client_create(user=owner, type="key", site=site)[1]["key"], 403),
        "garbage": ("garbage", 401),
    }
    for who, (credential, status) in refused.items():
        response = delete(client, credential, {"id": site.public_id})
        assert response.status_code == status, (who, response.content)
        assert set(response.json()) == PIRSCH_KEYS
    for body, field in (
        ({"id": site.public_id, "kind": "bogus"}, "kind"),
        ({"id": site.public_id, "from": "2023-01-03", "to": "2023-01-02"}, "to"),
        ({"id": site.public_id, "from": "2023-01-03"}, "to"),
        ({"id": site.public_id, "kind": 7}, "kind"),
        ({}, "id"),
    ):
        response = delete(client, token, body)
        assert response.status_code == 400 and field in response.json()["validation"], body
    assert client.put("/api/v1/statistics", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 405
    assert Event.objects.filter(site=site).count() == 7  # nothing deleted
    admin = UserFactory()
    SiteMembershipFactory(site=site, user=admin, role="admin")
    admin_token = oauth_token_issue(client=api_client_create(user=admin, type="oauth")[0])[0]
    assert delete(client, admin_token, {"id": site.public_id}).status_code == 200
    assert not Event.objects.filter(site=site).exists()
