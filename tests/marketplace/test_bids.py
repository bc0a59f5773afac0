import threading
from decimal import Decimal

import pytest
from django.db import connection

from core.errors import ApplicationError
from engagements.models import Contract
from marketplace.models import Bid, Gig
from marketplace.services.bids import BidInput, bid_accept, bid_create, bid_decline, bid_shortlist, bid_withdraw
from tests.factories import MembershipFactory, OrganizationFactory, ProfileSkillFactory, TalentProfileFactory
from tests.marketplace.conftest import make_gig


def _freelancer(skill, rate="50"):
    profile = TalentProfileFactory(hourly_rate=Decimal(rate))
    ProfileSkillFactory(profile=profile, skill=skill, level=4)
    return profile.user


@pytest.mark.django_db
def test_freelancer_bids_once_per_gig(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)

    bid = bid_create(
        gig_id=gig.pk, data=BidInput(cover_letter="I built three of these.", hourly_rate=Decimal("60")), by=freelancer
    )

    assert (bid.status, bid.hourly_rate, bid.currency, bid.is_outside_guardrail) == (
        "submitted",
        Decimal("60"),
        "USD",
        False,
    )
    with pytest.raises(ApplicationError, match="already have a bid"):
        bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Again", hourly_rate=Decimal("55")), by=freelancer)
    assert Bid.objects.count() == 1


@pytest.mark.django_db
def test_a_withdrawn_bid_frees_the_bidder_to_bid_again(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    bid = bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Hi", hourly_rate=Decimal("60")), by=freelancer)

    bid_withdraw(bid_id=bid.pk, by=freelancer)
    bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Hi again", hourly_rate=Decimal("58")), by=freelancer)

    assert sorted(Bid.objects.values_list("status", flat=True)) == ["submitted", "withdrawn"]


@pytest.mark.django_db
def test_bid_refusals_leave_nothing_behind(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill, screening_questions=["Which Stripe APIs have you used?"])
    draft = make_gig(client_member, python_skill, publish=False)
    cases = [
        (gig.pk, BidInput(cover_letter="", hourly_rate=None), freelancer, "highlighted fields"),
        (gig.pk, BidInput(cover_letter="Hi", hourly_rate=Decimal("60")), freelancer, "highlighted fields"),
        (
            gig.pk,
            BidInput(cover_letter="Hi", hourly_rate=Decimal("60"), screening_answers=["Connect"]),
            client_member.user,
            "your own organisation",
        ),
        (
            gig.pk,
            BidInput(cover_letter="Hi", hourly_rate=Decimal("60"), screening_answers=["x"]),
            MembershipFactory().user,
            "Only freelancers bid",
        ),
    ]
    for gig_id, data, by, message in cases:
        with pytest.raises(ApplicationError, match=message):
            bid_create(gig_id=gig_id, data=data, by=by)
    with pytest.raises(Gig.DoesNotExist):
        bid_create(gig_id=draft.pk, data=BidInput(cover_letter="Hi", hourly_rate=Decimal("60")), by=freelancer)
    assert not Bid.objects.exists()


@pytest.mark.django_db
def test_bids_outside_the_guardrail_are_flagged(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill, guardrail_min=Decimal("30"), guardrail_max=Decimal("70"))

    bid = bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Hi", hourly_rate=Decimal("95")), by=freelancer)

    assert bid.is_outside_guardrail is True


@pytest.mark.django_db
def test_vendor_firm_bids_as_a_team(client_member, python_skill) -> None:
    vendor = MembershipFactory(organization=OrganizationFactory(name="Indus Ridge", kind="vendor"))
    gig = make_gig(client_member, python_skill)

    bid = bid_create(
        gig_id=gig.pk,
        data=BidInput(
            cover_letter="Our team", hourly_rate=Decimal("45"), vendor_organization_id=vendor.organization_id
        ),
        by=vendor.user,
    )

    assert (bid.vendor_id, bid.freelancer_id) == (vendor.organization_id, None)


@pytest.mark.django_db
def test_accepting_hires_declines_the_others_and_creates_one_contract(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    chosen = bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Pick me", hourly_rate=Decimal("60")), by=freelancer)
    other = bid_create(
        gig_id=gig.pk, data=BidInput(cover_letter="Me", hourly_rate=Decimal("55")), by=_freelancer(python_skill)
    )
    bid_shortlist(bid_id=chosen.pk, by=client_member.user)

    contract = bid_accept(bid_id=chosen.pk, by=client_member.user)

    chosen.refresh_from_db()
    other.refresh_from_db()
    gig.refresh_from_db()
    assert (chosen.status, other.status, gig.status) == ("accepted", "declined", "in_progress")
    assert (contract.status, contract.kind, contract.hourly_rate, contract.freelancer_id) == (
        "pending_compliance",
        "hourly",
        Decimal("60"),
        freelancer.pk,
    )
    with pytest.raises(ApplicationError, match="no longer open"):
        bid_decline(bid_id=other.pk, by=client_member.user)


@pytest.mark.django_db
def test_only_the_gigs_client_accepts_and_others_get_not_found(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    bid = bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Hi", hourly_rate=Decimal("60")), by=freelancer)
    finance = MembershipFactory(organization=client_member.organization, role="finance")

    for outsider in (MembershipFactory().user, freelancer):
        with pytest.raises(Bid.DoesNotExist):
            bid_accept(bid_id=bid.pk, by=outsider)
    with pytest.raises(ApplicationError, match="Finance members can't hire"):
        bid_accept(bid_id=bid.pk, by=finance.user)
    bid.refresh_from_db()
    assert bid.status == "submitted" and not Contract.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_accepting_bids_on_one_gig_create_exactly_one_contract(python_skill) -> None:
    member = MembershipFactory(organization=OrganizationFactory(kind="client"))
    gig = make_gig(member, python_skill)
    bids = [
        bid_create(
            gig_id=gig.pk,
            data=BidInput(cover_letter=f"Bid {i}", hourly_rate=Decimal("50")),
            by=_freelancer(python_skill),
        )
        for i in range(20)
    ]
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def accept(bid_id: int) -> None:
        try:
            barrier.wait()
            bid_accept(bid_id=bid_id, by=member.user)
            outcomes.append("hired")
        except ApplicationError as error:
            outcomes.append(f"{error.status}")
        except Exception as error:  # noqa: BLE001 - anything else is a bug the test must report
            outcomes.append(f"crash: {error!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(bid.pk,)) for bid in bids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["409"] * 19 + ["hired"]
    assert Contract.objects.count() == 1
    assert Bid.objects.filter(status="accepted").count() == 1
    assert Bid.objects.filter(status="declined").count() == 19


@pytest.mark.django_db
def test_vendor_proposes_team_members_priced_from_its_rate_card(client_member, python_skill) -> None:
    from talent.models import RateCardEntry, VendorProfile, VendorTeamMember

    vendor = MembershipFactory(organization=OrganizationFactory(name="Indus Ridge", kind="vendor"))
    profile = VendorProfile.objects.create(organization=vendor.organization)
    senior = RateCardEntry.objects.create(
        vendor=profile, role="Backend engineer", seniority="senior", rate=Decimal("55.00"), currency="USD"
    )
    asha = VendorTeamMember.objects.create(
        vendor=profile, full_name="Asha Rao", title="Tech lead", rate_card_entry=senior
    )
    other_firm = VendorProfile.objects.create(organization=OrganizationFactory(kind="vendor"))
    outsider = VendorTeamMember.objects.create(vendor=other_firm, full_name="Not ours", title="Dev")
    gig = make_gig(client_member, python_skill)

    with pytest.raises(ApplicationError) as error:
        bid_create(
            gig_id=gig.pk,
            by=vendor.user,
            data=BidInput(
                cover_letter="Team",
                hourly_rate=Decimal("55"),
                vendor_organization_id=vendor.organization_id,
                team_member_ids=[outsider.pk],
            ),
        )
    assert error.value.field_errors["team_member_ids"] == ["Propose active members of your own team."]
    bid = bid_create(
        gig_id=gig.pk,
        by=vendor.user,
        data=BidInput(
            cover_letter="Team",
            hourly_rate=Decimal("55"),
            vendor_organization_id=vendor.organization_id,
            team_member_ids=[asha.pk],
        ),
    )

    assert list(bid.team.values_list("team_member__full_name", "role", "rate", "currency")) == [
        ("Asha Rao", "Backend engineer", Decimal("55.00"), "USD")
    ]
