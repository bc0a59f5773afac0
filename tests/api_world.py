"""One client organisation, Alpha, with private objects of every kind the partner API reaches, for the API's
cross-cutting tests (the permission matrix, schemathesis). Each private object carries a marker string."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Organization, WebhookDelivery
from accounts.webhooks import webhook_subscription_create
from billing.models import Invoice
from engagements.models import Contract, Timesheet
from engagements.services import (
    MilestoneInput,
    ServiceLevelInput,
    SOWInput,
    TimeEntryInput,
    contract_activate,
    milestone_create,
    service_level_set,
    sow_create,
    time_entry_add,
    week_start_of,
)
from marketplace.models import Gig, TaskUnit
from marketplace.services.bids import BidInput, bid_accept, bid_create
from talent.models import VendorProfile
from talent.services.pools import talent_pool_create, talent_pool_member_add
from tests.compliance_support import approve_all
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    ProfileSkillFactory,
    SkillFactory,
    TalentProfileFactory,
)
from tests.marketplace import test_microtasks_support as micro
from tests.marketplace.conftest import make_gig

MARKERS = [
    "ALPHA-PRIVATE-DRAFT",
    "ALPHA-PRIVATE-BID",
    "ALPHA-PRIVATE-MILESTONE",
    "ALPHA-PRIVATE-HOURS",
    "ALPHA-PRIVATE-SOW",
    "ALPHA-PRIVATE-POOL",
    "alpha-private-hooks",
    "ALPHA-PRIVATE-INVOICE",
    "ALPHA-PRIVATE-UNIT",
]


@dataclass
class World:
    alpha: Organization
    ids: dict[str, int] = field(default_factory=dict)


def build_world() -> World:
    """A client organisation, Alpha, with something of every kind: gigs (a private draft, a public one with bids,
    a micro-task gig with units), an hourly contract with a week of hours, a fixed contract with a milestone, a
    statement of work, an invoice, a talent pool and a webhook subscription."""
    skill = SkillFactory()
    owner = MembershipFactory(organization=OrganizationFactory(kind="client", name="Alpha Client"))
    alpha, by = owner.organization, owner.user
    draft = make_gig(owner, skill, publish=False, title="ALPHA-PRIVATE-DRAFT gig")

    worker = TalentProfileFactory(hourly_rate=Decimal("50"))
    ProfileSkillFactory(profile=worker, skill=skill)
    hourly_gig = make_gig(owner, skill)
    hourly_bid = bid_create(
        gig_id=hourly_gig.pk,
        data=BidInput(cover_letter="ALPHA-PRIVATE-BID hourly", hourly_rate=Decimal("50")),
        by=worker.user,
    )
    waiting = TalentProfileFactory(hourly_rate=Decimal("45"))
    ProfileSkillFactory(profile=waiting, skill=skill)
    open_bid = bid_create(
        gig_id=hourly_gig.pk,
        data=BidInput(cover_letter="ALPHA-PRIVATE-BID waiting", hourly_rate=Decimal("45")),
        by=waiting.user,
    )
    hourly = bid_accept(bid_id=hourly_bid.pk, by=by)
    approve_all(user=worker.user, contract=hourly)
    hourly = contract_activate(contract_id=hourly.pk, by=by)
    Contract.objects.filter(pk=hourly.pk).update(start_date=timezone.localdate() - timedelta(days=30))
    monday = week_start_of(timezone.localdate() - timedelta(days=7))
    entry = time_entry_add(
        contract_id=hourly.pk,
        data=TimeEntryInput(
            work_date=monday, start_time=time(9), hours=Decimal("3"), description="ALPHA-PRIVATE-HOURS audit"
        ),
        by=worker.user,
    )

    fixed_gig = make_gig(owner, skill, kind="fixed", budget_amount=Decimal("1000"))
    fixed_bid = bid_create(
        gig_id=fixed_gig.pk,
        data=BidInput(cover_letter="ALPHA-PRIVATE-BID fixed", amount=Decimal("900.00")),
        by=worker.user,
    )
    fixed = bid_accept(bid_id=fixed_bid.pk, by=by)
    approve_all(user=worker.user, contract=fixed)
    fixed = contract_activate(contract_id=fixed.pk, by=by)
    milestone = milestone_create(
        contract_id=fixed.pk, data=MilestoneInput(title="ALPHA-PRIVATE-MILESTONE one", amount=Decimal("400")), by=by
    )

    vendor = MembershipFactory(organization=OrganizationFactory(kind="vendor", name="Alpha Vendor"))
    VendorProfile.objects.create(organization=vendor.organization, headline="Service desk")
    sow = sow_create(
        organization_id=alpha.pk,
        counterparty_id=vendor.organization_id,
        data=SOWInput(
            title="ALPHA-PRIVATE-SOW support",
            scope="Email support.",
            start_date=date(2026, 1, 1),
            pricing_model="fixed_monthly",
            currency="USD",
            monthly_fee=Decimal("1000"),
        ),
        by=by,
    )
    service_level_set(
        sow_id=sow.pk,
        data=ServiceLevelInput(metric="csat", target=Decimal("4.2"), credit_pct=Decimal("5")),
        by=by,
    )

    batch = micro.make_batch(owner, units=2, gig_fields={"visibility": Gig.Visibility.INVITE})  # not for strangers
    TaskUnit.objects.filter(batch=batch).update(payload={"text": "ALPHA-PRIVATE-UNIT text"})
    unit = TaskUnit.objects.filter(batch=batch).order_by("pk").first()

    invoice = Invoice.objects.create(
        number="ALPHA-PRIVATE-INVOICE-1",
        kind=Invoice.Kind.HOURLY_WEEK,
        source_key="matrix:1",
        organization=alpha,
        issuer_user=worker.user,
        issuer_name=worker.user.full_name,
        bill_to_name=alpha.name,
        currency="USD",
        subtotal=Decimal("100.00"),
        client_fee=Decimal("5.00"),
        total=Decimal("105.00"),
        worker_fee=Decimal("10.00"),
        status="issued",
        issued_at=timezone.now(),
        due_date=timezone.localdate() + timedelta(days=14),
    )
    pool = talent_pool_create(organization_id=alpha.pk, by=by, name="ALPHA-PRIVATE-POOL bench")
    member = talent_pool_member_add(pool_id=pool.pk, by=by, freelancer_id=worker.user_id)
    subscription, _ = webhook_subscription_create(
        by=by, url="https://alpha-private-hooks.example/tandem", events=["bid.created"], organization_id=alpha.pk
    )
    timesheet = Timesheet.objects.get(pk=entry.timesheet_id)
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event_type="bid.created",
        event_id=uuid.uuid4(),
        audit_event_id=1,
        payload={"type": "bid.created", "data": {"cover_letter": "ALPHA-PRIVATE-BID in a payload"}},
    )
    return World(
        alpha=alpha,
        ids={
            "gig_id": draft.pk,
            "bid_id": open_bid.pk,
            "contract_id": hourly.pk,
            "milestone_id": milestone.pk,
            "timesheet_id": timesheet.pk,
            "sow_id": sow.pk,
            "invoice_id": invoice.pk,
            "pool_id": pool.pk,
            "member_id": member.pk,
            "batch_id": batch.pk,
            "unit_id": unit.pk if unit else 0,
            "subscription_id": subscription.pk,
            "delivery_id": delivery.pk,
            "freelancer_id": worker.user_id,
            "vendor_id": vendor.organization_id,
            "micro_gig_id": batch.gig_id,
        },
    )
