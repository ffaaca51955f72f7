"""Funnels through their interfaces: the CLI, Pirsch's funnel endpoint, Footfall's own API
(create, read, update, delete, report, dropped sessions), permissions and tenants."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from accounts.services import api_client_create, oauth_token_issue
from stats.models import Funnel, Goal
from stats.selectors import public_session_id, public_visitor_id
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store

PIRSCH_KEYS = {"validation", "error", "context"}
RANGE = {"from": "2026-03-02", "to": "2026-03-02"}
STEPS = [
    {"alternatives": [{"type": "page", "path": "/pricing"}]},
    {"alternatives": [{"type": "event", "name": "Signup"}]},
    {"alternatives": [{"type": "page", "path": "/checkout"}, {"type": "page", "path": "/cart"}]},
]


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="example.com", timezone="UTC")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


def bearer(user, site=None, scopes=None) -> dict:
    client, _ = api_client_create(user=user, type="oauth", site=site, scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Bearer {oauth_token_issue(client=client)[0]}"}


@pytest.fixture
def auth(owner, site):
    return bearer(owner, site)


@pytest.fixture
def traffic(site):
    """Visitor 1 (DE) goes /pricing → Signup (10 EUR) → /checkout; visitor 2 (GB) /pricing →
    /cart without signing up; visitor 3 (DE) /pricing → Signup after 30 minutes; visitor 4
    signs up without seeing /pricing."""
    one = {"visitor": 1, "session": 11, "country_code": "DE"}
    two = {"visitor": 2, "session": 21, "country_code": "GB"}
    three = {"visitor": 3, "session": 31, "country_code": "DE"}
    four = {"visitor": 4, "session": 41, "country_code": "DE"}
    store(
        [
            event_row(site.pk, at(9), path="/", **one),
            event_row(site.pk, at(9, 2), path="/pricing", **one),
            event_row(
                site.pk,
                at(9, 3, 30),
                kind="custom",
                name="Signup",
                path="/pricing",
                revenue_amount=Decimal("10.00"),
                revenue_currency="EUR",
                **one,
            ),
            event_row(site.pk, at(9, 10), path="/checkout", **one),
            event_row(site.pk, at(10), path="/pricing", **two),
            event_row(site.pk, at(10, 5), path="/cart", **two),
            event_row(site.pk, at(11), path="/pricing", **three),
            event_row(site.pk, at(11, 30), kind="custom", name="Signup", path="/", **three),
            event_row(site.pk, at(12), kind="custom", name="Signup", path="/", **four),
        ]
    )


@pytest.fixture
def funnel(site):
    return Funnel.objects.create(site=site, name="Checkout", steps=STEPS)


# --- CLI ----------------------------------------------------------------------------------


def test_cli_creates_and_lists_funnels_as_json(site, capsys):
    call_command(
        "funnel",
        "create",
        "--site",
        site.public_id,
        "--name",
        "Checkout",
        "--step",
        "page:/pricing",
        "--step",
        "event:Signup",
        "--step",
        "page:/checkout|/cart",
        "--window",
        "1d",
        "--order",
        "strict",
        "--scope",
        "session",
    )
    created = json.loads(capsys.readouterr().out)
    funnel = Funnel.objects.get(pk=created["id"])
    assert (funnel.site, funnel.name, funnel.order, funnel.scope) == (
        site,
        "Checkout",
        "strict",
        "session",
    )
    assert funnel.window_seconds == 86_400 and funnel.open is False
    assert created["steps"][2]["alternatives"] == [
        {"type": "page", "path": "/checkout"},
        {"type": "page", "path": "/cart"},
    ]
    call_command("funnel", "list", "--site", str(site.pk))
    listed = json.loads(capsys.readouterr().out)
    assert [f["id"] for f in listed] == [created["id"]]


def test_cli_defaults_are_plausibles_and_event_properties_parse(site, capsys):
    goal = Goal.objects.create(site=site, name="Bought", event_name="Buy")
    call_command(
        "funnel", "create", "--site", site.public_id, "--name", "F",
        "--step", "event:Signup;plan=pro", "--step", f"goal:{goal.pk}",
    )  # fmt: skip
    created = json.loads(capsys.readouterr().out)
    assert (created["scope"], created["order"], created["window_seconds"], created["open"]) == (
        "visitor",
        "sequential",
        86_400,
        False,
    )
    assert created["steps"][0]["alternatives"] == [
        {"type": "event", "name": "Signup", "props": {"plan": "pro"}}
    ]
    assert created["steps"][1]["alternatives"] == [{"type": "goal", "goal": goal.pk}]


@pytest.mark.parametrize(
    "args",
    [
        ["--step", "page:/pricing"],  # one step
        ["--step", "page:/a"] * 9,  # nine steps
        ["--step", "page:/a", "--step", "page:/b", "--window", "30s"],
        ["--step", "page:/a", "--step", "page:/b", "--window", "31d"],
        ["--step", "page:/a", "--step", "checkout"],  # no type
        ["--step", "page:/a", "--step", "goal:999999"],  # not the site's goal
    ],
)
def test_cli_refuses_bad_definitions_and_writes_nothing(site, args):
    with pytest.raises(CommandError):
        call_command("funnel", "create", "--site", site.public_id, "--name", "F", *args)
    assert not Funnel.objects.exists()


def test_cli_refuses_an_unknown_site(db):
    with pytest.raises(CommandError, match="Unknown site"):
        call_command("funnel", "list", "--site", "nope")


# --- Pirsch's endpoint ----------------------------------------------------------------


def test_pirsch_funnel_endpoint_has_the_documented_shape(client, auth, site, traffic, funnel):
    response = client.get(
        "/api/v1/statistics/funnel",
        {"id": site.public_id, **RANGE, "funnel_id": funnel.pk},
        **auth,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["definition"]["id"] == str(funnel.pk)
    assert body["definition"]["name"] == "Checkout"
    assert [s["filter"] for s in body["definition"]["steps"]] == [
        {"path": ["/pricing"]},
        {"event": ["Signup"]},
        {"path": ["/checkout", "/cart"]},
    ]
    assert body["data"] == [
        {
            "step": 1,
            "visitors": 3,
            "relative_visitors": 1.0,
            "previous_visitors": 0,
            "relative_previous_visitors": 0.0,
            "dropped": 0,
            "drop_off": 0.0,
        },
        {
            "step": 2,
            "visitors": 2,
            "relative_visitors": 0.6667,
            "previous_visitors": 3,
            "relative_previous_visitors": 1.0,
            "dropped": 1,
            "drop_off": 0.3333,
        },
        {
            "step": 3,
            "visitors": 1,
            "relative_visitors": 0.3333,
            "previous_visitors": 2,
            "relative_previous_visitors": 0.6667,
            "dropped": 1,
            "drop_off": 0.5,
        },
    ]


def test_pirsch_funnel_endpoint_refusals(client, auth, site, funnel, db):
    other = SiteFactory()
    foreign = Funnel.objects.create(site=other, name="Theirs", steps=STEPS)
    base = {"id": site.public_id, **RANGE}
    missing = client.get("/api/v1/statistics/funnel", base, **auth)
    assert missing.status_code == 400 and missing.json()["validation"] == {
        "funnel_id": "funnel_id is required"
    }
    for funnel_id in (foreign.pk, "abc", "9" * 40):
        response = client.get("/api/v1/statistics/funnel", {**base, "funnel_id": funnel_id}, **auth)
        assert response.status_code == 404 and set(response.json()) == PIRSCH_KEYS
    bad_date = client.get(
        "/api/v1/statistics/funnel", {**base, "from": "x", "funnel_id": funnel.pk}, **auth
    )
    assert bad_date.status_code == 400 and "from" in bad_date.json()["validation"]
    assert client.get("/api/v1/statistics/funnel", base).status_code == 401


# --- Footfall's report ----------------------------------------------------------------


def test_report_has_times_revenue_comparison_and_filters(client, auth, site, traffic, funnel):
    response = client.get(
        f"/api/v1/funnels/{funnel.pk}/report", {**RANGE, "compare": "previous"}, **auth
    )
    assert response.status_code == 200
    report = response.json()
    steps = report["steps"]
    assert [s["visitors"] for s in steps] == [3, 2, 1]
    assert [s["dropped"] for s in steps] == [0, 1, 1]
    assert [s["conversion_from_first"] for s in steps] == [1.0, 0.6667, 0.3333]
    assert [s["conversion_from_previous"] for s in steps] == [1.0, 0.6667, 0.5]
    assert steps[0]["time_to_convert"] is None
    # Visitor 1 signed up 90 s after /pricing, visitor 3 after 30 minutes.
    assert steps[1]["time_to_convert"]["median_seconds"] == 945.0
    assert steps[1]["time_to_convert"]["mean_seconds"] == 945.0
    distribution = {b["bucket"]: b["count"] for b in steps[1]["time_to_convert"]["distribution"]}
    assert distribution["1–5 min"] == 1 and distribution["15–60 min"] == 1
    assert sum(distribution.values()) == 2
    assert steps[2]["time_to_convert"]["median_seconds"] == 390.0
    assert steps[0]["revenue"] is None  # a page step carries none
    assert steps[1]["revenue"] == [{"currency": "EUR", "amount": "10.00"}]
    assert steps[1]["average_revenue"] == [{"currency": "EUR", "amount": "10.00"}]
    assert report["conversion_rate"] == 0.3333
    assert report["previous"]["from"] == "2026-03-01"
    assert [s["visitors"] for s in report["previous"]["steps"]] == [0, 0, 0]

    german = client.get(f"/api/v1/funnels/{funnel.pk}/report", {**RANGE, "country": "DE"}, **auth)
    assert [s["visitors"] for s in german.json()["steps"]] == [2, 2, 1]


def test_report_breakdown_attributes_to_the_entry_session(client, auth, site, traffic, funnel):
    response = client.get(
        f"/api/v1/funnels/{funnel.pk}/report", {**RANGE, "breakdown": "country"}, **auth
    )
    rows = {
        r["value"]: [s["visitors"] for s in r["steps"]]
        for r in response.json()["breakdown"]["rows"]
    }
    assert rows == {"DE": [2, 2, 1], "GB": [1, 0, 0]}
    bad = client.get(f"/api/v1/funnels/{funnel.pk}/report", {**RANGE, "breakdown": "x"}, **auth)
    assert bad.status_code == 400 and "breakdown" in bad.json()["validation"]


def test_dropped_sessions_of_a_step(client, auth, site, traffic, funnel):
    response = client.get(f"/api/v1/funnels/{funnel.pk}/dropped", {**RANGE, "step": 2}, **auth)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    assert body["sessions"] == [
        {
            "visitor_id": public_visitor_id(2),
            "session_id": public_session_id(21),
            "entered_at": "2026-03-02T10:00:00+00:00",
            "last_step_at": "2026-03-02T10:00:00+00:00",
            "last_step": 1,
        }
    ]
    for step in ("1", "4", "x", ""):
        bad = client.get(f"/api/v1/funnels/{funnel.pk}/dropped", {**RANGE, "step": step}, **auth)
        assert bad.status_code == 400 and "step" in bad.json()["validation"]


def test_strict_order_is_broken_by_activity_in_between(client, auth, site, traffic):
    strict = Funnel.objects.create(site=site, name="S", steps=STEPS[:2], order="strict")
    response = client.get(f"/api/v1/funnels/{strict.pk}/report", RANGE, **auth)
    # Visitor 1 signed up right after /pricing; visitor 3 too (nothing in between).
    assert [s["visitors"] for s in response.json()["steps"]] == [3, 2]
    store([event_row(site.pk, at(11, 10), path="/about", visitor=3, session=31)])
    response = client.get(f"/api/v1/funnels/{strict.pk}/report", RANGE, **auth)
    assert [s["visitors"] for s in response.json()["steps"]] == [3, 1]


def test_window_limits_the_journey(client, auth, site, traffic):
    short = Funnel.objects.create(site=site, name="W", steps=STEPS[:2], window_seconds=600)
    response = client.get(f"/api/v1/funnels/{short.pk}/report", RANGE, **auth)
    assert [s["visitors"] for s in response.json()["steps"]] == [3, 1]


# --- management through the API -------------------------------------------------------


def test_api_creates_updates_and_deletes_a_funnel(client, auth, site):
    created = client.post(
        "/api/v1/funnels",
        {"id": site.public_id, "name": "Checkout", "steps": STEPS, "window": "2h"},
        content_type="application/json",
        **auth,
    )
    assert created.status_code == 201
    funnel_id = created.json()["id"]
    assert Funnel.objects.get(pk=funnel_id).window_seconds == 7200
    listed = client.get("/api/v1/funnels", {"id": site.public_id}, **auth)
    assert [f["id"] for f in listed.json()] == [funnel_id]
    updated = client.patch(
        f"/api/v1/funnels/{funnel_id}",
        {"order": "any", "name": "Renamed"},
        content_type="application/json",
        **auth,
    )
    assert updated.status_code == 200 and updated.json()["order"] == "any"
    assert Funnel.objects.get(pk=funnel_id).name == "Renamed"
    assert client.get(f"/api/v1/funnels/{funnel_id}", **auth).json()["name"] == "Renamed"
    assert client.delete(f"/api/v1/funnels/{funnel_id}", **auth).status_code == 204
    assert not Funnel.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"steps": STEPS[:1]}, "steps"),
        ({"steps": STEPS * 3}, "steps"),
        ({"steps": [{"alternatives": [{"type": "page", "path": "pricing"}]}] * 2}, "steps"),
        ({"window": "30s"}, "window"),
        ({"window": "31d"}, "window"),
        ({"scope": "user"}, "scope"),
        ({"order": "random"}, "order"),
        ({"order": "any", "open": True}, "open"),
        ({"name": ""}, "name"),
        (
            {
                "steps": [
                    {"alternatives": [{"type": "event", "name": "A", "props": {"a__b": "1"}}]}
                ]
                * 2
            },
            "steps",
        ),
    ],
)
def test_api_refuses_bad_definitions_and_writes_nothing(client, auth, site, body, field):
    payload = {"id": site.public_id, "name": "F", "steps": STEPS, **body}
    response = client.post("/api/v1/funnels", payload, content_type="application/json", **auth)
    assert response.status_code == 400
    assert set(response.json()["validation"]) == {field}
    assert not Funnel.objects.exists()


def test_api_refuses_bodies_that_are_not_json_objects(client, auth, site):
    for body in ("{", "[]", '"x"'):
        response = client.post("/api/v1/funnels", body, content_type="application/json", **auth)
        assert response.status_code == 400 and set(response.json()) == PIRSCH_KEYS
    assert not Funnel.objects.exists()


def test_only_owners_and_admins_manage_funnels(client, site, funnel):
    viewer = UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    as_viewer = bearer(viewer)
    assert client.get(f"/api/v1/funnels/{funnel.pk}", **as_viewer).status_code == 200
    refused = client.post(
        "/api/v1/funnels",
        {"id": site.public_id, "name": "F", "steps": STEPS},
        content_type="application/json",
        **as_viewer,
    )
    assert refused.status_code == 403
    assert client.delete(f"/api/v1/funnels/{funnel.pk}", **as_viewer).status_code == 403
    patched = client.patch(
        f"/api/v1/funnels/{funnel.pk}", {"name": "X"}, content_type="application/json", **as_viewer
    )
    assert patched.status_code == 403
    assert list(Funnel.objects.values_list("name", flat=True)) == ["Checkout"]
    admin = UserFactory()
    SiteMembershipFactory(site=site, user=admin, role="admin")
    assert client.delete(f"/api/v1/funnels/{funnel.pk}", **bearer(admin)).status_code == 204


def test_another_tenants_funnels_do_not_exist(client, site, funnel):
    stranger = UserFactory()
    other = SiteFactory()
    SiteMembershipFactory(site=other, user=stranger, role="owner")
    as_stranger = bearer(stranger, other)
    for method, path in (
        ("get", f"/api/v1/funnels/{funnel.pk}"),
        ("get", f"/api/v1/funnels/{funnel.pk}/report?from=2026-03-02&to=2026-03-02"),
        ("get", f"/api/v1/funnels/{funnel.pk}/dropped?from=2026-03-02&to=2026-03-02&step=2"),
        ("delete", f"/api/v1/funnels/{funnel.pk}"),
        ("patch", f"/api/v1/funnels/{funnel.pk}"),
    ):
        response = getattr(client, method)(path, **as_stranger)
        assert response.status_code == 404, (method, path)
        assert set(response.json()) == PIRSCH_KEYS
    listed = client.get("/api/v1/funnels", {"id": site.public_id}, **as_stranger)
    assert listed.status_code == 404
    created = client.post(
        "/api/v1/funnels",
        {"id": site.public_id, "name": "F", "steps": STEPS},
        content_type="application/json",
        **as_stranger,
    )
    assert created.status_code == 404
    assert list(Funnel.objects.values_list("name", flat=True)) == ["Checkout"]
    # A client of one site does not reach another site of the same owner either.
    assert client.get(f"/api/v1/funnels/{funnel.pk}", **bearer(stranger, other)).status_code == 404


def test_api_methods_and_credentials(client, auth, funnel):
    assert client.get(f"/api/v1/funnels/{funnel.pk}").status_code == 401
    assert client.post(f"/api/v1/funnels/{funnel.pk}/report", **auth).status_code == 405
    assert client.put("/api/v1/funnels", **auth).status_code == 405


# --- dashboard ----------------------------------------------------------------------------

RANGE_QS = "period=custom&from=2026-03-02&to=2026-03-02"


def test_dashboard_creates_a_funnel_and_charts_its_steps(client, owner, site, traffic):
    client.force_login(owner)
    nav = client.get(f"/sites/{site.public_id}/").content.decode()
    assert f'href="/sites/{site.public_id}/funnels"' in nav
    assert client.get(f"/sites/{site.public_id}/funnels/new").status_code == 200
    response = client.post(
        f"/sites/{site.public_id}/funnels/new",
        {
            "name": "Checkout",
            "steps": "page:/pricing\nevent:Signup\npage:/checkout|/cart",
            "window": "1d",
            "order": "sequential",
            "scope": "visitor",
        },
    )
    funnel = Funnel.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{site.public_id}/funnels/{funnel.pk}"
    assert funnel.steps == [
        {"name": "/pricing", "alternatives": [{"type": "page", "path": "/pricing"}]},
        {"name": "Signup", "alternatives": [{"type": "event", "name": "Signup", "props": {}}]},
        {"name": "/checkout or /cart", "alternatives": STEPS[2]["alternatives"]},
    ]
    page = client.get(f"{response['Location']}?{RANGE_QS}&compare=previous&breakdown=country")
    assert page.status_code == 200
    html = page.content.decode()
    visitors = [
        int(part.split("</strong>")[0]) for part in html.split("<strong data-visitors>")[1:]
    ]
    assert visitors == [3, 2, 1]
    assert "10.00 EUR" in html
    assert f"/funnels/{funnel.pk}/dropped?step=2" in html
    listed = client.get(f"/sites/{site.public_id}/funnels").content.decode()
    assert "Checkout" in listed


def test_dashboard_dropped_sessions_link_to_their_details(client, owner, site, traffic, funnel):
    client.force_login(owner)
    page = client.get(f"/sites/{site.public_id}/funnels/{funnel.pk}/dropped?step=2&{RANGE_QS}")
    assert page.status_code == 200
    link = f"/sites/{site.public_id}/sessions/{public_visitor_id(2)}/{public_session_id(21)}"
    assert link in page.content.decode()
    session = client.get(f"{link}?{RANGE_QS}")
    assert session.status_code == 200
    assert "/cart" in session.content.decode()
    for step in ("1", "9", "x"):
        missing = client.get(f"/sites/{site.public_id}/funnels/{funnel.pk}/dropped?step={step}")
        assert missing.status_code == 404


def test_dashboard_refuses_bad_definitions(client, owner, site):
    client.force_login(owner)
    response = client.post(
        f"/sites/{site.public_id}/funnels/new",
        {"name": "F", "steps": "page:/only-one", "window": "1d", "order": "sequential"},
    )
    assert response.status_code == 400
    assert "2 to 8 steps" in response.content.decode()
    assert not Funnel.objects.exists()


def test_dashboard_edit_and_delete_are_for_owners_and_admins(client, owner, site, funnel):
    viewer = UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    client.force_login(viewer)
    base = f"/sites/{site.public_id}/funnels"
    assert client.get(base).status_code == 200
    assert client.get(f"{base}/{funnel.pk}?{RANGE_QS}").status_code == 200
    assert client.get(f"{base}/new").status_code == 403
    assert client.post(f"{base}/{funnel.pk}/delete").status_code == 403
    edited = client.post(f"{base}/{funnel.pk}/edit", {"name": "X", "steps": "page:/a\npage:/b"})
    assert edited.status_code == 403
    assert Funnel.objects.get().name == "Checkout"
    client.force_login(owner)
    edited = client.post(
        f"{base}/{funnel.pk}/edit",
        {"name": "Renamed", "steps": "page:/a\npage:/b", "window": "30m", "order": "strict"},
    )
    assert edited.status_code == 302
    funnel.refresh_from_db()
    assert (funnel.name, funnel.order, funnel.window_seconds) == ("Renamed", "strict", 1800)
    assert "page:/a\npage:/b" in client.get(f"{base}/{funnel.pk}/edit").content.decode()
    assert client.post(f"{base}/{funnel.pk}/delete").status_code == 302
    assert not Funnel.objects.exists()


def test_dashboard_funnels_of_another_tenant_do_not_exist(client, site, funnel):
    stranger = UserFactory()
    client.force_login(stranger)
    base = f"/sites/{site.public_id}/funnels"
    for url in (base, f"{base}/{funnel.pk}", f"{base}/{funnel.pk}/edit", f"{base}/new"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{base}/{funnel.pk}/delete").status_code == 404
    # The funnel id of another site under one's own site is no funnel either.
    mine = SiteFactory()
    SiteMembershipFactory(site=mine, user=stranger, role="owner")
    assert client.get(f"/sites/{mine.public_id}/funnels/{funnel.pk}").status_code == 404
    assert client.post(f"/sites/{mine.public_id}/funnels/{funnel.pk}/delete").status_code == 404
    assert Funnel.objects.filter(pk=funnel.pk).exists()


# --- hostile input ------------------------------------------------------------------------

from hypothesis import HealthCheck, given  # noqa: E402
from hypothesis import settings as hsettings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
STEP_LIKE = st.fixed_dictionaries(
    {
        "alternatives": st.lists(
            st.dictionaries(
                st.sampled_from(["type", "path", "name", "props", "goal"]),
                JSON | st.sampled_from(["page", "event", "goal", "/a*", "x"]),
            ),
            max_size=3,
        )
    }
)


@hsettings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.dictionaries(
        st.sampled_from(["name", "steps", "scope", "order", "window", "window_seconds", "open"]),
        JSON | st.lists(STEP_LIKE, max_size=9),
    ),
    params=st.dictionaries(
        st.sampled_from(
            [
                "from",
                "to",
                "tz",
                "breakdown",
                "compare",
                "country",
                "pattern",
                "step",
                "limit",
                "meta_x",
            ]
        ),
        st.text(max_size=12),
    ),
)
def test_hostile_bodies_and_parameters_never_fail(
    client, auth, site, funnel, settings, body, params
):
    settings.PIRSCH_API_RATE_LIMIT = 10**6  # one client sends every example
    before = list(Funnel.objects.values_list("pk", "name", "steps", "window_seconds"))
    created = client.post(
        "/api/v1/funnels", {"id": site.public_id, **body}, content_type="application/json", **auth
    )
    assert created.status_code in (201, 400), created.content
    if created.status_code == 400:
        assert set(created.json()) == PIRSCH_KEYS
        assert list(Funnel.objects.values_list("pk", "name", "steps", "window_seconds")) == before
    else:
        Funnel.objects.filter(pk=created.json()["id"]).delete()
    patched = client.patch(
        f"/api/v1/funnels/{funnel.pk}", body, content_type="application/json", **auth
    )
    assert patched.status_code in (200, 400)
    for path in ("report", "dropped"):
        response = client.get(f"/api/v1/funnels/{funnel.pk}/{path}", {**RANGE, **params}, **auth)
        assert response.status_code in (200, 400), (path, params, response.content[:300])


# --- the embedded default -----------------------------------------------------------------

EMBEDDED_SCRIPT = """
import json
from datetime import date
from sites.models import Site
from stats import query as q
from stats.funnels import selectors as fs
from stats.models import Funnel
from tests.stats import test_funnels as t
site = Site.objects.create(display_name="e", hostname="example.com", timezone="UTC")
t.traffic.__wrapped__(site)
funnel = Funnel.objects.create(site=site, name="Checkout", steps=t.STEPS)
out = {}
for label, filters in (("all", {}), ("de", {"country": ["DE"]})):
    query = q.StatsQuery(site.pk, date(2026, 3, 2), date(2026, 3, 2), "UTC", filters)
    out[label] = fs.funnel_report(funnel, query, breakdown="country", compare=True)
print("REPORT" + json.dumps(out, default=str))
"""


def test_the_embedded_default_gives_the_same_report(site, traffic, funnel, tmp_path):
    """SQLite without Redis (``make run`` on a bare machine) answers what PostgreSQL does."""
    import os
    import subprocess
    import sys
    from datetime import date
    from pathlib import Path

    from stats import query as q
    from stats.funnels import selectors as fs

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(SECRET_KEY="embedded", DEBUG="false", FOOTFALL_DATA_DIR=str(tmp_path))
    manage = [sys.executable, str(root / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=root, env=env, check=True, timeout=300)
    done = subprocess.run(
        [*manage, "shell", "-c", EMBEDDED_SCRIPT],
        cwd=root,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    )
    embedded = json.loads(done.stdout.split("REPORT", 1)[1])
    for label, filters in (("all", {}), ("de", {"country": ["DE"]})):
        query = q.StatsQuery(site.pk, date(2026, 3, 2), date(2026, 3, 2), "UTC", filters)
        expected = json.loads(
            json.dumps(
                fs.funnel_report(funnel, query, breakdown="country", compare=True), default=str
            )
        )
        for report in (expected, embedded[label]):
            report["funnel"].pop("id"), report["funnel"].pop("site")
        assert embedded[label] == expected
