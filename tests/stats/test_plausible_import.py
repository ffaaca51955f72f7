"""Plausible CSV import and export (issue #16): ``manage.py import plausible``, ``manage.py
export plausible``, the ``Import`` runs (progress, cancel, delete, idempotency), bad input
and limits, and the round trip native → export → import into a fresh site."""

from __future__ import annotations

import csv
import functools
import io
import json
import tempfile
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from stats import imports, plausible_csv
from stats import query as q
from stats.models import Import, ImportedBreakdownDay, ImportedDay
from stats.query.sources import imported
from stats.rollups import rollup_site
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tracking import imports as raw
from tracking.models import Event

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def site(db):
    return SiteFactory(hostname="dummy.site", display_name="Dummy", timezone="UTC")


def small_export() -> dict[str, str]:
    """A two-day export as Plausible writes it (quoted header and text, bare numbers)."""
    return {
        "imported_visitors_20240101_20240102.csv": (
            '"date","visitors","pageviews","bounces","visits","visit_duration"\n'
            '"2024-01-01",10,30,4,12,600\n"2024-01-02",5,9,2,6,120\n'
        ),
        "imported_sources_20240101_20240102.csv": (
            "date,source,referrer,utm_source,utm_medium,utm_campaign,utm_content,utm_term,"
            "pageviews,visitors,visits,visit_duration,bounces\n"
            "2024-01-01,Google,www.google.com,,,,,,20,7,8,400,3\n"
            "2024-01-01,,,,,,,,10,3,4,200,1\n"
            "2024-01-02,Google,www.google.com,,,,,,9,5,6,120,2\n"
        ),
        # The page columns of an older export: ``exits`` and ``time_on_page`` and an
        # unknown column, all read by name.
        "imported_pages_20240101_20240102.csv": (
            "date,hostname,page,visits,visitors,pageviews,exits,time_on_page,colour\n"
            "2024-01-01,dummy.site,/,10,8,20,6,300,red\n"
            "2024-01-01,dummy.site,/pricing,4,4,10,4,100,blue\n"
            "2024-01-02,dummy.site,/,6,5,9,6,60,red\n"
        ),
        "imported_locations_20240101_20240102.csv": (
            "date,country,region,city,visitors,visits,visit_duration,bounces,pageviews\n"
            "2024-01-01,DE,DE-BE,2950159,6,7,300,2,18\n2024-01-01,US,,0,4,5,300,2,12\n"
        ),
        "imported_devices_20240101_20240102.csv": (
            "date,device,visitors,visits,visit_duration,bounces,pageviews\n"
            "2024-01-01,Desktop,10,12,600,4,30\n"
        ),
        "imported_custom_events_20240101_20240102.csv": (
            "date,name,link_url,path,visitors,events\n"
            "2024-01-01,Signup,,,3,3\n2024-01-01,File Download,https://dummy.site/a.pdf,,2,5\n"
        ),
        "imported_custom_props_20240101_20240102.csv": (
            "date,property,value,visitors,events\n2024-01-01,plan,pro,2,2\n"
        ),
    }


def make_zip(files: dict[str, str | bytes], name: str = "export.zip", tmp_path=None):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file, text in files.items():
            archive.writestr(file, text)
    data = out.getvalue()
    if tmp_path is None:
        return data
    path = tmp_path / name
    path.write_bytes(data)
    return path


def run(site, *paths, stderr=None) -> dict:
    out = io.StringIO()
    call_command(
        "import",
        "plausible",
        "--site",
        str(site.pk),
        *map(str, paths),
        stdout=out,
        stderr=stderr or io.StringIO(),
    )
    return json.loads(out.getvalue())


def test_cli_imports_a_zip_and_prints_the_json(tmp_path, site):
    stderr = io.StringIO()
    answer = run(site, make_zip(small_export(), tmp_path=tmp_path), stderr=stderr)
    assert answer == {
        "import_id": answer["import_id"],
        "rows": 2 + 3 + 3 + 2 + 1 + 2 + 1,
        "days": 2,
        "from": "2024-01-01",
        "to": "2024-01-02",
    }
    assert "100%" in stderr.getvalue()  # the progress bar
    record = Import.objects.get(pk=answer["import_id"])
    assert (record.status, record.percent, record.kind) == ("complete", 100, "plausible")
    assert list(ImportedDay.objects.order_by("day").values_list("day", "visitors", "visits")) == [
        (date(2024, 1, 1), 10, 12),
        (date(2024, 1, 2), 5, 6),
    ]
    pages = ImportedBreakdownDay.objects.filter(table="pages").order_by("day", "path")
    assert [(p.path, p.exits, p.total_time_on_page) for p in pages] == [
        ("/", 6, 300),
        ("/pricing", 4, 100),
        ("/", 6, 60),
    ]
    device = ImportedBreakdownDay.objects.get(table="devices")
    assert device.device == "desktop"
    city = ImportedBreakdownDay.objects.get(table="locations", country="DE")
    assert (city.region, city.city) == ("DE-BE", 2950159)


def test_loose_files_and_the_zip_are_the_same_rows(tmp_path, site):
    paths = []
    for name, text in small_export().items():
        (tmp_path / name).write_text(text)
        paths.append(tmp_path / name)
    answer = run(site, *paths)
    assert answer["rows"] == 14
    assert ImportedBreakdownDay.objects.filter(imported_id=answer["import_id"]).count() == 12


def test_the_same_file_twice_doubles_nothing(tmp_path, site):
    path = make_zip(small_export(), tmp_path=tmp_path)
    first = run(site, path)
    second = run(site, path)
    assert first == second
    assert Import.objects.count() == 1
    assert ImportedDay.objects.count() == 2
    cover = imported.coverage(site.pk, "UTC", date(2024, 1, 1), date(2024, 1, 2))
    assert sum(m["visitors"] for m in imported.daily(cover, site.pk, {}).values()) == 15
    # Another site importing the same file has its own import.
    other = SiteFactory(hostname="other.site")
    assert run(other, path)["import_id"] != first["import_id"]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            ("imported_pages_20240101_20240102.csv", "date,page,visitors\n2024-01-01,/,x\n"),
            "imported_pages_20240101_20240102.csv: line 2, column visitors: not a whole number",
        ),
        (
            ("imported_devices_20240101_20240102.csv", "date,device,visitors\n2024-13-01,D,1\n"),
            "imported_devices_20240101_20240102.csv: line 2, column date: not a day",
        ),
        (
            ("imported_devices_20240101_20240102.csv", "date,device,visitors\n2024-02-01,D,1\n"),
            "line 2, column date: 2024-02-01 is outside the file's range",
        ),
        (
            ("imported_sources_20240101_20240102.csv", "date,source,visitors\n2024-01-01,G\n"),
            "imported_sources_20240101_20240102.csv: line 2, column 3: 2 values for 3 columns",
        ),
        (
            ("imported_devices_20240101_20240102.csv", "device,visitors\nD,1\n"),
            "line 1, column date: the header has no date column",
        ),
        (("notes.txt", "hello"), "notes.txt: not a file of Plausible's CSV export"),
        (
            (
                "imported_locations_20240101_20240102.csv",
                "date,city,visitors\n2024-01-01,Berlin,1\n",
            ),
            "line 2, column city: not a whole number",
        ),
    ],
)
def test_bad_input_names_file_line_and_column_and_shows_nothing(tmp_path, site, change, where):
    files = {**small_export(), change[0]: change[1]}
    with pytest.raises(CommandError, match=where.replace("(", r"\(").replace(")", r"\)")):
        run(site, make_zip(files, tmp_path=tmp_path))
    assert not ImportedDay.objects.exists() and not ImportedBreakdownDay.objects.exists()
    record = Import.objects.get()
    assert record.status == "failed"
    assert record.error == str(record.error) and where.split(":")[0] in record.error


def test_a_failed_import_records_file_line_and_column(tmp_path, site):
    files = {**small_export()}
    files["imported_visitors_20240101_20240102.csv"] += '"2024-01-02",1,2,3,4,-5\n'
    with pytest.raises(CommandError):
        run(site, make_zip(files, tmp_path=tmp_path))
    record = Import.objects.get()
    assert (record.error_file, record.error_line, record.error_column) == (
        "imported_visitors_20240101_20240102.csv",
        4,
        "visit_duration",
    )


def test_imported_visitors_is_required(tmp_path, site):
    files = {k: v for k, v in small_export().items() if "visitors" not in k}
    with pytest.raises(CommandError, match="imported_visitors"):
        run(site, make_zip(files, tmp_path=tmp_path))


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path, site, settings):
    settings.IMPORT_MAX_BYTES = 1_000_000
    bomb = {
        "imported_visitors_20240101_20240102.csv": "date,visitors\n" + "2024-01-01,1\n" * 400_000
    }
    path = make_zip(bomb, tmp_path=tmp_path)
    assert path.stat().st_size < 100_000
    with pytest.raises(CommandError, match=r"expands to .* refused"):
        run(site, path)
    assert not ImportedDay.objects.exists()


def test_a_zip_lying_about_its_sizes_is_refused(site, settings):
    """A member whose header claims a small size but inflates to more is cut at the limit."""
    settings.IMPORT_MAX_BYTES = 50_000
    data = make_zip({"imported_visitors_20240101_20240102.csv": "date,visitors\n" + "1" * 80_000})
    patched = bytearray(data)
    # Rewrite the uncompressed size in the central directory and local header to 10 bytes.
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = patched.find(signature)
        patched[at + offset : at + offset + 4] = (10).to_bytes(4, "little")
    with pytest.raises(plausible_csv.BadExport, match=r"expands|cannot be read"):
        plausible_csv.open_export([("export.zip", bytes(patched))], max_bytes=50_000)


def test_limits_on_file_size_and_rows(tmp_path, site, settings):
    path = make_zip(small_export(), tmp_path=tmp_path)
    settings.IMPORT_MAX_ROWS = 5
    with pytest.raises(
        CommandError,
        match=r"imported_pages_20240101_20240102.csv: more than 5 rows in all \(IMPORT_MAX_ROWS\)",
    ):
        run(site, path)
    settings.IMPORT_MAX_ROWS = 500_000
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(CommandError, match="IMPORT_MAX_BYTES"):
        run(site, path)
    assert not ImportedDay.objects.exists()


def test_only_owners_and_admins_import(tmp_path, site):
    viewer, admin = UserFactory(), UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    SiteMembershipFactory(site=site, user=admin, role="admin")
    path = make_zip(small_export(), tmp_path=tmp_path)
    with pytest.raises(CommandError, match="Owners and Admins"):
        run(site, path, "--user", viewer.email)
    assert not Import.objects.exists()
    with pytest.raises(CommandError, match="Owners and Admins"):
        call_command(
            "export",
            "plausible",
            "--site",
            str(site.pk),
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-02",
            "--out",
            str(tmp_path / "x.zip"),
            "--user",
            viewer.email,
        )
    assert run(site, path, "--user", admin.email)["rows"] == 14


def test_list_cancel_and_delete_by_import_id(tmp_path, site):
    answer = run(site, make_zip(small_export(), tmp_path=tmp_path))
    out = io.StringIO()
    call_command("import", "list", "--site", str(site.pk), stdout=out)
    listed = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(i["import_id"], i["status"], i["percent"]) for i in listed] == [
        (answer["import_id"], "complete", 100)
    ]
    out = io.StringIO()
    call_command("import", "cancel", answer["import_id"], stdout=out)
    assert json.loads(out.getvalue())["status"] == "complete"  # finished: nothing to cancel
    call_command("import", "delete", answer["import_id"], stdout=io.StringIO())
    assert not Import.objects.exists()
    assert not ImportedDay.objects.exists() and not ImportedBreakdownDay.objects.exists()
    with pytest.raises(CommandError, match="no import"):
        call_command("import", "delete", answer["import_id"])


def test_a_cancel_during_the_run_stops_it_and_keeps_nothing(site, monkeypatch):
    monkeypatch.setattr(imports, "WRITE_CHUNK", 2)
    files = [("export.zip", make_zip(small_export()))]
    record, must_run = imports.import_create(site=site, kind="plausible", files=files)
    assert must_run
    seen = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if len(seen) == 2:
            imports.import_cancel(Import.objects.get(pk=record.pk))

    result = imports.plausible_import_run(record.pk, files, progress=progress)
    assert result.status == "cancelled"
    assert seen == [(2, 14), (4, 14)]  # seen at the chunk after the cancel
    assert not ImportedDay.objects.exists() and not ImportedBreakdownDay.objects.exists()
    # Importing the file again runs it again.
    again, must_run = imports.import_create(site=site, kind="plausible", files=files)
    assert must_run and again.pk == record.pk
    assert imports.plausible_import_run(again.pk, files).status == "complete"


def test_pending_and_running_imports_are_not_in_statistics(site):
    files = [("export.zip", make_zip(small_export()))]
    record, _ = imports.import_create(site=site, kind="plausible", files=files)
    seen = []

    def progress(done: int, total: int) -> None:  # rows are stored, the import is running
        seen.append(imported.coverage(site.pk, "UTC", date(2024, 1, 1), date(2024, 1, 2)))

    assert not imported.coverage(site.pk, "UTC", date(2024, 1, 1), date(2024, 1, 2))
    imports.plausible_import_run(record.pk, files, progress=progress)
    assert seen and not any(seen)
    assert imported.coverage(site.pk, "UTC", date(2024, 1, 1), date(2024, 1, 2))
    imports.import_delete(Import.objects.get(pk=record.pk))
    assert not imported.coverage(site.pk, "UTC", date(2024, 1, 1), date(2024, 1, 2))


def test_the_task_runs_an_uploaded_import(site, settings, tmp_path):
    from stats.tasks import import_run

    settings.DATA_DIR = tmp_path
    files = [("export.zip", make_zip(small_export()))]
    record, _ = imports.import_create(site=site, kind="plausible", files=files, keep_files=True)
    assert list((tmp_path / "imports" / record.pk).iterdir())
    assert import_run.run(record.pk) == "complete"
    assert not (tmp_path / "imports" / record.pk).exists()  # the upload is removed
    assert Import.objects.get(pk=record.pk).rows == 14


def test_imported_days_stop_at_the_first_native_day(site):
    files = [("export.zip", make_zip(small_export()))]
    record, _ = imports.import_create(site=site, kind="plausible", files=files)
    imports.plausible_import_run(record.pk, files)
    raw.import_events(
        site.pk,
        json.dumps(
            {
                "timestamp": "2024-01-02T10:00:00Z",
                "url": "https://dummy.site/",
                "ip": "192.0.2.1",
                "user_agent": FIREFOX,
            }
        ).encode(),
        "one.ndjson",
        max_rows=10,
    )
    cover = imported.coverage(site.pk, "UTC", date(2024, 1, 1), date(2024, 1, 31))
    assert cover.days() == {date(2024, 1, 1)}
    everything = imported.coverage(
        site.pk, "UTC", date(2024, 1, 1), date(2024, 1, 31), before_native=False
    )
    assert everything.days() == {date(2024, 1, 1), date(2024, 1, 2)}
    # Another time zone than the site's: imported days do not apply.
    assert not imported.coverage(site.pk, "Europe/Berlin", date(2024, 1, 1), date(2024, 1, 2))


def test_a_later_import_of_the_same_days_replaces_the_earlier_one(site):
    first = [("a.zip", make_zip(small_export()))]
    files = small_export()
    files["imported_visitors_20240101_20240102.csv"] = (
        "date,visitors,pageviews,bounces,visits,visit_duration\n2024-01-02,100,1,1,1,1\n"
    )
    second = [("b.zip", make_zip(files))]
    for upload in (first, second):
        record, _ = imports.import_create(site=site, kind="plausible", files=upload)
        imports.plausible_import_run(record.pk, upload)
    cover = imported.coverage(site.pk, "UTC", date(2024, 1, 1), date(2024, 1, 2))
    assert {d: m["visitors"] for d, m in imported.daily(cover, site.pk, {}).items()} == {
        date(2024, 1, 2): 100
    }


def test_filters_and_breakdowns_imported_tables_cannot_answer_are_named():
    assert imported.skip_reason({}, "page") is None
    assert imported.skip_reason({"country": ["DE"]}, "region") is None
    assert "different tables" in imported.skip_reason({"country": ["DE"]}, "page")
    assert "'language'" in imported.skip_reason({}, "language")
    assert "'screen_class'" in imported.skip_reason({"screen_class": ["L"]})
    assert "exact values" in imported.skip_reason({"path": ["~blog"]}, "page")


# --- export, and the round trip ------------------------------------------------------------


def test_export_is_plausibles_zip_byte_for_byte_format(tmp_path, site):
    raw.import_events(
        site.pk,
        "".join(
            json.dumps(row) + "\n"
            for row in [
                {
                    "timestamp": "2024-03-01T10:00:00Z",
                    "url": "https://dummy.site/a?utm_source=nl",
                    "ip": "192.0.2.1",
                    "user_agent": FIREFOX,
                    "country": "DE",
                },
                {
                    "timestamp": "2024-03-01T10:01:00Z",
                    "url": "https://dummy.site/b",
                    "ip": "192.0.2.1",
                    "user_agent": FIREFOX,
                    "event_name": 'Say "hi"',
                    "props": {"k": "v,w"},
                },
            ]
        ).encode(),
        "x.ndjson",
        max_rows=10,
    )
    out = tmp_path / "export.zip"
    call_command(
        "export",
        "plausible",
        "--site",
        str(site.pk),
        "--from",
        "2024-03-01",
        "--to",
        "2024-03-02",
        "--out",
        str(out),
        stderr=io.StringIO(),
    )
    archive = zipfile.ZipFile(out)
    names = archive.namelist()
    assert names == [f"imported_{t}_20240301_20240302.csv" for t in plausible_csv.EXPORT_ORDER]
    assert all(i.compress_type == zipfile.ZIP_STORED for i in archive.infolist())
    visitors = archive.read(names[0]).decode()
    assert visitors == (
        '"date","visitors","pageviews","bounces","visits","visit_duration"\n'
        '"2024-03-01",1,1,0,1,60\n'
    )
    events = archive.read("imported_custom_events_20240301_20240302.csv").decode()
    assert events.splitlines() == [
        '"date","name","link_url","path","visitors","events"',
        '"2024-03-01","Say ""hi""","","",1,1',
    ]
    sources = list(csv.DictReader(io.StringIO(archive.read(names[1]).decode())))
    assert sources[0]["utm_source"] == "nl" and sources[0]["visits"] == "1"
    # Every file's header is what Plausible's importer reads for its table.
    for name in names:
        table = plausible_csv.parse_name(name)[0]
        header = next(csv.reader(io.StringIO(archive.read(name).decode())))
        assert header == table.header


# A tiny GeoLite2-City database (the GeoIP database's English city names), so native events
# have cities: network → (country, ISO 3166-2 subdivision, city).
PLACES = {
    "81.2.69.0/24": ("DE", "BE", "Berlin"),
    "81.2.70.0/24": ("FR", "IDF", "Paris"),
    "81.2.71.0/24": ("US", "CA", "San Francisco"),
    "81.2.72.0/24": ("US", "IL", "Springfield"),
    "81.2.73.0/24": ("US", "MO", "Springfield"),
    "81.2.74.0/24": ("DE", "BY", ""),  # a region without a city
}


def write_city_database(path) -> str:
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-City", ipv4_compatible=True)
    for network, (country, region, city) in PLACES.items():
        record: dict = {
            "country": {"iso_code": country, "names": {"en": country}},
            "subdivisions": [{"iso_code": region, "names": {"en": region}}],
        }
        if city:
            record["city"] = {"names": {"en": city}}
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return str(path)


@functools.cache
def city_database() -> str:
    return write_city_database(Path(tempfile.mkdtemp(prefix="ff-cities-")) / "cities.mmdb")


VISITORS = [f"v{n}" for n in range(12)]
PATHS = ["/", "/pricing", "/blog/a", "/docs"]
REFERRERS = ["", "https://www.google.com/", "https://news.ycombinator.com/item?id=1"]
UTMS = ["", "?utm_source=newsletter&utm_medium=email", "?utm_campaign=spring"]
AGENTS = [FIREFOX, CHROME, IPHONE]
DAY0 = datetime(2024, 5, 1, tzinfo=UTC)

visit = st.fixed_dictionaries(
    {
        "visitor": st.integers(0, len(VISITORS) - 1),
        "day": st.integers(0, 3),
        "minute": st.integers(0, 23 * 60),
        "pages": st.lists(st.sampled_from(PATHS), min_size=0, max_size=4),
        "referrer": st.sampled_from(REFERRERS),
        "utm": st.sampled_from(UTMS),
        "events": st.lists(st.sampled_from(["Signup", "File Download"]), max_size=2),
        "plan": st.sampled_from(["", "pro", "free"]),
    }
)


def traffic_rows(visits: list[dict]) -> list[dict]:
    """One visit per visitor and day (a visitor's browser, device and country are fixed)."""
    rows, seen = [], set()
    for item in visits:
        if (item["visitor"], item["day"]) in seen:
            continue
        seen.add((item["visitor"], item["day"]))
        who = item["visitor"]
        at = DAY0 + timedelta(days=item["day"], minutes=item["minute"])
        network = list(PLACES)[who % len(PLACES)]
        base = {
            "visitor_key": VISITORS[who],
            "user_agent": AGENTS[who % len(AGENTS)],
            "ip": network.replace("0/24", str(10 + who)),  # the city (GeoIP)
        }
        for n, path in enumerate(item["pages"] or ["/"]):
            rows.append(
                {
                    **base,
                    "timestamp": (at + timedelta(seconds=40 * n)).isoformat(),
                    "url": f"https://dummy.site{path}{item['utm'] if n == 0 else ''}",
                    "referrer": item["referrer"] if n == 0 else "",
                }
            )
        for n, name in enumerate(item["events"]):
            rows.append(
                {
                    **base,
                    "timestamp": (at + timedelta(seconds=200 + n)).isoformat(),
                    "url": "https://dummy.site/docs",
                    "event_name": name,
                    "props": {"url": "https://dummy.site/f.pdf"}
                    if name == "File Download"
                    else ({"plan": item["plan"]} if item["plan"] else {}),
                }
            )
    return rows


@pytest.mark.django_db(transaction=True)
@hsettings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(visits=st.lists(visit, min_size=1, max_size=14), rolled=st.booleans())
def test_round_trip_export_then_import_into_a_fresh_site_matches(visits, rolled):
    from sites.models import Site

    Site.objects.all().delete()
    Import.objects.all().delete()
    source = SiteFactory(hostname="dummy.site", timezone="UTC")
    target = SiteFactory(hostname="fresh.site", timezone="UTC")
    rows = traffic_rows(visits)
    with override_settings(GEOIP_DATABASE=city_database()):  # native events get cities
        raw.import_events(
            source.pk,
            "".join(json.dumps(r) + "\n" for r in rows).encode(),
            "traffic.ndjson",
            max_rows=10_000,
        )
    if rolled:
        rollup_site(source)  # the days become rolled-up days (rollups, session rows)
        assert rollup_site is not None and q._covered(
            q.StatsQuery(source.pk, date(2024, 5, 1), date(2024, 5, 4), "UTC")
        )
    first, last = date(2024, 5, 1), date(2024, 5, 4)
    data = imports.plausible_export(source, first, last)
    record, _ = imports.import_create(site=target, kind="plausible", files=[("e.zip", data)])
    assert imports.plausible_import_run(record.pk, [("e.zip", data)]).status == "complete"

    # Through the product's read path: the planner answers the fresh site from its import.
    native = q.StatsQuery(source.pk, first, last, "UTC")
    merged = q.StatsQuery(target.pk, first, last, "UTC")
    want, got = q.daily_metrics(native), q.daily_metrics(merged)
    for day in set(want) | set(got):
        w = want.get(day, q.ZERO_METRICS)
        g = got.get(day, q.ZERO_METRICS)
        assert (w["visitors"], w["views"], w["sessions"], w["bounces"]) == (
            g["visitors"],
            g["views"],
            g["sessions"],
            g["bounces"],
        ), day
        assert g["duration_ms"] == w["duration_ms"] // 1000 * 1000
    assert q.totals(merged)["visitors"] == q.totals(native)["visitors"]
    for dimension in imported.DIMENSIONS:
        if dimension == "exit":
            keep = ("path", "visitors", "exits")  # imported exit pages have no titles
            expected = [{k: r[k] for k in keep} for r in q.exit_pages(native)]
            actual = [{k: r[k] for k in keep} for r in q.exit_pages(merged)]
        else:
            expected, actual = q.breakdown(native, dimension), q.breakdown(merged, dimension)
            if dimension == "event":  # imported custom events have no visit count
                expected = [{**r, "sessions": 0} for r in expected]
        assert actual == expected, dimension
    # Cities went out as GeoNames ids and came back as the same names (``city`` is in
    # ``imported.DIMENSIONS``, compared above); say so, so it cannot pass on empty names.
    assert {r["city"] for r in q.breakdown(merged, "city")} <= {
        "Berlin", "Paris", "San Francisco", "Springfield", ""
    }  # fmt: skip
    assert any(r["city"] for r in q.breakdown(merged, "city"))
    # Custom properties: every property's values over the range, as the native events have
    # them (visitors summed per day, events counted).
    oracle: dict[str, dict[str, dict[str, int]]] = {}
    per_day: dict[tuple, set] = {}
    for at, visitor, props in Event.objects.filter(site_id=source.pk, kind="custom").values_list(
        "timestamp", "visitor_id", "props"
    ):
        for key, value in props.items():
            values = oracle.setdefault(key, {}).setdefault(str(value), {"visitors": 0, "events": 0})
            values["events"] += 1
            per_day.setdefault((key, str(value), at.date()), set()).add(visitor)
    for (key, value, _day), visitors_of_day in per_day.items():
        oracle[key][value]["visitors"] += len(visitors_of_day)
    for key in ("plan", "url"):
        assert imported.property_values(merged, key) == oracle.get(key, {}), key
    # Without imported data (the dashboard's switch), the fresh site has none.
    assert not q.daily_metrics(q.StatsQuery(target.pk, first, last, "UTC", imports=False))


def test_the_demo_history_is_imported_through_the_real_import(site):
    from stats.demo import demo_history_import

    record = demo_history_import(site.pk, days=60, months=2)
    assert (record.status, record.kind) == ("complete", "plausible")
    assert record.last_day == (datetime.now(UTC) - timedelta(days=61)).date()
    assert record.days == 61 and record.rows > 61 * 10
    cover = imported.coverage(site.pk, "UTC", record.first_day, record.last_day)
    totals = imported.daily(cover, site.pk, {})
    assert len(totals) == 61 and all(m["visitors"] > 0 for m in totals.values())
    pages = imported.dimension_days(cover, site.pk, "page", {})
    assert ("/pricing",) in next(iter(pages.values()))
    # Again: the same history is the same import.
    assert demo_history_import(site.pk, days=60, months=2).pk == record.pk
