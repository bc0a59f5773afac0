"""Engagements: contracts (and, with their issue, milestones, timesheets, statements of work, service levels)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import StatefulModel, exactly_one_of
from core.money import AmountField, CurrencyField


class Contract(StatefulModel):
    """Created by accepting a bid: the client organisation engages a freelancer or a vendor firm."""

    class Status(models.TextChoices):
        PENDING_COMPLIANCE = "pending_compliance", "Waiting for compliance"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        DISPUTED = "disputed", "Disputed"
        COMPLETED = "completed", "Completed"
        TERMINATED = "terminated", "Terminated"

    class Kind(models.TextChoices):
        FIXED = "fixed", "Fixed price"
        HOURLY = "hourly", "Hourly"
        MICRO_TASK = "micro_task", "Micro-task"

    TRANSITIONS = {
        Status.PENDING_COMPLIANCE: {Status.ACTIVE, Status.TERMINATED},
        Status.ACTIVE: {Status.PAUSED, Status.COMPLETED, Status.TERMINATED, Status.DISPUTED},
        Status.PAUSED: {Status.ACTIVE, Status.TERMINATED},
        Status.DISPUTED: {Status.ACTIVE, Status.TERMINATED, Status.COMPLETED},
    }

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="contracts")
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="contracts"
    )
    vendor = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="vendor_contracts"
    )
    gig = models.ForeignKey(
        "marketplace.Gig", null=True, blank=True, on_delete=models.PROTECT, related_name="contracts"
    )
    bid = models.OneToOneField(
        "marketplace.Bid", null=True, blank=True, on_delete=models.PROTECT, related_name="contract"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_COMPLIANCE, db_index=True)
    currency = CurrencyField()
    fixed_amount = AmountField(null=True, blank=True)
    hourly_rate = AmountField(null=True, blank=True)
    weekly_hour_cap = models.PositiveSmallIntegerField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of("freelancer", "vendor"),
                name="contract_freelancer_xor_vendor",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(start_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="contract_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Contract {self.pk}: {self.organization} ↔ {self.freelancer or self.vendor}"
