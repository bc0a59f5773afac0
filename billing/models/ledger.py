"""The double-entry ledger. Every money movement is one LedgerTransaction whose lines sum to zero per currency;
lines are debits (positive) and credits (negative). The database enforces what matters even against code that
bypasses the services (migration 0002): lines and transactions can't be updated or deleted (corrections are
reversing transactions), each transaction balances when its database transaction commits, a line's currency is
its account's, and each account's cached balance is maintained by a trigger under the account's row lock and is
checked against going negative where the account must not."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel
from core.money import AmountField, CurrencyField


class LedgerAccount(TimeStampedModel):
    class Kind(models.TextChoices):
        PROCESSOR_CLEARING = "processor_clearing", "Processor clearing (money at Stripe)"
        PLATFORM_REVENUE = "platform_revenue", "Platform revenue (fees)"
        CLIENT_ESCROW = "client_escrow", "Client escrow"
        CLIENT_RECEIVABLE = "client_receivable", "Client receivable"
        WORKER_PENDING = "worker_pending", "Freelancer earnings awaiting client payment"
        WORKER_PAYABLE = "worker_payable", "Freelancer payable"
        VENDOR_PENDING = "vendor_pending", "Vendor earnings awaiting client payment"
        VENDOR_PAYABLE = "vendor_payable", "Vendor payable"

    # Asset accounts grow with debits; the others (what the platform holds for or owes someone, and its
    # revenue) grow with credits. `balance` is shown on the account's normal side.
    DEBIT_NORMAL = frozenset({Kind.PROCESSOR_CLEARING, Kind.CLIENT_RECEIVABLE})
    PLATFORM = frozenset({Kind.PROCESSOR_CLEARING, Kind.PLATFORM_REVENUE})
    CLIENT = frozenset({Kind.CLIENT_ESCROW, Kind.CLIENT_RECEIVABLE})
    WORKER = frozenset({Kind.WORKER_PENDING, Kind.WORKER_PAYABLE})
    VENDOR = frozenset({Kind.VENDOR_PENDING, Kind.VENDOR_PAYABLE})
    MAY_GO_NEGATIVE = frozenset({Kind.PROCESSOR_CLEARING, Kind.PLATFORM_REVENUE})

    kind = models.CharField(max_length=20, choices=Kind.choices)
    currency = CurrencyField()
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    is_debit_normal = models.BooleanField()
    may_go_negative = models.BooleanField()
    balance = AmountField(default=0)

    class Meta:
        ordering = ["kind", "currency", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "currency", "organization", "user"],
                nulls_distinct=False,
                name="ledger_account_one_per_owner",
            ),
            models.CheckConstraint(
                condition=models.Q(may_go_negative=True) | models.Q(balance__gte=0),
                name="ledger_account_not_negative",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind__in=["processor_clearing", "platform_revenue"])
                    & models.Q(organization__isnull=True, user__isnull=True)
                )
                | (
                    models.Q(kind__in=["client_escrow", "client_receivable", "vendor_pending", "vendor_payable"])
                    & models.Q(organization__isnull=False, user__isnull=True)
                )
                | (
                    models.Q(kind__in=["worker_pending", "worker_payable"])
                    & models.Q(organization__isnull=True, user__isnull=False)
                ),
                name="ledger_account_owner_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        owner = self.organization or self.user or "platform"
        return f"{self.get_kind_display()} · {owner} · {self.currency}"


class LedgerTransaction(models.Model):
    """One balanced money movement. `reference` names what caused it (for example `milestone:12:release:1`)
    and is unique, so posting the same movement twice is impossible."""

    class Kind(models.TextChoices):
        ESCROW_FUNDED = "escrow_funded", "Escrow funded"
        ESCROW_RELEASED = "escrow_released", "Escrow released"
        ESCROW_REFUNDED = "escrow_refunded", "Escrow refunded"
        INVOICE_ISSUED = "invoice_issued", "Invoice issued"
        INVOICE_PAID = "invoice_paid", "Invoice paid"
        INVOICE_REFUNDED = "invoice_refunded", "Invoice payment refunded"
        CREDIT_NOTE = "credit_note", "Credit note"
        PAYOUT_PAID = "payout_paid", "Payout paid"
        REVERSAL = "reversal", "Reversal"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    reference = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=300)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    posted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-posted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.reference}"


class LedgerLine(models.Model):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="lines")
    amount = AmountField(help_text="Debit positive, credit negative.")
    currency = CurrencyField()

    class Meta:
        ordering = ["transaction", "id"]
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_line_not_zero")]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount}"
