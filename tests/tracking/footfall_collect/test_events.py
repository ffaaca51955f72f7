"""``POST /api/collect``: page views, custom events and engagement as stored."""

import pytest

from tests.tracking.footfall_collect.support import body, post


def test_page_view_is_stored_with_page_fields(client, site, drain):
    response = post(client, body(site, {"t": "pageview"}))
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "dropped": 0, "collectors": []}
    assert response["Access-Control-Allow-Origin"] == "*"
    [event] = drain()
    assert (event.protocol, event.kind, event.name, event.hostname, event.path) == (
        "footfall",
        "pageview",
        "pageview",
        "dummy.site",
        "/blog/post",
    )
    assert (event.title, event.referrer_host, event.utm_source, event.screen_width) == (
        "A post",
        "google.com",
        "news",
        1280,
    )
    assert event.session_start is True
    assert event.browser == "Chrome"


def test_application_json_is_accepted_too(client, site, drain):
    response = post(client, body(site, {"t": "pageview"}), content_type="application/json")
    assert response.status_code == 202
    assert [e.kind for e in drain()] == ["pageview"]


def test_custom_event_with_props_and_revenue(client, site, drain):
    event = {
        "t": "custom",
        "n": "Signup",
        "p": {"plan": "pro", "seats": 3, "trial": True},
        "$": {"amount": 49.5, "currency": "eur"},
    }
    assert post(client, body(site, {"t": "pageview"}, event)).status_code == 202
    _, signup = drain()
    assert (signup.kind, signup.name, signup.props) == (
        "custom",
        "Signup",
        {"plan": "pro", "seats": "3", "trial": "true"},
    )
    assert (str(signup.revenue_amount), signup.revenue_currency) == ("49.5000", "EUR")


@pytest.mark.parametrize(
    ("name", "props"),
    [
        ("Outbound Link: Click", {"url": "https://other.example/"}),
        ("File Download", {"url": "https://dummy.site/report.pdf"}),
        ("Form: Submission", {"form": "form#signup"}),
    ],
)
def test_link_download_and_form_events_are_custom_events(client, site, drain, name, props):
    assert (
        post(
            client, body(site, {"t": "pageview"}, {"t": "custom", "n": name, "p": props})
        ).status_code
        == 202
    )
    _, event = drain()
    assert (event.kind, event.name, event.props) == ("custom", name, props)


def test_engagement_is_stored_as_reading_behavior(client, site, drain):
    engagement = {
        "visible_ms": 42000,
        "active_ms": 30500,
        "scroll_depth": 87,
        "scroll_velocity": 120.5,
        "page_height": 4200,
    }
    post(client, body(site, {"t": "pageview"}))
    response = post(client, body(site, {"t": "reading_behavior", "p": engagement}))
    assert response.json() == {"accepted": 1, "dropped": 0, "collectors": []}
    view, reading = drain()
    assert (reading.kind, reading.name, reading.duration_ms, reading.scroll_depth) == (
        "engagement",
        "reading_behavior",
        30500,
        87,
    )
    assert reading.props == engagement
    assert reading.session_id == view.session_id and reading.session_start is False
