"""Micro-task batches and units.

A client posts a gig of kind micro_task and attaches one TaskBatch to it: instructions, a price per unit and a lease
length. The batch holds many TaskUnits (imported from CSV or JSON lines). A qualified worker claims the next open unit
(a lease that expires), submits a result, and the client accepts or rejects it. Gold units carry a known answer;
they are scored on submission and measure each worker's accuracy.

Per-worker figures (accuracy on gold units, accepted units, earnings) are aggregates over the units themselves
(`marketplace.selectors.microtasks.task_worker_stats`), so they can never drift from the units they describe.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.models import StatefulModel
from core.money import AmountField, CurrencyField

__all__ = ["TaskBatch", "TaskUnit"]


class TaskBatch(StatefulModel):
    """The micro-task side of a gig of kind micro_task. Required skills are the gig's GigSkill rows."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    TRANSITIONS = {
        Status.DRAFT: {Status.OPEN},
        Status.OPEN: {Status.CLOSED},
        Status.CLOSED: {Status.OPEN},
    }

    # Accuracy is judged only once a worker has answered this many gold units: one early miss must not lock anyone out.
    ACCURACY_MIN_GOLD_ANSWERS: ClassVar[int] = 5
    TIME_LIMIT_MAX_MINUTES: ClassVar[int] = 24 * 60

    gig = models.OneToOneField("marketplace.Gig", on_delete=models.PROTECT, related_name="task_batch")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    instructions = models.TextField(help_text="What a worker must do with each unit, shown above every unit.")
    answer_options = ArrayField(
        models.CharField(max_length=100),
        default=list,
        blank=True,
        help_text="If set, workers pick one of these answers (keys 1–9); otherwise they type a free answer.",
    )
    # jsonb keeps no key order: the upload's column order is kept here so workers see columns as the client wrote them.
    payload_columns = ArrayField(models.CharField(max_length=200), default=list, blank=True, editable=False)
    unit_price = AmountField(help_text="Paid for each accepted unit.")
    currency = CurrencyField()
    time_limit_minutes = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(TIME_LIMIT_MAX_MINUTES)],
        help_text="How long a worker holds a claimed unit before it goes back to the queue.",
    )
    min_accuracy = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Minimum accuracy on gold units (percent) to keep claiming; empty for no minimum.",
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "task batch"
        verbose_name_plural = "task batches"
        constraints = [
            models.CheckConstraint(condition=models.Q(unit_price__gt=0), name="task_batch_unit_price_positive"),
            models.CheckConstraint(
                condition=models.Q(time_limit_minutes__gte=1, time_limit_minutes__lte=24 * 60),
                name="task_batch_time_limit_range",
            ),
            models.CheckConstraint(
                condition=models.Q(min_accuracy__isnull=True) | models.Q(min_accuracy__gte=0, min_accuracy__lte=100),
                name="task_batch_min_accuracy_percent",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "open", "closed"]), name="task_batch_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Task batch for gig {self.gig_id}"


class TaskUnit(StatefulModel):
    """One item of work. `claimed_by` is the worker holding the lease, and stays set once they submitted."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        LEASED = "leased", "In progress"
        SUBMITTED = "submitted", "Waiting for review"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    TRANSITIONS = {
        Status.OPEN: {Status.LEASED},
        Status.LEASED: {Status.SUBMITTED, Status.OPEN},  # → open when the lease expires
        Status.SUBMITTED: {Status.ACCEPTED, Status.REJECTED},
    }
    WORKED_STATUSES: ClassVar[tuple[str, ...]] = (Status.SUBMITTED, Status.ACCEPTED, Status.REJECTED)
    EXTERNAL_ID_MAX_LENGTH: ClassVar[int] = 200

    batch = models.ForeignKey(TaskBatch, on_delete=models.CASCADE, related_name="units")
    external_id = models.CharField(max_length=200, help_text="The client's own id for the unit (the file's id).")
    payload = models.JSONField(help_text="What the worker sees: the unit's data, one key per column.")
    is_gold = models.BooleanField(default=False, help_text="Has a known answer; scores the worker's accuracy.")
    gold_answer = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="task_units"
    )
    leased_until = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    is_gold_correct = models.BooleanField(null=True, blank=True, help_text="Gold units only: did the answer match?")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    # Set on acceptance from the batch's price at that moment, so a later price change never rewrites earnings.
    earned_amount = AmountField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "task unit"
        constraints = [
            models.UniqueConstraint(fields=["batch", "external_id"], name="task_unit_external_id_unique"),
            # A lease has exactly one holder and an end; an open unit has neither.
            models.CheckConstraint(
                condition=~models.Q(status="leased")
                | (models.Q(claimed_by__isnull=False) & models.Q(leased_until__isnull=False)),
                name="task_unit_leased_has_holder",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="open")
                | (models.Q(claimed_by__isnull=True) & models.Q(leased_until__isnull=True)),
                name="task_unit_open_has_no_lease",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["submitted", "accepted", "rejected"])
                | (models.Q(claimed_by__isnull=False) & models.Q(submitted_at__isnull=False)),
                name="task_unit_submitted_has_worker",
            ),
            models.CheckConstraint(
                condition=~models.Q(is_gold=True) | models.Q(gold_answer__isnull=False),
                name="task_unit_gold_has_answer",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "leased", "submitted", "accepted", "rejected"]),
                name="task_unit_status_valid",
            ),
            # A worker works one unit of a batch at a time: a second claim returns the unit they hold.
            models.UniqueConstraint(
                fields=["batch", "claimed_by"],
                condition=models.Q(status="leased"),
                name="task_unit_one_lease_per_worker",
            ),
        ]
        indexes = [
            # "Next open unit of this batch, oldest first" (the claim) and the count of what is left.
            models.Index(fields=["batch", "id"], condition=models.Q(status="open"), name="task_unit_open_fifo"),
            # The lease sweep: leased units whose lease has run out.
            models.Index(fields=["leased_until"], condition=models.Q(status="leased"), name="task_unit_lease_expiry"),
            # The review queue of a batch, oldest submission first.
            models.Index(
                fields=["batch", "submitted_at", "id"],
                condition=models.Q(status="submitted"),
                name="task_unit_review_queue",
            ),
            # A worker's units in a batch: their live lease, accuracy on gold units and earnings.
            models.Index(fields=["claimed_by", "batch", "status"], name="task_unit_worker_batch"),
            models.Index(fields=["batch", "status"], name="task_unit_batch_status"),
        ]

    def __str__(self) -> str:
        return f"Unit {self.external_id} of batch {self.batch_id}"
