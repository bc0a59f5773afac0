"""Gig-work engagements: contracts, milestones (fixed price), timesheets and time entries (hourly)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from core.models import StatefulModel, TimeStampedModel, exactly_one_of
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
    schedule_set_by_client = models.BooleanField(
        default=False, help_text="The client sets the working hours (a worker-classification risk factor)."
    )
    is_exclusive = models.BooleanField(
        default=False, help_text="The worker may not work for others meanwhile (a worker-classification risk factor)."
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    dispute_reason = models.TextField(blank=True)
    dispute_resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("resolve_dispute", "Can resolve contract disputes")]
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


class Milestone(StatefulModel):
    """A fixed-price contract's unit of delivery and payment. Funding puts the amount in escrow; the client
    approves the work and releases the money, at once or in parts."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for funding"
        FUNDED = "funded", "Funded"
        SUBMITTED = "submitted", "Submitted for review"
        APPROVED = "approved", "Approved"
        RELEASED = "released", "Released"
        REFUNDED = "refunded", "Refunded to the client"

    TRANSITIONS = {
        Status.PENDING: {Status.FUNDED},
        Status.FUNDED: {Status.SUBMITTED, Status.REFUNDED},
        Status.SUBMITTED: {Status.APPROVED, Status.FUNDED, Status.REFUNDED},  # back to funded = changes requested
        Status.APPROVED: {Status.RELEASED, Status.REFUNDED},
    }

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    amount = AmountField()
    currency = CurrencyField()
    released_amount = AmountField(default=0)
    refunded_amount = AmountField(default=0)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    change_request_note = models.TextField(blank=True)
    submission_note = models.TextField(blank=True)
    funded_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["contract", "due_date", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="milestone_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(released_amount__gte=0, refunded_amount__gte=0)
                & models.Q(released_amount__lte=models.F("amount") - models.F("refunded_amount")),
                name="milestone_released_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.amount} {self.currency})"

    @property
    def remaining_amount(self) -> Decimal:
        return self.amount - self.released_amount - self.refunded_amount


class Timesheet(StatefulModel):
    """One per hourly contract per ISO week (week_start is that week's Monday)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    TRANSITIONS = {
        Status.DRAFT: {Status.SUBMITTED},
        Status.SUBMITTED: {Status.APPROVED, Status.REJECTED},
        Status.REJECTED: {Status.SUBMITTED},  # corrected and sent again
    }

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="timesheets")
    week_start = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    total_hours = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejection_reason = models.TextField(blank=True)
    is_auto_approved = models.BooleanField(default=False)

    class Meta:
        ordering = ["contract", "-week_start"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "week_start"], name="timesheet_one_per_contract_week"),
            models.CheckConstraint(condition=models.Q(week_start__week_day=2), name="timesheet_week_starts_monday"),
            models.CheckConstraint(
                condition=models.Q(total_hours__gte=0) & models.Q(total_hours__lte=168), name="timesheet_hours_in_week"
            ),
        ]

    def __str__(self) -> str:
        return f"Week of {self.week_start} · contract {self.contract_id}"


class TimeEntry(TimeStampedModel):
    """Time worked on one day: when it started and how long, in quarter-hours."""

    timesheet = models.ForeignKey(Timesheet, on_delete=models.CASCADE, related_name="entries")
    work_date = models.DateField()
    start_time = models.TimeField()
    hours = models.DecimalField(max_digits=4, decimal_places=2)
    description = models.CharField(max_length=500)
    evidence_url = models.URLField(blank=True, help_text="A ticket, commit or document that shows the work.")

    class Meta:
        ordering = ["work_date", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours__gt=0) & models.Q(hours__lte=24), name="time_entry_hours_0_24"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_date} {self.start_time:%H:%M} · {self.hours} h"
