"""GeoIP lookups on a tiny database the test builds, and the fallbacks."""

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from tracking.enrichment.geo import (
    UNKNOWN_GEO,
    GeoInfo,
    GeoLocator,
    country_from_accept_language,
    country_from_timezone,
    get_locator,
)


@pytest.fixture(scope="module")
def city_database(tmp_path_factory):
    path = tmp_path_factory.mktemp("geo") / "test-city.mmdb"
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-City", ipv4_compatible=True)
    writer.insert_network(
        IPSet(["81.2.69.0/24"]),
        {
            "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
            "subdivisions": [{"iso_code": "ENG", "names": {"en": "England"}}],
            "city": {"names": {"en": "London"}},
        },
    )
    writer.insert_network(
        IPSet(["2a02:8070::/32"]),
        {
            "country": {"iso_code": "DE", "names": {"en": "Germany"}},
            "subdivisions": [{"iso_code": "BE", "names": {"en": "Berlin"}}],
            "city": {"names": {"en": "Berlin"}},
        },
    )
    writer.insert_network(
        IPSet(["198.51.100.0/24"]), {"country": {"iso_code": "FR", "names": {"en": "France"}}}
    )
    writer.to_db_file(str(path))
    return str(path)


def test_city_region_and_country(city_database):
    locator = GeoLocator(city_database)
    assert locator.lookup("81.2.69.160") == GeoInfo("GB", "GB-ENG", "London")
    assert locator.lookup("2a02:8070:1::5") == GeoInfo("DE", "DE-BE", "Berlin")
    assert locator.lookup("198.51.100.7") == GeoInfo("FR", "", "")


@pytest.mark.parametrize(
    "address", ["10.0.0.1", "8.8.8.8", "not an ip", "", "999.1.1.1", "::1", "1.2.3.4\x00"]
)
def test_unknown_and_garbage_addresses(city_database, address):
    assert GeoLocator(city_database).lookup(address) == UNKNOWN_GEO


def test_missing_or_broken_database_gives_no_locator(tmp_path):
    assert get_locator(str(tmp_path / "missing.mmdb")) is None
    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"not a database")
    assert get_locator(str(broken)) is None
    assert get_locator(None) is None


@pytest.mark.parametrize(
    ("tz", "country"),
    [
        ("Europe/Kyiv", "UA"),
        ("Europe/Kiev", "UA"),
        ("America/New_York", "US"),
        ("Asia/Tokyo", "JP"),
        ("UTC", ""),
        ("Mars/Olympus", ""),
        (None, ""),
    ],
)
def test_country_from_timezone(tz, country):
    assert country_from_timezone(tz) == country


@pytest.mark.parametrize(
    ("header", "country"),
    [
        ("de-DE,de;q=0.9", "DE"),
        ("en", ""),
        ("en,pt-BR;q=0.8", "BR"),
        ("zh-Hans-CN", "CN"),
        ("", ""),
        (None, ""),
    ],
)
def test_country_from_accept_language(header, country):
    assert country_from_accept_language(header) == country


def test_installed_database_knows_a_public_address():
    from django.conf import settings

    locator = get_locator(settings.GEOIP_DATABASE)
    if locator is None:
        pytest.skip("the GeoLite2 database is not installed (scripts/install_geoip.py)")
    assert locator.lookup("8.8.8.8").country_code == "US"
