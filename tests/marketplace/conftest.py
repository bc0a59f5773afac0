from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Organization
from marketplace.models import Gig
from marketplace.services.gigs import GigInput, gig_create, gig_publish
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    ProfileSkillFactory,
    SkillFactory,
    TalentProfileFactory,
)


@pytest.fixture
def python_skill():
    return SkillFactory(name="Python", slug="python")


@pytest.fixture
def client_member(db):
    return MembershipFactory(organization=OrganizationFactory(name="Northwind", kind=Organization.Kind.CLIENT))


@pytest.fixture
def freelancer(python_skill):
    profile = TalentProfileFactory(user__full_name="Fran Freelance", hourly_rate=Decimal("50"))
    ProfileSkillFactory(profile=profile, skill=python_skill, level=4)
    profile.skill_ids = [python_skill.pk]
    profile.save()
    return profile.user


def make_gig(member, skill, *, publish: bool = True, **overrides) -> Gig:
    data = GigInput(
        title="Build a payments API",
        description="Django REST API for payouts with Stripe.",
        kind=Gig.Kind.HOURLY,
        hourly_rate_min=Decimal("40"),
        hourly_rate_max=Decimal("80"),
        estimated_hours=60,
        skills=[(skill.pk, 3)],
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    gig = gig_create(organization_id=member.organization_id, data=data, by=member.user)
    if publish:
        gig = gig_publish(gig_id=gig.pk, by=member.user)
    return gig
