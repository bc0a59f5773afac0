from decimal import Decimal

import pytest

from core.errors import ApplicationError
from core.models import AuditEvent
from marketplace.models import Bid, Gig
from marketplace.selectors.gigs import gig_get, gig_search
from marketplace.services.bids import BidInput, bid_create
from marketplace.services.gigs import GigInput, gig_cancel, gig_create, gig_publish, gig_update
from tests.factories import MembershipFactory, TalentProfileFactory, UserFactory
from tests.marketplace.conftest import make_gig
from tests.oncommit import task_callbacks


@pytest.mark.django_db
def test_gig_is_created_as_a_draft_with_skills_and_a_search_vector(client_member, python_skill) -> None:
    gig = make_gig(client_member, python_skill, publish=False)

    gig.refresh_from_db()
    assert gig.status == "draft"
    assert gig.skill_ids == [python_skill.pk]
    assert list(gig.gig_skills.values_list("skill__name", "min_level")) == [("Python", 3)]
    assert gig.search_vector is not None
    assert AuditEvent.objects.filter(action="gig.created", target_id=str(gig.pk)).exists()


@pytest.mark.django_db
def test_invalid_gig_input_lists_every_problem_and_creates_nothing(client_member) -> None:
    data = GigInput(
        title=" ",
        description="",
        kind="hourly",
        hourly_rate_min=Decimal("50"),
        hourly_rate_max=Decimal("20"),
        timezone="Mars/Olympus",
        skills=[(999999, 3)],
    )

    with pytest.raises(ApplicationError) as error:
        gig_create(organization_id=client_member.organization_id, data=data, by=client_member.user)

    assert set(error.value.field_errors) == {"title", "description", "hourly_rate_max", "timezone", "skills"}
    assert not Gig.objects.exists()


@pytest.mark.django_db
def test_only_members_of_a_client_organisation_create_its_gigs(client_member, python_skill) -> None:
    outsider = MembershipFactory()
    finance = MembershipFactory(organization=client_member.organization, role="finance")
    data = GigInput(
        title="x", description="y", kind="fixed", budget_amount=Decimal("100"), skills=[(python_skill.pk, 2)]
    )

    with pytest.raises(client_member.organization.DoesNotExist):
        gig_create(organization_id=client_member.organization_id, data=data, by=outsider.user)
    with pytest.raises(ApplicationError, match="Finance members can't post gigs"):
        gig_create(organization_id=client_member.organization_id, data=data, by=finance.user)
    assert not Gig.objects.exists()


@pytest.mark.django_db
def test_publish_needs_skills_and_moves_draft_to_open(
    client_member, python_skill, django_capture_on_commit_callbacks
) -> None:
    bare = make_gig(client_member, python_skill, publish=False, skills=[])
    with pytest.raises(ApplicationError, match="Add at least one required skill"):
        gig_publish(gig_id=bare.pk, by=client_member.user)
    bare.refresh_from_db()
    assert bare.status == "draft"

    gig = make_gig(client_member, python_skill, publish=False)
    with django_capture_on_commit_callbacks() as callbacks:
        gig_publish(gig_id=gig.pk, by=client_member.user)

    gig.refresh_from_db()
    assert gig.status == "open" and gig.published_at is not None
    assert len(task_callbacks(callbacks)) == 1  # matching is enqueued after the commit


@pytest.mark.django_db
def test_publishing_twice_is_refused(client_member, python_skill) -> None:
    gig = make_gig(client_member, python_skill)

    with pytest.raises(ApplicationError, match="cannot become Open"):
        gig_publish(gig_id=gig.pk, by=client_member.user)


@pytest.mark.django_db
def test_a_published_gig_cannot_change_kind(client_member, python_skill) -> None:
    gig = make_gig(client_member, python_skill)
    data = GigInput(
        title="T", description="D", kind="fixed", budget_amount=Decimal("900"), skills=[(python_skill.pk, 3)]
    )

    with pytest.raises(ApplicationError, match="can't change kind"):
        gig_update(gig_id=gig.pk, data=data, by=client_member.user)

    gig.refresh_from_db()
    assert gig.kind == "hourly"


@pytest.mark.django_db
def test_cancelling_declines_live_bids(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Hi", hourly_rate=Decimal("60")), by=freelancer)

    gig_cancel(gig_id=gig.pk, by=client_member.user, reason="Budget cut")

    gig.refresh_from_db()
    assert gig.status == "cancelled"
    assert list(Bid.objects.values_list("status", flat=True)) == ["declined"]


@pytest.mark.django_db
def test_drafts_are_visible_only_to_the_owning_organisation(client_member, python_skill, freelancer) -> None:
    draft = make_gig(client_member, python_skill, publish=False)
    other_client = MembershipFactory().user

    assert gig_get(gig_id=draft.pk, user=client_member.user) == draft
    for user in (freelancer, other_client, UserFactory()):
        with pytest.raises(Gig.DoesNotExist):
            gig_get(gig_id=draft.pk, user=user)


@pytest.mark.django_db
def test_invite_only_gigs_are_visible_to_invitees_only(client_member, python_skill, freelancer) -> None:
    from marketplace.services.bids import invitation_create

    gig = make_gig(client_member, python_skill, visibility="invite")
    other = TalentProfileFactory().user
    with pytest.raises(Gig.DoesNotExist):
        gig_get(gig_id=gig.pk, user=freelancer)

    invitation_create(gig_id=gig.pk, by=client_member.user, freelancer_id=freelancer.pk)

    assert gig_get(gig_id=gig.pk, user=freelancer) == gig
    with pytest.raises(Gig.DoesNotExist):
        gig_get(gig_id=gig.pk, user=other)


@pytest.mark.django_db
def test_full_text_search_and_filters(client_member, python_skill, freelancer) -> None:
    api = make_gig(client_member, python_skill, title="Payments API in Django")
    make_gig(
        client_member,
        python_skill,
        title="Logo design",
        description="A new brand mark.",
        kind="fixed",
        budget_amount=Decimal("500"),
    )
    make_gig(client_member, python_skill, publish=False, title="Draft payments work")

    assert [g.pk for g in gig_search(user=freelancer, query="payments")] == [api.pk]
    assert [g.title for g in gig_search(user=freelancer, kind="fixed")] == ["Logo design"]
    assert [g.title for g in gig_search(user=freelancer, max_budget=Decimal("30"))] == []
    assert len(gig_search(user=freelancer, skill_ids=[python_skill.pk])) == 2


@pytest.mark.django_db
def test_pool_gigs_are_visible_to_pool_members_only(client_member, python_skill, freelancer) -> None:
    from talent.models import TalentPool, TalentPoolMember
    from tests.factories import OrganizationFactory

    pool = TalentPool.objects.create(organization=client_member.organization, name="Trusted")
    vendor_member = MembershipFactory(organization=OrganizationFactory(kind="vendor"))
    TalentPoolMember.objects.create(pool=pool, freelancer=freelancer)
    TalentPoolMember.objects.create(pool=pool, vendor=vendor_member.organization)
    gig = make_gig(client_member, python_skill, visibility="pool", talent_pool_id=pool.pk)

    assert gig_get(gig_id=gig.pk, user=freelancer) == gig
    assert gig_get(gig_id=gig.pk, user=vendor_member.user) == gig
    for outsider in (
        TalentProfileFactory().user,
        MembershipFactory(organization=OrganizationFactory(kind="vendor")).user,
    ):
        with pytest.raises(Gig.DoesNotExist):
            gig_get(gig_id=gig.pk, user=outsider)
        assert list(gig_search(user=outsider)) == []


@pytest.mark.django_db
def test_a_pool_gig_needs_one_of_the_clients_own_pools(client_member, python_skill) -> None:
    from talent.models import TalentPool

    foreign_pool = TalentPool.objects.create(organization=MembershipFactory().organization, name="Theirs")

    with pytest.raises(ApplicationError) as error:
        make_gig(client_member, python_skill, visibility="pool", talent_pool_id=foreign_pool.pk)

    assert error.value.field_errors["talent_pool_id"] == ["Choose one of your talent pools, or another visibility."]
    assert not Gig.objects.exists()
