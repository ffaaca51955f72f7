"""factory_boy factories shared by every test module."""

import factory

from accounts.models import Organization, OrganizationMember, Role, User
from sites.models import Site, SiteDomain, SiteMembership


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):
        if create:
            self.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")


class OrganizationMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganizationMember

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        skip_postgeneration_save = True

    display_name = factory.Sequence(lambda n: f"Site {n}")
    hostname = factory.Sequence(lambda n: f"site{n}.example.com")
    timezone = "UTC"

    @factory.post_generation
    def with_domain(self, create, extracted, **kwargs):
        if create:
            SiteDomain.objects.get_or_create(site=self, domain=self.hostname)


class SiteMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SiteMembership

    site = factory.SubFactory(SiteFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER
