"""Engagement writes. (Milestones, timesheets and statements of work arrive with the engagements issue.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from core.services import audit_record
from engagements.models import Contract

if TYPE_CHECKING:
    from accounts.models import User
    from marketplace.models import Bid


@transaction.atomic
def contract_create_from_bid(*, bid: Bid, by: User) -> Contract:
    """The contract an accepted bid creates: one per bid (a one-to-one column guarantees it). It waits in
    pending_compliance until the compliance gate lets it start."""
    gig = bid.gig
    kind = Contract.Kind.HOURLY if gig.kind == "hourly" else Contract.Kind.FIXED
    contract = Contract.objects.create(
        organization_id=gig.organization_id,
        freelancer_id=bid.freelancer_id,
        vendor_id=bid.vendor_id,
        gig=gig,
        bid=bid,
        kind=kind,
        currency=bid.currency,
        fixed_amount=bid.amount if kind == Contract.Kind.FIXED else None,
        hourly_rate=bid.hourly_rate if kind == Contract.Kind.HOURLY else None,
        weekly_hour_cap=40 if kind == Contract.Kind.HOURLY else None,
        start_date=None,
        end_date=gig.deadline_date,
    )
    audit_record(
        actor=by, action="contract.created", target=contract, organization=gig.organization, to_state=contract.status
    )
    return contract
