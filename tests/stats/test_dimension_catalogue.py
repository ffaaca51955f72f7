"""The lists of dimensions outside ``stats/dimensions.py`` are the catalogue's: Pirsch's
filter options, the Plausible API's filter properties and the Plausible export's session
columns. Each is compared with the contents it had when it was written out by hand (the
derivation changed no entry) and checked for what it must mean."""

from __future__ import annotations

from stats import pirsch_selectors, plausible_export
from stats.api.plausible import filters as plausible_filters
from stats.dimensions import (
    BY_NAME,
    DIMENSIONS,
    EXPORT_SESSION_COLUMNS,
    FILTER_FIELDS,
    PIRSCH_OPTIONS,
    PLAUSIBLE_PROPERTIES,
    SESSION_COLUMNS,
    SPECIAL_FILTERS,
)

# The hand-written dictionaries as they were before they were derived (issue 14).
PIRSCH_OPTIONS_BEFORE = {
    "referrer/name": ("referrer", "source"),
    "page": ("page", "path"),
    "referrer": ("referrer", "referrer"),
    "event": ("event", "name"),
    "country": ("country", "country_code"),
    "region": ("region", "region"),
    "city": ("city", "city"),
    "language": ("language", "language"),
    "utm/source": ("utm_source", "utm_source"),
    "utm/medium": ("utm_medium", "utm_medium"),
    "utm/campaign": ("utm_campaign", "utm_campaign"),
    "utm/content": ("utm_content", "utm_content"),
    "utm/term": ("utm_term", "utm_term"),
}
PROPERTY_FILTERS_BEFORE = {
    "event:page": "path",
    "event:hostname": "hostname",
    "event:name": "event",
    "visit:entry_page": "entry_path",
    "visit:exit_page": "exit_path",
    "visit:source": "referrer_name",
    "visit:referrer": "referrer",
    "visit:channel": "channel",
    "visit:utm_source": "utm_source",
    "visit:utm_medium": "utm_medium",
    "visit:utm_campaign": "utm_campaign",
    "visit:utm_content": "utm_content",
    "visit:utm_term": "utm_term",
    "visit:device": "platform",
    "visit:browser": "browser",
    "visit:browser_version": "browser_version",
    "visit:os": "os",
    "visit:os_version": "os_version",
    "visit:country": "country",
    "visit:region": "region",
    "visit:city": "city",
    "visit:screen": "screen_class",
}
EXPORT_SESSION_COLUMNS_BEFORE = (
    "entry_path",
    "source",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "device_type",
    "country_code",
    "region",
)


def test_pirsch_options_are_the_catalogues():
    assert pirsch_selectors.OPTION_DIMENSIONS == PIRSCH_OPTIONS == PIRSCH_OPTIONS_BEFORE
    assert pirsch_selectors.OPTIONS[: len(PIRSCH_OPTIONS)] == tuple(PIRSCH_OPTIONS)


def test_each_pirsch_option_reads_a_breakdown_keyed_by_its_filter_column():
    for option, (breakdown, column) in PIRSCH_OPTIONS.items():
        key_columns, _counts = DIMENSIONS[breakdown]
        assert column in key_columns, option
        # The values offered are the values the same-named filter matches.
        (dimension,) = [d for d in BY_NAME.values() if d.option == option]
        assert dimension.column == column
        assert dimension.name in FILTER_FIELDS or dimension.name in SPECIAL_FILTERS


def test_plausible_properties_are_the_catalogues():
    assert plausible_filters.PROPERTY_FILTERS == PLAUSIBLE_PROPERTIES == PROPERTY_FILTERS_BEFORE
    for name in PLAUSIBLE_PROPERTIES.values():
        assert name in FILTER_FIELDS or name in SPECIAL_FILTERS, name


def test_export_session_columns_are_the_catalogues():
    assert plausible_export.SESSION_COLUMNS == EXPORT_SESSION_COLUMNS
    assert sorted(EXPORT_SESSION_COLUMNS) == sorted(EXPORT_SESSION_COLUMNS_BEFORE)
    assert len(set(EXPORT_SESSION_COLUMNS)) == len(EXPORT_SESSION_COLUMNS)


def test_export_session_columns_are_the_session_tables_keys():
    keyed = {column for key in plausible_export.SESSION_TABLES.values() for _field, column in key}
    # The exit page is the visit's last page view, not a stored session attribute.
    assert set(EXPORT_SESSION_COLUMNS) == keyed - {"exit_path"}
    assert set(EXPORT_SESSION_COLUMNS) <= set(SESSION_COLUMNS)
    for dimension in BY_NAME.values():
        if dimension.export:
            columns = {c for _field, c in plausible_export.SESSION_TABLES[dimension.export]}
            assert dimension.column in columns, dimension.name
