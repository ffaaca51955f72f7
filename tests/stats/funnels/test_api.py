"""Funnels: Pirsch's funnel endpoint, Footfall's report and managing funnels through the
API."""

import pytest

from stats.models import Funnel
from stats.selectors import public_session_id, public_visitor_id
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store
from tests.stats.funnels.support import PIRSCH_KEYS, RANGE, STEPS, at, bearer

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
