"""The writer's fast paths: rows cleaned by a precomputed plan (same values as the plain
loop), first deliveries COPYed straight into the events table, still exactly once."""

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import SiteFactory
from tests.helpers import event_row
from tracking import buffer, writer
from tracking.consumer import EventConsumer
from tracking.models import Event

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY paths are PostgreSQL's"
)


def row(site_id: int, **changes) -> dict:
    return event_row(site_id, datetime(2026, 3, 1, 12, tzinfo=UTC), visitor=1, session=2, **changes)


@pytest.fixture
def site(db):
    return SiteFactory()


def staging_used(queries: CaptureQueriesContext) -> bool:
    return any("event_staging" in q["sql"] for q in queries.captured_queries)


@needs_postgresql
def test_new_rows_of_a_first_delivery_skip_the_staging_table(site):
    rows = [row(site.pk, props={"plan": "pro", "n": 2**70}) for _ in range(5)]
    with CaptureQueriesContext(connection) as queries:
        assert writer.write_rows(rows, replay=False) == 5
    assert not staging_used(queries)
    assert Event.objects.count() == 5
    assert Event.objects.get(id=rows[0]["id"]).props == {"plan": "pro", "n": 2**70}


@needs_postgresql
def test_a_first_delivery_with_stored_ids_falls_back_and_stores_nothing_twice(site):
    rows = [row(site.pk) for _ in range(6)]
    writer.write_rows(rows[:3])
    with CaptureQueriesContext(connection) as queries:
        assert writer.write_rows(rows, replay=False) == 3
    assert staging_used(queries)
    assert Event.objects.count() == 6


@needs_postgresql
def test_replays_take_the_staging_path(site):
    rows = [row(site.pk) for _ in range(2)]
    with CaptureQueriesContext(connection) as queries:
        assert writer.write_rows(rows) == 2
    assert staging_used(queries)


@pytest.mark.skipif(not settings.REDIS_URL, reason="the buffer needs Redis")
def test_an_entry_redelivered_as_new_is_stored_once(site):
    # Redis restored from its append-only file may hand out again, as never read, an
    # entry whose rows were committed but whose acknowledgement it lost.
    rows = [row(site.pk) for _ in range(4)]
    writer.write_rows(rows[:2])
    buffer.enqueue(rows)
    buffer.enqueue([row(site.pk)])
    consumer = EventConsumer("first", block_ms=1)
    while consumer.run_once():
        pass
    assert Event.objects.count() == 5
    assert buffer.backlog_size() == 0


def clean_row_by_loop(row: dict) -> list:
    """The plain loop over the column spec (the writer's code before the plan): the oracle."""
    values = []
    for column, kind, limit in writer._SPEC:
        value = row.get(column)
        if kind == 1:
            if value is None:
                value = ""
            elif type(value) is not str:
                value = str(value)
            value = value.replace("\x00", "")[:limit]
        elif kind == 2:
            value = writer._clean_json(value) if isinstance(value, dict) and value else {}
        values.append(value)
    return values


values = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from("a\x00é/ "), max_size=300),
    st.text(max_size=5),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3) | st.integers(), max_size=3),
)


@given(st.dictionaries(st.sampled_from(writer.EVENT_COLUMNS), values))
def test_the_planned_row_cleaning_gives_the_loops_values(row):
    assert writer.clean_row(row) == clean_row_by_loop(row)


def test_long_text_is_cut_to_its_column_after_nul_characters_go():
    limit = writer._TEXT_LIMITS["path"]
    cleaned = writer.clean_row({"path": "\x00" + "p" * (limit + 5), "title": None, "site_id": 7})
    by_column = dict(zip(writer.EVENT_COLUMNS, cleaned, strict=True))
    assert by_column["path"] == "p" * limit
    assert by_column["title"] == ""
    assert by_column["site_id"] == 7
