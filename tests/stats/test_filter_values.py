"""Filter values from requests: regular expressions both databases accept, JSON keys that
are never ORM lookups, codes in their stored case."""

import re
import warnings

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from stats import filter_values
from stats.filter_values import FilterValueError


def python_accepts(pattern: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            re.compile(pattern)
        except (re.error, RecursionError, OverflowError):
            return False
    return True


def postgresql_accepts(pattern: str) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT '' ~ %s", [pattern])
    except DatabaseError:
        return False
    return True


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL is the oracle")
@pytest.mark.django_db
@hsettings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(pattern=st.text("()[]{}*+?\\^$|.:aPuibwdsSNZAz<>=!019,-# ", max_size=10))
def test_patterns_accepted_without_postgresql_are_accepted_by_postgresql(pattern):
    """Oracle: what the embedded SQLite accepts (Python's ``re`` and the portability check)
    PostgreSQL accepts too, so a filter behaves the same on both."""
    if python_accepts(pattern) and not filter_values._not_portable(pattern):
        assert postgresql_accepts(pattern), pattern


@pytest.mark.parametrize(
    "pattern",
    ["(?P<x>a)", "(?<x>a)", "a{1001}", "[[:foo:]]", "(?u)a", "a(?i)b", "(?i:a)", r"\N{DIGIT ONE}",
     "a{1d", "a{,3}", "a*+", "a{2}+", "[a[.b.]]", "(", "x" * 1001],
)  # fmt: skip
@pytest.mark.django_db
def test_patterns_postgresql_refuses_are_refused_on_every_database(pattern):
    with pytest.raises(FilterValueError) as error:
        filter_values.check_pattern(pattern)
    assert error.value.field == "pattern"


@pytest.mark.parametrize(
    "pattern",
    ["^/blog", r"(?i)^\/path/[^\/]+$", "[.]", "a{2,3}", r"\d+", "x*?", "(?:a|b)", "[]a]",
     r"\{1000\}", "(?<=a)b", "(?!x)", "[[:alpha:]]", "a{}", "^/(en|de)/"],
)  # fmt: skip
@pytest.mark.django_db
def test_ordinary_patterns_pass(pattern):
    filter_values.check_pattern(pattern)


@pytest.mark.parametrize(
    ("name", "key"),
    [("meta_plan", "plan"), ("tag_author", "author"), ("meta_a.b-c d", "a.b-c d"), ("path", None)],
)
def test_json_keys(name, key):
    assert filter_values.json_key(name) == key


@pytest.mark.parametrize(
    "name", ["meta_plan__gt", "meta_", "tag_a__isnull", "meta_x'y", "meta_" + "k" * 65]
)
def test_json_keys_that_could_be_lookups_are_refused(name):
    with pytest.raises(FilterValueError) as error:
        filter_values.json_key(name)
    assert error.value.field == name


@pytest.mark.parametrize(
    ("name", "value", "normalized"),
    [
        ("country", "de", "DE"),
        ("country", "!de", "!DE"),
        ("region", "de-by", "DE-BY"),
        ("language", "EN", "en"),
        ("platform", "~Mob", "~mob"),
        ("screen_class", "xxl", "XXL"),
        ("city", "berlin", "berlin"),  # names keep their case
    ],
)
def test_codes_take_their_stored_case(name, value, normalized):
    assert filter_values.normalize_code(name, value) == normalized
