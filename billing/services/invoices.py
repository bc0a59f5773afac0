"""Issuing invoices (one per source: a week of approved hours, a funded milestone, a week of accepted micro-task
units, an evaluated SOW month), numbering them without gaps per issuer, recording their payment, and crediting
them. Issuing is idempotent by `source_key`; the ledger moves in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone as django_timezone

from accounts.models import Organization
from billing.models import (
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    LedgerAccount,
    LedgerTransaction,
    Payment,
)
from billing.services.fees import Fees, fee_split, fees_for
from billing.services.ledger import LedgerEntry, ledger_account, ledger_post
from core.errors import ApplicationError
from core.money import quantize
from core.services import audit_record

if TYPE_CHECKING:
    from accounts.models import User
    from engagements.models import SLAEvaluation, Timesheet

Kind = LedgerAccount.Kind
PAYMENT_TERMS = timedelta(days=14)


@dataclass(frozen=True)
class LineInput:
    description: str
    amount: Decimal
    quantity: Decimal = Decimal(1)
    unit: str = ""
    unit_price: Decimal | None = None
    kind: str = InvoiceLine.Kind.WORK


@dataclass(frozen=True)
class Issuer:
    user: User | None = None
    organization: Organization | None = None

    @property
    def key(self) -> str:
        return f"org:{self.organization.pk}" if self.organization else f"user:{self.user.pk if self.user else 0}"

    @property
    def name(self) -> str:
        if self.organization is not None:
            return self.organization.name
        assert self.user is not None
        return self.user.full_name or self.user.email

    @property
    def prefix(self) -> str:
        if self.organization is not None:
            letters = "".join(ch for ch in self.organization.slug.upper() if ch.isalnum())[:6]
            return letters or f"ORG{self.organization.pk}"
        return f"FL{self.user.pk if self.user else 0}"


def _next_number(key: str, prefix: str) -> str:
    """The next number in a sequence, under the sequence's row lock: no gaps, no twins."""
    InvoiceSequence.objects.get_or_create(key=key, defaults={"prefix": prefix})
    sequence = InvoiceSequence.objects.select_for_update().get(key=key)
    number = sequence.next_number
    sequence.next_number += 1
    sequence.save(update_fields=["next_number"])
    return f"{sequence.prefix}-{number:05d}"


def pending_account_for(*, issuer: Issuer, currency: str) -> LedgerAccount:
    if issuer.organization is not None:
        return ledger_account(kind=Kind.VENDOR_PENDING, currency=currency, organization=issuer.organization)
    return ledger_account(kind=Kind.WORKER_PENDING, currency=currency, user=issuer.user)


def payable_account(*, issuer: Issuer, currency: str) -> LedgerAccount:
    if issuer.organization is not None:
        return ledger_account(kind=Kind.VENDOR_PAYABLE, currency=currency, organization=issuer.organization)
    return ledger_account(kind=Kind.WORKER_PAYABLE, currency=currency, user=issuer.user)


def _issuer_of(invoice: Invoice) -> Issuer:
    return Issuer(user=invoice.issuer_user, organization=invoice.issuer_organization)


def payable_account_for(*, invoice: Invoice) -> LedgerAccount:
    return payable_account(issuer=_issuer_of(invoice), currency=invoice.currency)


def _create(
    *,
    kind: str,
    source_key: str,
    client: Organization,
    issuer: Issuer,
    currency: str,
    lines: list[LineInput],
    fees: Fees,
    prepaid: bool = False,
    **links: object,
) -> Invoice | None:
    """Create the invoice and its lines. None if `source_key` was already invoiced (idempotent)."""
    if Invoice.objects.filter(source_key=source_key).exists():
        return None
    subtotal = quantize(sum((line.amount for line in lines), Decimal(0)), currency)
    if subtotal < 0:
        raise ApplicationError("Credits exceed the work on this invoice; nothing can be invoiced.", status=409)
    split = fee_split(amount=subtotal, currency=currency, fees=fees)
    now = django_timezone.now()
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                number=_next_number(issuer.key, issuer.prefix),
                kind=kind,
                source_key=source_key,
                organization=client,
                issuer_user=issuer.user,
                issuer_organization=issuer.organization,
                issuer_name=issuer.name,
                bill_to_name=client.name,
                currency=currency,
                subtotal=split.amount,
                client_fee=split.client_fee,
                total=split.client_total,
                worker_fee=split.worker_fee,
                issued_at=now,
                due_date=django_timezone.localdate() + (timedelta(0) if prepaid else PAYMENT_TERMS),
                status=Invoice.Status.PAID if prepaid else Invoice.Status.ISSUED,
                paid_at=now if prepaid else None,
                **links,
            )
    except IntegrityError:
        return None  # a concurrent run issued it first
    rows = [
        InvoiceLine(
            invoice=invoice,
            kind=line.kind,
            description=line.description[:300],
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price if line.unit_price is not None else line.amount,
            amount=quantize(line.amount, currency),
            position=position,
        )
        for position, line in enumerate(lines)
    ]
    rows.append(
        InvoiceLine(
            invoice=invoice,
            kind=InvoiceLine.Kind.MARKETPLACE_FEE,
            description=f"Marketplace fee ({fees.client_fee_pct.normalize():f} %)",
            unit_price=split.client_fee,
            amount=split.client_fee,
            position=len(rows),
        )
    )
    InvoiceLine.objects.bulk_create(rows)
    return invoice


def invoice_audit_issued(invoice: Invoice) -> None:
    """The "invoice issued" audit event, recorded by each caller in the transaction that issues the invoice."""
    audit_record(
        actor=None,
        action="invoice.issued",
        target=invoice,
        organization=invoice.organization,
        to_state=invoice.status,
        data={"number": invoice.number, "total": str(invoice.total), "currency": invoice.currency},
    )


def _post_issued(invoice: Invoice) -> None:
    """Receivable from the client; the issuer's share pending until the client pays; fees to revenue."""
    issuer = _issuer_of(invoice)
    ledger_post(
        kind=LedgerTransaction.Kind.INVOICE_ISSUED,
        reference=f"invoice:{invoice.pk}:issued",
        description=f"Invoice {invoice.number} issued",
        organization=invoice.organization,
        entries=[
            LedgerEntry(
                ledger_account(
                    kind=Kind.CLIENT_RECEIVABLE, currency=invoice.currency, organization=invoice.organization
                ),
                invoice.total,
            ),
            LedgerEntry(pending_account_for(issuer=issuer, currency=invoice.currency), -invoice.worker_net),
            LedgerEntry(
                ledger_account(kind=Kind.PLATFORM_REVENUE, currency=invoice.currency),
                -(invoice.client_fee + invoice.worker_fee),
            ),
        ],
    )


def _notify(invoice: Invoice) -> None:
    from billing.tasks import invoice_issued_email_send

    invoice_issued_email_send.delay_on_commit(invoice_id=invoice.pk)  # type: ignore[attr-defined]


@transaction.atomic
def invoice_issue_for_timesheet(*, timesheet: Timesheet) -> Invoice | None:
    """The invoice for one approved week of hours (idempotent)."""
    contract = timesheet.contract
    if timesheet.status != "approved" or contract.hourly_rate is None:
        raise ApplicationError("Only approved weeks of hourly contracts are invoiced.", status=409)
    issuer = Issuer(user=contract.freelancer, organization=contract.vendor)
    week_end = timesheet.week_start + timedelta(days=6)
    amount = quantize(timesheet.total_hours * contract.hourly_rate, contract.currency)
    invoice = _create(
        kind=Invoice.Kind.HOURLY_WEEK,
        source_key=f"timesheet:{timesheet.pk}",
        client=contract.organization,
        issuer=issuer,
        currency=contract.currency,
        fees=fees_for(client=contract.organization, vendor=contract.vendor),
        lines=[
            LineInput(
                description=f"{contract.gig.title if contract.gig else 'Hourly work'} — week of "
                f"{timesheet.week_start:%-d %b %Y}",
                amount=amount,
                quantity=timesheet.total_hours,
                unit="hours",
                unit_price=contract.hourly_rate,
            )
        ],
        contract=contract,
        period_start=timesheet.week_start,
        period_end=week_end,
    )
    if invoice is not None:
        _post_issued(invoice)
        invoice_audit_issued(invoice)
        _notify(invoice)
    return invoice


def invoice_issue_for_milestone(*, payment: Payment) -> Invoice | None:
    """A paid invoice (receipt) for a funded milestone: the money is in escrow already, so the ledger moved with
    the payment; the worker's share becomes payable when the client releases it."""
    invoice = milestone_receipt_create(payment=payment)
    if invoice is not None:
        invoice_audit_issued(invoice)
    return invoice


def milestone_receipt_create(*, payment: Payment) -> Invoice | None:
    """The receipt without its audit event, for billing.services.payments, which records it after its locks."""
    milestone = payment.milestone
    assert milestone is not None
    contract = milestone.contract
    return _create(
        kind=Invoice.Kind.MILESTONE,
        source_key=f"payment:{payment.stripe_payment_intent_id}",
        client=contract.organization,
        issuer=Issuer(user=contract.freelancer, organization=contract.vendor),
        currency=payment.currency,
        fees=fees_for(client=contract.organization, vendor=contract.vendor),
        lines=[LineInput(description=f"Milestone: {milestone.title}", amount=payment.work_amount)],
        prepaid=True,
        contract=contract,
    )


@transaction.atomic
def invoice_issue_for_micro_tasks(
    *, batch_id: int, worker: User, week_start: date, amount: Decimal, units: int
) -> Invoice | None:
    from marketplace.models import TaskBatch

    batch = TaskBatch.objects.select_related("gig__organization").get(pk=batch_id)
    client = batch.gig.organization
    invoice = _create(
        kind=Invoice.Kind.MICRO_TASK_WEEK,
        source_key=f"microtasks:{batch_id}:{worker.pk}:{week_start:%Y-%m-%d}",
        client=client,
        issuer=Issuer(user=worker),
        currency=batch.currency,
        fees=fees_for(client=client),
        lines=[
            LineInput(
                description=f"{batch.gig.title}: accepted units, week of {week_start:%-d %b %Y}",
                amount=amount,
                quantity=Decimal(units),
                unit="units",
                unit_price=batch.unit_price,
            )
        ],
        period_start=week_start,
        period_end=week_start + timedelta(days=6),
    )
    if invoice is not None:
        _post_issued(invoice)
        invoice_audit_issued(invoice)
        _notify(invoice)
    return invoice


@transaction.atomic
def invoice_issue_for_sow_month(*, evaluation: SLAEvaluation) -> Invoice | None:
    """The vendor's monthly invoice: the fee (or the month's time and materials from the rate card), minus the
    month's SLA credits, plus its outcome bonuses."""
    from engagements.models import SOWUsage

    sow = evaluation.sow
    period = evaluation.period
    month = f"{period:%B %Y}"
    lines: list[LineInput] = []
    if sow.pricing_model == "time_and_materials":
        for usage in SOWUsage.objects.filter(sow=sow, period=period).order_by("id"):
            lines.append(
                LineInput(
                    description=f"{usage.role}{': ' + usage.description if usage.description else ''} ({month})",
                    amount=usage.amount,
                    quantity=usage.quantity,
                    unit=usage.unit,
                    unit_price=usage.unit_rate,
                )
            )
    else:
        lines.append(LineInput(description=f"{sow.title} — monthly fee, {month}", amount=evaluation.fee_base))
    if evaluation.credit_total:
        lines.append(
            LineInput(
                description=f"SLA credits for {month} ({evaluation.levels_total - evaluation.levels_met} missed)",
                amount=-evaluation.credit_total,
                kind=InvoiceLine.Kind.SLA_CREDIT,
            )
        )
    if evaluation.bonus_total:
        lines.append(
            LineInput(
                description=f"Outcome bonus for {month}", amount=evaluation.bonus_total, kind=InvoiceLine.Kind.SLA_BONUS
            )
        )
    if not lines:
        return None  # a T&M month without usage: nothing to invoice
    invoice = _create(
        kind=Invoice.Kind.SOW_MONTH,
        source_key=f"sow:{sow.pk}:{period:%Y-%m-%d}",
        client=sow.organization,
        issuer=Issuer(organization=sow.vendor),
        currency=sow.currency,
        fees=fees_for(client=sow.organization, vendor=sow.vendor),
        lines=lines,
        sow=sow,
        period_start=period,
        period_end=(period.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1),
    )
    if invoice is not None and invoice.total > 0:
        _post_issued(invoice)
    if invoice is not None:
        invoice_audit_issued(invoice)
        if invoice.total > 0:
            _notify(invoice)
    return invoice


def invoice_record_payment(*, payment: Payment) -> Invoice:
    """A verified payment of an invoice: cash in, receivable settled, the issuer's pending share now payable."""
    assert payment.invoice_id is not None
    invoice = Invoice.objects.select_for_update().get(pk=payment.invoice_id)
    issuer = _issuer_of(invoice)
    pending_left = invoice.worker_net - sum((note.worker_net_part for note in invoice.credit_notes.all()), Decimal(0))
    entries = [
        LedgerEntry(ledger_account(kind=Kind.PROCESSOR_CLEARING, currency=invoice.currency), payment.amount),
        LedgerEntry(
            ledger_account(kind=Kind.CLIENT_RECEIVABLE, currency=invoice.currency, organization=invoice.organization),
            -payment.amount,
        ),
    ]
    if pending_left > 0:
        entries += [
            LedgerEntry(pending_account_for(issuer=issuer, currency=invoice.currency), pending_left),
            LedgerEntry(payable_account(issuer=issuer, currency=invoice.currency), -pending_left),
        ]
    ledger_post(
        kind=LedgerTransaction.Kind.INVOICE_PAID,
        reference=f"payment:{payment.stripe_payment_intent_id}",
        description=f"Invoice {invoice.number} paid",
        organization=invoice.organization,
        entries=entries,
    )
    if invoice.status == Invoice.Status.ISSUED:
        previous = invoice.transition_to(Invoice.Status.PAID)
        invoice.paid_at = django_timezone.now()
        invoice.save()
        audit_record(
            actor=None,
            action="invoice.paid",
            target=invoice,
            organization=invoice.organization,
            from_state=previous,
            to_state=invoice.status,
        )
    return invoice


def _payment_stop_for_credit(invoice: Invoice) -> list[Payment]:
    """A credit note changes what is due, so a payment started for the old amount must not go through (the
    client would pay more than the invoice then asks, and the ledger could not record it): cancel its
    PaymentIntent; the next "pay" starts one for the new amount. Stripe decides the race with a client paying
    right now: a PaymentIntent it has already taken can't be cancelled, and the credit is refused."""
    import stripe

    from billing.services.payments import stripe_api, stripe_error_message

    canceled = []
    for payment in Payment.objects.filter(
        invoice=invoice, status__in=[Payment.Status.REQUIRES_PAYMENT, Payment.Status.PROCESSING]
    ):
        if payment.status == Payment.Status.PROCESSING:
            raise ApplicationError(
                "The client's payment of this invoice is being processed; credit it once the payment has settled "
                "(a paid invoice is corrected by a refund).",
                status=409,
            )
        try:
            stripe_api().v1.payment_intents.cancel(
                payment.stripe_payment_intent_id, options={"idempotency_key": f"payment-{payment.pk}-cancel"}
            )
        except stripe.InvalidRequestError as error:
            raise ApplicationError(
                "The client has just paid this invoice, so it can no longer be credited; refund it instead.",
                status=409,
            ) from error
        except stripe.StripeError as error:
            raise ApplicationError(
                f"The payment started for this invoice could not be cancelled: {stripe_error_message(error)} "
                "Please try again.",
                status=502,
            ) from error
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.REQUIRES_PAYMENT).update(
            status=Payment.Status.CANCELED, updated_at=django_timezone.now()
        )
        canceled.append(payment)
    return canceled


def _fees_credited(invoice: Invoice, credited: Decimal) -> tuple[Decimal, Decimal]:
    """(marketplace fee, service fee) given back once `credited` of the invoice total has been credited. Rounded
    once on the running total, so credit notes in any number of parts add up exactly to crediting the whole
    (rounding each part on its own could leave, or take, a cent more of the issuer's pending earnings)."""
    client_fee = (
        quantize(credited * invoice.client_fee / invoice.total, invoice.currency) if invoice.total else Decimal(0)
    )
    work = credited - client_fee
    worker_fee = (
        quantize(work * invoice.worker_fee / invoice.subtotal, invoice.currency) if invoice.subtotal else Decimal(0)
    )
    return client_fee, worker_fee


@transaction.atomic
def invoice_credit(*, invoice_id: int, amount: Decimal, reason: str, by: User) -> CreditNote:
    """A credit note lowers what the client owes on an unpaid invoice (work and fees in proportion). The issuer
    (the freelancer, or a member of the vendor firm) or finance staff may issue one."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    is_issuer = invoice.issuer_user_id == by.pk or (
        invoice.issuer_organization_id is not None
        and by.memberships.filter(organization_id=invoice.issuer_organization_id).exists()
    )
    if not (is_issuer or by.has_perm("billing.add_creditnote")):
        raise Invoice.DoesNotExist
    if invoice.status != Invoice.Status.ISSUED:
        raise ApplicationError(
            "Only an unpaid invoice can be credited; a paid one is corrected by a refund.", status=409
        )
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = ["Say why the invoice is credited."]
    amount = quantize(amount, invoice.currency) if amount is not None else Decimal(0)
    if amount <= 0 or amount > invoice.amount_due:
        errors["amount"] = [f"Enter an amount above zero and up to {invoice.amount_due} {invoice.currency}."]
    if errors:
        raise ApplicationError("Please correct the highlighted fields.", field_errors=errors)
    canceled = _payment_stop_for_credit(invoice)
    before_client_fee, before_worker_fee = _fees_credited(invoice, invoice.credited)
    after_client_fee, after_worker_fee = _fees_credited(invoice, invoice.credited + amount)
    client_fee_part = after_client_fee - before_client_fee
    worker_fee_part = after_worker_fee - before_worker_fee
    work_part = amount - client_fee_part
    issuer = _issuer_of(invoice)
    note = CreditNote.objects.create(
        invoice=invoice,
        number=_next_number(f"cn:{issuer.key}", f"CN-{issuer.prefix}"),
        amount=amount,
        currency=invoice.currency,
        fee_part=client_fee_part + worker_fee_part,
        worker_net_part=work_part - worker_fee_part,
        reason=reason.strip(),
        created_by=by,
    )
    ledger_post(
        kind=LedgerTransaction.Kind.CREDIT_NOTE,
        reference=f"credit_note:{note.pk}",
        description=f"Credit note {note.number} on invoice {invoice.number}",
        organization=invoice.organization,
        entries=[
            LedgerEntry(
                ledger_account(
                    kind=Kind.CLIENT_RECEIVABLE, currency=invoice.currency, organization=invoice.organization
                ),
                -amount,
            ),
            LedgerEntry(pending_account_for(issuer=issuer, currency=invoice.currency), note.worker_net_part),
            LedgerEntry(ledger_account(kind=Kind.PLATFORM_REVENUE, currency=invoice.currency), note.fee_part),
        ],
    )
    invoice.credited += amount
    previous = invoice.status
    if invoice.credited == invoice.total:
        invoice.transition_to(Invoice.Status.VOID)
    invoice.save()
    audit_record(
        actor=by,
        action="invoice.credited",
        target=invoice,
        organization=invoice.organization,
        from_state=previous,
        to_state=invoice.status,
        data={"credit_note": note.number, "amount": str(amount), "reason": reason.strip()},
    )
    for payment in canceled:
        audit_record(
            actor=by,
            action="payment.canceled",
            target=payment,
            organization=invoice.organization,
            from_state=Payment.Status.REQUIRES_PAYMENT,
            to_state=Payment.Status.CANCELED,
            data={"reason": f"Invoice {invoice.number} was credited."},
        )
    return note
