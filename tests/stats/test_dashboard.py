"""The site dashboard: access per role, public sites and shared links, exact numbers, ranges,
filters, panels and their details, live visitors, CSV export and escaping."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import Resolver404, resolve

from sites.models import SharedLink
from sites.sharing import shared_link_create, shared_link_resolve, shared_link_revoke
from stats import dashboard
from tests.factories import (
    OrganizationFactory,
    OrganizationMemberFactory,
    SiteFactory,
    SiteMembershipFactory,
    UserFactory,
)
from tests.helpers import event_row, store

RANGE = {"period": "custom", "from": "2023-01-01", "to": "2023-01-03"}
PARTIALS = [f"panels/{name}" for name in dashboard.PANELS] + [
    f"panels/{name}/details" for name in dashboard.PANELS
]
PAGES = ["", "live", "live/data", "live/badge", "export.csv", *PARTIALS]

LONDON_CHROME = {
    "visitor": 1,
    "session": 1,
    "entry_path": "/",
    "country_code": "GB",
    "region": "GB-ENG",
    "city": "London",
    "language": "en",
    "browser": "Chrome",
    "os": "Windows",
    "device_type": "desktop",
    "screen_class": "XL",
    "referrer": "google.com/search",
    "source": "Google",
    "channel": "Organic Search",
}
BERLIN_FIREFOX = {
    "visitor": 2,
    "session": 2,
    "entry_path": "/",
    "country_code": "DE",
    "region": "DE-BE",
    "city": "Berlin",
    "language": "de",
    "browser": "Firefox",
    "os": "Linux",
    "device_type": "desktop",
    "screen_class": "L",
    "channel": "Direct",
}
MUNICH_PHONE = {
    "visitor": 3,
    "session": 3,
    "entry_path": "/blog",
    "country_code": "DE",
    "region": "DE-BY",
    "city": "Munich",
    "language": "de",
    "browser": "Safari",
    "os": "iOS",
    "device_type": "mobile",
    "screen_class": "S",
    "utm_source": "newsletter",
    "channel": "Email",
}


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="example.com", timezone="Europe/Berlin")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


def at(day, hour, minute=0):
    return datetime(2023, 1, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def traffic(site):
    store(
        [
            # 1 Jan: visitor 1 reads two pages in 5 minutes; visitor 2 bounces.
            event_row(site.pk, at(1, 10), path="/", **LONDON_CHROME),
            event_row(site.pk, at(1, 10, 5), path="/pricing", **LONDON_CHROME),
            event_row(site.pk, at(1, 11), path="/", **BERLIN_FIREFOX),
            # 2 Jan 23:30 UTC = 3 Jan in Berlin: visitor 3 signs up a minute after arriving.
            event_row(site.pk, at(2, 23, 30), path="/blog", **MUNICH_PHONE),
            event_row(
                site.pk,
                at(2, 23, 31),
                kind="custom",
                name="Signup",
                path="/blog",
                props={"plan": "pro"},
                **MUNICH_PHONE,
            ),
        ]
    )


def get(client, site, sub="", /, **params):
    return client.get(f"/sites/{site.public_id}/{sub}", params)


def kpi(response, key):
    return next(card["value"] for card in response.context["kpis"] if card["key"] == key)


def panel_values(response):
    return [(row["label"], row["visitors"]) for row in response.context["rows"]]


# --- access --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "viewer"])
def test_every_page_and_partial_answers_each_role(client, site, traffic, role):
    user = UserFactory()
    SiteMembershipFactory(site=site, user=user, role=role)
    client.force_login(user)
    for path in PAGES:
        response = get(client, site, path, **RANGE)
        assert response.status_code == 200, path
        if path.startswith("panels/") and not path.endswith("details"):
            assert b"could not be loaded" not in response.content, path


def test_organization_role_gives_access(client, site, traffic):
    organization = OrganizationFactory()
    site.organization = organization
    site.save()
    member = OrganizationMemberFactory(organization=organization, role="viewer").user
    client.force_login(member)
    assert get(client, site, **RANGE).status_code == 200


def test_other_tenant_gets_404_everywhere(client, site, traffic):
    stranger = UserFactory()
    SiteMembershipFactory(user=stranger, role="owner")  # owns another site
    client.force_login(stranger)
    for path in PAGES:
        assert get(client, site, path, **RANGE).status_code == 404, path


def test_unknown_site_is_404_for_a_signed_in_user(client, owner):
    client.force_login(owner)
    assert client.get("/sites/doesnotexist/").status_code == 404


def test_anonymous_visitor_of_a_private_site_is_sent_to_log_in(client, site, traffic):
    for path in PAGES:
        response = get(client, site, path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next=")


def test_unknown_panel_is_404(client, site, owner):
    client.force_login(owner)
    assert get(client, site, "panels/nope").status_code == 404
    assert get(client, site, "panels/nope/details").status_code == 404


def test_only_get_is_allowed(client, site, owner):
    client.force_login(owner)
    assert client.post(f"/sites/{site.public_id}/").status_code == 405


def test_settings_link_only_for_those_who_may_manage_settings(client, site, traffic):
    settings_link = f"/sites/{site.public_id}/settings/general".encode()
    for role, shown in [("owner", True), ("admin", True), ("viewer", False)]:
        user = UserFactory()
        SiteMembershipFactory(site=site, user=user, role=role)
        client.force_login(user)
        assert (settings_link in get(client, site, **RANGE).content) is shown, role


def test_dashboard_urls_leave_settings_and_new_site_paths_to_the_sites_app(site):
    for path in ("/sites/new", f"/sites/{site.public_id}/settings/general"):
        try:
            match = resolve(path)
        except Resolver404:
            continue
        assert match.func.__module__ != "stats.views", path


# --- public sites and shared links -----------------------------------------------------


def test_public_site_is_readable_without_log_in(client, site, traffic):
    site.public = True
    site.save()
    response = get(client, site, **RANGE)
    assert response.status_code == 200
    assert kpi(response, "visitors") == "3"
    assert b"read-only" in response.content
    assert b"/settings/" not in response.content
    assert b"/behaviour/" not in response.content
    for path in PAGES:
        assert get(client, site, path, **RANGE).status_code == 200, path


def test_public_site_stays_closed_to_other_sites(client, site, traffic):
    site.public = True
    site.save()
    private = SiteFactory()
    assert get(client, private).status_code == 302


def test_shared_link_without_password_opens_the_dashboard_read_only(client, site, traffic):
    _link, token = shared_link_create(site=site, label="Board")
    response = client.get(f"/share/{token}/")
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{site.public_id}/"
    page = get(client, site, **RANGE)
    assert page.status_code == 200
    assert kpi(page, "visitors") == "3"
    assert b"shared" in page.content
    assert b"/settings/" not in page.content
    assert get(client, site, "panels/pages", **RANGE).status_code == 200


def test_shared_link_is_stored_as_a_digest(site):
    link, token = shared_link_create(site=site, password="s3cret")
    stored = SharedLink.objects.get(pk=link.pk)
    assert token not in (stored.token_digest, stored.password)
    assert stored.token_prefix == token[:8]
    assert stored.password.startswith("pbkdf2_") or "$" in stored.password
    assert shared_link_resolve(token) == link
    assert shared_link_resolve(token + "x") is None


def test_shared_link_with_password(client, site, traffic):
    _link, token = shared_link_create(site=site, password="open sesame")
    form = client.get(f"/share/{token}/")
    assert form.status_code == 200
    assert b'type="password"' in form.content
    assert b"csrfmiddlewaretoken" in form.content
    # The password form alone grants nothing.
    assert get(client, site).status_code == 302
    wrong = client.post(f"/share/{token}/", {"password": "wrong"})
    assert wrong.status_code == 403
    assert b"not right" in wrong.content
    assert get(client, site).status_code == 302
    right = client.post(f"/share/{token}/", {"password": "open sesame"})
    assert right.status_code == 302
    assert get(client, site, **RANGE).status_code == 200


def test_shared_link_password_attempts_are_limited(client, site):
    _link, token = shared_link_create(site=site, password="open sesame")
    for _ in range(10):
        client.post(f"/share/{token}/", {"password": "wrong"})
    blocked = client.post(f"/share/{token}/", {"password": "open sesame"})
    assert blocked.status_code == 403
    assert b"Too many attempts" in blocked.content
    assert get(client, site).status_code == 302


def test_revoking_a_shared_link_ends_its_sessions(client, site, traffic):
    link, token = shared_link_create(site=site)
    client.get(f"/share/{token}/")
    assert get(client, site).status_code == 200
    other = SiteFactory()
    assert shared_link_revoke(site=other, link_id=link.pk) is False
    assert shared_link_revoke(site=site, link_id=link.pk) is True
    assert get(client, site).status_code == 302
    assert client.get(f"/share/{token}/").status_code == 404


def test_shared_link_grant_does_not_open_other_sites(client, site):
    other = SiteFactory()
    _link, token = shared_link_create(site=site)
    client.get(f"/share/{token}/")
    assert get(client, other).status_code == 302


def test_unknown_share_token_is_404(client, db):
    assert client.get("/share/nope/").status_code == 404


# --- numbers -------------------------------------------------------------------------


def test_kpis_are_exact(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, **RANGE)
    assert [(card["key"], card["value"]) for card in response.context["kpis"]] == [
        ("visitors", "3"),
        ("visits", "3"),
        ("views", "4"),
        ("views_per_visit", "1.33"),
        ("bounce_rate", "33%"),  # only visitor 2 bounced
        ("visit_duration", "2m 00s"),  # (300 s + 0 s + 60 s) / 3
    ]
    assert b'<div class="kpi-value">1.33</div>' in response.content


def test_kpi_change_against_the_previous_period(client, site, owner, traffic):
    # 29–31 Dec is the period before 1–3 Jan: one visitor, one view, one bounce.
    store([event_row(site.pk, datetime(2022, 12, 30, 12, tzinfo=UTC), visitor=9, session=9)])
    client.force_login(owner)
    cards = {c["key"]: c for c in get(client, site, **RANGE).context["kpis"]}
    assert (cards["visitors"]["change"], cards["visitors"]["tone"]) == ("200%", "up")
    assert (cards["views"]["change"], cards["views"]["direction"]) == ("300%", "up")
    # Bounce rate went from 100 % to 33 %: down, and down is good.
    assert (cards["bounce_rate"]["change"], cards["bounce_rate"]["direction"]) == ("67%", "down")
    assert cards["bounce_rate"]["tone"] == "up"


def test_kpis_without_a_previous_period_say_so(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, **RANGE)
    assert all(card["change"] is None for card in response.context["kpis"])
    assert b"no previous data" in response.content


def test_range_in_the_url_changes_the_numbers(client, site, owner, traffic):
    client.force_login(owner)
    first_day = get(client, site, period="custom", **{"from": "2023-01-01", "to": "2023-01-01"})
    assert kpi(first_day, "visitors") == "2"
    assert first_day.context["state"].scale == "hour"
    # In Berlin the phone visit is on 3 Jan.
    third_day = get(client, site, period="custom", **{"from": "2023-01-03", "to": "2023-01-03"})
    assert kpi(third_day, "visitors") == "1"


def test_chart_has_one_point_per_day_and_an_accessible_table(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, **RANGE)
    points = response.context["points"]
    assert [(p.visitors, p.views) for p in points] == [(2, 3), (0, 0), (1, 1)]
    html = response.content.decode()
    assert 'role="img"' in html
    assert '<title id="chart-title">' in html
    assert "<caption>Visitors and page views per day" in html
    assert '<th scope="row">Sun 1 Jan 2023</th><td>2</td><td>3</td>' in html


def test_hourly_chart_for_one_day(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, period="custom", **{"from": "2023-01-01", "to": "2023-01-01"})
    points = response.context["points"]
    assert len(points) == 24
    # 10:00 and 11:00 UTC are 11:00 and 12:00 in Berlin.
    assert [(p.label, p.visitors, p.views) for p in points if p.visitors] == [
        ("11:00", 1, 2),
        ("12:00", 1, 1),
    ]


def test_weekly_and_monthly_scales_for_long_ranges(client, site, owner, traffic):
    client.force_login(owner)
    weekly = get(client, site, period="custom", **{"from": "2022-12-01", "to": "2023-03-31"})
    assert weekly.context["state"].scale == "week"
    monthly = get(client, site, period="custom", **{"from": "2022-01-01", "to": "2023-12-31"})
    assert monthly.context["state"].scale == "month"
    january = next(p for p in monthly.context["points"] if p.label == "Jan 2023")
    assert (january.visitors, january.views) == (3, 4)


def test_previous_period_overlay(client, site, owner, traffic):
    store([event_row(site.pk, datetime(2022, 12, 29, 12, tzinfo=UTC), visitor=9, session=9)])
    client.force_login(owner)
    plain = get(client, site, **RANGE)
    assert plain.context["chart"]["previous"] == ""
    compared = get(client, site, compare="previous", **RANGE)
    assert [p.previous_visitors for p in compared.context["points"]] == [1, 0, 0]
    assert b'class="series-prev"' in compared.content
    assert b"Hide previous period" in compared.content


@pytest.mark.parametrize(
    "period", ["today", "yesterday", "7d", "30d", "month", "lastmonth", "year", "12mo", "all"]
)
def test_every_named_period_renders(client, site, owner, traffic, period):
    client.force_login(owner)
    response = get(client, site, period=period)
    assert response.status_code == 200
    state = response.context["state"]
    assert state.period == period
    assert state.first_day <= state.last_day


def test_all_time_starts_at_the_first_event(client, site, owner, traffic):
    client.force_login(owner)
    state = get(client, site, period="all").context["state"]
    assert state.first_day.isoformat() == "2023-01-01"


def test_bad_range_falls_back_with_a_message(client, site, owner):
    client.force_login(owner)
    response = get(client, site, period="custom", **{"from": "2023-02-01", "to": "2023-01-01"})
    assert response.status_code == 200
    assert response.context["state"].period == "30d"
    assert b"before the start date" in response.content
    response = get(client, site, period="custom", **{"from": "nope", "to": "2023-01-01"})
    assert response.context["state"].period == "30d"
    assert get(client, site, period="forever").context["state"].period == "30d"


# --- panels ----------------------------------------------------------------------------


def test_panels_show_exact_rows(client, site, owner, traffic):
    client.force_login(owner)
    assert panel_values(get(client, site, "panels/pages", **RANGE)) == [
        ("/", 2),
        ("/blog", 1),
        ("/pricing", 1),
    ]
    assert panel_values(get(client, site, "panels/countries", **RANGE)) == [
        ("Germany", 2),
        ("United Kingdom", 1),
    ]
    assert panel_values(get(client, site, "panels/cities", **RANGE)) == [
        ("London (GB)", 1),  # two page views: first among equals
        ("Berlin (DE)", 1),
        ("Munich (DE)", 1),
    ]
    assert panel_values(get(client, site, "panels/devices", **RANGE)) == [
        ("Desktop", 2),
        ("Mobile", 1),
    ]
    assert panel_values(get(client, site, "panels/sources", **RANGE)) == [
        ("Direct / None", 2),
        ("Google", 1),
    ]
    assert panel_values(get(client, site, "panels/utm_source", **RANGE)) == [
        ("(not set)", 2),
        ("newsletter", 1),
    ]
    exits = get(client, site, "panels/exit", **RANGE)
    assert panel_values(exits) == [("/", 1), ("/blog", 1), ("/pricing", 1)]


def test_panel_rows_link_to_the_filtered_dashboard(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, "panels/countries", **RANGE)
    germany = response.context["rows"][0]
    assert germany["href"] == (
        f"/sites/{site.public_id}/?period=custom&from=2023-01-01&to=2023-01-03&country=DE"
    )
    assert germany["share"] == pytest.approx(2 / 3, abs=0.0001)
    html = response.content.decode()
    assert 'hx-get="/sites/' in html  # the group's other tabs load in place
    assert "panels/countries/details?" in html


def test_events_panel_lists_properties(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, "panels/events", **RANGE)
    assert panel_values(response) == [("Signup", 1)]
    assert b"panels/events/details?" in response.content
    assert b"event_name=Signup" in response.content
    props = get(client, site, "panels/events/details", event_name="Signup", **RANGE)
    assert [(r["key"], r["value"], r["visitors"], r["count"]) for r in props.context["rows"]] == [
        ("plan", "pro", 1, 1)
    ]


def test_goals_panel_shows_conversion_rates(client, site, owner, traffic):
    from stats.models import Goal

    Goal.objects.create(site=site, name="Signed up", event_name="Signup")
    Goal.objects.create(site=site, name="Read pricing", path_pattern="^/pricing$")
    client.force_login(owner)
    response = get(client, site, "panels/goals", **RANGE)
    assert [(r["label"], r["visitors"], r["cr"]) for r in response.context["rows"]] == [
        ("Read pricing", 1, pytest.approx(0.3333)),
        ("Signed up", 1, pytest.approx(0.3333)),
    ]


def test_a_failing_panel_shows_a_message_inside_itself(client, site, owner, monkeypatch):
    def broken(panel, stats_query):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(dashboard, "panel_rows", broken)
    client.force_login(owner)
    response = get(client, site, "panels/pages")
    assert response.status_code == 200
    assert b"could not be loaded" in response.content
    assert b"database on fire" not in response.content


def test_details_are_paginated(client, site, owner):
    store(
        [
            event_row(site.pk, at(1, 10, n % 60), visitor=n, session=n, path=f"/p/{n:03d}")
            for n in range(60)
        ]
    )
    client.force_login(owner)
    first = get(client, site, "panels/pages/details", **RANGE)
    assert (first.context["page"], first.context["pages"], len(first.context["rows"])) == (1, 2, 50)
    assert b'rel="next"' in first.content
    second = get(client, site, "panels/pages/details", page="2", **RANGE)
    assert len(second.context["rows"]) == 10
    assert second.context["rows"][-1]["label"] == "/p/059"
    assert get(client, site, "panels/pages/details", page="x", **RANGE).context["page"] == 1


def test_dashboard_loads_every_panel_group_through_htmx(client, site, owner):
    client.force_login(owner)
    html = get(client, site).content.decode()
    for group in dashboard.GROUPS:
        assert f'id="panel-{group}"' in html
    assert html.count('hx-trigger="load"') == len(dashboard.GROUPS)


# --- filters ---------------------------------------------------------------------------


def test_filters_change_the_numbers(client, site, owner, traffic):
    client.force_login(owner)
    assert kpi(get(client, site, country="DE", **RANGE), "visitors") == "2"
    assert kpi(get(client, site, country="!DE", **RANGE), "visitors") == "1"
    assert kpi(get(client, site, city="~unic", **RANGE), "visitors") == "1"
    assert kpi(get(client, site, country="DE", browser="Safari", **RANGE), "visitors") == "1"
    assert panel_values(get(client, site, "panels/pages", country="DE", **RANGE)) == [
        ("/", 1),
        ("/blog", 1),
    ]


def test_filters_show_as_removable_chips(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, country="!DE", path="~blog", **RANGE)
    chips = response.context["chips"]
    assert [(c["label"], c["operator"], c["value"]) for c in chips] == [
        ("Country", "is not", "Germany"),
        ("Page", "contains", "blog"),
    ]
    assert chips[0]["remove"] == "period=custom&from=2023-01-01&to=2023-01-03&path=~blog"
    assert b"Remove filter Country is not Germany" in response.content


def test_add_filter_form_redirects_to_the_filtered_url(client, site, owner):
    client.force_login(owner)
    response = get(client, site, period="7d", fk="path", fo="contains", fv="blog")
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{site.public_id}/?period=7d&path=~blog"
    not_form = get(client, site, period="7d", fk="path", fo="is_not", fv="/a")
    assert not_form["Location"] == f"/sites/{site.public_id}/?period=7d&path=%21%2Fa"
    ignored = get(client, site, period="7d", fk="password", fo="is", fv="x")
    assert ignored["Location"] == f"/sites/{site.public_id}/?period=7d"


def test_a_bad_pattern_filter_is_ignored_with_a_message(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, pattern="(", **RANGE)
    assert response.status_code == 200
    assert response.context["state"].filters == {}
    assert b"filter ignored" in response.content


def test_unknown_parameters_are_not_filters(client, site, owner, traffic):
    client.force_login(owner)
    response = get(client, site, nonsense="1", **RANGE)
    assert response.context["state"].filters == {}
    assert kpi(response, "visitors") == "3"


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


def test_range_picker_urls_are_made_canonical(client, site, owner):
    client.force_login(owner)
    response = get(client, site, period="7d", **{"from": "2023-01-01", "to": "2023-01-03"})
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{site.public_id}/?period=7d"
