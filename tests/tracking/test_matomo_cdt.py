"""``cdt`` in its usual padded form is read with ``fromisoformat``: it must read exactly
what ``strptime`` (the general path, and the oracle) reads, and refuse what it refuses."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from tracking.protocols.matomo import parse_cdt


def oracle(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def padded(width: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=width, max_size=width)


@given(
    st.tuples(padded(4), padded(2), padded(2), padded(2), padded(2), padded(2)).map(
        lambda p: f"{p[0]}-{p[1]}-{p[2]} {p[3]}:{p[4]}:{p[5]}"
    )
)
def test_padded_dates_read_as_strptime_reads_them(value):
    assert parse_cdt(value) == oracle(value)


@given(st.from_regex(r"\A[0-9٠-٩]{1,4}-[0-9]{1,2}-[0-9]{1,2} [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}\Z"))
def test_other_forms_still_read_as_strptime_reads_them(value):
    assert parse_cdt(value) == oracle(value)
