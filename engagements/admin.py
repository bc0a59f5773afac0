"""Engagements admin: ops read contracts, milestones, timesheets, statements of work and their SLA records,
resolve disputes and evaluate a SOW's last month. Every change goes through a service (so it is checked and
audited); rows are not edited by hand, least of all the money-relevant SLA evaluations and breaches."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from core.errors import ApplicationError
from core.money import Money
from engagements.models import (
    Contract,
    Milestone,
    ServiceLevel,
    SLABreach,
    SLAEvaluation,
    SLAMeasurement,
    SOWUsage,
    StatementOfWork,
    TimeEntry,
    Timesheet,
)
from engagements.services import contract_dispute_resolve, sla_evaluate
from engagements.services.sla import parse_period


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MilestoneInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ("title", "amount", "released_amount", "currency", "due_date", "status")


class DisputeResolutionForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            (Contract.Status.ACTIVE, "Back to active: work continues"),
            (Contract.Status.COMPLETED, "Completed"),
            (Contract.Status.TERMINATED, "Terminated"),
        ]
    )
    resolution = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), help_text="Both sides see this text.")


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "organization",
        "freelancer",
        "vendor",
        "kind",
        "status",
        "currency",
        "start_date",
        "end_date",
    )
    list_filter = ("status", "kind", "currency")
    search_fields = ("organization__name", "freelancer__email", "freelancer__full_name", "vendor__name", "gig__title")
    list_select_related = ("organization", "freelancer", "vendor")
    inlines = (MilestoneInline,)
    actions = ("resolve_disputes",)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return super().has_view_permission(request, obj) or request.user.has_perm("engagements.resolve_dispute")

    @admin.action(description="Resolve the selected disputes", permissions=["resolve"])
    def resolve_disputes(self, request: HttpRequest, queryset: QuerySet[Contract]) -> HttpResponse | None:
        disputed = queryset.filter(status=Contract.Status.DISPUTED)
        form = DisputeResolutionForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            resolved = 0
            for contract in disputed:
                try:
                    contract_dispute_resolve(
                        contract_id=contract.pk,
                        by=request.user,  # type: ignore[arg-type]
                        outcome=form.cleaned_data["outcome"],
                        resolution=form.cleaned_data["resolution"],
                    )
                    resolved += 1
                except ApplicationError as error:
                    self.message_user(request, f"Contract {contract.pk}: {error.message}", messages.ERROR)
            self.message_user(request, f"Resolved {resolved} dispute(s).", messages.SUCCESS)
            return None
        if not disputed.exists():
            self.message_user(request, "None of the selected contracts is in dispute.", messages.WARNING)
            return None
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Resolve disputes",
            "contracts": disputed,
            "form": form,
            "action": "resolve_disputes",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/engagements/resolve_disputes.html", context)

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("engagements.resolve_dispute")


@admin.register(Milestone)
class MilestoneAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("title", "contract", "amount", "released_amount", "currency", "status", "due_date")
    list_filter = ("status", "currency")
    search_fields = ("title", "contract__organization__name")
    list_select_related = ("contract",)


class TimeEntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TimeEntry
    extra = 0
    fields = ("work_date", "start_time", "hours", "description", "evidence_url")


@admin.register(Timesheet)
class TimesheetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("week_start", "contract", "status", "total_hours", "submitted_at", "is_auto_approved")
    list_filter = ("status", "is_auto_approved")
    search_fields = ("contract__organization__name", "contract__freelancer__email", "contract__vendor__name")
    list_select_related = ("contract",)
    date_hierarchy = "week_start"
    inlines = (TimeEntryInline,)


# --- statements of work and SLAs ----------------------------------------------------------------------------------
SOW_RELATED = ("sow__organization", "sow__vendor")  # what a SOW's __str__ reads
SOW_SEARCH = ("sow__title", "sow__organization__name", "sow__vendor__name")


def _money(amount: Any, currency: str) -> str:
    return "—" if amount is None else str(Money(amount, currency))


def _previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


class PeriodMonthFilter(admin.SimpleListFilter):
    """The months that have rows, newest first (one query, whatever the number of rows)."""

    title = "month"
    parameter_name = "month"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        periods = model_admin.model.objects.order_by("-period").values_list("period", flat=True).distinct()[:36]
        return [(f"{period:%Y-%m}", f"{period:%B %Y}") for period in periods]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        period = parse_period(self.value() or "")
        return queryset.filter(period=period) if period else queryset


class SOWColumnsMixin:
    """Columns shared by the rows that belong to a SOW (and, but for service levels, to a month)."""

    @admin.display(description="Statement of work", ordering="sow__title")
    def statement_of_work(self, row: Any) -> str:
        return str(row.sow)

    @admin.display(description="Month", ordering="period")
    def month(self, row: Any) -> str:
        return f"{row.period:%B %Y}"


class ServiceLevelInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ServiceLevel
    extra = 0
    fields = ("metric", "direction", "target", "credit_pct", "stretch_target", "bonus_pct")


@admin.register(StatementOfWork)
class StatementOfWorkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "title",
        "organization",
        "vendor",
        "pricing_model",
        "fee_or_cap",
        "status",
        "start_date",
        "client_signed_at",
        "vendor_signed_at",
    )
    list_filter = ("status", "pricing_model", "currency")
    search_fields = ("title", "organization__name", "vendor__name")
    list_select_related = ("organization", "vendor")
    inlines = (ServiceLevelInline,)
    actions = ("evaluate_last_month",)

    @admin.display(description="Fee / cap")
    def fee_or_cap(self, sow: StatementOfWork) -> str:
        if sow.pricing_model == StatementOfWork.Pricing.TIME_AND_MATERIALS:
            return f"cap {_money(sow.monthly_budget_cap, sow.currency)} / month"
        return f"{_money(sow.monthly_fee, sow.currency)} / month"

    @admin.action(description="Evaluate last month's SLAs", permissions=["evaluate"])
    def evaluate_last_month(self, request: HttpRequest, queryset: QuerySet[StatementOfWork]) -> None:
        period = _previous_month(timezone.localdate())
        already = set(SLAEvaluation.objects.filter(sow__in=queryset, period=period).values_list("sow_id", flat=True))
        for sow in queryset.order_by("pk"):
            try:
                evaluation = sla_evaluate(sow_id=sow.pk, period=period)
            except ApplicationError as error:
                self.message_user(request, f"{sow.title}: not evaluated. {error.message}", messages.ERROR)
                continue
            summary = (
                f"{evaluation.levels_met} of {evaluation.levels_total} service levels met, "
                f"credits {_money(evaluation.credit_total, evaluation.currency)}, "
                f"bonuses {_money(evaluation.bonus_total, evaluation.currency)}"
            )
            if sow.pk in already:
                self.message_user(
                    request, f"{sow.title}: {period:%B %Y} was already evaluated ({summary}).", messages.WARNING
                )
            else:
                self.message_user(request, f"{sow.title}: {period:%B %Y} evaluated: {summary}.", messages.SUCCESS)

    def has_evaluate_permission(self, request: HttpRequest) -> bool:
        # Evaluating puts credits and bonuses on an invoice: whoever may add evaluations (superusers, Finance).
        # The add form itself stays closed (ReadOnlyAdminMixin); this action is the only way in.
        return request.user.has_perm("engagements.add_slaevaluation")


@admin.register(ServiceLevel)
class ServiceLevelAdmin(SOWColumnsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("statement_of_work", "metric", "direction", "target", "credit_pct", "stretch_target", "bonus_pct")
    list_filter = ("metric", "sow__pricing_model")
    search_fields = SOW_SEARCH
    list_select_related = SOW_RELATED


@admin.register(SLAMeasurement)
class SLAMeasurementAdmin(SOWColumnsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("statement_of_work", "month", "metric", "value", "source", "recorded_by", "updated_at")
    list_filter = (PeriodMonthFilter, "metric", "source")
    search_fields = SOW_SEARCH
    list_select_related = (*SOW_RELATED, "recorded_by")
    ordering = ("-period", "sow", "metric")


@admin.register(SOWUsage)
class SOWUsageAdmin(SOWColumnsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("statement_of_work", "month", "role", "quantity", "unit", "rate", "total", "recorded_by")
    list_filter = (PeriodMonthFilter, "currency")
    search_fields = (*SOW_SEARCH, "role")
    list_select_related = (*SOW_RELATED, "recorded_by")
    ordering = ("-period", "sow", "role")

    @admin.display(description="Rate", ordering="unit_rate")
    def rate(self, usage: SOWUsage) -> str:
        return _money(usage.unit_rate, usage.currency)

    @admin.display(description="Amount", ordering="amount")
    def total(self, usage: SOWUsage) -> str:
        return _money(usage.amount, usage.currency)


class SLABreachInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SLABreach
    extra = 0
    fields = ("metric", "direction", "target", "measured_value", "credit_amount", "currency")


@admin.register(SLAEvaluation)
class SLAEvaluationAdmin(SOWColumnsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "statement_of_work",
        "month",
        "levels",
        "fee",
        "credits_before_cap_display",
        "credits",
        "bonuses",
        "notified_at",
    )
    list_filter = (PeriodMonthFilter, "currency", "sow__pricing_model")
    search_fields = SOW_SEARCH
    list_select_related = SOW_RELATED
    ordering = ("-period", "-pk")
    inlines = (SLABreachInline,)

    @admin.display(description="Levels met")
    def levels(self, evaluation: SLAEvaluation) -> str:
        return f"{evaluation.levels_met} of {evaluation.levels_total}"

    @admin.display(description="Fee base", ordering="fee_base")
    def fee(self, evaluation: SLAEvaluation) -> str:
        return _money(evaluation.fee_base, evaluation.currency)

    @admin.display(description="Credits before cap", ordering="credits_before_cap")
    def credits_before_cap_display(self, evaluation: SLAEvaluation) -> str:
        return _money(evaluation.credits_before_cap, evaluation.currency)

    @admin.display(description="Credits", ordering="credit_total")
    def credits(self, evaluation: SLAEvaluation) -> str:
        return _money(evaluation.credit_total, evaluation.currency)

    @admin.display(description="Bonuses", ordering="bonus_total")
    def bonuses(self, evaluation: SLAEvaluation) -> str:
        return _money(evaluation.bonus_total, evaluation.currency)


@admin.register(SLABreach)
class SLABreachAdmin(SOWColumnsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("statement_of_work", "month", "metric", "promised", "measured", "credit")
    list_filter = (PeriodMonthFilter, "metric")
    search_fields = SOW_SEARCH
    list_select_related = SOW_RELATED
    ordering = ("-period", "-pk")

    @admin.display(description="Target")
    def promised(self, breach: SLABreach) -> str:
        return f"{breach.get_direction_display()} {breach.target}"

    @admin.display(description="Measured", ordering="measured_value")
    def measured(self, breach: SLABreach) -> str:
        return "not reported" if breach.measured_value is None else str(breach.measured_value)

    @admin.display(description="Credit", ordering="credit_amount")
    def credit(self, breach: SLABreach) -> str:
        return _money(breach.credit_amount, breach.currency)
