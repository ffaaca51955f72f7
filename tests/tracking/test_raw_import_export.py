"""``manage.py import events`` and ``manage.py export events``: raw events from any system."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounts.services import api_client_create
from stats import query as q
from stats.rollups import rollup_pending
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tracking.imports import COLUMNS, BadImport, read_rows
from tracking.models import Event

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def rows() -> list[dict]:
    """Two visitors: one with two visits (the second a bounce), one with a purchase."""
    return [
        {
            "timestamp": T0.isoformat(),
            "url": "https://dummy.site/",
            "referrer": "https://www.google.com/",
            "user_agent": FIREFOX,
            "ip": "203.0.113.5",
        },
        {
            "timestamp": (T0 + timedelta(minutes=3)).isoformat(),
            "url": "https://dummy.site/pricing",
            "user_agent": FIREFOX,
            "ip": "203.0.113.5",
        },
        {
            "timestamp": (T0 + timedelta(hours=3)).isoformat(),
            "url": "https://dummy.site/blog",
            "user_agent": FIREFOX,
            "ip": "203.0.113.5",
        },
        {
            "timestamp": int((T0 + timedelta(days=1)).timestamp() * 1_000_000),  # GA4 micros
            "url": "https://dummy.site/shop",
            "user_agent": CHROME,
            "visitor_key": "ga-1234.5678",
            "country": "de",
        },
        {
            "timestamp": (T0 + timedelta(days=1, minutes=2)).isoformat(),
            "url": "https://dummy.site/checkout",
            "user_agent": CHROME,
            "visitor_key": "ga-1234.5678",
            "event_name": "Purchase",
            "props": {"plan": "pro", "seats": 3},
            "revenue": "49.90",
            "currency": "eur",
        },
    ]


def write_ndjson(tmp_path, data: list[dict], name: str = "events.ndjson"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(row) + "\n" for row in data))
    return path


def write_csv(tmp_path, data: list[dict], name: str = "events.csv"):
    columns = list(dict.fromkeys(k for row in data for k in row))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in data:
        writer.writerow(
            [
                json.dumps(row[c]) if isinstance(row.get(c), dict) else row.get(c, "")
                for c in columns
            ]
        )
    path = tmp_path / name
    path.write_text(out.getvalue())
    return path


def run_import(site, path, *extra) -> dict:
    out = io.StringIO()
    call_command("import", "events", "--site", str(site.pk), str(path), *extra, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("writer", [write_ndjson, write_csv], ids=["ndjson", "csv"])
def test_import_goes_through_the_pipeline_with_its_own_times(tmp_path, site, writer):
    answer = run_import(site, writer(tmp_path, rows()))
    assert set(answer) == {"import_id", "rows", "days", "from", "to"}
    assert (answer["rows"], answer["days"], answer["from"], answer["to"]) == (
        5,
        2,
        "2025-03-10",
        "2025-03-11",
    )
    events = list(Event.objects.order_by("timestamp"))
    assert [e.timestamp for e in events] == [
        T0,
        T0 + timedelta(minutes=3),
        T0 + timedelta(hours=3),
        T0 + timedelta(days=1),
        T0 + timedelta(days=1, minutes=2),
    ]
    assert [e.path for e in events] == ["/", "/pricing", "/blog", "/shop", "/checkout"]
    assert {e.protocol for e in events} == {"import"}
    # Sessions: 30 minutes of inactivity end a visit, as for live hits.
    assert len({e.session_id for e in events}) == 3
    assert events[0].session_start and not events[1].session_start and events[2].session_start
    assert events[0].entry_path == events[1].entry_path == "/"
    assert (events[0].source, events[1].source) == ("Google", "Google")
    assert events[0].browser == "Firefox"
    assert events[3].country_code == events[4].country_code == "DE"
    purchase = events[4]
    assert (purchase.kind, purchase.name) == ("custom", "Purchase")
    assert purchase.props == {"plan": "pro", "seats": "3"}
    assert (purchase.revenue_amount, purchase.revenue_currency) == (Decimal("49.9"), "EUR")
    assert len({e.visitor_id for e in events}) == 2
    dumped = json.dumps([list(Event.objects.values_list())], default=str)
    assert "203.0.113.5" not in dumped and "ga-1234.5678" not in dumped


def test_importing_the_same_file_twice_doubles_nothing(tmp_path, site):
    path = write_ndjson(tmp_path, rows())
    first = run_import(site, path)
    stored = list(Event.objects.order_by("id").values_list("id", "session_id", "timestamp"))
    second = run_import(site, path)
    assert first == second
    assert list(Event.objects.order_by("id").values_list("id", "session_id", "timestamp")) == stored
    # A file with one more row adds exactly that row.
    more = [*rows(), {**rows()[0], "timestamp": (T0 + timedelta(days=2)).isoformat()}]
    run_import(site, write_ndjson(tmp_path, more, "more.ndjson"))
    assert Event.objects.count() == 5 + 6  # another file is another import


def test_the_same_file_for_another_site_is_its_own_import(tmp_path, site):
    other = SiteFactory(hostname="other.example")
    path = write_ndjson(tmp_path, rows())
    assert run_import(site, path)["import_id"] != run_import(other, path)["import_id"]
    assert Event.objects.filter(site_id=other.pk).count() == 5


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (
            '{"timestamp": "2025-03-10T09:00:00Z", "url": "https://a.example/", "ip": "1.2.3.4"}\n'
            '{"timestamp": "yesterday", "url": "https://a.example/", "ip": "1.2.3.4"}\n',
            "line 2, column timestamp",
        ),
        (
            '{"timestamp": "2025-03-10T09:00:00Z", "url": "https://a.example/", "ip": "1.2.3.4"}\n'
            '{"timestamp": "2025-03-10T09:00:00Z", "url": "https://a.example/", "ip": "1.2.3.4",}\n',
            "line 2, column 84",
        ),
        (
            '{"timestamp": "2025-03-10T09:00:00Z", "url": "javascript:alert(1)", "ip": "1.2.3.4"}\n',
            "line 1, column url",
        ),
        (
            '{"timestamp": "2025-03-10T09:00:00Z", "url": "https://a.example/", "ip": "1.2.3.400"}\n',
            "line 1, column ip",
        ),
        (
            '{"timestamp": "2025-03-10T09:00:00Z", "url": "https://a.example/"}\n',
            "line 1, column ip",
        ),
        (
            '{"timestamp": "2025-03-10T09:00:00Z", "url": "https://a.example/", "ip": "1.2.3.4", "props": {"a": {"b": 1}}}\n',
            "line 1, column props",
        ),
        (
            '{"timestamp": "2999-01-01T00:00:00Z", "url": "https://a.example/", "ip": "1.2.3.4"}\n',
            "line 1, column timestamp",
        ),
        (
            "timestamp,url,ip\n2025-03-10T09:00:00Z,https://a.example/,1.2.3.4\n"
            "2025-03-10T09:01:00Z,https://a.example/,1.2.3.4,extra\n",
            "line 3, column 4",
        ),
        (
            "timestamp,url,ip,colour\n2025-03-10T09:00:00Z,https://a.example/,1.2.3.4,red\n",
            "line 1, column 4 ('colour')",
        ),
        (
            "timestamp,url,ip,revenue\n2025-03-10T09:00:00Z,https://a.example/,1.2.3.4,ten\n",
            "line 2, column revenue",
        ),
    ],
)
def test_bad_input_names_file_line_and_column_and_stores_nothing(tmp_path, site, content, where):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(CommandError) as error:
        run_import(site, path)
    assert str(error.value).startswith(f"{path}: {where}:"), str(error.value)
    assert Event.objects.count() == 0


def test_non_utf8_is_refused_with_its_position(tmp_path, site):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"timestamp,url,ip\n2025-03-10T09:00:00Z,https://a.example/caf\xe9,1.2.3.4\n")
    with pytest.raises(CommandError, match=r"line 2, column 43: not UTF-8"):
        run_import(site, path)
    assert Event.objects.count() == 0


def test_limits_on_rows_and_bytes(tmp_path, site, settings):
    path = write_ndjson(tmp_path, rows())
    settings.IMPORT_MAX_ROWS = 4
    with pytest.raises(CommandError, match=r"line 5, column -: more than 4 rows"):
        run_import(site, path)
    settings.IMPORT_MAX_ROWS = 100
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(CommandError, match=r"more than the 100 allowed"):
        run_import(site, path)
    assert Event.objects.count() == 0


def test_only_owners_and_admins_import_or_export(tmp_path, site):
    viewer = SiteMembershipFactory(site=site, role="viewer").user
    admin = SiteMembershipFactory(site=site, role="admin").user
    stranger = UserFactory()
    path = write_ndjson(tmp_path, rows())
    for user in (viewer, stranger):
        with pytest.raises(CommandError, match="Owners and Admins"):
            run_import(site, path, "--user", user.email)
        with pytest.raises(CommandError, match="Owners and Admins"):
            call_command("export", "events", "--site", str(site.pk), "--user", user.email)
    assert Event.objects.count() == 0
    assert run_import(site, path, "--user", admin.email)["rows"] == 5


def test_unknown_site_and_raw_events_as_a_plausible_export(tmp_path, site):
    path = write_ndjson(tmp_path, rows())
    with pytest.raises(CommandError, match="no site"):
        call_command("import", "events", "--site", "999999", str(path))
    with pytest.raises(CommandError, match="not a file of Plausible's CSV export"):
        call_command("import", "plausible", "--site", str(site.pk), str(path))


def export(site, *args) -> str:
    out = io.StringIO()
    call_command(
        "export", "events", "--site", str(site.pk), *args, stdout=out, stderr=io.StringIO()
    )
    return out.getvalue()


def test_export_ndjson_every_column_within_the_days(tmp_path, site):
    run_import(site, write_ndjson(tmp_path, rows()))
    every = [json.loads(line) for line in export(site).splitlines()]
    assert len(every) == 5
    assert set(every[0]) == {f.column for f in Event._meta.concrete_fields}
    first_day = [
        json.loads(line)
        for line in export(site, "--from", "2025-03-10", "--to", "2025-03-10").splitlines()
    ]
    assert [e["path"] for e in first_day] == ["/", "/pricing", "/blog"]
    assert first_day[0]["timestamp"] == "2025-03-10T09:00:00+00:00"
    assert [json.loads(x)["path"] for x in export(site, "--from", "2025-03-11").splitlines()] == [
        "/shop",
        "/checkout",
    ]
    other = SiteFactory(hostname="other.example")
    assert export(other) == ""


def test_export_csv_neutralises_formulas(tmp_path, site):
    data = rows()
    data[4]["event_name"] = '=HYPERLINK("http://evil.example")'
    run_import(site, write_ndjson(tmp_path, data))
    table = list(csv.DictReader(io.StringIO(export(site, "--format", "csv"))))
    assert len(table) == 5
    assert table[4]["name"] == '\'=HYPERLINK("http://evil.example")'
    assert json.loads(table[4]["props"]) == {"plan": "pro", "seats": "3"}
    assert table[4]["revenue_amount"] == "49.9000"


def test_bad_export_days_are_refused(site):
    with pytest.raises(CommandError, match="not a day"):
        export(site, "--from", "March")
    with pytest.raises(CommandError, match="before --from"):
        export(site, "--from", "2025-03-11", "--to", "2025-03-10")


def test_statistics_of_an_import_equal_those_of_the_same_hits_tracked_live(
    tmp_path, client, site, drain
):
    """The oracle: the same hits imported into one site and sent live (Matomo bulk with an
    admin token, back-dated) into another give the same visitors, views, sessions, bounces."""
    live = SiteFactory(hostname="dummy.site")
    owner = UserFactory()
    SiteMembershipFactory(site=live, user=owner, role="owner")
    token = api_client_create(user=owner, type="matomo", site=live)[1]["key"]
    data = [r for r in rows() if "ip" in r]
    data += [
        {
            "timestamp": (T0 + timedelta(days=1, minutes=n)).isoformat(),
            "url": f"https://dummy.site/p{n % 3}",
            "user_agent": CHROME,
            "ip": f"198.51.100.{n % 4}",
        }
        for n in range(0, 90, 7)
    ]
    run_import(site, write_ndjson(tmp_path, data))
    requests = [
        {
            "idsite": str(live.pk),
            "rec": "1",
            "url": r["url"],
            "urlref": r.get("referrer", ""),
            "ua": r["user_agent"],
            "cip": r["ip"],
            "cdt": datetime.fromisoformat(r["timestamp"]).strftime("%Y-%m-%d %H:%M:%S"),
        }
        for r in data
    ]
    response = client.post(
        "/matomo.php",
        data=json.dumps({"token_auth": token, "requests": requests}),
        content_type="application/json",
    )
    assert response.json()["tracked"] == len(data)
    drain()
    rollup_pending()
    for raw in (True, False):
        imported, tracked = (
            q.totals(q.StatsQuery(s.pk, date(2025, 3, 10), date(2025, 3, 11), "UTC", raw=raw))
            for s in (site, live)
        )
        assert imported == tracked
        assert imported["views"] == len(data)
        assert imported["sessions"] > 2 and imported["bounces"] >= 1


ROW_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["2025-03-10T09:00:00Z", "https://a.example/", "1.2.3.4", "NaN", "1e999"]),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5) | st.integers(), max_size=3),
    st.lists(st.integers(), max_size=2),
)


@hsettings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.dictionaries(st.sampled_from([*COLUMNS, "other"]), ROW_VALUES, max_size=8), max_size=4
    )
)
def test_any_ndjson_rows_are_read_or_refused_with_a_position(rows):
    data = "".join(json.dumps(row) + "\n" for row in rows).encode()
    try:
        read = read_rows(data, "f.ndjson", max_rows=100)
    except BadImport as exc:
        assert re.match(r"^f\.ndjson: line \d+, column .+?: ", str(exc)), str(exc)
    else:
        assert len(read) == len([r for r in rows])


@hsettings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_are_read_or_refused_with_a_position(data):
    for prefix in (b"", b"timestamp,url,ip\n", b"{"):
        try:
            read_rows(prefix + data, "f", max_rows=100)
        except BadImport as exc:
            assert re.match(r"^f: line \d+, column .+?: ", str(exc)), str(exc)


def test_deeply_nested_or_huge_json_is_refused_with_its_line(tmp_path, site):
    for line in ("[" * 100_000 + "]" * 100_000, '{"timestamp": ' + "9" * 5000 + "}"):
        path = tmp_path / "deep.ndjson"
        path.write_text(line + "\n")
        with pytest.raises(CommandError, match=r"deep\.ndjson: line 1, column 1: "):
            run_import(site, path)


def test_derived_ids_are_deterministic_time_ordered_uuid7():
    from analytics_project.ids import derived_uuid7

    first = derived_uuid7("imp_x:1", 1_741_597_200_000)
    assert first == derived_uuid7("imp_x:1", 1_741_597_200_000)
    assert first != derived_uuid7("imp_x:2", 1_741_597_200_000)
    assert (first.version, first.variant) == (7, "specified in RFC 4122")
    assert first < derived_uuid7("imp_x:0", 1_741_597_200_001)
    assert first.int >> 80 == 1_741_597_200_000
