"""Fixtures for ingestion tests."""

import pytest

from tests.factories import SiteFactory


@pytest.fixture
def site(db):
    return SiteFactory(hostname="dummy.site", display_name="Dummy", timezone="UTC")
