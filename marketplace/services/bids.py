"""Bid writes: place, withdraw, shortlist, decline, accept (which hires: a contract is created)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone as django_timezone

from accounts.models import Membership, Organization
from core.errors import ApplicationError
from core.services import audit_record
from marketplace.models import Bid, BidTeamMember, Gig, Invitation
from marketplace.models.bids import LIVE_BID_STATUSES
from marketplace.selectors.bids import bid_get_for_bidder, bid_get_for_client
from marketplace.selectors.gigs import gig_get, gig_get_for_update
from talent.models import TalentProfile, VendorTeamMember

if TYPE_CHECKING:
    from accounts.models import User
    from engagements.models import Contract

MAX_COVER_LETTER = 5000


@dataclass
class BidInput:
    cover_letter: str
    amount: Decimal | None = None
    hourly_rate: Decimal | None = None
    estimated_hours: int | None = None
    screening_answers: list[str] = field(default_factory=list)
    vendor_organization_id: int | None = None  # bid as this vendor firm instead of as a freelancer
    team_member_ids: list[int] = field(default_factory=list)


def _bidder(*, data: BidInput, by: User) -> tuple[User | None, Organization | None]:
    if data.vendor_organization_id is None:
        if not TalentProfile.objects.filter(user=by).exists():
            raise ApplicationError(
                "Only freelancers bid in their own name; to bid for your firm, choose it as the bidder.", status=403
            )
        return by, None
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=by, organization_id=data.vendor_organization_id, organization__kind=Organization.Kind.VENDOR)
        .first()
    )
    if membership is None:
        raise ApplicationError("You can only bid for a vendor firm you are a member of.", status=403)
    if membership.role == Membership.Role.FINANCE:
        raise ApplicationError("Finance members can't place bids; ask an owner, admin or member.", status=403)
    return None, membership.organization


def _price_errors(gig: Gig, data: BidInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not data.cover_letter.strip():
        errors["cover_letter"] = ["Tell the client why you are a good fit."]
    elif len(data.cover_letter) > MAX_COVER_LETTER:
        errors["cover_letter"] = [f"Keep the cover letter under {MAX_COVER_LETTER} characters."]
    if gig.kind == Gig.Kind.FIXED and not (data.amount and data.amount > 0):
        errors["amount"] = ["Enter your total price for the gig."]
    if gig.kind == Gig.Kind.HOURLY and not (data.hourly_rate and data.hourly_rate > 0):
        errors["hourly_rate"] = ["Enter your hourly rate."]
    if data.estimated_hours is not None and not 0 < data.estimated_hours <= 10_000:
        errors["estimated_hours"] = ["Estimate between 1 and 10,000 hours."]
    questions = gig.screening_questions
    answers = [a.strip() for a in data.screening_answers]
    if len(answers) != len(questions) or any(not a for a in answers):
        errors["screening_answers"] = [f"Answer all {len(questions)} screening questions."]
    return errors


def _outside_guardrail(gig: Gig, price: Decimal | None) -> bool:
    if price is None:
        return False
    return (gig.guardrail_min is not None and price < gig.guardrail_min) or (
        gig.guardrail_max is not None and price > gig.guardrail_max
    )


@transaction.atomic
def bid_create(*, gig_id: int, data: BidInput, by: User) -> Bid:
    gig = gig_get(gig_id=gig_id, user=by)  # 404 unless the bidder may see the gig
    if gig.status != Gig.Status.OPEN:
        raise ApplicationError("This gig is not open for bids.", code="gig_not_open", status=409)
    if gig.kind == Gig.Kind.MICRO_TASK:
        raise ApplicationError("Micro-task gigs take no bids: claim units from the work screen instead.", status=409)
    if Membership.objects.filter(user=by, organization_id=gig.organization_id).exists():
        raise ApplicationError("You can't bid on your own organisation's gig.", status=403)
    freelancer, vendor = _bidder(data=data, by=by)
    errors = _price_errors(gig, data)
    team: list[VendorTeamMember] = []
    if vendor is not None and data.team_member_ids:
        team = list(
            VendorTeamMember.objects.select_related("rate_card_entry").filter(
                pk__in=data.team_member_ids, vendor__organization=vendor, is_active=True
            )
        )
        if len(team) != len(set(data.team_member_ids)):
            errors["team_member_ids"] = ["Propose active members of your own team."]
        elif any(member.rate_card_entry is None for member in team):
            errors["team_member_ids"] = ["Each proposed team member needs a rate-card role; set it on your team page."]
    elif freelancer is not None and data.team_member_ids:
        errors["team_member_ids"] = ["Only vendor firms propose a team."]
    if errors:
        raise ApplicationError("Please correct the highlighted fields.", field_errors=errors)

    live = Bid.objects.filter(gig=gig, status__in=LIVE_BID_STATUSES)
    if live.filter(freelancer=freelancer, vendor=vendor).exists():
        raise ApplicationError("You already have a bid on this gig; withdraw it to bid again.", status=409)
    price = data.amount if gig.kind == Gig.Kind.FIXED else data.hourly_rate
    bid = Bid(
        gig=gig,
        freelancer=freelancer,
        vendor=vendor,
        submitted_by=by,
        currency=gig.currency,
        amount=data.amount if gig.kind == Gig.Kind.FIXED else None,
        hourly_rate=data.hourly_rate if gig.kind == Gig.Kind.HOURLY else None,
        estimated_hours=data.estimated_hours,
        cover_letter=data.cover_letter.strip(),
        screening_answers=[a.strip() for a in data.screening_answers],
        is_outside_guardrail=_outside_guardrail(gig, price),
    )
    try:
        with transaction.atomic():
            bid.save()
    except IntegrityError as error:  # a concurrent bid by the same bidder won the race
        raise ApplicationError("You already have a bid on this gig; withdraw it to bid again.", status=409) from error
    BidTeamMember.objects.bulk_create(
        [
            BidTeamMember(
                bid=bid,
                team_member=member,
                role=member.rate_card_entry.role,  # type: ignore[union-attr]
                rate=member.rate_card_entry.rate,  # type: ignore[union-attr]
                currency=member.rate_card_entry.currency,  # type: ignore[union-attr]
            )
            for member in team
        ]
    )
    Invitation.objects.filter(gig=gig, freelancer=freelancer, vendor=vendor).update(status=Invitation.Status.BID)
    audit_record(actor=by, action="bid.created", target=bid, organization=vendor, to_state=bid.status)
    return bid


@transaction.atomic
def bid_withdraw(*, bid_id: int, by: User) -> Bid:
    bid = bid_get_for_bidder(bid_id=bid_id, user=by)
    bid = Bid.objects.select_for_update().get(pk=bid.pk)
    previous = bid.transition_to(Bid.Status.WITHDRAWN)
    bid.decided_at = django_timezone.now()
    bid.save(update_fields=["status", "decided_at", "updated_at"])
    audit_record(actor=by, action="bid.withdrawn", target=bid, from_state=previous, to_state=bid.status)
    return bid


def _client_decision(*, bid_id: int, by: User, new_status: str, action: str) -> Bid:
    bid = bid_get_for_client(bid_id=bid_id, user=by)
    gig = gig_get_for_update(gig_id=bid.gig_id, user=by)
    bid = Bid.objects.select_for_update().get(pk=bid.pk)
    if gig.status != Gig.Status.OPEN:
        raise ApplicationError("This gig is no longer open.", code="gig_not_open", status=409)
    previous = bid.transition_to(new_status)
    if new_status != Bid.Status.SHORTLISTED:
        bid.decided_at = django_timezone.now()
    bid.save(update_fields=["status", "decided_at", "updated_at"])
    audit_record(
        actor=by, action=action, target=bid, organization=gig.organization, from_state=previous, to_state=bid.status
    )
    return bid


@transaction.atomic
def bid_shortlist(*, bid_id: int, by: User) -> Bid:
    return _client_decision(bid_id=bid_id, by=by, new_status=Bid.Status.SHORTLISTED, action="bid.shortlisted")


@transaction.atomic
def bid_decline(*, bid_id: int, by: User) -> Bid:
    return _client_decision(bid_id=bid_id, by=by, new_status=Bid.Status.DECLINED, action="bid.declined")


@transaction.atomic
def bid_accept(*, bid_id: int, by: User) -> Contract:
    """Hire: the bid is accepted, the gig's other live bids are declined, the gig goes in progress, and exactly
    one contract is created. The gig row lock serialises concurrent accepts; a partial unique index on accepted
    bids is the second line."""
    from engagements.services import contract_create_from_bid

    bid = bid_get_for_client(bid_id=bid_id, user=by)  # 404 unless the bid is on the user's gig
    gig = gig_get_for_update(gig_id=bid.gig_id, user=by)
    if Membership.objects.filter(user=by, organization_id=gig.organization_id, role=Membership.Role.FINANCE).exists():
        raise ApplicationError("Finance members can't hire; ask an owner, admin or member.", status=403)
    if gig.status != Gig.Status.OPEN:
        raise ApplicationError(
            "This gig is no longer open: someone was already hired.", code="gig_not_open", status=409
        )
    bid = Bid.objects.select_for_update().select_related("gig").get(pk=bid.pk)
    previous = bid.transition_to(Bid.Status.ACCEPTED)
    now = django_timezone.now()
    bid.decided_at = now
    bid.save(update_fields=["status", "decided_at", "updated_at"])
    declined = (
        Bid.objects.filter(gig=gig, status__in=[Bid.Status.SUBMITTED, Bid.Status.SHORTLISTED])
        .exclude(pk=bid.pk)
        .update(status=Bid.Status.DECLINED, decided_at=now)
    )
    gig_previous = gig.transition_to(Gig.Status.IN_PROGRESS)
    gig.save(update_fields=["status", "updated_at"])
    contract = contract_create_from_bid(bid=bid, by=by)
    from engagements.tasks import contract_activate_if_ready

    contract_activate_if_ready.delay_on_commit(contract_id=contract.pk)  # type: ignore[attr-defined]
    audit_record(
        actor=by,
        action="bid.accepted",
        target=bid,
        organization=gig.organization,
        from_state=previous,
        to_state=bid.status,
        data={"contract_id": contract.pk, "bids_declined": declined},
    )
    audit_record(
        actor=by,
        action="gig.hired",
        target=gig,
        organization=gig.organization,
        from_state=gig_previous,
        to_state=gig.status,
    )
    return contract


@transaction.atomic
def invitation_create(
    *, gig_id: int, by: User, freelancer_id: int | None = None, vendor_id: int | None = None, message: str = ""
) -> Invitation:
    """Invite a freelancer or a vendor firm to bid on the client's open (or draft) gig."""
    gig = gig_get_for_update(gig_id=gig_id, user=by)
    if gig.status not in (Gig.Status.DRAFT, Gig.Status.OPEN):
        raise ApplicationError("Invite people while the gig is a draft or open.", status=409)
    if (freelancer_id is None) == (vendor_id is None):
        raise ApplicationError("Invite either a freelancer or a vendor firm.")
    if freelancer_id is not None and not TalentProfile.objects.filter(user_id=freelancer_id).exists():
        raise ApplicationError("That person isn't a freelancer on Tandem.", status=404)
    if vendor_id is not None and not Organization.objects.filter(pk=vendor_id, kind=Organization.Kind.VENDOR).exists():
        raise ApplicationError("That organisation isn't a vendor firm on Tandem.", status=404)
    invitation, created = Invitation.objects.get_or_create(
        gig=gig, freelancer_id=freelancer_id, vendor_id=vendor_id, defaults={"invited_by": by, "message": message}
    )
    if not created:
        raise ApplicationError("Already invited to this gig.", code="conflict", status=409)
    audit_record(actor=by, action="invitation.created", target=invitation, organization=gig.organization)
    from marketplace.tasks.matching import invitation_email_send

    invitation_email_send.delay_on_commit(invitation_id=invitation.pk)  # type: ignore[attr-defined]
    return invitation
