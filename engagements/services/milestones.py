"""Milestone writes for fixed-price contracts: create, fund (escrow), submit, request changes, approve, release
(in full or in parts). Funding and release call billing, which records the money movements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone as django_timezone

from core.errors import ApplicationError
from core.money import quantize
from core.services import audit_record
from engagements.models import Contract, Milestone
from engagements.selectors import CLIENT, WORKER, contract_get_for_update, milestone_get_for_update

if TYPE_CHECKING:
    from accounts.models import User
    from billing.models import Payment

LIVE_CONTRACT = (Contract.Status.PENDING_COMPLIANCE, Contract.Status.ACTIVE, Contract.Status.PAUSED)


@dataclass
class MilestoneInput:
    title: str
    amount: Decimal
    due_date: date | None = None
    description: str = ""


def _record(milestone: Milestone, previous: str, *, by: User | None, action: str, **data: str) -> Milestone:
    milestone.save()
    audit_record(
        actor=by,
        action=action,
        target=milestone,
        organization=milestone.contract.organization,
        from_state=previous,
        to_state=milestone.status,
        data=data,
    )
    return milestone


def _only(side: str, expected: str, what: str) -> None:
    if side != expected:
        who = "the client" if expected == CLIENT else "the freelancer or vendor doing the work"
        raise ApplicationError(f"Only {who} can {what}.", status=403)


@transaction.atomic
def milestone_create(*, contract_id: int, data: MilestoneInput, by: User) -> Milestone:
    contract, side = contract_get_for_update(contract_id=contract_id, user=by)
    _only(side, CLIENT, "add milestones")
    if contract.kind != Contract.Kind.FIXED:
        raise ApplicationError("Milestones belong to fixed-price contracts; hourly work is billed by timesheet.")
    if contract.status not in LIVE_CONTRACT:
        raise ApplicationError("This contract has ended; milestones can no longer be added.", status=409)
    errors: dict[str, list[str]] = {}
    if not data.title.strip():
        errors["title"] = ["Name the milestone."]
    amount = quantize(data.amount, contract.currency) if data.amount is not None else Decimal(0)
    if amount <= 0:
        errors["amount"] = ["The amount must be above zero."]
    elif contract.fixed_amount is not None:
        planned = contract.milestones.aggregate(total=Sum("amount"))["total"] or Decimal(0)
        if planned + amount > contract.fixed_amount:
            errors["amount"] = [
                f"Milestones would total {planned + amount} {contract.currency}, more than the contract's "
                f"{contract.fixed_amount}. Lower this amount or change the contract."
            ]
    if data.due_date and contract.end_date and data.due_date > contract.end_date:
        errors["due_date"] = ["The due date must be within the contract's dates."]
    if errors:
        raise ApplicationError("Please correct the highlighted fields.", field_errors=errors)
    milestone = Milestone.objects.create(
        contract=contract,
        title=data.title.strip(),
        description=data.description.strip(),
        amount=amount,
        currency=contract.currency,
        due_date=data.due_date,
    )
    audit_record(
        actor=by,
        action="milestone.created",
        target=milestone,
        organization=contract.organization,
        to_state=milestone.status,
    )
    return milestone


@transaction.atomic
def milestone_fund(*, milestone_id: int, by: User) -> Payment:
    """Start funding: the client pays the amount (plus the marketplace fee) into escrow through Stripe. The
    milestone becomes funded when Stripe confirms the payment (milestone_mark_funded), not before."""
    from billing.services import payment_start_for_milestone

    milestone, side = milestone_get_for_update(milestone_id=milestone_id, user=by)
    _only(side, CLIENT, "fund milestones")
    if milestone.contract.status not in LIVE_CONTRACT:
        raise ApplicationError("This contract has ended; milestones can no longer be funded.", status=409)
    if milestone.status != Milestone.Status.PENDING:
        raise ApplicationError("This milestone is already funded.", status=409)
    return payment_start_for_milestone(milestone=milestone, by=by)


@transaction.atomic
def milestone_mark_funded(*, milestone_id: int) -> Milestone:
    """pending → funded, when billing has recorded the confirmed payment in escrow (idempotent)."""
    milestone = Milestone.objects.select_for_update().select_related("contract__organization").get(pk=milestone_id)
    if milestone.status != Milestone.Status.PENDING:
        return milestone
    previous = milestone.transition_to(Milestone.Status.FUNDED)
    milestone.funded_at = django_timezone.now()
    return _record(milestone, previous, by=None, action="milestone.funded")


@transaction.atomic
def milestone_submit(*, milestone_id: int, by: User, note: str = "") -> Milestone:
    """funded → submitted: the worker hands in the work for review."""
    milestone, side = milestone_get_for_update(milestone_id=milestone_id, user=by)
    _only(side, WORKER, "submit work")
    if milestone.contract.status != Contract.Status.ACTIVE:
        raise ApplicationError("Work can be submitted while the contract is active.", status=409)
    previous = milestone.transition_to(Milestone.Status.SUBMITTED)
    milestone.submitted_at = django_timezone.now()
    milestone.submission_note = note.strip()
    return _record(milestone, previous, by=by, action="milestone.submitted")


@transaction.atomic
def milestone_request_changes(*, milestone_id: int, by: User, note: str) -> Milestone:
    """submitted → funded with a note: the client asks for changes; the escrow stays funded."""
    milestone, side = milestone_get_for_update(milestone_id=milestone_id, user=by)
    _only(side, CLIENT, "request changes")
    if not note.strip():
        raise ApplicationError("Say what should change.", field_errors={"note": ["Describe the changes."]})
    if milestone.status != Milestone.Status.SUBMITTED:
        raise ApplicationError("Changes can be requested on submitted work only.", status=409)
    previous = milestone.transition_to(Milestone.Status.FUNDED)
    milestone.change_request_note = note.strip()
    return _record(milestone, previous, by=by, action="milestone.changes_requested", note=note.strip())


@transaction.atomic
def milestone_approve(*, milestone_id: int, by: User) -> Milestone:
    milestone, side = milestone_get_for_update(milestone_id=milestone_id, user=by)
    _only(side, CLIENT, "approve work")
    previous = milestone.transition_to(Milestone.Status.APPROVED)
    milestone.approved_at = django_timezone.now()
    return _record(milestone, previous, by=by, action="milestone.approved")


@transaction.atomic
def milestone_release(*, milestone_id: int, by: User, amount: Decimal | None = None) -> Milestone:
    """Release approved money to the worker: all that remains, or `amount` of it (a partial release). The
    milestone row lock makes concurrent releases queue; the check constraint caps the total at the amount."""
    from billing.services import escrow_release

    milestone, side = milestone_get_for_update(milestone_id=milestone_id, user=by)
    _only(side, CLIENT, "release payments")
    if milestone.status != Milestone.Status.APPROVED:
        raise ApplicationError("Approve the work before releasing the payment.", status=409)
    remaining = milestone.remaining_amount
    release = remaining if amount is None else quantize(amount, milestone.currency)
    if release <= 0 or release > remaining:
        raise ApplicationError(
            f"Release between 0.01 and {remaining} {milestone.currency} (what remains of this milestone).",
            field_errors={"amount": [f"At most {remaining} {milestone.currency}."]},
        )
    escrow_release(milestone=milestone, amount=release, by=by)
    milestone.released_amount += release
    previous = milestone.status
    if milestone.released_amount == milestone.amount:
        milestone.transition_to(Milestone.Status.RELEASED)
        milestone.released_at = django_timezone.now()
    return _record(milestone, previous, by=by, action="milestone.released", amount=str(release))


@transaction.atomic
def milestone_refund(*, milestone_id: int, by: User, reason: str) -> Milestone:
    """The client takes back what is still in escrow for a milestone of an ended contract (through a Stripe
    refund; the milestone changes when Stripe confirms it)."""
    from billing.services import refund_create

    milestone, side = milestone_get_for_update(milestone_id=milestone_id, user=by)
    _only(side, CLIENT, "ask for refunds")
    if milestone.contract.status not in (Contract.Status.TERMINATED, Contract.Status.COMPLETED):
        raise ApplicationError(
            "Escrow is refunded once the contract has ended; end the contract first, or release the payment.",
            status=409,
        )
    payment = milestone.payments.filter(status="succeeded").order_by("-created_at").first()
    if payment is None or milestone.remaining_amount <= 0:
        raise ApplicationError("Nothing of this milestone is left in escrow.", status=409)
    refund_create(payment_id=payment.pk, amount=None, reason=reason, by=by)
    audit_record(
        actor=by,
        action="milestone.refund_requested",
        target=milestone,
        organization=milestone.contract.organization,
        data={"reason": reason.strip()},
    )
    return milestone


@transaction.atomic
def milestone_refunded(*, milestone_id: int, amount: Decimal) -> Milestone:
    """Billing confirms `amount` of the milestone went back to the client (called once per refund)."""
    milestone = Milestone.objects.select_for_update().select_related("contract__organization").get(pk=milestone_id)
    milestone.refunded_amount += amount
    previous = milestone.status
    if milestone.remaining_amount == 0 and milestone.released_amount < milestone.amount:
        milestone.transition_to(Milestone.Status.REFUNDED)
    return _record(milestone, previous, by=None, action="milestone.refunded", amount=str(amount))
