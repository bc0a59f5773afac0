"""Organisation scoping: a user sees the organisations they belong to and nothing of the others."""

import pytest

from accounts.models import Membership, Organization
from accounts.selectors import (
    ACTIVE_ORGANIZATION_SESSION_KEY,
    membership_list_for_organization,
    organization_get,
    organization_list_for_user,
    scope_to_member_organizations,
    user_context,
)
from core.models import AuditEvent
from core.selectors import audit_event_list_for_organization
from core.services import audit_record
from tests.factories import MembershipFactory, OrganizationFactory, TalentProfileFactory, UserFactory


@pytest.mark.django_db
def test_organization_list_contains_only_the_users_organisations() -> None:
    mine = MembershipFactory(organization__name="Mine").organization
    MembershipFactory(organization__name="Theirs")
    me = mine.memberships.get().user

    assert list(organization_list_for_user(user=me).values_list("name", flat=True)) == ["Mine"]


@pytest.mark.django_db
def test_another_organisation_is_not_found_rather_than_forbidden() -> None:
    me = MembershipFactory().user
    theirs = MembershipFactory().organization

    with pytest.raises(Organization.DoesNotExist):
        organization_get(organization_id=theirs.pk, user=me)
    with pytest.raises(Organization.DoesNotExist):
        membership_list_for_organization(organization_id=theirs.pk, user=me)


@pytest.mark.django_db
def test_scope_to_member_organisations_filters_any_queryset_by_membership() -> None:
    mine = MembershipFactory()
    theirs = MembershipFactory()
    audit_record(actor=None, action="a", organization=mine.organization)
    audit_record(actor=None, action="b", organization=theirs.organization)

    scoped = scope_to_member_organizations(AuditEvent.objects.all(), user=mine.user)

    assert list(scoped.values_list("action", flat=True)) == ["a"]


@pytest.mark.django_db
def test_scope_by_role_excludes_memberships_in_other_roles() -> None:
    member = MembershipFactory(role=Membership.Role.MEMBER)
    audit_record(actor=None, action="a", organization=member.organization)

    scoped = scope_to_member_organizations(
        AuditEvent.objects.all(), user=member.user, roles={Membership.Role.OWNER, Membership.Role.FINANCE}
    )

    assert scoped.count() == 0


@pytest.mark.django_db
def test_audit_events_of_another_organisation_are_not_visible() -> None:
    mine = MembershipFactory()
    theirs = MembershipFactory()
    audit_record(actor=theirs.user, action="secret", organization=theirs.organization)

    assert list(audit_event_list_for_organization(organization_id=mine.organization_id, user=mine.user)) == []
    with pytest.raises(Organization.DoesNotExist):
        audit_event_list_for_organization(organization_id=theirs.organization_id, user=mine.user)


@pytest.mark.django_db
def test_user_context_uses_the_organisation_chosen_in_the_session() -> None:
    first = MembershipFactory(organization__name="Client Co")
    second = MembershipFactory(user=first.user, organization=OrganizationFactory(name="Vendor Co", kind="vendor"))

    default = user_context(user=first.user, session={})
    chosen = user_context(user=first.user, session={ACTIVE_ORGANIZATION_SESSION_KEY: second.organization_id})
    foreign = user_context(
        user=first.user, session={ACTIVE_ORGANIZATION_SESSION_KEY: MembershipFactory().organization_id}
    )

    assert (default.role, default.organization.name) == ("client", "Client Co")
    assert (chosen.role, chosen.organization.name) == ("vendor", "Vendor Co")
    assert foreign.organization.name == "Client Co"  # a foreign id in the session is ignored


@pytest.mark.django_db
def test_user_context_roles_for_freelancer_staff_and_nobody() -> None:
    assert user_context(user=TalentProfileFactory().user).role == "freelancer"
    assert user_context(user=UserFactory(is_staff=True)).role == "staff"
    assert user_context(user=UserFactory()).role is None
