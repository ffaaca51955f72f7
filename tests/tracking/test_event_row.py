"""The typed event row (``tracking.hits.EventRow``) is exactly the events table's columns,
and the pipeline builds exactly that shape."""

from typing import get_type_hints

from sites import site_lookup
from tests.factories import SiteFactory
from tracking import pipeline, writer
from tracking.hits import EventRow, Hit, Kind, Protocol


def test_the_typed_row_names_every_column_of_the_events_table():
    assert list(get_type_hints(EventRow)) == writer.EVENT_COLUMNS


def test_the_pipeline_builds_the_typed_row(db):
    config = site_lookup.site_by_id(SiteFactory(hostname="row.example").pk)
    row = pipeline.enrich(
        Hit(
            site=config,
            protocol=Protocol.PLAUSIBLE,
            kind=Kind.PAGEVIEW,
            name="pageview",
            url="https://row.example/a",
            user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
            ip="198.51.100.3",
        )
    )
    assert set(row) == set(writer.EVENT_COLUMNS)
    hints = get_type_hints(EventRow)
    for column, value in row.items():
        expected = hints[column]
        allowed = getattr(expected, "__args__", (expected,))
        assert isinstance(value, tuple(t for t in allowed if isinstance(t, type))), column
