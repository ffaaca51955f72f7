"""Matomo's log importer (``import_logs.py`` of matomo-log-analytics) against Footfall.

The script is not a package and is not in this repository: these tests replay the exact
requests it makes, read from its source (see docs/imports.md):

- API calls: ``POST /`` with a form body ``module=API&format=json&method=…&filter_limit=-1
  &token_auth=…`` plus the method's parameters (``idSite``; ``url``; ``siteName`` and
  ``urls[0]``), parsed as JSON; an answer with ``"result": "error"`` stops it with the message.
- Tracking: ``POST /piwik.php?queuedtracking=0`` with ``Content-type: application/json`` and
  ``{"token_auth": …, "requests": [hit, …]}`` (200 hits by default), each hit a JSON object
  ``rec, apiv, url, urlref, cip, cdt, idsite, queuedtracking, dp, ua, cvar`` (+ ``download``,
  ``action_name`` for error pages, ``bots`` and ``_cvar`` with ``--enable-bots``, ``pf_srv``,
  ``bw_bytes``, ``uid``), ``cdt`` in UTC as ``YYYY-MM-DD HH:MM:SS``. It reads ``tracked``
  and ``invalid_indices`` from the answer.

Log lines of four formats (common, combined, nginx JSON, IIS) are turned into those hits
here with small parsers written for the test, and the stored visits, page views and dates
are checked against the lines.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounts.services import api_client_create
from sites.models import Site, SiteMembership
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tracking.models import Event

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
# The importer's own agent header on every request it makes.
IMPORTER_HEADERS = {"HTTP_USER_AGENT": "Matomo/LogImport"}


@pytest.fixture
def owner(site):
    user = UserFactory()
    SiteMembershipFactory(site=site, user=user, role="owner")
    return user


@pytest.fixture
def token(owner, site):
    return api_client_create(user=owner, type="matomo", site=site)[1]["key"]


@pytest.fixture
def account_token(owner):
    return api_client_create(user=owner, type="matomo")[1]["key"]


def call_api(client, token: str, method: str, **params) -> object:
    """One ``call_api`` of the importer: a form POST to ``/``."""
    args = {"module": "API", "format": "json", "method": method, "filter_limit": "-1"}
    if token:
        args["token_auth"] = token
    pairs = list(args.items())
    for key, value in params.items():
        if isinstance(value, list):
            pairs += [(f"{key}[{n}]", item) for n, item in enumerate(value)]
        else:
            pairs.append((key, value))
    response = client.post(
        "/",
        data=urlencode(pairs),
        content_type="application/x-www-form-urlencoded",
        **IMPORTER_HEADERS,
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()


# --- the API calls ------------------------------------------------------------------------


def test_get_site_from_id_gives_the_main_url(client, site, token):
    answer = call_api(client, token, "SitesManager.getSiteFromId", idSite=str(site.pk))
    assert answer["idsite"] == site.pk
    assert answer["main_url"] == "https://dummy.site"
    assert answer["name"] == "Dummy"
    assert answer["timezone"] == "UTC"


def test_api_is_also_answered_at_index_php_and_in_the_query_string(client, site, token):
    query = urlencode(
        {
            "module": "API",
            "method": "SitesManager.getSiteFromId",
            "idSite": site.pk,
            "format": "json",
            "token_auth": token,
        }
    )
    for path in ("/", "/index.php"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200
        assert response.json()["main_url"] == "https://dummy.site"


def test_the_home_page_is_still_the_home_page(client, site, owner):
    assert client.get("/")["Location"].startswith("/accounts/login/")
    client.force_login(owner)
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Dummy" in response.content.decode()


def test_api_errors_have_matomos_shape_and_tell_no_tenant_apart(client, site, token):
    other_user = UserFactory()
    other_site = SiteFactory(hostname="other.example")
    SiteMembershipFactory(site=other_site, user=other_user, role="owner")
    other_token = api_client_create(user=other_user, type="matomo")[1]["key"]
    hidden = call_api(client, other_token, "SitesManager.getSiteFromId", idSite=str(site.pk))
    missing = call_api(client, other_token, "SitesManager.getSiteFromId", idSite="999999")
    assert hidden["result"] == "error"
    assert hidden["message"].replace(str(site.pk), "N") == missing["message"].replace("999999", "N")
    assert "Dummy" not in json.dumps(hidden)
    assert (
        call_api(client, other_token, "SitesManager.getSitesIdFromSiteUrl", url="dummy.site") == []
    )
    assert str(site.pk) not in call_api(client, other_token, "SitesManager.getAllSites")
    for bad in ("", "not-a-key", "a" * 600):
        answer = call_api(client, bad, "SitesManager.getSiteFromId", idSite=str(site.pk))
        assert answer["result"] == "error"
        assert "Dummy" not in json.dumps(answer)
    unknown = call_api(client, token, "SitesManager.deleteSite", idSite=str(site.pk))
    assert unknown == {
        "result": "error",
        "message": "The method 'deleteSite' does not exist or is not available in the module "
        "'SitesManager'.",
    }
    assert Site.objects.filter(pk=site.pk).exists()


def test_sites_id_from_site_url_and_all_sites(client, site, token):
    # The importer passes the log line's host, without a scheme.
    for url in ("dummy.site", "www.dummy.site", "https://dummy.site/"):
        assert call_api(client, token, "SitesManager.getSitesIdFromSiteUrl", url=url) == [
            {"idsite": site.pk}
        ]
    assert call_api(client, token, "SitesManager.getSitesIdFromSiteUrl", url="nope.example") == []
    every = call_api(client, token, "SitesManager.getAllSites")
    assert list(every) == [str(site.pk)]  # keyed by idsite, as Matomo's array is
    assert every[str(site.pk)]["main_url"] == "https://dummy.site"


def test_add_site_needs_an_account_wide_key(client, site, owner, token, account_token):
    before = Site.objects.count()
    refused = call_api(
        client, token, "SitesManager.addSite", siteName="new.example", urls=["http://new.example"]
    )
    assert refused["result"] == "error"
    assert Site.objects.count() == before
    added = call_api(
        client,
        account_token,
        "SitesManager.addSite",
        siteName="new.example",
        urls=["http://new.example"],
    )
    new_site = Site.objects.get(pk=added["value"])
    assert new_site.hostname == "new.example"
    assert SiteMembership.objects.get(site=new_site).user == owner
    assert call_api(
        client, account_token, "SitesManager.getSitesIdFromSiteUrl", url="new.example"
    ) == [{"idsite": new_site.pk}]
    invalid = call_api(
        client, account_token, "SitesManager.addSite", siteName="x", urls=["http://bad host/"]
    )
    assert invalid["result"] == "error"
    assert Site.objects.count() == before + 1


# --- log lines → the importer's hits ------------------------------------------------------

MONTHS = {
    m: n
    for n, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}
NCSA = re.compile(
    r'(?P<ip>\S+) \S+ \S+ \[(?P<date>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) \S+" '
    r'(?P<status>\d{3}) (?P<length>\S+)(?: "(?P<referrer>[^"]*)" "(?P<user_agent>[^"]*)")?'
)
DOWNLOADS = {"pdf", "zip", "csv", "mp3", "exe"}


def _ncsa_date(text: str) -> datetime:
    # 10/Feb/2024:16:42:07 -0500 → UTC, the way the importer subtracts the zone.
    day, month, rest = text.split("/", 2)
    year, hh, mm, ss_zone = rest.split(":", 3)
    ss, zone = ss_zone.split(" ")
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * (-1 if zone[0] == "-" else 1)
    local = datetime(int(year), MONTHS[month], int(day), int(hh), int(mm), int(ss), tzinfo=UTC)
    return local - offset


def parse_ncsa(line: str) -> dict:
    match = NCSA.match(line)
    length = match["length"]
    return {
        "ip": match["ip"],
        "date": _ncsa_date(match["date"]),
        "path": match["path"],
        "status": match["status"],
        "length": int(length) if length.isdigit() else 0,
        "referrer": "" if match["referrer"] in (None, "-") else match["referrer"],
        "user_agent": match["user_agent"] or "",
        "host": None,
    }


def parse_nginx_json(line: str) -> dict:
    data = json.loads(line)
    return {
        "ip": data["ip"],
        "date": datetime.fromisoformat(data["date"]).astimezone(UTC),
        "path": data["path"],
        "status": data["status"],
        "length": int(data.get("length") or 0),
        "referrer": data.get("referrer", ""),
        "user_agent": data.get("user_agent", ""),
        "host": data.get("host"),
        "generation_time_milli": float(data.get("generation_time_milli") or 0),
    }


IIS_FIELDS = [
    "date",
    "time",
    "s-ip",
    "cs-method",
    "cs-uri-stem",
    "cs-uri-query",
    "s-port",
    "cs-username",
    "c-ip",
    "cs(User-Agent)",
    "cs(Referer)",
    "sc-status",
    "sc-substatus",
    "sc-win32-status",
    "time-taken",
]


def parse_iis(line: str) -> dict:
    values = dict(zip(IIS_FIELDS, line.split(" "), strict=True))
    query = values["cs-uri-query"]
    return {
        "ip": values["c-ip"],
        "date": datetime.fromisoformat(f"{values['date']}T{values['time']}").replace(tzinfo=UTC),
        "path": values["cs-uri-stem"] + ("" if query == "-" else f"?{query}"),
        "status": values["sc-status"],
        "length": 0,
        "referrer": "" if values["cs(Referer)"] == "-" else values["cs(Referer)"],
        # W3C logs write spaces in the agent as '+'; the importer turns them back.
        "user_agent": values["cs(User-Agent)"].replace("+", " "),
        "host": None,
        "generation_time_milli": float(values["time-taken"]),
    }


def importer_hit(
    line: dict, site_id: int, main_url: str, *, enable_bots: bool = False, is_bot: bool = False
) -> dict | None:
    """The hit the importer sends for a parsed line, or None for a line it skips itself
    (static files, bots without --enable-bots, errors without --enable-http-errors: the
    tests that send those build them on purpose)."""
    path = line["path"][:1024]
    prefix = main_url if not line["host"] else main_url.split("://")[0] + "://" + line["host"]
    url = prefix + path
    hit: dict = {
        "rec": "1",
        "apiv": "1",
        "url": url,
        "urlref": line["referrer"][:1024],
        "cip": line["ip"],
        "cdt": line["date"].strftime("%Y-%m-%d %H:%M:%S"),
        "idsite": str(site_id),
        "queuedtracking": "0",
        "dp": "1",
        "ua": line["user_agent"],
    }
    custom = {"1": ["HTTP-code", line["status"]]}
    if enable_bots:
        hit["_cvar"] = json.dumps({"1": ["Bot" if is_bot else "Not-Bot", line["user_agent"]]})
        hit["bots"] = "1"
    extension = line["path"].split("?")[0].rsplit(".", 1)[-1].lower()
    if extension in DOWNLOADS:
        hit["download"] = url
    if line["status"][0] in "45":
        referrer = f"/From = {quote(hit['urlref'], '')}" if hit["urlref"] else ""
        hit["action_name"] = f"{line['status']}/URL = {quote(url, '')}{referrer}"
    if line.get("generation_time_milli", 0) > 0:
        hit["pf_srv"] = int(line["generation_time_milli"])
    if line["length"]:
        hit["bw_bytes"] = line["length"]
    hit["cvar"] = json.dumps(custom)
    return hit


def send_bulk(client, token: str, hits: list) -> dict:
    response = client.post(
        "/piwik.php?queuedtracking=0",
        data=json.dumps({"token_auth": token, "requests": hits}),
        content_type="application/json",
        **IMPORTER_HEADERS,
    )
    assert response.status_code == 200, response.content
    return response.json()


COMMON = [
    '203.0.113.5 - - [10/Feb/2024:16:42:07 -0500] "GET / HTTP/1.1" 200 3120',
    '203.0.113.5 - - [10/Feb/2024:16:43:10 -0500] "GET /about HTTP/1.1" 200 1800',
    '203.0.113.5 - - [10/Feb/2024:16:50:00 -0500] "GET /pricing?plan=pro HTTP/1.1" 200 2200',
    # The same visitor 2 hours later: a second visit.
    '203.0.113.5 - - [10/Feb/2024:18:51:00 -0500] "GET / HTTP/1.1" 200 3120',
    # Another visitor, after midnight UTC (their local day is still the 10th).
    '198.51.100.7 - - [10/Feb/2024:20:05:00 -0500] "GET /blog/post HTTP/1.1" 200 5000',
]
COMBINED = [
    f'203.0.113.9 - - [01/Mar/2024:08:00:00 +0100] "GET /landing HTTP/1.1" 200 900 "https://www.google.com/" "{FIREFOX}"',
    f'203.0.113.9 - - [01/Mar/2024:08:01:30 +0100] "GET /signup HTTP/1.1" 200 1200 "https://dummy.site/landing" "{FIREFOX}"',
    f'203.0.113.10 - - [01/Mar/2024:09:15:00 +0100] "GET /landing HTTP/1.1" 200 900 "-" "{CHROME}"',
]
NGINX_JSON = [
    json.dumps(
        {
            "ip": "192.0.2.44",
            "host": "dummy.site",
            "path": "/docs/start",
            "status": "200",
            "referrer": "https://duckduckgo.com/",
            "user_agent": CHROME,
            "length": 4321,
            "generation_time_milli": 12.5,
            "date": "2023-11-05T23:59:30+02:00",
        }
    ),
    json.dumps(
        {
            "ip": "192.0.2.44",
            "host": "dummy.site",
            "path": "/docs/install",
            "status": "200",
            "referrer": "https://dummy.site/docs/start",
            "user_agent": CHROME,
            "length": 2000,
            "generation_time_milli": 8.0,
            "date": "2023-11-06T00:04:30+02:00",
        }
    ),
]
IIS = [
    f"2022-07-01 10:00:13 10.0.0.1 GET /products/list - 443 - 192.0.2.60 {CHROME.replace(' ', '+')} - 200 0 0 31",
    f"2022-07-01 10:02:00 10.0.0.1 GET /products/item id=42 443 - 192.0.2.60 {CHROME.replace(' ', '+')} https://dummy.site/products/list 200 0 0 15",
]


def _pageviews(events):
    return [e for e in events if e.kind == "pageview"]


@pytest.mark.parametrize(
    ("lines", "parse", "visits", "first_day"),
    [
        (COMMON, parse_ncsa, 3, "2024-02-10"),
        (COMBINED, parse_ncsa, 2, "2024-03-01"),
        (NGINX_JSON, parse_nginx_json, 1, "2023-11-05"),
        (IIS, parse_iis, 1, "2022-07-01"),
    ],
    ids=["common", "combined", "nginx_json", "iis"],
)
def test_bulk_as_the_importer_builds_it_from_log_lines(
    client, site, token, drain, lines, parse, visits, first_day
):
    main_url = call_api(client, token, "SitesManager.getSiteFromId", idSite=str(site.pk))[
        "main_url"
    ]
    parsed = [parse(line) for line in lines]
    hits = [importer_hit(p, site.pk, main_url) for p in parsed]
    assert send_bulk(client, token, hits) == {
        "status": "success",
        "tracked": len(lines),
        "invalid": 0,
        "invalid_indices": [],
    }
    events = drain()
    assert len(_pageviews(events)) == len(lines)
    # Every page view at its log line's time, on its path.
    assert [(e.timestamp, e.path) for e in events] == [
        (p["date"], p["path"].split("?")[0]) for p in sorted(parsed, key=lambda p: p["date"])
    ]
    assert events[0].timestamp.date().isoformat() == first_day
    assert len({e.session_id for e in events}) == visits
    assert all(e.props["HTTP-code"] == "200" for e in events)
    assert not any(
        str(value) in json.dumps(e.props) for e in events for value in (p["ip"] for p in parsed)
    )


def test_visitor_ip_from_cip_separates_visitors(client, site, token, drain):
    # One server sends everything: without cip every line would be one visitor.
    hits = [importer_hit(parse_ncsa(line), site.pk, "https://dummy.site") for line in COMMON]
    send_bulk(client, token, hits)
    events = drain()
    assert len({e.visitor_id for e in events}) == 2


def test_without_an_admin_token_back_dated_hits_are_invalid(client, site, drain):
    viewer = UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    viewer_token = api_client_create(user=viewer, type="matomo")[1]["key"]
    hits = [importer_hit(parse_ncsa(line), site.pk, "https://dummy.site") for line in COMMON]
    answer = send_bulk(client, viewer_token, hits)
    assert (answer["tracked"], answer["invalid"]) == (0, len(COMMON))
    assert drain() == []


def test_several_hundred_hits_in_one_request(client, site, token, drain):
    start = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
    lines = [
        f"10.1.{n // 200}.{n % 200} - - [{(start + timedelta(seconds=n)).strftime('%d/%b/%Y:%H:%M:%S')} +0000] "
        f'"GET /page/{n % 7} HTTP/1.1" 200 100 "-" "{FIREFOX}"'
        for n in range(600)
    ]
    hits = [importer_hit(parse_ncsa(line), site.pk, "https://dummy.site") for line in lines]
    answer = send_bulk(client, token, hits)
    assert (answer["tracked"], answer["invalid"]) == (600, 0)
    events = drain()
    assert len(events) == 600
    assert events[0].timestamp == start
    assert events[-1].timestamp == start + timedelta(seconds=599)


def test_a_line_without_a_site_is_listed_as_invalid(client, site, token, drain):
    # The dynamic resolver leaves no args (null) for a line whose host has no site.
    good = importer_hit(parse_ncsa(COMMON[0]), site.pk, "https://dummy.site")
    answer = send_bulk(client, token, [good, None, good | {"cdt": "not a date"}])
    assert answer == {"status": "success", "tracked": 1, "invalid": 2, "invalid_indices": [1, 2]}
    assert len(drain()) == 1


def test_downloads_are_file_download_events(client, site, token, drain):
    line = f'203.0.113.5 - - [10/Feb/2024:16:42:07 +0000] "GET /files/report.pdf HTTP/1.1" 200 99999 "-" "{FIREFOX}"'
    hit = importer_hit(parse_ncsa(line), site.pk, "https://dummy.site")
    assert hit["download"] == "https://dummy.site/files/report.pdf"
    send_bulk(client, token, [hit])
    [event] = drain()
    assert (event.kind, event.name, event.props["url"]) == (
        "custom",
        "File Download",
        "https://dummy.site/files/report.pdf",
    )
    assert event.path == "/files/report.pdf"


def test_http_errors_are_page_views_titled_by_status(client, site, token, drain):
    line = f'203.0.113.5 - - [10/Feb/2024:16:42:07 +0000] "GET /missing HTTP/1.1" 404 120 "https://dummy.site/" "{FIREFOX}"'
    hit = importer_hit(parse_ncsa(line), site.pk, "https://dummy.site")
    send_bulk(client, token, [hit])
    [event] = drain()
    assert event.kind == "pageview"
    assert event.path == "/missing"
    assert event.title == (
        "404/URL = https%3A%2F%2Fdummy.site%2Fmissing/From = https%3A%2F%2Fdummy.site%2F"
    )
    assert event.props["HTTP-code"] == "404"
    assert event.props["action_category"] == "404"


def test_bots_stay_out_unless_enable_bots(client, site, token, drain):
    line = f'66.249.66.1 - - [10/Feb/2024:16:42:07 +0000] "GET / HTTP/1.1" 200 120 "-" "{BOT}"'
    parsed = parse_ncsa(line)
    # A bot the importer does not know sends no marker: Footfall's own filter drops it.
    answer = send_bulk(client, token, [importer_hit(parsed, site.pk, "https://dummy.site")])
    assert answer["tracked"] == 1
    assert drain() == []
    # --enable-bots: the user asked for them; they are stored, marked as the importer marks them.
    hit = importer_hit(parsed, site.pk, "https://dummy.site", enable_bots=True, is_bot=True)
    send_bulk(client, token, [hit])
    [event] = drain()
    assert event.props["Bot"] == BOT


def test_dates_stay_the_log_lines_in_the_sites_time_zone(client, site, token, drain):
    Site.objects.filter(pk=site.pk).update(timezone="America/New_York")
    hits = [importer_hit(parse_ncsa(line), site.pk, "https://dummy.site") for line in COMMON]
    send_bulk(client, token, hits)
    events = drain()
    zone = timezone(timedelta(hours=-5))
    assert {e.timestamp.astimezone(zone).date().isoformat() for e in events} == {"2024-02-10"}
    assert Event.objects.filter(site=site).count() == len(COMMON)


def test_a_bulk_of_the_importer_looks_its_token_up_once(
    client, site, token, drain, django_assert_max_num_queries
):
    """200 hits with one token (the importer's default payload): the token's role is looked up
    once, not once per hit (it was 200 queries and 2.8 s per request on the dev machine)."""
    start = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
    lines = [
        f"10.2.{n // 200}.{n % 200} - - [{(start + timedelta(seconds=n)).strftime('%d/%b/%Y:%H:%M:%S')} +0000] "
        f'"GET /page/{n % 7} HTTP/1.1" 200 100 "-" "{FIREFOX}"'
        for n in range(200)
    ]
    hits = [importer_hit(parse_ncsa(line), site.pk, "https://dummy.site") for line in lines]
    send_bulk(client, token, hits[:1])  # warm the site cache, as a running server has it
    with django_assert_max_num_queries(5):
        answer = send_bulk(client, token, hits)
    assert (answer["tracked"], answer["invalid"]) == (200, 0)
    assert len(drain()) == 200  # the warm-up hit, sent again, is stored once


@hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "method",
                "idSite",
                "idsite",
                "url",
                "siteName",
                "urls[0]",
                "urls[]",
                "urls",
                "format",
                "module",
                "timezone",
                "x",
            ]
        ),
        st.text(max_size=30)
        | st.sampled_from(
            [
                "SitesManager.getSiteFromId",
                "SitesManager.addSite",
                "SitesManager.getAllSites",
                "SitesManager.getSitesIdFromSiteUrl",
                "json",
                "API",
                "-1",
                "1" * 30,
                "Europe/Nowhere",
            ]
        ),
        max_size=6,
    ),
    via_get=st.booleans(),
)
def test_any_api_parameters_get_matomos_json_never_a_server_error(
    client, site, account_token, params, via_get
):
    args = {"module": "API", "format": "json", "token_auth": account_token, **params}
    if not via_get:
        args["module"] = "API"  # without it, / is the product's home page
    if via_get:
        response = client.get("/index.php", args)
    else:
        response = client.post(
            "/", data=urlencode(args), content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    response.json()


def test_the_same_log_imported_twice_is_stored_once(client, site, token, drain):
    lines = [*COMMON, COMMON[1]]  # the same line twice in the log: two page views
    hits = [importer_hit(parse_ncsa(line), site.pk, "https://dummy.site") for line in lines]
    assert send_bulk(client, token, hits)["tracked"] == len(lines)
    first = [(e.id, e.timestamp, e.path) for e in drain()]
    assert len(first) == len(lines)
    # The importer run again on the same log (here in other batches): nothing doubles.
    assert send_bulk(client, token, hits[:2])["tracked"] == 2
    assert send_bulk(client, token, hits[2:])["tracked"] == len(lines) - 2
    assert [(e.id, e.timestamp, e.path) for e in drain()] == first
    # Hits without a back-date and visitor address (live traffic) are never merged.
    live = {k: v for k, v in hits[0].items() if k not in ("cdt", "cip")}
    send_bulk(client, token, [live, live])
    assert len(drain()) == len(lines) + 2
