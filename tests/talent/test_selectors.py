"""Talent reads, scoped to who asks."""

from __future__ import annotations

import pytest

from accounts.models import Membership
from talent import selectors
from talent.models import TalentPool, TalentProfile
from tests.factories import MembershipFactory, SkillFactory, TalentProfileFactory
from tests.talent.factories import TalentPoolFactory, TalentPoolMemberFactory, VendorProfileFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("visibility", "expected"),
    [
        ("public", {"owner": True, "client": True, "vendor": True, "other_freelancer": True, "anonymous": False}),
        ("clients", {"owner": True, "client": True, "vendor": False, "other_freelancer": False, "anonymous": False}),
        ("private", {"owner": True, "client": False, "vendor": False, "other_freelancer": False, "anonymous": False}),
    ],
)
def test_profile_visibility(visibility, expected, client_member, vendor_member, anonymous_user) -> None:
    profile = TalentProfileFactory(visibility=visibility)
    viewers = {
        "owner": profile.user,
        "client": client_member.user,
        "vendor": vendor_member(Membership.Role.OWNER).user,
        "other_freelancer": TalentProfileFactory().user,
        "anonymous": anonymous_user,
    }

    seen = {}
    for name, viewer in viewers.items():
        try:
            selectors.talent_profile_get_for_viewer(user_id=profile.user_id, viewer=viewer)
            seen[name] = True
        except TalentProfile.DoesNotExist:
            seen[name] = False

    assert seen == expected


def test_skill_index_matches_names_and_synonyms_case_insensitively(skills) -> None:
    index = selectors.skill_index()

    assert index["python"] == skills["python"]
    assert index["py"] == skills["python"]
    assert index["postgres"] == skills["postgresql"]


def test_a_skill_name_wins_over_another_skills_synonym() -> None:
    go = SkillFactory(name="Go", slug="go")
    SkillFactory(name="Golang tooling", slug="golang-tooling", synonyms=["Go"])

    assert selectors.skill_index()["go"] == go


def test_vendor_search_by_id_exact_name_or_part(vendor_org) -> None:
    VendorProfileFactory(organization__name="Indus Data")

    assert selectors.vendor_organization_search(query=str(vendor_org.pk)) == [vendor_org]
    assert selectors.vendor_organization_search(query="indus ridge") == [vendor_org]
    assert [o.name for o in selectors.vendor_organization_search(query="indus")] == ["Indus Data", "Indus Ridge"]
    assert selectors.vendor_organization_search(query="   ") == []


def test_vendor_search_ignores_clients(client_org) -> None:
    assert selectors.vendor_organization_search(query=client_org.name) == []
    assert selectors.vendor_organization_search(query=str(client_org.pk)) == []


def test_freelancer_by_email_is_case_insensitive_and_only_for_freelancers(freelancer, outsider) -> None:
    assert selectors.freelancer_get_by_email(email=" MARTA@example.com ") == freelancer
    assert selectors.freelancer_get_by_email(email=outsider.email) is None


def test_pool_list_is_scoped_to_the_users_client_organisations(client_member, other_client_member) -> None:
    mine = TalentPoolFactory(organization=client_member.organization, name="Mine")
    TalentPoolFactory(organization=other_client_member.organization, name="Theirs")
    TalentPoolMemberFactory.create_batch(2, pool=mine)
    TalentPoolMemberFactory(pool=mine, freelancer=None, vendor=VendorProfileFactory().organization)

    pools = list(selectors.talent_pool_list_for_user(user=client_member.user))

    assert [(p.name, p.freelancer_count, p.vendor_count) for p in pools] == [("Mine", 2, 1)]


def test_pool_get_is_not_found_for_others(pool, other_client_member, freelancer, anonymous_user) -> None:
    for user in (other_client_member.user, freelancer, anonymous_user):
        with pytest.raises(TalentPool.DoesNotExist):
            selectors.talent_pool_get(pool_id=pool.pk, user=user)
        assert list(selectors.talent_pool_members(pool_id=pool.pk, user=user)) == []


def test_pool_member_ids_returns_freelancers_and_vendors(pool, vendor_org) -> None:
    first, second = TalentPoolMemberFactory(pool=pool), TalentPoolMemberFactory(pool=pool)
    TalentPoolMemberFactory(pool=pool, freelancer=None, vendor=vendor_org)
    TalentPoolMemberFactory()  # another pool

    freelancer_ids, vendor_ids = selectors.talent_pool_member_ids(pool_id=pool.pk)

    assert freelancer_ids == sorted([first.freelancer_id, second.freelancer_id])
    assert vendor_ids == [vendor_org.pk]


def test_pool_member_ids_of_an_empty_pool(pool) -> None:
    assert selectors.talent_pool_member_ids(pool_id=pool.pk) == ([], [])


def test_a_user_in_two_client_organisations_sees_both_pool_lists(client_member, other_client_member) -> None:
    MembershipFactory(user=client_member.user, organization=other_client_member.organization)
    TalentPoolFactory(organization=client_member.organization, name="A")
    TalentPoolFactory(organization=other_client_member.organization, name="B")

    assert sorted(p.name for p in selectors.talent_pool_list_for_user(user=client_member.user)) == ["A", "B"]
