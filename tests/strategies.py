"""Hypothesis strategies and settings the property (oracle) tests share.

A test keeps its own event tuples (each oracle draws the columns its reads depend on);
what is the same everywhere is here: the time zones, the filter draws, the settings of a
test whose every example writes a site.
"""

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

# Time zones with offsets on both sides of UTC, a half-hour one and one past the date line.
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]
# Filter operators of ``stats.query``: is, is not, contains, does not contain.
OPERATORS = ["", "!", "~", "^"]


def minutes_within(days: int) -> st.SearchStrategy[int]:
    """A minute within ``days`` days from a test's start."""
    return st.integers(min_value=0, max_value=days * 24 * 60)


def filter_draws(values: dict[str, list[str]], *, min_size: int = 0) -> st.SearchStrategy:
    """Up to two filters, each one or two (operator, index into ``values[name]``) pairs."""
    return st.dictionaries(
        st.sampled_from(sorted(values)),
        st.lists(
            st.tuples(st.sampled_from(OPERATORS), st.integers(min_value=0, max_value=1)),
            min_size=1,
            max_size=2,
        ),
        min_size=min_size,
        max_size=2,
    )


def writes_a_site(max_examples: int, *, shrink: bool = False) -> settings:
    """Settings of a test whose every example writes (and often rolls up) a site: no
    deadline, fixtures reset per example by the test itself, and no shrinking unless asked
    (shrinking such a failure could take many minutes)."""
    phases = list(Phase) if shrink else [Phase.explicit, Phase.reuse, Phase.generate]
    return settings(
        max_examples=max_examples,
        deadline=None,
        phases=phases,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
