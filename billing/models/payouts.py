"""Getting paid: a freelancer's or vendor firm's Stripe Connect (Express) account, and payouts sent to it as
Stripe transfers, each at most once."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import StatefulModel, TimeStampedModel, exactly_one_of
from core.money import AmountField, CurrencyField


class PayoutAccount(TimeStampedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="payout_account"
    )
    organization = models.OneToOneField(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="payout_account"
    )
    stripe_account_id = models.CharField(max_length=80, unique=True)
    country = models.CharField(max_length=2)
    details_submitted = models.BooleanField(default=False)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    requirements_due = models.JSONField(default=list, blank=True)
    disabled_reason = models.CharField(max_length=120, blank=True)
    bank_accounts_fingerprint = models.CharField(
        max_length=400, blank=True, help_text="The bank accounts Stripe pays out to, to notice when they change."
    )
    hold_until = models.DateTimeField(
        null=True, blank=True, help_text="No payouts before this time (set when payout details or email change)."
    )
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=exactly_one_of("user", "organization"), name="payout_account_owner")
        ]

    def __str__(self) -> str:
        return f"{self.user or self.organization} · {self.stripe_account_id}"


class Payout(StatefulModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Cancelled"

    TRANSITIONS = {
        Status.PENDING: {Status.PAID, Status.FAILED, Status.CANCELED},
        Status.FAILED: {Status.PENDING, Status.CANCELED},  # retried by finance staff
    }

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="payouts"
    )
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="payouts"
    )
    payout_account = models.ForeignKey(PayoutAccount, on_delete=models.PROTECT, related_name="payouts")
    amount = AmountField()
    currency = CurrencyField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    idempotency_key = models.CharField(
        max_length=80, unique=True, help_text="Sent to Stripe on every attempt; changes only on a manual retry."
    )
    stripe_transfer_id = models.CharField(max_length=80, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    manual_retries = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=exactly_one_of("user", "organization"), name="payout_one_payee"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payout_amount_positive"),
            models.UniqueConstraint(
                fields=["stripe_transfer_id"], condition=~models.Q(stripe_transfer_id=""), name="payout_transfer_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Payout {self.pk}: {self.amount} {self.currency} to {self.user or self.organization}"
