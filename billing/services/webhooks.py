"""Stripe webhooks: verify the signature, store each event once by its id, then act on it in a task. Every
handler is idempotent and order-tolerant (statuses only move forward; the ledger is keyed by Stripe's ids), so
duplicate, concurrent and reordered deliveries have their effect once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone as django_timezone

from billing.models import StripeEvent
from core.errors import ApplicationError

# Stripe's default tolerance: a signature older than this is refused (replayed captures).
SIGNATURE_TOLERANCE_SECONDS = 300


def stripe_event_record(*, payload: bytes, signature: str) -> StripeEvent | None:
    """Verify and store an incoming event; None if it was already stored (a duplicate delivery). Raises
    ApplicationError (400) for unsigned, forged, tampered or stale requests, which change nothing."""
    if not signature:
        raise ApplicationError("Missing Stripe-Signature header.", code="signature_missing")
    try:
        event = stripe.Webhook.construct_event(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=SIGNATURE_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as error:
        raise ApplicationError("The Stripe signature does not match.", code="signature_invalid") from error
    except ValueError as error:
        raise ApplicationError("The body is not a Stripe event.", code="payload_invalid") from error
    data = event.to_dict()
    try:
        with transaction.atomic():
            stored = StripeEvent.objects.create(
                event_id=data["id"],
                type=data.get("type", ""),
                account=data.get("account") or "",
                payload=data,
                stripe_created_at=datetime.fromtimestamp(int(data.get("created") or 0), tz=UTC),
            )
    except IntegrityError:
        return None
    from billing.tasks import stripe_event_process

    transaction.on_commit(lambda: stripe_event_process.delay(event_id=stored.event_id))  # type: ignore[attr-defined]
    return stored


def _object(event: StripeEvent) -> dict[str, Any]:
    return dict((event.payload.get("data") or {}).get("object") or {})


def _handle(event: StripeEvent) -> bool:
    """Act on one event; False if it is a type we don't act on."""
    from billing.services.payments import payment_apply_intent, refund_apply
    from billing.services.payouts import payout_apply_transfer

    obj = _object(event)
    kind = event.type
    if kind in {
        "payment_intent.succeeded",
        "payment_intent.processing",
        "payment_intent.canceled",
        "payment_intent.payment_failed",
    }:
        payment_apply_intent(intent=obj, failed=kind == "payment_intent.payment_failed")
    elif kind in {"refund.created", "refund.updated", "charge.refund.updated"}:
        _ensure_payment_recorded(obj.get("payment_intent"))
        refund_apply(refund_object=obj)
    elif kind == "charge.refunded":
        _ensure_payment_recorded(obj.get("payment_intent"))
        for refund in (obj.get("refunds") or {}).get("data", []):
            refund_apply(refund_object=refund)
    elif kind == "account.updated":
        _account_refresh(obj.get("id"))
    elif kind == "transfer.created":
        payout_apply_transfer(transfer=obj)
    else:
        return False
    return True


def _account_refresh(account_id: object) -> None:
    """Apply a connected account as Stripe has it now. An `account.updated` snapshot can't tell whether it is
    newer than the last one applied (events arrive in any order, several within a second), so an older one
    arriving late must not undo onboarding: read the account instead of trusting the snapshot."""
    from billing.models import PayoutAccount
    from billing.services.payments import stripe_api
    from billing.services.payouts import payout_account_apply

    if not isinstance(account_id, str) or not PayoutAccount.objects.filter(stripe_account_id=account_id).exists():
        return
    payout_account_apply(stripe_account=stripe_api().v1.accounts.retrieve(account_id).to_dict())


def _ensure_payment_recorded(payment_intent_id: object) -> None:
    """A refund event can arrive before the payment's success event: read the payment from Stripe first."""
    from billing.models import Payment
    from billing.services.payments import payment_apply_intent, stripe_api

    if not isinstance(payment_intent_id, str):
        return
    payment = Payment.objects.filter(stripe_payment_intent_id=payment_intent_id).first()
    if payment is None or payment.status == Payment.Status.SUCCEEDED:
        return
    intent = stripe_api().v1.payment_intents.retrieve(payment_intent_id)
    payment_apply_intent(intent=intent.to_dict())


def stripe_event_process(*, event_id: str) -> str:
    """Act on a stored event once (the row lock serialises concurrent runs; a processed event is skipped)."""
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().filter(event_id=event_id).first()
        if event is None or event.status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED):
            return event.status if event else "missing"
        event.attempts += 1
        try:
            with transaction.atomic():
                handled = _handle(event)
        except ApplicationError as error:
            event.status, event.error = StripeEvent.Status.FAILED, error.message
        else:
            event.status = StripeEvent.Status.PROCESSED if handled else StripeEvent.Status.IGNORED
            event.error = ""
        event.processed_at = django_timezone.now()
        event.save()
        return event.status
