"""Factories for the talent models that tests/factories.py doesn't cover."""

from __future__ import annotations

from decimal import Decimal

import factory

from accounts.models import Organization
from talent.models import (
    PortfolioItem,
    RateCardEntry,
    TalentPool,
    TalentPoolMember,
    VendorCapability,
    VendorCertification,
    VendorProfile,
    VendorTeamMember,
)
from tests.factories import OrganizationFactory, SkillFactory, TalentProfileFactory


class PortfolioItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PortfolioItem

    profile = factory.SubFactory(TalentProfileFactory)
    title = factory.Sequence(lambda n: f"Project {n}")
    description = "Built and shipped it."
    url = "https://example.com/work"


class VendorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VendorProfile

    organization = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.VENDOR)
    headline = "Customer support from Manila"
    service_lines = factory.LazyFunction(lambda: ["customer support"])
    headcount = 120
    countries_served = factory.LazyFunction(lambda: ["PH", "US"])
    timezone = "Asia/Manila"


class VendorCapabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VendorCapability

    vendor = factory.SubFactory(VendorProfileFactory)
    skill = factory.SubFactory(SkillFactory)
    level = 4


class VendorCertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VendorCertification

    vendor = factory.SubFactory(VendorProfileFactory)
    name = factory.Sequence(lambda n: f"ISO {27000 + n}")
    issuer = "BSI"


class RateCardEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RateCardEntry

    vendor = factory.SubFactory(VendorProfileFactory)
    role = factory.Sequence(lambda n: f"Support agent {n}")
    seniority = RateCardEntry.Seniority.MID
    rate = Decimal("18.00")
    currency = "USD"
    unit = RateCardEntry.Unit.HOUR


class VendorTeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VendorTeamMember
        skip_postgeneration_save = True

    vendor = factory.SubFactory(VendorProfileFactory)
    full_name = factory.Faker("name")
    title = "Support agent"

    @factory.post_generation
    def skills(self, create: bool, extracted: list | None, **kwargs: object) -> None:
        if create and extracted:
            self.skills.set(extracted)


class TalentPoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TalentPool

    organization = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.CLIENT)
    name = factory.Sequence(lambda n: f"Pool {n}")
    description = "People we hire again."


class TalentPoolMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TalentPoolMember

    pool = factory.SubFactory(TalentPoolFactory)
    freelancer = factory.LazyAttribute(lambda o: TalentProfileFactory().user if o.vendor is None else None)
    vendor = None
    notes = "Rehire."
