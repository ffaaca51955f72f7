"""Insights API: reading per page and form abandonment and hesitation."""

from tests.helpers import store
from tests.stats.insights.support import (
    data,
    reading_report,
    row,
    signal,
)

# --- reading --------------------------------------------------------------------------


def test_reading_per_page(client, site, read_key):
    store(
        [
            row(site, 0, path="/article"),
            row(site, 1, session=2, path="/article"),
            reading_report(site, 5, "/article", 40, 10_000, 20_000, 100.0),
            reading_report(site, 6, "/article", 80, 30_000, 40_000, 300.0),
            reading_report(site, 7, "/article", 100, 5_000, 0, 200.0),
            reading_report(site, 8, "/", 10, 1_000, 1_000, 50.5),
        ]
    )
    assert data(client, "reading", read_key)["data"]["pages"] == [
        {
            "url": "/article",
            "views": 2,
            "reports": 3,
            "avg_scroll_depth": 73.3,
            "median_scroll_depth": 80.0,
            "avg_active_ms": 15_000,
            "avg_scroll_velocity": 200.0,
            "attention_pct": 66.7,
        },
        {
            "url": "/",
            "views": 0,
            "reports": 1,
            "avg_scroll_depth": 10.0,
            "median_scroll_depth": 10.0,
            "avg_active_ms": 1_000,
            "avg_scroll_velocity": 50.5,
            "attention_pct": 100.0,
        },
    ]


# --- forms ----------------------------------------------------------------------------


def test_form_abandonment_and_hesitation(client, site, read_key):
    def abandon(seconds, visitor, last_field, touched, path="/signup", form="form#signup"):
        return signal(
            site,
            seconds,
            "form_abandon",
            visitor,
            visitor,
            path,
            form=form,
            fields_touched=touched,
            last_field=last_field,
        )

    def hesitate(seconds, field, ms):
        return signal(
            site,
            seconds,
            "form_hesitation",
            path="/signup",
            form="form#signup",
            field=field,
            hesitation_ms=ms,
        )

    store(
        [
            abandon(0, 1, "input#email", 2),
            abandon(1, 2, "input#email", 3),
            abandon(2, 2, "input#password", 4),
            abandon(3, 3, "textarea", 1, path="/contact", form="form.contact"),
            hesitate(4, "input#email", 1000),
            hesitate(5, "input#email", 2000),
            hesitate(6, "input#email", 6000),
            hesitate(7, "input#name", 500),
        ]
    )
    body = data(client, "forms", read_key)
    assert body["data"] == {
        "abandonments": [
            {
                "form": "form#signup",
                "url": "/signup",
                "count": 3,
                "visitors": 2,
                "avg_fields_touched": 3.0,
                "last_field": "input#email",
            },
            {
                "form": "form.contact",
                "url": "/contact",
                "count": 1,
                "visitors": 1,
                "avg_fields_touched": 1.0,
                "last_field": "textarea",
            },
        ],
        "hesitations": [
            {
                "form": "form#signup",
                "field": "input#email",
                "url": "/signup",
                "count": 3,
                "avg_hesitation_ms": 3000,
                "median_hesitation_ms": 2000,
            },
            {
                "form": "form#signup",
                "field": "input#name",
                "url": "/signup",
                "count": 1,
                "avg_hesitation_ms": 500,
                "median_hesitation_ms": 500,
            },
        ],
        "totals": {"abandonments": 2, "hesitations": 2},
    }
    assert body["pagination"]["total"] == 2
    second = data(client, "forms", read_key, limit=1, page=2)["data"]
    assert [a["form"] for a in second["abandonments"]] == ["form.contact"]
    assert [h["field"] for h in second["hesitations"]] == ["input#name"]
