"""One date-range parser and cap (``stats.ranges``) for the dashboard and the Pirsch API."""

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from stats import ranges
from tests.factories import SiteFactory, SiteMembershipFactory


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="example.com", timezone="Europe/Berlin")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        ("9999-12-30", "9999-12-31", "from"),
        ("2023-01-01", "9999-12-31", "to"),
        ("0001-01-01", "0001-01-02", "from"),
        ("1969-12-31", "1970-01-01", "from"),
        ("2012-01-01", "2022-01-10", "from"),  # 3662 days: over ten years
        ("2023-01-02", "2023-01-01", "to"),
    ],
)
def test_check_range_names_the_field(first, last, field):
    with pytest.raises(ranges.RangeError) as error:
        ranges.check_range(date.fromisoformat(first), date.fromisoformat(last))
    assert error.value.field == field


def test_the_longest_range_and_the_bounds_are_allowed():
    ranges.check_range(date(2014, 1, 1), date(2014, 1, 1) + (date(2024, 1, 10) - date(2014, 1, 11)))
    ranges.check_range(ranges.EARLIEST_DAY, ranges.EARLIEST_DAY)
    ranges.check_range(ranges.LATEST_DAY, ranges.LATEST_DAY)
    assert ranges.parse_day("2023-01-01T10:00:00Z", "from", timestamps=True) == date(2023, 1, 1)
    with pytest.raises(ranges.RangeError):
        ranges.parse_day("2023-01-01T10:00:00Z", "from")


@pytest.mark.parametrize(
    ("first", "last"),
    [("9999-12-30", "9999-12-31"), ("0001-01-01", "0001-01-02"), ("2000-01-01", "2023-01-01")],
)
def test_dashboard_refuses_unusable_custom_ranges_with_a_message(client, owner, site, first, last):
    client.force_login(owner)
    response = client.get(
        f"/sites/{site.public_id}/", {"period": "custom", "from": first, "to": last}
    )
    assert response.status_code == 200  # the page renders the last 30 days and says why
    assert "Showing the last 30 days." in response.content.decode()


@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=st.dates(), span=st.integers(min_value=-3, max_value=4000))
def test_any_pair_of_dates_is_an_answer_or_a_400_naming_a_date(
    client, token, site, settings, first, span
):
    """Oracle: ``check_range`` decides; the API agrees and never fails on a date."""
    settings.PIRSCH_API_RATE_LIMIT = 10**6  # one client sends every example
    assume(date.min + timedelta(days=3) <= first <= date.max - timedelta(days=4000))
    last = first + timedelta(days=span)
    try:
        ranges.check_range(first, last)
        expected = 200
    except ranges.RangeError:
        expected = 400
    for endpoint in ("total", "growth"):
        response = client.get(
            f"/api/v1/statistics/{endpoint}",
            {"id": site.public_id, "from": first.isoformat(), "to": last.isoformat()},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == expected, (endpoint, first, last, response.content)
        if expected == 400:
            assert set(response.json()["validation"]) <= {"from", "to"}
