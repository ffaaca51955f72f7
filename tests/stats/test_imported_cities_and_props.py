"""Imported cities (GeoNames ids in Plausible's files, names in Footfall) and imported custom
properties (issue #16)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date

import pytest

from stats import geonames, imports, plausible_csv
from stats import query as q
from stats.query.sources import imported
from tests.factories import SiteFactory
from tests.stats.test_plausible_import import (
    FIREFOX,
    PLACES,
    make_zip,
    small_export,
    write_city_database,
)
from tracking import imports as raw

GEONAME_IDS = {"Berlin": 2950159, "Paris": 2988507, "San Francisco": 5391959}


@pytest.fixture(scope="module")
def city_database(tmp_path_factory) -> str:
    return write_city_database(tmp_path_factory.mktemp("geo") / "cities.mmdb")


@pytest.fixture
def site(db):
    return SiteFactory(hostname="dummy.site", timezone="UTC")


def run_import(site, files: dict[str, str | bytes]):
    upload = [("export.zip", make_zip(files))]
    record, _ = imports.import_create(site=site, kind="plausible", files=upload)
    result = imports.plausible_import_run(record.pk, upload)
    assert result.status == "complete", result.error
    return result


# --- GeoNames ------------------------------------------------------------------------------


def test_geonames_names_ids_and_finds_ids_of_names():
    assert geonames.names([2950159, 2886242, 5391959, 0, 1]) == {
        2950159: ("DE", "Berlin"),
        2886242: ("DE", "Köln"),
        5391959: ("US", "San Francisco"),
    }
    with geonames.Resolver() as resolver:
        assert resolver.geoname_id("DE", "DE-BE", "Berlin") == 2950159
        # An English alternate name (the GeoIP database's) finds GeoNames' place.
        assert resolver.geoname_id("DE", "DE-NW", "Cologne") == 2886242
        # Two Springfields: the region tells them apart (ISO 3166-2 = admin1 in the US).
        illinois = resolver.geoname_id("US", "US-IL", "Springfield")
        missouri = resolver.geoname_id("US", "US-MO", "Springfield")
        assert illinois != missouri and {illinois, missouri} <= set(
            geonames.names([illinois, missouri])
        )
        assert resolver.geoname_id("DE", "", "") == 0
        assert resolver.geoname_id("DE", "DE-BE", "Nowhere-on-Spree") == 0


# --- imported cities ---------------------------------------------------------------------


def locations(rows: str) -> dict[str, str]:
    files = small_export()
    files["imported_locations_20240101_20240102.csv"] = (
        "date,country,region,city,visitors,visits,visit_duration,bounces,pageviews\n" + rows
    )
    return files


def test_imported_cities_are_shown_by_name_like_native_ones(site):
    run_import(
        site,
        locations(
            "2024-01-01,DE,DE-BE,2950159,6,7,300,2,18\n"
            "2024-01-02,DE,DE-BE,2950159,2,2,60,1,4\n"
            "2024-01-01,FR,FR-IDF,2988507,3,3,30,1,3\n"
            "2024-01-01,US,,0,4,5,300,2,12\n"
            "2024-01-01,US,US-CA,999999999,1,1,1,1,1\n"  # an id GeoNames does not list
        ),
    )
    query = q.StatsQuery(site.pk, date(2024, 1, 1), date(2024, 1, 2), "UTC")
    rows = {
        (r["country_code"], r["region"], r["city"]): (r["visitors"], r["views"])
        for r in q.breakdown(query, "city")
    }
    assert rows == {
        ("DE", "DE-BE", "Berlin"): (8, 22),
        ("FR", "FR-IDF", "Paris"): (3, 3),
        ("US", "", ""): (4, 12),
        ("US", "US-CA", ""): (1, 1),
    }
    assert imported.skipped(query, "city") is None
    # Filtered by a city's name (and not that name), from the same table.
    berlin = q.StatsQuery(site.pk, date(2024, 1, 1), date(2024, 1, 2), "UTC", {"city": ["Berlin"]})
    assert q.totals(berlin)["visitors"] == 8
    assert [r["country_code"] for r in q.breakdown(berlin, "country")] == ["DE"]
    others = q.StatsQuery(site.pk, date(2024, 1, 1), date(2024, 1, 2), "UTC", {"city": ["!Berlin"]})
    assert q.totals(others)["visitors"] == 3 + 4 + 1


@pytest.mark.django_db(transaction=True)
def test_native_cities_go_out_as_geonames_ids_and_come_back_as_the_same_cities(
    settings, city_database
):
    settings.GEOIP_DATABASE = city_database
    source = SiteFactory(hostname="dummy.site", timezone="UTC")
    target = SiteFactory(hostname="fresh.site", timezone="UTC")
    rows = []
    for n, network in enumerate(PLACES):
        for visitor in range(n + 1):
            ip = network.replace("0/24", str(10 + visitor))
            rows.append(
                {
                    "timestamp": f"2024-05-0{1 + visitor % 2}T10:{n:02d}:00Z",
                    "url": f"https://dummy.site/p{n}",
                    "ip": ip,
                    "user_agent": FIREFOX,
                }
            )
    raw.import_events(
        source.pk, "".join(json.dumps(r) + "\n" for r in rows).encode(), "x.ndjson", max_rows=99
    )
    first, last = date(2024, 5, 1), date(2024, 5, 2)
    data = imports.plausible_export(source, first, last)
    name = plausible_csv.file_name("locations", first, last)
    written = list(
        csv.DictReader(io.StringIO(zipfile.ZipFile(io.BytesIO(data)).read(name).decode()))
    )
    ids = {(r["country"], r["region"], int(r["city"])) for r in written}
    assert ("DE", "DE-BE", GEONAME_IDS["Berlin"]) in ids
    assert ("FR", "FR-IDF", GEONAME_IDS["Paris"]) in ids
    assert ("US", "US-CA", GEONAME_IDS["San Francisco"]) in ids
    assert ("DE", "DE-BY", 0) in ids  # no city: unknown
    springfields = {gid for country, region, gid in ids if region in ("US-IL", "US-MO")}
    assert len(springfields) == 2 and 0 not in springfields

    record, _ = imports.import_create(site=target, kind="plausible", files=[("e.zip", data)])
    assert imports.plausible_import_run(record.pk, [("e.zip", data)]).status == "complete"
    native = q.StatsQuery(source.pk, first, last, "UTC")
    merged = q.StatsQuery(target.pk, first, last, "UTC")
    expected = q.breakdown(native, "city")
    assert {r["city"] for r in expected} == {
        "Berlin", "Paris", "San Francisco", "Springfield", ""
    }  # fmt: skip
    assert q.breakdown(merged, "city") == expected
    for city in ("Berlin", "Springfield"):
        filtered = {"city": [city]}
        assert q.totals(q.StatsQuery(target.pk, first, last, "UTC", filtered)) == q.totals(
            q.StatsQuery(source.pk, first, last, "UTC", filtered)
        )


# --- imported custom properties ------------------------------------------------------------


def test_imported_custom_props_answer_a_property_over_all_events(site):
    files = small_export()
    files["imported_custom_props_20240101_20240102.csv"] = (
        "date,property,value,visitors,events\n"
        "2024-01-01,plan,pro,2,2\n2024-01-01,plan,free,5,7\n2024-01-02,plan,pro,1,3\n"
        "2024-01-02,seats,3,1,1\n"
    )
    run_import(site, files)
    query = q.StatsQuery(site.pk, date(2024, 1, 1), date(2024, 1, 2), "UTC")
    assert imported.property_values(query, "plan") == {
        "pro": {"visitors": 3, "events": 5},
        "free": {"visitors": 5, "events": 7},
    }
    assert imported.property_values(query, "seats") == {"3": {"visitors": 1, "events": 1}}
    # Not per event, and not with other filters: nothing, and the reason says why.
    assert imported.property_values(query, "plan", "Signup") == {}
    assert "not kept per event" in imported.property_skip_reason({}, "plan", "Signup")
    filtered = q.StatsQuery(site.pk, date(2024, 1, 1), date(2024, 1, 2), "UTC", {"country": ["DE"]})
    assert imported.property_values(filtered, "plan") == {}
    assert "cannot be filtered" in imported.property_skip_reason(filtered.filters, "plan")
    # Without imported data (the switch), nothing.
    off = q.StatsQuery(site.pk, date(2024, 1, 1), date(2024, 1, 2), "UTC", imports=False)
    assert imported.property_values(off, "plan") == {}


def test_the_url_of_download_goals_is_answered_per_goal(site):
    run_import(site, small_export())  # File Download of https://dummy.site/a.pdf: 2 visitors, 5
    query = q.StatsQuery(site.pk, date(2024, 1, 1), date(2024, 1, 2), "UTC")
    assert imported.property_skip_reason({}, "url", "File Download") is None
    rows = q.event_meta(query, "File Download", "url")
    assert [(r["meta_value"], r["visitors"], r["views"]) for r in rows] == [
        ("https://dummy.site/a.pdf", 2, 5)
    ]
    assert q.event_meta(query, "Signup", "plan") == []
