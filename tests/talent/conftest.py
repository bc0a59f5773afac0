from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import Membership, Organization
from core.models import AuditEvent
from tests.factories import MembershipFactory, OrganizationFactory, SkillFactory, TalentProfileFactory, UserFactory
from tests.talent.factories import TalentPoolFactory, VendorProfileFactory


@pytest.fixture
def skills(db):
    """A small taxonomy: Python, Django, PostgreSQL, Figma (with a synonym or two)."""
    return {
        "python": SkillFactory(name="Python", slug="python", synonyms=["Py", "Python 3"]),
        "django": SkillFactory(name="Django", slug="django"),
        "postgresql": SkillFactory(name="PostgreSQL", slug="postgresql", synonyms=["Postgres"]),
        "figma": SkillFactory(name="Figma", slug="figma", category="design"),
    }


@pytest.fixture
def freelancer(db):
    return TalentProfileFactory(user__full_name="Marta Kowalska", user__email="marta@example.com").user


@pytest.fixture
def client_org(db) -> Organization:
    return OrganizationFactory(name="Northwind Health", kind=Organization.Kind.CLIENT)


@pytest.fixture
def client_member(client_org) -> Membership:
    return MembershipFactory(organization=client_org, role=Membership.Role.MEMBER, user__full_name="Nora North")


@pytest.fixture
def other_client_member(db) -> Membership:
    return MembershipFactory(organization=OrganizationFactory(name="Southwind", kind=Organization.Kind.CLIENT))


@pytest.fixture
def vendor_org(db) -> Organization:
    return OrganizationFactory(name="Indus Ridge", kind=Organization.Kind.VENDOR, country="IN")


@pytest.fixture
def vendor_profile(vendor_org):
    return VendorProfileFactory(organization=vendor_org)


@pytest.fixture
def vendor_member(vendor_org) -> Callable[[str], Membership]:
    """A member of the vendor firm with the given role."""

    def make(role: str = Membership.Role.OWNER) -> Membership:
        return MembershipFactory(organization=vendor_org, role=role)

    return make


@pytest.fixture
def pool(client_org):
    return TalentPoolFactory(organization=client_org, name="Backend bench")


@pytest.fixture
def anonymous_user():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


@pytest.fixture
def audit_actions() -> Callable[[], list[str]]:
    def actions() -> list[str]:
        return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))

    return actions


@pytest.fixture
def outsider(db) -> Any:
    """Signed in, but neither a client, a vendor nor a freelancer."""
    return UserFactory()
