"""``POST /api/collect``: every behaviour signal as the contract says, and the site's
collector switches."""

from tests.tracking.footfall_collect.support import body, post
from tracking.drops import flush_drop_counts
from tracking.models import DroppedEventCount

SIGNALS = [
    ("rage_click", "behaviour", {"selector": "button.buy:nth-of-type(2)", "clicks": 5}),
    ("dead_click", "behaviour", {"selector": "div.hero"}),
    ("phantom_click", "behaviour", {"selector": "span#close"}),
    (
        "js_exception",
        "error",
        {
            "message": "x is not defined",
            "source": "https://dummy.site/app.js",
            "line": 3,
            "column": 14,
        },
    ),
    ("promise_rejection", "error", {"message": "boom", "source": "", "line": 0, "column": 0}),
    (
        "console_error",
        "error",
        {"message": "failed", "source": "https://dummy.site/a.js", "line": 1, "column": 2},
    ),
    ("console_warning", "error", {"message": "careful", "source": "", "line": 0, "column": 0}),
    (
        "form_abandon",
        "behaviour",
        {"form": "form#signup", "fields_touched": 2, "last_field": "input#email"},
    ),
    (
        "form_hesitation",
        "behaviour",
        {"form": "form#signup", "field": "input#email", "hesitation_ms": 1830},
    ),
    ("web_vitals", "behaviour", {"lcp": 1200, "cls": 0.0132, "inp": 96, "fid": 3, "ttfb": 180}),
    (
        "seo_diagnostics",
        "behaviour",
        {
            "issues": ["missing_meta_description", "multiple_h1"],
            "h1_count": 2,
            "images_without_alt": 0,
            "title_length": 6,
            "description_length": 0,
        },
    ),
]


def test_every_behaviour_signal_is_stored_as_the_contract_says(client, behaviour_site, drain):
    post(client, body(behaviour_site, {"t": "pageview"}))
    events = [{"t": name, "p": props} for name, _, props in SIGNALS]
    response = post(client, body(behaviour_site, *events))
    assert response.status_code == 202
    assert response.json() == {
        "accepted": len(SIGNALS),
        "dropped": 0,
        "collectors": ["clicks", "errors", "forms", "seo", "vitals"],
    }
    view, *stored = drain()
    assert [(e.name, e.kind, e.props) for e in stored] == SIGNALS
    assert {(e.path, e.session_id, e.session_start) for e in stored} == {
        ("/blog/post", view.session_id, False)
    }


def test_error_props_get_their_defaults(client, behaviour_site, drain):
    post(client, body(behaviour_site, {"t": "pageview"}))
    post(client, body(behaviour_site, {"t": "js_exception", "p": {"message": "Script error."}}))
    _, error = drain()
    assert error.props == {"message": "Script error.", "source": "", "line": 0, "column": 0}


def test_web_vitals_keep_only_what_was_measured(client, behaviour_site, drain):
    post(client, body(behaviour_site, {"t": "pageview"}))
    post(client, body(behaviour_site, {"t": "web_vitals", "p": {"ttfb": 80, "cls": 0}}))
    _, vitals = drain()
    assert vitals.props == {"ttfb": 80, "cls": 0}


def test_behaviour_without_a_session_never_starts_one(client, behaviour_site, drain):
    response = post(
        client,
        body(
            behaviour_site,
            {"t": "dead_click", "p": {"selector": "div"}},
            {
                "t": "reading_behavior",
                "p": {
                    "visible_ms": 1,
                    "active_ms": 1,
                    "scroll_depth": 1,
                    "scroll_velocity": 0,
                    "page_height": 1,
                },
            },
            {"t": "js_exception", "p": {"message": "boom"}},
        ),
    )
    assert response.json()["accepted"] == 0 and response.json()["dropped"] == 3
    assert drain() == []


def test_collectors_switched_off_are_dropped(client, site, drain):
    post(client, body(site, {"t": "pageview"}))
    response = post(
        client,
        body(
            site,
            {"t": "rage_click", "p": {"selector": "button", "clicks": 4}},
            {"t": "custom", "n": "Signup"},
        ),
    )
    assert response.json() == {"accepted": 1, "dropped": 1, "collectors": []}
    assert [e.name for e in drain()] == ["pageview", "Signup"]


def test_signals_of_a_collector_switched_off_are_counted_as_such(client, site, drain):
    post(client, body(site, {"t": "pageview"}))
    post(client, body(site, {"t": "rage_click", "p": {"selector": "b", "clicks": 4}}))
    post(client, body(site, {"t": "dead_click", "p": {"selector": "div"}}))
    flush_drop_counts()
    counted = DroppedEventCount.objects.filter(site_id=site.pk).values_list("reason", "count")
    assert list(counted) == [("collector_off", 2)]
    assert [e.name for e in drain()] == ["pageview"]


def test_only_the_chosen_collectors_are_kept(client, site, drain):
    site.behaviour_collectors = True
    site.settings = {"collectors": {"clicks": False, "errors": True, "forms": False}}
    site.save()
    post(client, body(site, {"t": "pageview"}))
    response = post(
        client,
        body(
            site,
            {"t": "dead_click", "p": {"selector": "div"}},
            {"t": "console_error", "p": {"message": "oops"}},
            {"t": "form_abandon", "p": {"form": "form", "fields_touched": 1}},
            {
                "t": "seo_diagnostics",
                "p": {
                    "issues": [],
                    "h1_count": 1,
                    "images_without_alt": 0,
                    "title_length": 5,
                    "description_length": 40,
                },
            },
        ),
    )
    assert response.json() == {
        "accepted": 2,
        "dropped": 2,
        "collectors": ["errors", "seo", "vitals"],
    }
    assert [e.name for e in drain()] == ["pageview", "console_error", "seo_diagnostics"]
