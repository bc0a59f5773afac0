"""Client payments through Stripe PaymentIntents, and refunds. Starting a payment creates (or reuses) the
PaymentIntent; confirming sends the card to Stripe; only a verified webhook (billing.services.webhooks) records
that the money arrived, and only then does the ledger move and the milestone or invoice count as paid."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import stripe
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone as django_timezone

from accounts.models import Membership
from billing.models import Invoice, LedgerAccount, LedgerTransaction, Payment, Refund
from billing.services.fees import fee_split, fees_for
from billing.services.ledger import LedgerEntry, ledger_account, ledger_post
from core.errors import ApplicationError
from core.money import from_minor_units, quantize, to_minor_units
from core.services import audit_record

if TYPE_CHECKING:
    from accounts.models import User
    from engagements.models import Milestone

Kind = LedgerAccount.Kind
LIVE = (Payment.Status.REQUIRES_PAYMENT, Payment.Status.PROCESSING, Payment.Status.SUCCEEDED)

# Stripe's test payment methods offered on the pay page when no real keys are configured.
TEST_PAYMENT_METHODS = {
    "pm_card_visa": "Visa ending 4242 (succeeds)",
    "pm_card_mastercard": "Mastercard ending 4444 (succeeds)",
    "pm_card_chargeDeclined": "Visa ending 0002 (declined)",
}


def stripe_api() -> stripe.StripeClient:
    from billing.stripe_client import stripe_client

    return stripe_client()


def stripe_error_message(error: stripe.StripeError) -> str:
    return getattr(error, "user_message", None) or str(getattr(error, "_message", None) or error) or "Stripe error"


def _create_intent(payment_kind: str, key: str, amount: Decimal, currency: str, metadata: dict[str, str]) -> Any:
    try:
        return stripe_api().v1.payment_intents.create(
            params={
                "amount": to_minor_units(amount, currency),
                "currency": currency.lower(),
                "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                "metadata": {"kind": payment_kind, **metadata},
            },
            options={"idempotency_key": key},
        )
    except stripe.StripeError as error:
        raise ApplicationError(
            f"The payment could not be started: {stripe_error_message(error)} Please try again.", status=502
        ) from error


def payment_start_for_milestone(*, milestone: Milestone, by: User) -> Payment:
    """The payment that funds a milestone into escrow (the caller holds the milestone's row lock and checked
    who may fund). A live payment is reused, so clicking twice never charges twice."""
    live = Payment.objects.filter(milestone=milestone, status__in=LIVE).first()
    if live is not None:
        return live
    contract = milestone.contract
    split = fee_split(
        amount=milestone.amount,
        currency=milestone.currency,
        fees=fees_for(client=contract.organization, vendor=contract.vendor),
    )
    attempt = Payment.objects.filter(milestone=milestone).count() + 1
    intent = _create_intent(
        "milestone",
        f"milestone-{milestone.pk}-payment-{attempt}",
        split.client_total,
        milestone.currency,
        {"milestone_id": str(milestone.pk), "organization_id": str(contract.organization_id)},
    )
    payment = Payment.objects.create(
        organization=contract.organization,
        milestone=milestone,
        currency=milestone.currency,
        work_amount=split.amount,
        client_fee=split.client_fee,
        amount=split.client_total,
        stripe_payment_intent_id=intent.id,
        client_secret=intent.client_secret or "",
        created_by=by,
    )
    audit_record(
        actor=by,
        action="payment.started",
        target=payment,
        organization=contract.organization,
        data={"amount": str(payment.amount), "currency": payment.currency, "milestone": str(milestone.pk)},
    )
    return payment


def _require_client_member(organization_id: int, by: User) -> None:
    if not Membership.objects.filter(user=by, organization_id=organization_id).exists():
        raise Invoice.DoesNotExist


@transaction.atomic
def payment_start_for_invoice(*, invoice_id: int, by: User) -> Payment:
    """Pay an issued invoice (any member of the client organisation, finance included)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    _require_client_member(invoice.organization_id, by)
    live = Payment.objects.filter(invoice=invoice, status__in=LIVE).first()
    if live is not None:
        return live
    if invoice.status != Invoice.Status.ISSUED or invoice.amount_due <= 0:
        raise ApplicationError(f"Invoice {invoice.number} has nothing left to pay.", status=409)
    due = invoice.amount_due
    client_fee = quantize(invoice.client_fee * due / invoice.total, invoice.currency) if invoice.total else Decimal(0)
    attempt = Payment.objects.filter(invoice=invoice).count() + 1
    intent = _create_intent(
        "invoice",
        f"invoice-{invoice.pk}-payment-{attempt}",
        due,
        invoice.currency,
        {
            "invoice_id": str(invoice.pk),
            "invoice_number": invoice.number,
            "organization_id": str(invoice.organization_id),
        },
    )
    payment = Payment.objects.create(
        organization_id=invoice.organization_id,
        invoice=invoice,
        currency=invoice.currency,
        work_amount=due - client_fee,
        client_fee=client_fee,
        amount=due,
        stripe_payment_intent_id=intent.id,
        client_secret=intent.client_secret or "",
        created_by=by,
    )
    audit_record(
        actor=by,
        action="payment.started",
        target=payment,
        organization=invoice.organization,
        data={"amount": str(due), "currency": invoice.currency, "invoice": invoice.number},
    )
    return payment


def payment_confirm(*, payment_id: int, payment_method: str, by: User) -> Payment:
    """Send the card to Stripe. The answer is shown at once, but the payment is recorded only when Stripe's
    webhook confirms it."""
    payment = Payment.objects.select_related("organization").get(pk=payment_id)
    _require_client_member(payment.organization_id, by)
    if payment.status in (Payment.Status.SUCCEEDED, Payment.Status.CANCELED):
        raise ApplicationError("This payment is already complete.", status=409)
    same_purpose: dict[str, Any] = {"milestone_id": payment.milestone_id, "invoice_id": payment.invoice_id}
    newer = Payment.objects.filter(**same_purpose, created_at__gt=payment.created_at)
    if newer.exists():  # paying an old attempt as well as the new one would charge twice
        raise ApplicationError("This payment was replaced by a newer one; pay that one instead.", status=409)
    try:
        stripe_api().v1.payment_intents.confirm(
            payment.stripe_payment_intent_id, params={"payment_method": payment_method}
        )
    except stripe.CardError as error:
        message = stripe_error_message(error)
        Payment.objects.filter(pk=payment.pk).update(failure_message=message[:300])
        raise ApplicationError(
            f"Your card was not charged: {message} Try another card.", code="card_declined"
        ) from error
    except stripe.StripeError as error:
        raise ApplicationError(
            f"The payment could not be sent: {stripe_error_message(error)} Please try again.", status=502
        ) from error
    if payment.status == Payment.Status.REQUIRES_PAYMENT:
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.REQUIRES_PAYMENT).update(
            status=Payment.Status.PROCESSING, failure_message=""
        )
    payment.refresh_from_db()
    return payment


# --- applying what Stripe says (called from webhook processing) ----------------------------------------------------
STRIPE_STATUS = {
    "requires_payment_method": Payment.Status.REQUIRES_PAYMENT,
    "requires_confirmation": Payment.Status.REQUIRES_PAYMENT,
    "requires_action": Payment.Status.REQUIRES_PAYMENT,
    "processing": Payment.Status.PROCESSING,
    "succeeded": Payment.Status.SUCCEEDED,
    "canceled": Payment.Status.CANCELED,
}


@transaction.atomic
def payment_apply_intent(*, intent: dict[str, Any], failed: bool = False) -> Payment | None:
    """Bring our payment up to date with a PaymentIntent snapshot from a verified event. Statuses only move
    forward (events may arrive in any order or more than once); success moves the ledger exactly once."""
    payment_id = Payment.objects.filter(stripe_payment_intent_id=intent["id"]).values_list("pk", flat=True).first()
    if payment_id is None:
        return None
    payment = _payment_for_update(payment_id)
    new_status = Payment.Status.FAILED if failed else STRIPE_STATUS.get(intent.get("status", ""), payment.status)
    if Payment.RANK[Payment.Status(new_status)] <= Payment.RANK[Payment.Status(payment.status)]:
        return payment
    if new_status == Payment.Status.SUCCEEDED:
        received = from_minor_units(int(intent.get("amount_received") or intent.get("amount") or 0), payment.currency)
        if received != payment.amount or str(intent.get("currency", "")).upper() != payment.currency:
            raise ApplicationError(
                f"Stripe reports {received} {intent.get('currency')} for a payment of {payment.amount} "
                f"{payment.currency}; not recorded.",
                code="amount_mismatch",
            )
        payment.succeeded_at = django_timezone.now()
        payment.failure_message = ""
    elif new_status == Payment.Status.FAILED:
        error = intent.get("last_payment_error") or {}
        payment.failure_message = str(error.get("message") or "The card was declined.")[:300]
    previous = payment.status
    payment.status = new_status
    payment.save()
    if new_status == Payment.Status.SUCCEEDED:
        _payment_succeeded(payment)
    audit_record(
        actor=None,
        action=f"payment.{new_status}",
        target=payment,
        organization=payment.organization,
        from_state=previous,
        to_state=new_status,
    )
    return payment


def _payment_succeeded(payment: Payment) -> None:
    clearing = ledger_account(kind=Kind.PROCESSOR_CLEARING, currency=payment.currency)
    revenue = ledger_account(kind=Kind.PLATFORM_REVENUE, currency=payment.currency)
    if payment.milestone_id is not None:
        from billing.services.invoices import invoice_audit_issued, milestone_receipt_create
        from engagements.services import milestone_mark_funded

        # The receipt first: numbering takes the issuer's sequence lock, and everything that numbers an invoice
        # takes it before the ledger's account locks (the invoicing run numbers, then posts); taking them the
        # other way round here deadlocked with an invoicing run for the same freelancer. Its audit event waits
        # until the milestone's lock is taken too.
        receipt = milestone_receipt_create(payment=payment)
        escrow = ledger_account(kind=Kind.CLIENT_ESCROW, currency=payment.currency, organization=payment.organization)
        ledger_post(
            kind=LedgerTransaction.Kind.ESCROW_FUNDED,
            reference=f"payment:{payment.stripe_payment_intent_id}",
            description=f"Milestone {payment.milestone_id} funded into escrow",
            organization=payment.organization,
            entries=[
                LedgerEntry(clearing, payment.amount),
                LedgerEntry(escrow, -payment.work_amount),
                LedgerEntry(revenue, -payment.client_fee),
            ],
        )
        milestone_mark_funded(milestone_id=payment.milestone_id)
        if receipt is not None:
            invoice_audit_issued(receipt)
    else:
        from billing.services.invoices import invoice_record_payment

        invoice_record_payment(payment=payment)


# --- refunds ---------------------------------------------------------------------------------------------------
def _refundable(payment: Payment) -> Decimal:
    taken = Refund.objects.filter(payment=payment).exclude(status=Refund.Status.FAILED).aggregate(total=Sum("amount"))
    already = taken["total"] or Decimal(0)
    refundable = payment.amount - already
    if payment.milestone_id is not None:
        milestone = payment.milestone
        assert milestone is not None
        # Only what is still in escrow for this milestone (with its share of the fee) can go back.
        refundable = _milestone_refundable_total(payment, milestone) - already
    return max(refundable, Decimal(0))


def _milestone_refundable_total(payment: Payment, milestone: Milestone) -> Decimal:
    """All that may ever go back of a milestone's payment: the unreleased work and its share of the fee."""
    unreleased = milestone.amount - milestone.released_amount
    return quantize(unreleased * payment.amount / payment.work_amount, payment.currency)


def refund_pending_for_milestone(*, milestone_id: int) -> bool:
    return Refund.objects.filter(payment__milestone_id=milestone_id, status=Refund.Status.PENDING).exists()


def _payment_for_update(payment_id: int) -> Payment:
    """Lock a payment. A milestone's payment is locked after what every milestone writer locks, in the same
    order (engagements.selectors.milestone_get_for_update: the contract, then the milestone with its contract
    and client organisation), so that recording a payment, refunding it and releasing the milestone queue
    instead of deadlocking, and a refund sees what was released."""
    from engagements.models import Contract, Milestone

    milestone_id = Payment.objects.filter(pk=payment_id).values_list("milestone_id", flat=True).get()
    if milestone_id is not None:
        contract_id = Milestone.objects.filter(pk=milestone_id).values_list("contract_id", flat=True).get()
        list(Contract.objects.select_for_update().filter(pk=contract_id).values_list("pk", flat=True))
        list(Milestone.objects.select_for_update().select_related("contract__organization").filter(pk=milestone_id))
    return Payment.objects.select_for_update(of=("self",)).select_related("milestone", "invoice").get(pk=payment_id)


@transaction.atomic
def refund_create(*, payment_id: int, amount: Decimal | None, reason: str, by: User | None) -> Refund:
    """Ask Stripe to refund (part of) a payment. Callers check who may: finance staff in the admin, or the
    engagement rules (an unreleased milestone of an ended contract). The ledger moves when Stripe confirms."""
    payment = _payment_for_update(payment_id)
    if payment.status != Payment.Status.SUCCEEDED:
        raise ApplicationError("Only a completed payment can be refunded.", status=409)
    if not reason.strip():
        raise ApplicationError("Say why the money goes back.", field_errors={"reason": ["Give a reason."]})
    refundable = _refundable(payment)
    amount = quantize(amount if amount is not None else refundable, payment.currency)
    if amount <= 0 or amount > refundable:
        raise ApplicationError(
            f"Up to {refundable} {payment.currency} of this payment can be refunded.",
            field_errors={"amount": [f"Enter an amount up to {refundable}."]},
            status=409 if refundable <= 0 else 400,
        )
    number = Refund.objects.filter(payment=payment).count() + 1
    try:
        stripe_refund = stripe_api().v1.refunds.create(
            params={
                "payment_intent": payment.stripe_payment_intent_id,
                "amount": to_minor_units(amount, payment.currency),
                "metadata": {"payment_id": str(payment.pk)},
            },
            options={"idempotency_key": f"payment-{payment.pk}-refund-{number}"},
        )
    except stripe.StripeError as error:
        raise ApplicationError(f"Stripe refused the refund: {stripe_error_message(error)}", status=502) from error
    refund = Refund.objects.create(
        payment=payment,
        amount=amount,
        currency=payment.currency,
        reason=reason.strip()[:300],
        stripe_refund_id=stripe_refund.id,
        created_by=by,
    )
    settled = _refund_settle(payment, refund, str(getattr(stripe_refund, "status", "")))
    audit_record(
        actor=by,
        action="refund.requested",
        target=refund,
        organization=payment.organization,
        data={"amount": str(amount), "currency": payment.currency, "reason": reason.strip()},
    )
    if settled:
        _record_refund_succeeded(payment, refund)
    return refund


@transaction.atomic
def refund_apply(*, refund_object: dict[str, Any]) -> Refund | None:
    """Stripe says a refund succeeded (or failed): reverse the ledger for it, once. A refund made outside the
    product (in Stripe's Dashboard) is recorded first, so the ledger follows the money whoever moved it."""
    stripe_refund_id = refund_object.get("id")
    known = Refund.objects.filter(stripe_refund_id=stripe_refund_id).values_list("payment_id", "status").first()
    if known is not None and known[1] != Refund.Status.PENDING:
        return Refund.objects.get(stripe_refund_id=stripe_refund_id)
    if known is not None:
        payment = _payment_for_update(known[0])
    else:
        intent_id = refund_object.get("payment_intent")
        payment_id = Payment.objects.filter(stripe_payment_intent_id=intent_id).values_list("pk", flat=True).first()
        if not isinstance(intent_id, str) or payment_id is None:
            return None  # not a payment of ours
        payment = _payment_for_update(payment_id)
    # Under the payment's lock: refund_create (which holds it while it creates its refund) has committed.
    refund = Refund.objects.select_for_update().filter(stripe_refund_id=stripe_refund_id).first()
    recorded = refund is None
    if refund is None:
        refund = _refund_record_from_stripe(payment, refund_object)
    elif refund.status != Refund.Status.PENDING:
        return refund
    settled = _refund_settle(payment, refund, str(refund_object.get("status") or ""))
    if recorded:
        audit_record(
            actor=None,
            action="refund.recorded_from_stripe",
            target=refund,
            organization=payment.organization,
            data={"amount": str(refund.amount), "currency": refund.currency},
        )
    if settled:
        _record_refund_succeeded(payment, refund)
    return refund


def _refund_settle(payment: Payment, refund: Refund, status: str) -> bool:
    """Apply Stripe's final word on a pending refund (the caller holds the payment's and the refund's locks and
    records the audit events afterwards). True when the refund succeeded and the ledger moved."""
    if status == "failed":
        refund.status = Refund.Status.FAILED
        refund.save()
        return False
    if status != "succeeded":
        return False
    _post_refund(payment, refund)
    refund.status = Refund.Status.SUCCEEDED
    refund.save()
    payment.refunded_amount += refund.amount
    payment.save(update_fields=["refunded_amount", "updated_at"])
    return True


def _record_refund_succeeded(payment: Payment, refund: Refund) -> None:
    audit_record(
        actor=None,
        action="refund.succeeded",
        target=refund,
        organization=payment.organization,
        data={"amount": str(refund.amount), "currency": refund.currency},
    )


def _refund_record_from_stripe(payment: Payment, refund_object: dict[str, Any]) -> Refund:
    if payment.status != Payment.Status.SUCCEEDED:
        raise ApplicationError("A refund of a payment that is not recorded as paid; retry once it is.", status=409)
    if str(refund_object.get("currency", "")).upper() != payment.currency:
        raise ApplicationError(f"Stripe reports a refund in {refund_object.get('currency')}; not recorded.")
    stripe_reason = refund_object.get("reason")
    refund = Refund.objects.create(
        payment=payment,
        amount=from_minor_units(int(refund_object.get("amount") or 0), payment.currency),
        currency=payment.currency,
        reason=f"Refunded in Stripe ({stripe_reason})" if stripe_reason else "Refunded in Stripe",
        stripe_refund_id=str(refund_object.get("id")),
    )
    return refund


def _cumulative(part: Decimal, whole: Decimal, refunded: Decimal, currency: str) -> Decimal:
    """The share `part / whole` of everything refunded so far, rounded once: each refund takes the difference
    of two of these, so refunds in any number of parts add up exactly to a refund of the whole."""
    return quantize(refunded * part / whole, currency) if whole else Decimal(0)


def _post_refund(payment: Payment, refund: Refund) -> None:
    currency = payment.currency
    before, after = payment.refunded_amount, payment.refunded_amount + refund.amount
    clearing = ledger_account(kind=Kind.PROCESSOR_CLEARING, currency=currency)
    revenue = ledger_account(kind=Kind.PLATFORM_REVENUE, currency=currency)
    entries = [LedgerEntry(clearing, -refund.amount)]
    from_escrow = Decimal(0)
    if payment.milestone_id is not None:
        milestone = payment.milestone
        assert milestone is not None
        held = milestone.remaining_amount
        if after >= _milestone_refundable_total(payment, milestone):
            from_escrow = held  # the refund of the rest takes exactly what is left in escrow
        else:
            work_so_far = _cumulative(payment.work_amount, payment.amount, after, currency)
            from_escrow = min(max(work_so_far - milestone.refunded_amount, Decimal(0)), held)
        escrow = ledger_account(kind=Kind.CLIENT_ESCROW, currency=currency, organization=payment.organization)
        # The rest is the marketplace fee going back (and, for a Dashboard refund of work already released, what
        # the platform carries).
        entries += [LedgerEntry(escrow, from_escrow), LedgerEntry(revenue, refund.amount - from_escrow)]
        kind = LedgerTransaction.Kind.ESCROW_REFUNDED
    else:
        invoice = payment.invoice
        assert invoice is not None
        from billing.services.invoices import payable_account_for
        from billing.services.payouts import payable_available

        fee_part = _cumulative(payment.client_fee, payment.amount, after, currency) - _cumulative(
            payment.client_fee, payment.amount, before, currency
        )
        work_part = refund.amount - fee_part

        def owed(refunded: Decimal) -> Decimal:
            work = refunded - _cumulative(payment.client_fee, payment.amount, refunded, currency)
            return work - _cumulative(invoice.worker_fee, invoice.subtotal, work, currency)

        owed_back = owed(after) - owed(before)
        payable = payable_account_for(invoice=invoice)
        # Lock every account of this posting in id order (as ledger_post does), then read what is payable.
        locked = LedgerAccount.objects.select_for_update().filter(pk__in=[clearing.pk, revenue.pk, payable.pk])
        payable = {account.pk: account for account in locked.order_by("pk")}[payable.pk]
        # What the worker already received can't be clawed back here; the platform carries that part.
        from_payable = min(owed_back, max(payable_available(account=payable), Decimal(0)))
        entries += [
            LedgerEntry(revenue, fee_part),
            LedgerEntry(payable, from_payable),
            LedgerEntry(revenue, work_part - from_payable),
        ]
        kind = LedgerTransaction.Kind.INVOICE_REFUNDED
    ledger_post(
        kind=kind,
        reference=f"refund:{refund.stripe_refund_id}",
        description=f"Refund {refund.stripe_refund_id}: {refund.reason}",
        organization=payment.organization,
        entries=entries,
    )
    if payment.milestone_id is not None and from_escrow:
        from engagements.services import milestone_refunded

        milestone_refunded(milestone_id=payment.milestone_id, amount=from_escrow)
