"""Credentials the statistics API tests share: the owner's (``tests/conftest.py``) read key
of the identity-js API and Pirsch OAuth access token, each for the test module's ``site``."""

import pytest

from accounts.services import api_client_create, oauth_token_issue


@pytest.fixture
def read_key(owner, site):
    return api_client_create(user=owner, type="read", site=site)[1]["key"]


@pytest.fixture
def token(owner, site):
    client, _ = api_client_create(user=owner, type="oauth", site=site)
    return oauth_token_issue(client=client)[0]
