"""Vendor engagements: a statement of work between a client and a vendor firm, its service levels, the monthly
measurements the vendor (or client, or a partner system) reports, and each month's evaluation with its breaches,
credits and bonuses."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from core.models import StatefulModel, TimeStampedModel
from core.money import AmountField, CurrencyField


def PercentField(**kwargs: object) -> models.DecimalField:  # noqa: N802 - reads like a field class
    """A percentage with two decimals (0.00–100.00; the model's constraints hold the range)."""
    return models.DecimalField(max_digits=5, decimal_places=2, **kwargs)  # type: ignore[arg-type]


class StatementOfWork(StatefulModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PROPOSED = "proposed", "Proposed"
        SIGNED = "signed", "Signed"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    class Pricing(models.TextChoices):
        FIXED_MONTHLY = "fixed_monthly", "Fixed monthly fee"
        TIME_AND_MATERIALS = "time_and_materials", "Time and materials (rate card)"
        OUTCOME_BASED = "outcome_based", "Outcome-based (fee with SLA credits and bonuses)"

    TRANSITIONS = {
        Status.DRAFT: {Status.PROPOSED},
        Status.PROPOSED: {Status.DRAFT, Status.SIGNED},  # back to draft = withdrawn or sent back for changes
        Status.SIGNED: {Status.ACTIVE, Status.ENDED},
        Status.ACTIVE: {Status.ENDED},
    }

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="statements_of_work"
    )
    vendor = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="vendor_sows")
    title = models.CharField(max_length=160)
    scope = models.TextField()
    deliverables = models.TextField(blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    pricing_model = models.CharField(max_length=20, choices=Pricing.choices)
    currency = CurrencyField()
    monthly_fee = AmountField(null=True, blank=True, help_text="Fixed monthly and outcome-based pricing.")
    monthly_budget_cap = AmountField(
        null=True, blank=True, help_text="Time and materials: the most that can be billed in one month."
    )
    credit_cap_pct = PercentField(
        default=Decimal("20"), help_text="Total SLA credits in a month, as % of the month's fee, at most."
    )
    bonus_cap_pct = PercentField(
        default=Decimal("10"), help_text="Total outcome bonuses in a month, as % of the month's fee."
    )
    handles_personal_data = models.BooleanField(default=False, help_text="The vendor processes personal data.")
    is_healthcare = models.BooleanField(default=False)
    is_finance = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    returned_note = models.TextField(blank=True)
    client_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_signed_at = models.DateTimeField(null=True, blank=True)
    vendor_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    vendor_signed_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "statement of work"
        verbose_name_plural = "statements of work"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(organization=models.F("vendor")), name="sow_client_is_not_vendor"
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F("start_date")),
                name="sow_end_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(pricing_model="time_and_materials") | models.Q(monthly_budget_cap__gt=0),
                name="sow_tm_has_budget_cap",
            ),
            models.CheckConstraint(
                condition=models.Q(pricing_model="time_and_materials") | models.Q(monthly_fee__gt=0),
                name="sow_fee_pricing_has_fee",
            ),
            models.CheckConstraint(
                condition=models.Q(credit_cap_pct__gte=0, credit_cap_pct__lte=100)
                & models.Q(bonus_cap_pct__gte=0, bonus_cap_pct__lte=100),
                name="sow_caps_are_percentages",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.organization} ↔ {self.vendor})"

    @property
    def is_signed_by_both(self) -> bool:
        return self.client_signed_at is not None and self.vendor_signed_at is not None


class ServiceLevel(TimeStampedModel):
    """One measurable promise of a SOW, evaluated monthly."""

    class Metric(models.TextChoices):
        FIRST_RESPONSE_MINUTES = "first_response_minutes", "First response (minutes)"
        RESOLUTION_HOURS = "resolution_hours", "Resolution time (hours)"
        RESOLUTION_RATE_PCT = "resolution_rate_pct", "Resolution rate (%)"
        CSAT = "csat", "Customer satisfaction (1–5)"
        UPTIME_PCT = "uptime_pct", "Uptime (%)"
        BACKLOG_AGE_HOURS = "backlog_age_hours", "Backlog age (hours)"

    class Direction(models.TextChoices):
        AT_MOST = "at_most", "at most"
        AT_LEAST = "at_least", "at least"

    class Window(models.TextChoices):
        MONTHLY = "monthly", "Monthly"

    sow = models.ForeignKey(StatementOfWork, on_delete=models.CASCADE, related_name="service_levels")
    metric = models.CharField(max_length=24, choices=Metric.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    target = models.DecimalField(max_digits=10, decimal_places=2)
    window = models.CharField(max_length=8, choices=Window.choices, default=Window.MONTHLY)
    credit_pct = PercentField(default=Decimal("0"), help_text="% of the month's fee on breach.")
    stretch_target = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    bonus_pct = PercentField(default=Decimal("0"), help_text="% of the month's fee when the stretch target is reached.")

    class Meta:
        ordering = ["sow", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["sow", "metric"], name="service_level_one_per_metric"),
            models.CheckConstraint(
                condition=models.Q(credit_pct__gte=0, credit_pct__lte=100)
                & models.Q(bonus_pct__gte=0, bonus_pct__lte=100),
                name="service_level_pcts_are_percentages",
            ),
            models.CheckConstraint(
                condition=models.Q(bonus_pct=0) | models.Q(stretch_target__isnull=False),
                name="service_level_bonus_needs_stretch",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.get_direction_display()} {self.target}"

    def is_met(self, value: Decimal) -> bool:
        return value <= self.target if self.direction == self.Direction.AT_MOST else value >= self.target

    def is_stretch_met(self, value: Decimal) -> bool:
        if self.stretch_target is None:
            return False
        if self.direction == self.Direction.AT_MOST:
            return value <= self.stretch_target
        return value >= self.stretch_target


class SLAMeasurement(TimeStampedModel):
    """The value of one metric for one month (period = the month's first day)."""

    class Source(models.TextChoices):
        VENDOR_REPORT = "vendor_report", "Vendor report"
        CLIENT_ENTRY = "client_entry", "Client entry"
        API = "api", "API"

    sow = models.ForeignKey(StatementOfWork, on_delete=models.CASCADE, related_name="measurements")
    metric = models.CharField(max_length=24, choices=ServiceLevel.Metric.choices)
    period = models.DateField()
    value = models.DecimalField(max_digits=10, decimal_places=2)
    source = models.CharField(max_length=16, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["sow", "-period", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["sow", "metric", "period"], name="sla_measurement_one_per_month"),
            models.CheckConstraint(condition=models.Q(period__day=1), name="sla_measurement_period_is_month"),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="sla_measurement_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.period:%Y-%m}: {self.value}"


class SOWUsage(TimeStampedModel):
    """Time-and-materials usage in a month: a rate-card role times a quantity, at the rate when recorded."""

    sow = models.ForeignKey(StatementOfWork, on_delete=models.CASCADE, related_name="usage")
    period = models.DateField()
    rate_card_entry = models.ForeignKey("talent.RateCardEntry", null=True, on_delete=models.SET_NULL, related_name="+")
    role = models.CharField(max_length=140)
    unit = models.CharField(max_length=5)
    unit_rate = AmountField()
    currency = CurrencyField()
    quantity = models.DecimalField(max_digits=7, decimal_places=2)
    amount = AmountField()
    description = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["sow", "-period", "role"]
        verbose_name_plural = "SOW usage"
        constraints = [
            models.CheckConstraint(condition=models.Q(period__day=1), name="sow_usage_period_is_month"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="sow_usage_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.role} × {self.quantity} ({self.period:%Y-%m})"


class SLAEvaluation(TimeStampedModel):
    """A SOW's month, evaluated once: the fee it is measured against, each service level's outcome, and the
    (capped) credits and bonuses billing puts on that month's invoice."""

    sow = models.ForeignKey(StatementOfWork, on_delete=models.PROTECT, related_name="evaluations")
    period = models.DateField()
    currency = CurrencyField()
    fee_base = AmountField()
    credits_before_cap = AmountField()
    credit_total = AmountField()
    bonuses_before_cap = AmountField()
    bonus_total = AmountField()
    levels_met = models.PositiveSmallIntegerField()
    levels_total = models.PositiveSmallIntegerField()
    lines = models.JSONField(default=list, help_text="Per service level: value, target, met, credit, bonus.")
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sow", "-period"]
        constraints = [
            models.UniqueConstraint(fields=["sow", "period"], name="sla_evaluation_one_per_month"),
            models.CheckConstraint(condition=models.Q(period__day=1), name="sla_evaluation_period_is_month"),
            models.CheckConstraint(
                condition=models.Q(credit_total__gte=0, credit_total__lte=models.F("credits_before_cap"))
                & models.Q(bonus_total__gte=0, bonus_total__lte=models.F("bonuses_before_cap")),
                name="sla_evaluation_totals_within_sums",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sow.title} · {self.period:%B %Y}"

    @property
    def attainment_pct(self) -> Decimal:
        if not self.levels_total:
            return Decimal(100)
        return (Decimal(self.levels_met) * 100 / self.levels_total).quantize(Decimal("0.1"))


class SLABreach(TimeStampedModel):
    """A service level missed in an evaluated month (or not reported, which counts as missed)."""

    evaluation = models.ForeignKey(SLAEvaluation, on_delete=models.CASCADE, related_name="breaches")
    sow = models.ForeignKey(StatementOfWork, on_delete=models.PROTECT, related_name="breaches")
    service_level = models.ForeignKey(ServiceLevel, on_delete=models.PROTECT, related_name="breaches")
    period = models.DateField()
    metric = models.CharField(max_length=24, choices=ServiceLevel.Metric.choices)
    direction = models.CharField(max_length=8, choices=ServiceLevel.Direction.choices)
    target = models.DecimalField(max_digits=10, decimal_places=2)
    measured_value = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    credit_amount = AmountField()
    currency = CurrencyField()

    class Meta:
        ordering = ["-period", "sow"]
        verbose_name = "SLA breach"
        verbose_name_plural = "SLA breaches"
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "service_level"], name="sla_breach_one_per_level"),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} missed in {self.period:%B %Y}"

    @property
    def is_unreported(self) -> bool:
        return self.measured_value is None
