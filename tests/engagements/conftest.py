from decimal import Decimal

import pytest

from engagements.services import contract_activate
from marketplace.services.bids import BidInput, bid_accept, bid_create
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    ProfileSkillFactory,
    SkillFactory,
    TalentProfileFactory,
)
from tests.marketplace.conftest import make_gig


@pytest.fixture
def hire(db):
    """A hired fixed-price contract: (contract, client membership, freelancer user)."""

    def make(*, kind: str = "fixed", activate: bool = True):
        skill = SkillFactory()
        member = MembershipFactory(organization=OrganizationFactory(kind="client"))
        profile = TalentProfileFactory(hourly_rate=Decimal("50"))
        ProfileSkillFactory(profile=profile, skill=skill)
        if kind == "fixed":
            gig = make_gig(member, skill, kind="fixed", budget_amount=Decimal("1000"))
            data = BidInput(cover_letter="Hi", amount=Decimal("900.00"))
        else:
            gig = make_gig(member, skill)
            data = BidInput(cover_letter="Hi", hourly_rate=Decimal("50"))
        bid = bid_create(gig_id=gig.pk, data=data, by=profile.user)
        contract = bid_accept(bid_id=bid.pk, by=member.user)
        if activate:
            contract = contract_activate(contract_id=contract.pk, by=member.user)
        return contract, member, profile.user

    return make
