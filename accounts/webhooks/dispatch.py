"""Dispatch: `webhooks_dispatch` reads the sealed audit events after its cursor, turns the ones partners care about
into a webhook event for each organisation or freelancer involved, and creates one delivery per matching
subscription.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import WebhookDelivery, WebhookDispatchCursor, WebhookSubscription
from accounts.webhooks.delivery import _enqueue_attempts
from core.models import AuditEvent

DISPATCH_SEQUENCE_WINDOW = 2000  # audit events read per dispatch transaction
# Event ids are derived from the audit event, so every subscription (and every replay) sees the same id.
WEBHOOK_EVENT_NAMESPACE = uuid.UUID("6f1c1f9e-4d0b-4a57-9d38-0c5b8f1e7a21")

# Audit action → webhook event type.
ACTION_EVENT_TYPES = {
    "gig.published": "gig.published",
    "bid.created": "bid.created",
    "bid.accepted": "bid.accepted",
    "contract.activated": "contract.activated",
    "timesheet.submitted": "timesheet.submitted",
    "timesheet.approved": "timesheet.approved",
    "timesheet.auto_approved": "timesheet.approved",
    "milestone.released": "milestone.released",
    "invoice.issued": "invoice.issued",
    "payout.paid": "payout.paid",
    "sla.evaluated": "sla.breached",  # only when the evaluation found breaches
    "compliance_document.approved": "compliance.updated",
    "compliance_document.rejected": "compliance.updated",
    "compliance_document.expired": "compliance.updated",
    "screening_hit.cleared": "compliance.updated",
    "screening_hit.confirmed": "compliance.updated",
    "classification.signed_off": "compliance.updated",
    "classification.rejected": "compliance.updated",
}


@dataclass
class _Event:
    """A webhook event about to be delivered: who it concerns and what it says."""

    type: str
    organization_ids: set[int] = field(default_factory=set)
    user_ids: set[int] = field(default_factory=set)
    data: dict[str, Any] = field(default_factory=dict)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _sides(contract: Any) -> tuple[set[int], set[int]]:
    """The organisations and users on both sides of a contract."""
    organizations = {contract.organization_id} | ({contract.vendor_id} if contract.vendor_id else set())
    return organizations, {contract.freelancer_id} if contract.freelancer_id else set()


def _party(obj: Any) -> tuple[set[int], set[int]]:
    """The organisation or the user an object belongs to (payouts, compliance documents, screening hits)."""
    return ({obj.organization_id} if obj.organization_id else set()), ({obj.user_id} if obj.user_id else set())


def _gig(gig: Any, audit: AuditEvent) -> _Event:
    return _Event(
        type="gig.published",
        organization_ids={gig.organization_id},
        data={
            "object": "gig",
            "id": gig.pk,
            "title": gig.title,
            "kind": gig.kind,
            "status": audit.to_state or gig.status,
            "currency": gig.currency,
            "budget_amount": _money(gig.budget_amount),
            "hourly_rate_min": _money(gig.hourly_rate_min),
            "hourly_rate_max": _money(gig.hourly_rate_max),
        },
    )


def _bid(bid: Any, audit: AuditEvent) -> _Event:
    event = _Event(
        type=ACTION_EVENT_TYPES[audit.action],
        organization_ids={bid.gig.organization_id},
        data={
            "object": "bid",
            "id": bid.pk,
            "gig_id": bid.gig_id,
            "status": audit.to_state or bid.status,
            "currency": bid.currency,
            "amount": _money(bid.amount),
            "hourly_rate": _money(bid.hourly_rate),
        },
    )
    if audit.action == "bid.accepted":  # the bidder learns it too
        event.organization_ids |= {bid.vendor_id} if bid.vendor_id else set()
        event.user_ids |= {bid.freelancer_id} if bid.freelancer_id else set()
        event.data["contract_id"] = audit.data.get("contract_id")
    return event


def _contract(contract: Any, audit: AuditEvent) -> _Event:
    organizations, users = _sides(contract)
    data = {
        "object": "contract",
        "id": contract.pk,
        "kind": contract.kind,
        "status": audit.to_state or contract.status,
        "gig_id": contract.gig_id,
        "currency": contract.currency,
        "fixed_amount": _money(contract.fixed_amount),
        "hourly_rate": _money(contract.hourly_rate),
    }
    return _Event(type="contract.activated", organization_ids=organizations, user_ids=users, data=data)


def _timesheet(timesheet: Any, audit: AuditEvent) -> _Event:
    organizations, users = _sides(timesheet.contract)
    data = {
        "object": "timesheet",
        "id": timesheet.pk,
        "contract_id": timesheet.contract_id,
        "week_start": timesheet.week_start.isoformat(),
        "status": audit.to_state or timesheet.status,
        "total_hours": f"{timesheet.total_hours:.2f}",
        "is_auto_approved": audit.action == "timesheet.auto_approved",
    }
    return _Event(type=ACTION_EVENT_TYPES[audit.action], organization_ids=organizations, user_ids=users, data=data)


def _milestone(milestone: Any, audit: AuditEvent) -> _Event:
    organizations, users = _sides(milestone.contract)
    data = {
        "object": "milestone",
        "id": milestone.pk,
        "contract_id": milestone.contract_id,
        "status": audit.to_state or milestone.status,
        "currency": milestone.currency,
        "amount": _money(milestone.amount),
        "released_amount": audit.data.get("amount"),
    }
    return _Event(type="milestone.released", organization_ids=organizations, user_ids=users, data=data)


def _invoice(invoice: Any, audit: AuditEvent) -> _Event:
    issuer_organizations = {invoice.issuer_organization_id} if invoice.issuer_organization_id else set()
    data = {
        "object": "invoice",
        "id": invoice.pk,
        "number": invoice.number,
        "kind": invoice.kind,
        "status": audit.to_state or invoice.status,
        "contract_id": invoice.contract_id,
        "sow_id": invoice.sow_id,
        "currency": invoice.currency,
        "total": _money(invoice.total),
        "due_date": invoice.due_date.isoformat(),
    }
    return _Event(
        type="invoice.issued",
        organization_ids={invoice.organization_id} | issuer_organizations,
        user_ids={invoice.issuer_user_id} if invoice.issuer_user_id else set(),
        data=data,
    )


def _payout(payout: Any, audit: AuditEvent) -> _Event:
    organizations, users = _party(payout)
    data = {
        "object": "payout",
        "id": payout.pk,
        "status": audit.to_state or payout.status,
        "currency": payout.currency,
        "amount": _money(payout.amount),
    }
    return _Event(type="payout.paid", organization_ids=organizations, user_ids=users, data=data)


def _sla_evaluation(evaluation: Any, audit: AuditEvent) -> _Event | None:
    breaches = list(evaluation.breaches.all())
    if not breaches:
        return None
    data = {
        "object": "sla_evaluation",
        "id": evaluation.pk,
        "sow_id": evaluation.sow_id,
        "period": evaluation.period.isoformat(),
        "levels_met": evaluation.levels_met,
        "levels_total": evaluation.levels_total,
        "currency": evaluation.currency,
        "credit_total": _money(evaluation.credit_total),
        "breaches": [
            {
                "service_level_id": breach.service_level_id,
                "metric": breach.metric,
                "direction": breach.direction,
                "target": f"{breach.target:.2f}",
                "measured_value": None if breach.measured_value is None else f"{breach.measured_value:.2f}",
                "credit_amount": _money(breach.credit_amount),
            }
            for breach in sorted(breaches, key=lambda breach: breach.pk)
        ],
    }
    organizations = {evaluation.sow.organization_id, evaluation.sow.vendor_id}
    return _Event(type="sla.breached", organization_ids=organizations, data=data)


def _compliance(subject: str) -> Callable[[Any, AuditEvent], _Event]:
    def build(obj: Any, audit: AuditEvent) -> _Event:
        if subject == "classification":
            organizations, users = _sides(obj.contract)
        else:
            organizations, users = _party(obj)
        data: dict[str, Any] = {"object": subject, "id": obj.pk, "status": audit.to_state or obj.status}
        if subject == "document":
            data["requirement"] = obj.requirement.code
        elif subject == "classification":
            data |= {"contract_id": obj.contract_id, "risk": obj.risk}
        return _Event(type="compliance.updated", organization_ids=organizations, user_ids=users, data=data)

    return build


def _loaders() -> dict[str, tuple[Any, Callable[[Any, AuditEvent], _Event | None]]]:
    """Per audit target type: the queryset its objects are read with (one query per type and batch) and the
    function turning an object and its audit event into a webhook event."""
    from billing.models import Invoice, Payout
    from compliance.models import ClassificationAssessment, ComplianceDocument, ScreeningHit
    from engagements.models import Contract, Milestone, SLAEvaluation, Timesheet
    from marketplace.models import Bid, Gig

    return {
        "marketplace.gig": (Gig.objects.all(), _gig),
        "marketplace.bid": (Bid.objects.select_related("gig"), _bid),
        "engagements.contract": (Contract.objects.all(), _contract),
        "engagements.timesheet": (Timesheet.objects.select_related("contract"), _timesheet),
        "engagements.milestone": (Milestone.objects.select_related("contract"), _milestone),
        "billing.invoice": (Invoice.objects.all(), _invoice),
        "billing.payout": (Payout.objects.all(), _payout),
        "engagements.slaevaluation": (
            SLAEvaluation.objects.select_related("sow").prefetch_related("breaches"),
            _sla_evaluation,
        ),
        "compliance.compliancedocument": (
            ComplianceDocument.objects.select_related("requirement"),
            _compliance("document"),
        ),
        "compliance.screeninghit": (ScreeningHit.objects.all(), _compliance("screening")),
        "compliance.classificationassessment": (
            ClassificationAssessment.objects.select_related("contract"),
            _compliance("classification"),
        ),
    }


def _webhook_events(audits: list[AuditEvent]) -> list[tuple[AuditEvent, _Event]]:
    loaders = _loaders()
    ids_by_type: dict[str, set[int]] = {}
    for audit in audits:
        if audit.target_type in loaders and audit.target_id.isdigit():
            ids_by_type.setdefault(audit.target_type, set()).add(int(audit.target_id))
    objects = {target_type: loaders[target_type][0].in_bulk(sorted(ids)) for target_type, ids in ids_by_type.items()}
    found = []
    for audit in audits:
        obj = objects.get(audit.target_type, {}).get(int(audit.target_id)) if audit.target_id.isdigit() else None
        if obj is None:
            continue  # gone since (or not an object we describe): nothing to say
        event = loaders[audit.target_type][1](obj, audit)
        if event is not None:
            found.append((audit, event))
    return found


def _cursor_for_update() -> WebhookDispatchCursor:
    cursor, _ = WebhookDispatchCursor.objects.select_for_update().get_or_create(pk=1)
    return cursor


def webhooks_dispatch() -> int:
    """Turn sealed audit events after the cursor into deliveries; returns how many deliveries were created.

    Idempotent and safe to run concurrently: each window of events is one transaction holding the cursor's row
    lock, and a delivery is unique per subscription and audit event. Only events recorded after a subscription
    was created reach it. The new deliveries' first attempts are queued when the transaction commits.
    """
    created = 0
    while True:
        with transaction.atomic():
            cursor = _cursor_for_update()
            # The head first, then the events up to it: every sequence up to a sealed head has committed.
            head = (
                AuditEvent.objects.filter(sequence__isnull=False)
                .order_by("-sequence")
                .values_list("sequence", flat=True)
                .first()
            ) or 0
            if head <= cursor.last_sequence:
                return created
            upper = min(head, cursor.last_sequence + DISPATCH_SEQUENCE_WINDOW)
            if WebhookSubscription.objects.filter(is_active=True).exists():
                audits = list(
                    AuditEvent.objects.filter(
                        sequence__gt=cursor.last_sequence, sequence__lte=upper, action__in=list(ACTION_EVENT_TYPES)
                    ).order_by("sequence")
                )
                created += _deliveries_create(_webhook_events(audits))
            cursor.last_sequence = upper
            cursor.save(update_fields=["last_sequence", "updated_at"])
        if upper == head:
            return created


def _deliveries_create(events: list[tuple[AuditEvent, _Event]]) -> int:
    """One delivery per event and subscription concerned; their first attempts are queued on commit."""
    if not events:
        return 0
    organization_ids = set().union(*(event.organization_ids for _, event in events))
    user_ids = set().union(*(event.user_ids for _, event in events))
    subscriptions = list(
        WebhookSubscription.objects.filter(is_active=True).filter(
            Q(organization_id__in=organization_ids) | Q(organization__isnull=True, user_id__in=user_ids)
        )
    )
    existing = set(
        WebhookDelivery.objects.filter(audit_event_id__in=[audit.pk for audit, _ in events]).values_list(
            "subscription_id", "audit_event_id"
        )
    )
    deliveries = []
    for audit, event in events:
        event_id = uuid.uuid5(WEBHOOK_EVENT_NAMESPACE, f"{audit.pk}:{event.type}")
        payload = {
            "id": str(event_id),
            "type": event.type,
            "created": audit.created_at.astimezone(UTC).isoformat(),
            "data": event.data,
        }
        for subscription in subscriptions:
            concerned = (
                subscription.organization_id in event.organization_ids
                if subscription.organization_id is not None
                else subscription.user_id in event.user_ids
            )
            if (
                concerned
                and event.type in subscription.events
                and subscription.created_at <= audit.created_at
                and (subscription.pk, audit.pk) not in existing
            ):
                deliveries.append(
                    WebhookDelivery(
                        subscription=subscription,
                        event_type=event.type,
                        event_id=event_id,
                        audit_event_id=audit.pk,
                        payload=payload,
                        next_attempt_at=timezone.now(),
                    )
                )
    if not deliveries:
        return 0
    # The cursor's lock makes `existing` exact; ignore_conflicts keeps dispatch idempotent should it not be.
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    new_ids = list(
        WebhookDelivery.objects.filter(
            audit_event_id__in={delivery.audit_event_id for delivery in deliveries},
            subscription_id__in={delivery.subscription_id for delivery in deliveries},
            attempts=0,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    transaction.on_commit(partial(_enqueue_attempts, new_ids))
    return len(deliveries)
