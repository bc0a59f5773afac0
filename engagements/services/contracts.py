"""Contract writes: created by hiring, activated through the compliance gate, paused, resumed, completed,
terminated, disputed (by either side) and resolved (by ops)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone as django_timezone

from accounts.models import Membership
from core.errors import ApplicationError
from core.services import audit_record
from engagements.models import Contract
from engagements.selectors import CLIENT, contract_get_for_update

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


def _client_manager(contract: Contract, side: str, by: User, action: str) -> None:
    if side != CLIENT:
        raise ApplicationError(f"Only the client can {action} the contract.", status=403)
    if Membership.objects.filter(
        user=by, organization_id=contract.organization_id, role=Membership.Role.FINANCE
    ).exists():
        raise ApplicationError(f"Finance members can't {action} contracts; ask an owner, admin or member.", status=403)


def _transition(contract: Contract, new_status: str, *, by: User | None, action: str, **data: str) -> Contract:
    previous = contract.transition_to(new_status)
    contract.save()
    audit_record(
        actor=by,
        action=action,
        target=contract,
        organization=contract.organization,
        from_state=previous,
        to_state=contract.status,
        data=data,
    )
    return contract


@transaction.atomic
def contract_activate(*, contract_id: int, by: User) -> Contract:
    """pending_compliance → active when the compliance gate lets it; otherwise say what is missing."""
    from compliance.selectors import contract_activation_blockers

    contract, _side = contract_get_for_update(contract_id=contract_id, user=by)
    blockers = contract_activation_blockers(contract=contract)
    if blockers:
        raise ApplicationError(
            "This contract can't start yet: " + "; ".join(blockers) + ".", code="compliance_pending", status=409
        )
    contract.activated_at = django_timezone.now()
    contract.start_date = contract.start_date or django_timezone.localdate()
    return _transition(contract, Contract.Status.ACTIVE, by=by, action="contract.activated")


@transaction.atomic
def contract_activate_if_ready(*, contract_id: int) -> bool:
    """System step after hiring (and, with compliance, after each approval): start the contract if nothing
    blocks it. Idempotent: a contract that is not waiting is left alone."""
    from compliance.selectors import contract_activation_blockers

    contract = Contract.objects.select_for_update().select_related("organization").filter(pk=contract_id).first()
    if contract is None or contract.status != Contract.Status.PENDING_COMPLIANCE:
        return False
    if contract_activation_blockers(contract=contract):
        return False
    contract.activated_at = django_timezone.now()
    contract.start_date = contract.start_date or django_timezone.localdate()
    _transition(contract, Contract.Status.ACTIVE, by=None, action="contract.activated")
    return True


@transaction.atomic
def contract_pause(*, contract_id: int, by: User, reason: str = "") -> Contract:
    contract, side = contract_get_for_update(contract_id=contract_id, user=by)
    _client_manager(contract, side, by, "pause")
    return _transition(contract, Contract.Status.PAUSED, by=by, action="contract.paused", reason=reason)


@transaction.atomic
def contract_resume(*, contract_id: int, by: User) -> Contract:
    contract, side = contract_get_for_update(contract_id=contract_id, user=by)
    _client_manager(contract, side, by, "resume")
    if contract.status != Contract.Status.PAUSED:
        raise ApplicationError("Only a paused contract can be resumed.", status=409)
    return _transition(contract, Contract.Status.ACTIVE, by=by, action="contract.resumed")


@transaction.atomic
def contract_complete(*, contract_id: int, by: User) -> Contract:
    """The client ends the contract as delivered; the freelancer's stats count it."""
    from marketplace.services.reviews import talent_profile_stats_refresh

    contract, side = contract_get_for_update(contract_id=contract_id, user=by)
    _client_manager(contract, side, by, "complete")
    if contract.milestones.filter(status__in=["funded", "submitted", "approved"]).exists():
        raise ApplicationError("Release or settle the funded milestones before completing the contract.", status=409)
    contract.ended_at = django_timezone.now()
    _transition(contract, Contract.Status.COMPLETED, by=by, action="contract.completed")
    if contract.freelancer_id:
        talent_profile_stats_refresh(user_id=contract.freelancer_id)
    return contract


@transaction.atomic
def contract_terminate(*, contract_id: int, by: User, reason: str) -> Contract:
    contract, side = contract_get_for_update(contract_id=contract_id, user=by)
    _client_manager(contract, side, by, "end")
    if not reason.strip():
        raise ApplicationError("Say why the contract ends.", field_errors={"reason": ["A reason is required."]})
    contract.ended_at = django_timezone.now()
    contract.end_reason = reason.strip()
    return _transition(contract, Contract.Status.TERMINATED, by=by, action="contract.terminated", reason=reason)


@transaction.atomic
def contract_dispute(*, contract_id: int, by: User, reason: str) -> Contract:
    """Either side raises a dispute on an active contract; work and payments wait until ops resolve it."""
    contract, _side = contract_get_for_update(contract_id=contract_id, user=by)
    if not reason.strip():
        raise ApplicationError(
            "Describe the problem so our team can help.", field_errors={"reason": ["A reason is required."]}
        )
    if contract.status != Contract.Status.ACTIVE:
        raise ApplicationError("Only an active contract can be disputed.", status=409)
    contract.dispute_reason = reason.strip()
    return _transition(contract, Contract.Status.DISPUTED, by=by, action="contract.disputed", reason=reason)


@transaction.atomic
def contract_dispute_resolve(*, contract_id: int, by: User, outcome: str, resolution: str) -> Contract:
    """Ops decide a dispute: the contract goes back to active, or ends (completed or terminated)."""
    if not by.has_perm("engagements.resolve_dispute"):
        raise ApplicationError("Only ops staff who resolve disputes can decide this.", status=403)
    contract = Contract.objects.select_for_update().get(pk=contract_id)
    if contract.status != Contract.Status.DISPUTED:
        raise ApplicationError("This contract is not in dispute.", status=409)
    if outcome not in (Contract.Status.ACTIVE, Contract.Status.COMPLETED, Contract.Status.TERMINATED):
        raise ApplicationError("Resolve to active, completed or terminated.")
    if not resolution.strip():
        raise ApplicationError("Write the resolution both sides will see.", field_errors={"resolution": ["Required."]})
    contract.dispute_resolution = resolution.strip()
    if outcome != Contract.Status.ACTIVE:
        contract.ended_at = django_timezone.now()
    return _transition(contract, outcome, by=by, action="contract.dispute_resolved", resolution=resolution)
