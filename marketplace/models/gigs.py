from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.countries import COUNTRY_CHOICES
from core.models import StatefulModel
from core.money import AmountField, CurrencyField


class Gig(StatefulModel):
    """Work a client organisation posts: fixed price, hourly, or a batch of micro-tasks."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class Kind(models.TextChoices):
        FIXED = "fixed", "Fixed price"
        HOURLY = "hourly", "Hourly"
        MICRO_TASK = "micro_task", "Micro-task batch"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public: every freelancer and vendor"
        POOL = "pool", "My talent pool only"
        INVITE = "invite", "Invited only"

    TRANSITIONS = {
        Status.DRAFT: {Status.OPEN, Status.CANCELLED},
        Status.OPEN: {Status.IN_PROGRESS, Status.CANCELLED},
        Status.IN_PROGRESS: {Status.COMPLETED, Status.CANCELLED},
    }

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="gigs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=160)
    description = models.TextField()
    deliverables = models.TextField(blank=True, help_text="Deliverables and acceptance criteria.")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    currency = CurrencyField()
    budget_amount = AmountField(null=True, blank=True, help_text="Fixed-price budget.")
    hourly_rate_min = AmountField(null=True, blank=True)
    hourly_rate_max = AmountField(null=True, blank=True)
    estimated_hours = models.PositiveIntegerField(null=True, blank=True)
    # Rate-card guardrail: bids priced outside [min, max] (amount for fixed, rate for hourly) are flagged.
    guardrail_min = AmountField(null=True, blank=True)
    guardrail_max = AmountField(null=True, blank=True)
    deadline_date = models.DateField(null=True, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    talent_pool = models.ForeignKey(
        "talent.TalentPool", null=True, blank=True, on_delete=models.PROTECT, related_name="gigs"
    )
    timezone = models.CharField(max_length=64, default="UTC", help_text="Where the client works from.")
    required_country = models.CharField(
        max_length=2, blank=True, choices=COUNTRY_CHOICES, help_text="Only if the work must be done in a jurisdiction."
    )
    handles_personal_data = models.BooleanField(default=False)
    is_healthcare = models.BooleanField(default=False)
    is_finance = models.BooleanField(default=False)
    screening_questions = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    skills = models.ManyToManyField("talent.Skill", through="GigSkill", related_name="gigs")
    # Denormalised for ranking and search: required skill ids and the full-text vector (set by the services).
    skill_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    search_vector = SearchVectorField(null=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            GinIndex(fields=["search_vector"], name="gig_search_vector_gin"),
            GinIndex(fields=["skill_ids"], name="gig_skill_ids_gin"),
            models.Index(fields=["status", "visibility", "-published_at"], name="gig_status_visibility"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="fixed") | models.Q(budget_amount__gt=0), name="gig_fixed_has_budget"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="hourly")
                | (models.Q(hourly_rate_min__gt=0) & models.Q(hourly_rate_max__gte=models.F("hourly_rate_min"))),
                name="gig_hourly_has_rate_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(visibility="pool") | models.Q(talent_pool__isnull=False),
                name="gig_pool_visibility_has_pool",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class GigSkill(models.Model):
    gig = models.ForeignKey(Gig, on_delete=models.CASCADE, related_name="gig_skills")
    skill = models.ForeignKey("talent.Skill", on_delete=models.PROTECT, related_name="gig_skills")
    min_level = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1), MaxValueValidator(5)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gig", "skill"], name="gig_skill_unique"),
            models.CheckConstraint(condition=models.Q(min_level__gte=1, min_level__lte=5), name="gig_skill_level_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.skill} ≥ {self.min_level}"
