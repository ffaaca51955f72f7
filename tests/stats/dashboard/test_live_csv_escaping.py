"""Dashboard: live visitors, the CSV export and escaping of user strings."""

from datetime import UTC, datetime, timedelta

from stats import dashboard
from tests.helpers import event_row, store
from tests.stats.dashboard.support import (
    RANGE,
    at,
    get,
)

# --- live ------------------------------------------------------------------------------


def test_live_badge_and_view_count_recent_visitors(client, site, owner):
    now = datetime.now(UTC)
    store(
        [
            event_row(
                site.pk,
                now - timedelta(minutes=1),
                visitor=1,
                session=1,
                path="/now",
                source="Google",
                country_code="DE",
            ),
            event_row(
                site.pk,
                now - timedelta(minutes=2),
                visitor=2,
                session=2,
                path="/now",
                country_code="FR",
            ),
            event_row(site.pk, now - timedelta(hours=2), visitor=3, session=3, path="/old"),
        ]
    )
    client.force_login(owner)
    badge = get(client, site, "live/badge")
    assert badge.context["live_count"] == 2
    assert b"2</span>&nbsp;current visitors" in badge.content
    data = get(client, site, "live/data")
    live = data.context["live"]
    assert live["visitors"] == 2
    assert live["pages"] == [{"path": "/now", "title": "", "visitors": 2}]
    assert sorted((r["label"], r["visitors"]) for r in live["countries"]) == [
        ("France", 1),
        ("Germany", 1),
    ]
    page = get(client, site, "live")
    assert b'hx-trigger="every 5s"' in page.content
    dashboard_page = get(client, site)
    assert b'aria-live="polite"' in dashboard_page.content
    assert dashboard_page.context["live_count"] == 2


# --- CSV -------------------------------------------------------------------------------


def test_csv_export_of_the_current_view(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, "export.csv", country="DE", **RANGE)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    lines = response.content.decode().splitlines()
    assert lines[:3] == [
        "site,example.com",
        "range,2023-01-01,2023-01-03",
        "filter,Country is Germany",
    ]
    assert "visitors,2,0," in lines
    assert "pages,/,1,1,0.5" in lines
    assert "countries,DE,2,2,1.0" in lines


def test_csv_export_of_one_panel(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, "export.csv", panel="pages", **RANGE)
    assert response.content.decode().splitlines() == [
        "panel,item,visitors,views,share",
        # Shares of the period's 3 visitors (issue #13), not of the rows' sum.
        "pages,/,2,2,0.6667",
        "pages,/blog,1,1,0.3333",
        "pages,/pricing,1,1,0.3333",
        "",
    ]
    assert get(client, site, "export.csv", panel="nope").status_code == 400


def test_csv_neutralises_spreadsheet_formulas(client, site, owner):
    store(
        [
            event_row(site.pk, at(1, 10), visitor=1, session=1, path='=HYPERLINK("http://x")'),
            event_row(site.pk, at(1, 10), visitor=2, session=2, path="+1+2"),
            event_row(site.pk, at(1, 10), visitor=3, session=3, path="-3"),
            event_row(site.pk, at(1, 10), visitor=4, session=4, path="@SUM(A1)"),
            event_row(site.pk, at(1, 10), visitor=5, session=5, path="\tcmd"),
        ]
    )
    client.force_login(owner)
    text = get(client, site, "export.csv", panel="pages", **RANGE).content.decode()
    assert 'pages,"\'=HYPERLINK(""http://x"")",1,1,0.2' in text
    assert "pages,'+1+2,1,1,0.2" in text
    assert "pages,'-3,1,1,0.2" in text
    assert "pages,'@SUM(A1),1,1,0.2" in text
    assert "pages,'\tcmd,1,1,0.2" in text
    assert dashboard.csv_cell(-0.25) == -0.25  # numbers stay numbers


# --- escaping --------------------------------------------------------------------------


def test_user_strings_are_escaped_everywhere(client, site, owner):
    payload = "<script>alert(1)</script>"
    store(
        [
            event_row(
                site.pk,
                at(1, 10),
                path=f"/{payload}",
                referrer=f"evil.com/{payload}",
                source=payload,
                title=payload,
            ),
            event_row(site.pk, at(1, 10, 1), kind="custom", name=payload, props={payload: payload}),
        ]
    )
    client.force_login(owner)
    for path, extra in [
        ("panels/pages", {}),
        ("panels/referrers", {}),
        ("panels/sources", {}),
        ("panels/events", {}),
        ("panels/pages/details", {}),
        ("panels/events/details", {"event_name": payload}),
        ("", {"path": f"/{payload}"}),
    ]:
        html = get(client, site, path, **RANGE, **extra).content.decode()
        assert payload not in html, path
        assert "&lt;script&gt;" in html, path


def test_live_badge_answers_204_when_the_count_is_unchanged(client, site, owner):
    store([event_row(site.pk, datetime.now(UTC) - timedelta(minutes=1), path="/now")])
    client.force_login(owner)
    assert get(client, site, "live/badge", last="1").status_code == 204
    changed = get(client, site, "live/badge", last="0")
    assert changed.status_code == 200
    assert b"live/badge?last=1" in changed.content
