"""Client payments through Stripe PaymentIntents (funding a milestone, paying an invoice), refunds, and the
Stripe webhook events that confirm them. A payment counts only when a verified webhook says Stripe has it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel, exactly_one_of
from core.money import AmountField, CurrencyField


class Payment(TimeStampedModel):
    class Status(models.TextChoices):
        REQUIRES_PAYMENT = "requires_payment", "Waiting for payment"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Paid"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Cancelled"

    # How far each Stripe status is along; the stored status only moves forward, whatever order events arrive in.
    RANK = {
        Status.REQUIRES_PAYMENT: 0,
        Status.FAILED: 1,
        Status.PROCESSING: 2,
        Status.CANCELED: 3,
        Status.SUCCEEDED: 4,
    }

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="payments")
    milestone = models.ForeignKey(
        "engagements.Milestone", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    currency = CurrencyField()
    work_amount = AmountField(help_text="The milestone amount or the invoice subtotal.")
    client_fee = AmountField()
    amount = AmountField(help_text="Charged: work plus the marketplace fee.")
    refunded_amount = AmountField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUIRES_PAYMENT, db_index=True)
    stripe_payment_intent_id = models.CharField(max_length=80, unique=True)
    client_secret = models.CharField(max_length=200, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=exactly_one_of("milestone", "invoice"), name="payment_for_one_thing"),
            models.CheckConstraint(
                condition=models.Q(amount=models.F("work_amount") + models.F("client_fee"))
                & models.Q(refunded_amount__gte=0, refunded_amount__lte=models.F("amount")),
                name="payment_amounts_add_up",
            ),
            # At most one live payment per milestone or invoice: a second "pay" reuses the first.
            models.UniqueConstraint(
                fields=["milestone"],
                condition=models.Q(status__in=["requires_payment", "processing", "succeeded"], milestone__isnull=False),
                name="payment_one_live_per_milestone",
            ),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(status__in=["requires_payment", "processing", "succeeded"], invoice__isnull=False),
                name="payment_one_live_per_invoice",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.stripe_payment_intent_id} ({self.amount} {self.currency})"


class Refund(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Refunded"
        FAILED = "failed", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = AmountField()
    currency = CurrencyField()
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    stripe_refund_id = models.CharField(max_length=80, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"Refund {self.stripe_refund_id}"


class StripeEvent(models.Model):
    """Every verified webhook event, stored once by its Stripe id (duplicates are acknowledged and ignored)."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (not a type we act on)"
        FAILED = "failed", "Failed"

    event_id = models.CharField(max_length=80, unique=True)
    type = models.CharField(max_length=80, db_index=True)
    account = models.CharField(max_length=80, blank=True, help_text="The connected account, for Connect events.")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    stripe_created_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
