"""Fixtures of the collection endpoint tests: fresh collector settings per test and a site
that keeps behaviour signals."""

import pytest

from tracking import snippet


@pytest.fixture(autouse=True)
def _fresh_collectors():
    snippet.forget_cached_collectors()
    yield
    snippet.forget_cached_collectors()


@pytest.fixture
def behaviour_site(site):
    site.behaviour_collectors = True
    site.save()
    return site
