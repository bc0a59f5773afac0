from decimal import Decimal

import pytest

from engagements.services import contract_activate
from marketplace.services.bids import BidInput, bid_accept, bid_create
from tests.compliance_support import approve_all
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
    """A hired fixed-price contract: (contract, client membership, freelancer user). The freelancer meets every
    compliance requirement (approved documents, signed-off classification) unless compliant=False."""

    def make(*, kind: str = "fixed", activate: bool = True, compliant: bool = True):
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
        if compliant:
            approve_all(user=profile.user, contract=contract)
        if activate:
            contract = contract_activate(contract_id=contract.pk, by=member.user)
        return contract, member, profile.user

    return make


@pytest.fixture
def sow_parties(db):
    """A client organisation and a vendor firm (with a rate card), each with an owner and a plain member."""
    from types import SimpleNamespace

    from talent.models import RateCardEntry, VendorProfile

    client_owner = MembershipFactory(organization=OrganizationFactory(kind="client", name="Acme Retail"))
    vendor_owner = MembershipFactory(organization=OrganizationFactory(kind="vendor", name="Helpdesk Partners"))
    profile = VendorProfile.objects.create(organization=vendor_owner.organization, headline="Service desk")
    approve_all(organization=vendor_owner.organization)
    rate = RateCardEntry.objects.create(
        vendor=profile, role="Support agent", seniority="mid", rate=Decimal("42.50"), currency="USD"
    )
    return SimpleNamespace(
        client=client_owner.organization,
        vendor=vendor_owner.organization,
        client_owner=client_owner.user,
        vendor_owner=vendor_owner.user,
        client_member=MembershipFactory(organization=client_owner.organization, role="member").user,
        vendor_member=MembershipFactory(organization=vendor_owner.organization, role="member").user,
        rate=rate,
    )


@pytest.fixture
def make_sow(sow_parties):
    """make_sow(pricing=..., levels=[ServiceLevelInput...], status="active"|"proposed"|"draft", **terms)."""
    from engagements import services
    from engagements.models import StatementOfWork

    def make(
        *,
        pricing: str = "outcome_based",
        levels=None,
        status: str = "active",
        start_date=None,
        **terms,
    ) -> StatementOfWork:
        from datetime import date

        p = sow_parties
        data = services.SOWInput(
            title=terms.pop("title", "Tier-1 customer support"),
            scope=terms.pop("scope", "Email and chat support, 7 days a week."),
            start_date=start_date or date(2026, 1, 1),
            pricing_model=pricing,
            currency=terms.pop("currency", "USD"),
            monthly_fee=None if pricing == "time_and_materials" else terms.pop("monthly_fee", Decimal("10000")),
            monthly_budget_cap=terms.pop("monthly_budget_cap", Decimal("8000"))
            if pricing == "time_and_materials"
            else None,
            **terms,
        )
        sow = services.sow_create(
            organization_id=p.client.pk, counterparty_id=p.vendor.pk, data=data, by=p.client_owner
        )
        if levels is None:
            levels = [
                services.ServiceLevelInput(
                    metric="first_response_minutes", target=Decimal("60"), credit_pct=Decimal("5")
                ),
                services.ServiceLevelInput(
                    metric="csat",
                    target=Decimal("4.2"),
                    credit_pct=Decimal("5"),
                    stretch_target=Decimal("4.6") if pricing == "outcome_based" else None,
                    bonus_pct=Decimal("3") if pricing == "outcome_based" else Decimal("0"),
                ),
            ]
        for level in levels:
            services.service_level_set(sow_id=sow.pk, data=level, by=p.client_owner)
        if status == "draft":
            return sow
        services.sow_propose(sow_id=sow.pk, by=p.client_owner)
        if status == "proposed":
            return StatementOfWork.objects.get(pk=sow.pk)
        services.sow_sign(sow_id=sow.pk, by=p.client_owner)
        services.sow_sign(sow_id=sow.pk, by=p.vendor_owner)
        return StatementOfWork.objects.get(pk=sow.pk)

    return make
