import pytest

from accounts.models import Membership, Organization
from accounts.services import account_onboard, membership_add, organization_create
from core.errors import ApplicationError
from core.models import AuditEvent
from tests.factories import MembershipFactory, UserFactory


@pytest.mark.django_db
def test_organization_create_makes_the_creator_owner_and_audits_it() -> None:
    owner = UserFactory()

    organization = organization_create(name="  Northwind  ", kind="client", owner=owner, country="gb")

    assert (organization.name, organization.slug, organization.country) == ("Northwind", "northwind", "GB")
    assert Membership.objects.get(organization=organization).role == "owner"
    assert list(AuditEvent.objects.order_by("id").values_list("action", "actor__email")) == [
        ("organization.created", owner.email),
        ("membership.created", owner.email),
    ]


@pytest.mark.django_db
def test_organisations_with_the_same_name_get_distinct_slugs() -> None:
    first = organization_create(name="Northwind", kind="client", owner=UserFactory())
    second = organization_create(name="Northwind", kind="vendor", owner=UserFactory())

    assert (first.slug, second.slug) == ("northwind", "northwind-2")


@pytest.mark.django_db
def test_organization_create_refuses_an_unknown_kind_and_changes_nothing() -> None:
    with pytest.raises(ApplicationError, match="either a client or a vendor"):
        organization_create(name="X", kind="agency", owner=UserFactory())

    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_account_onboard_refuses_an_unknown_intent() -> None:
    user = UserFactory()

    with pytest.raises(ApplicationError, match="Choose what you are here for"):
        account_onboard(user=user, intent="lurk", full_name="Lurker")

    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_admins_add_members_and_members_cannot() -> None:
    admin = MembershipFactory(role=Membership.Role.ADMIN)
    newcomer = UserFactory()

    membership = membership_add(organization=admin.organization, user=newcomer, role="finance", by=admin.user)

    assert membership.role == "finance"
    with pytest.raises(ApplicationError, match=r"Only owners and admins can add members\."):
        membership_add(organization=admin.organization, user=UserFactory(), role="member", by=newcomer)
    assert admin.organization.memberships.count() == 2


@pytest.mark.django_db
def test_only_owners_make_owners_and_outsiders_get_not_found() -> None:
    admin = MembershipFactory(role=Membership.Role.ADMIN)
    outsider = UserFactory()

    with pytest.raises(ApplicationError, match=r"Only an owner can make someone an owner\."):
        membership_add(organization=admin.organization, user=UserFactory(), role="owner", by=admin.user)
    with pytest.raises(Organization.DoesNotExist):
        membership_add(organization=admin.organization, user=UserFactory(), role="member", by=outsider)
    assert admin.organization.memberships.count() == 1


@pytest.mark.django_db
def test_adding_an_existing_member_is_a_conflict() -> None:
    owner = MembershipFactory()

    with pytest.raises(ApplicationError) as error:
        membership_add(organization=owner.organization, user=owner.user, role="member", by=owner.user)

    assert error.value.status == 409
    assert owner.organization.memberships.get().role == "owner"
