"""Sites: public ids, keys, time zones, hostnames, aliases, memberships."""

import re

import pytest
from django.core.exceptions import ValidationError

from sites.models import Site, SiteDomain
from sites.services import (
    membership_remove,
    membership_set,
    normalize_hostname,
    site_add_domain,
    site_create,
)
from tests.factories import UserFactory


def test_public_ids_and_keys_have_their_shapes_and_are_unique(db):
    sites = [site_create(display_name=f"S{i}", hostname=f"s{i}.example.com") for i in range(200)]
    assert all(re.fullmatch(r"[A-Za-z0-9]{10}", s.public_id) for s in sites)
    assert all(re.fullmatch(r"pk_live_[A-Za-z0-9]{32}", s.public_key) for s in sites)
    assert len({s.public_id for s in sites}) == 200
    assert len({s.public_key for s in sites}) == 200
    assert sites[0].idsite == sites[0].pk and sites[0].pid == sites[0].public_id


@pytest.mark.parametrize(
    "tz", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Asia/Kolkata"]
)
def test_valid_time_zones(db, tz):
    assert site_create(display_name="x", hostname="tz.example", timezone=tz).timezone == tz


@pytest.mark.parametrize("tz", ["Mars/Olympus", "", "utc+2", "Europe/berlin ", "GMT+25"])
def test_invalid_time_zones_are_refused(db, tz):
    with pytest.raises(ValidationError):
        site_create(display_name="x", hostname="tz.example", timezone=tz)
    site = Site(display_name="x", hostname="tz2.example", timezone=tz)
    with pytest.raises(ValidationError):
        site.full_clean()
    assert not Site.objects.exists()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.Example.com/path?q=1", "example.com"),
        ("example.com.", "example.com"),
        ("shop.example.co.uk:8080", "shop.example.co.uk"),
        ("My-App", "my-app"),
    ],
)
def test_hostname_normalisation(value, expected):
    assert normalize_hostname(value) == expected


def test_shared_hostnames_and_aliases_are_accepted_without_telling(db):
    """Refusing would tell any user that another tenant has a site for the name."""
    site = site_create(display_name="A", hostname="a.example", aliases=["a-alias.example"])
    assert set(SiteDomain.objects.filter(site=site).values_list("domain", flat=True)) == {
        "a.example",
        "a-alias.example",
    }
    others = [
        site_create(display_name="B", hostname=hostname)
        for hostname in ("a.example", "https://www.a.example/", "a-alias.example")
    ]
    assert [o.hostname for o in others] == ["a.example", "a.example", "a-alias.example"]
    assert SiteDomain.objects.filter(domain="a.example").count() == 3
    # Adding a name the site already has changes nothing.
    assert site_add_domain(site=site, domain="a-alias.example").site == site
    assert SiteDomain.objects.filter(site=site).count() == 2
    with pytest.raises(ValidationError):
        site_create(display_name="C", hostname="not a host!")
    assert site_add_domain(site=site, domain="www.third.example").domain == "third.example"


def test_owner_membership_and_last_owner_protection(db):
    owner = UserFactory()
    site = site_create(display_name="A", hostname="a.example", owner=owner)
    assert site.memberships.get().role == "owner"
    with pytest.raises(ValidationError):
        membership_remove(site=site, user=owner)
    second = UserFactory()
    membership_set(site=site, user=second, role="owner")
    membership_remove(site=site, user=owner)
    assert list(site.memberships.values_list("user", flat=True)) == [second.pk]
