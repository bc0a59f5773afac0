"""Invoices: issued by the freelancer or vendor firm (through the platform) to a client organisation, numbered
without gaps per issuer, immutable once issued (a credit note corrects one). Each comes from exactly one source
(a week of approved hours, a funded milestone, a week of accepted micro-task units, a SOW month); `source_key`
makes issuing idempotent."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from core.models import StatefulModel, TimeStampedModel, exactly_one_of
from core.money import AmountField, CurrencyField


class InvoiceSequence(models.Model):
    """The next number of one issuer's invoices (or credit notes), taken under a row lock: no gaps, no twins."""

    key = models.CharField(max_length=60, unique=True)
    prefix = models.CharField(max_length=12)
    next_number = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.key}: next {self.prefix}-{self.next_number:05d}"


class Invoice(StatefulModel):
    class Status(models.TextChoices):
        ISSUED = "issued", "Issued"
        PAID = "paid", "Paid"
        VOID = "void", "Void (fully credited)"

    class Kind(models.TextChoices):
        HOURLY_WEEK = "hourly_week", "Hourly week"
        MILESTONE = "milestone", "Milestone"
        MICRO_TASK_WEEK = "micro_task_week", "Micro-task week"
        SOW_MONTH = "sow_month", "Statement of work month"

    TRANSITIONS = {Status.ISSUED: {Status.PAID, Status.VOID}}

    number = models.CharField(max_length=30)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    source_key = models.CharField(max_length=120, unique=True)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="invoices")
    issuer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="issued_invoices"
    )
    issuer_organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="issued_invoices"
    )
    issuer_name = models.CharField(max_length=200)
    bill_to_name = models.CharField(max_length=200)
    contract = models.ForeignKey(
        "engagements.Contract", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    sow = models.ForeignKey(
        "engagements.StatementOfWork", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    currency = CurrencyField()
    subtotal = AmountField(help_text="The work, after SLA credits and bonuses.")
    client_fee = AmountField()
    total = AmountField(help_text="What the client pays: subtotal plus the marketplace fee.")
    worker_fee = AmountField(help_text="The service fee kept from the issuer's earnings.")
    credited = AmountField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ISSUED, db_index=True)
    issued_at = models.DateTimeField()
    due_date = models.DateField()
    paid_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of("issuer_user", "issuer_organization"), name="invoice_one_issuer"
            ),
            models.UniqueConstraint(
                fields=["issuer_user", "issuer_organization", "number"],
                nulls_distinct=False,
                name="invoice_number_unique_per_issuer",
            ),
            models.CheckConstraint(
                condition=models.Q(subtotal__gte=0, client_fee__gte=0, worker_fee__gte=0)
                & models.Q(total=models.F("subtotal") + models.F("client_fee"))
                & models.Q(credited__gte=0, credited__lte=models.F("total")),
                name="invoice_totals_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number}"

    @property
    def amount_due(self) -> Decimal:
        return Decimal(0) if self.status != self.Status.ISSUED else self.total - self.credited

    @property
    def worker_net(self) -> Decimal:
        return self.subtotal - self.worker_fee


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        WORK = "work", "Work"
        SLA_CREDIT = "sla_credit", "SLA credit"
        SLA_BONUS = "sla_bonus", "Outcome bonus"
        MARKETPLACE_FEE = "marketplace_fee", "Marketplace fee"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WORK)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal(1))
    unit = models.CharField(max_length=20, blank=True)
    unit_price = AmountField()
    amount = AmountField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["invoice", "position", "id"]

    def __str__(self) -> str:
        return self.description


class CreditNote(TimeStampedModel):
    """Corrects an issued, unpaid invoice by lowering what the client owes (a paid invoice is refunded instead)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(max_length=30)
    amount = AmountField(help_text="Of the invoice total (work and fee in proportion).")
    currency = CurrencyField()
    fee_part = AmountField(default=0, help_text="Platform fees (client and service fee) given back.")
    worker_net_part = AmountField(default=0, help_text="Taken off the issuer's pending earnings.")
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="credit_note_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(amount=models.F("fee_part") + models.F("worker_net_part")),
                name="credit_note_parts_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"Credit note {self.number} for {self.invoice.number}"
