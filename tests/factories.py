from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password
from django.utils.text import slugify

from accounts.models import Membership, Organization, User
from talent.models import ProfileSkill, Skill, TalentProfile

DEFAULT_PASSWORD = "correct-horse-battery-staple"
# Argon2 is deliberately slow; hash the shared test password once, not per user.
_DEFAULT_PASSWORD_HASH = make_password(DEFAULT_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    country = "GB"
    password = _DEFAULT_PASSWORD_HASH


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    kind = Organization.Kind.CLIENT
    country = "GB"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.OWNER


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Skill {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    category = Skill.Category.SOFTWARE


class TalentProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TalentProfile

    user = factory.SubFactory(UserFactory)
    headline = "Backend engineer"
    country = "GB"
    timezone = "Europe/London"


class ProfileSkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProfileSkill

    profile = factory.SubFactory(TalentProfileFactory)
    skill = factory.SubFactory(SkillFactory)
    level = 3
    years = 2
