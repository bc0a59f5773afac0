from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from accounts.models import Organization
from core.money import CURRENCY_CHOICES
from engagements.models import ServiceLevel, StatementOfWork
from engagements.services.sows import ServiceLevelInput, SOWInput
from talent.models import RateCardEntry


class MilestoneForm(forms.Form):
    title = forms.CharField(max_length=160)
    amount = forms.DecimalField(min_value=0, decimal_places=2, max_digits=14)
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class ReleaseForm(forms.Form):
    amount = forms.DecimalField(
        required=False,
        min_value=0,
        decimal_places=2,
        max_digits=14,
        help_text="Leave empty to release everything that remains.",
    )


class TimeEntryForm(forms.Form):
    work_date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label="Start", widget=forms.TimeInput(attrs={"type": "time", "step": 900}))
    hours = forms.DecimalField(
        label="Hours", min_value=0, max_digits=4, decimal_places=2, widget=forms.NumberInput(attrs={"step": "0.25"})
    )
    description = forms.CharField(max_length=500, label="What you worked on")
    evidence_url = forms.URLField(
        required=False,
        label="Evidence link",
        assume_scheme="https",
        help_text="Optional: a ticket, commit or document.",
    )


# --- statements of work -------------------------------------------------------------------------------------------
def _percent_field(label: str, help_text: str = "", *, initial: str = "0", required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        initial=initial,
        required=required,
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


def _amount_field(label: str, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        required=False,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


class MonthField(forms.DateField):
    """A month as <input type="month"> ("2026-04"), cleaned to the month's first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value: Any) -> date | None:
        day = super().to_python(value)
        return day.replace(day=1) if day else day


class SOWForm(forms.Form):
    """The terms of a statement of work; the service checks them (pricing needs its fee or cap, percentages)."""

    title = forms.CharField(
        max_length=160,
        help_text="What the work is, as both sides will call it.",
        error_messages={"required": "Give the statement of work a title."},
    )
    scope = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What the vendor does, for whom, when and how.",
        error_messages={"required": "Describe the scope of the work."},
    )
    deliverables = forms.CharField(
        required=False,
        label="Deliverables and reports",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: what the vendor hands over each month.",
    )
    start_date = forms.DateField(
        label="Starts on",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Enter the day the work starts."},
    )
    end_date = forms.DateField(
        label="Ends on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty for an open-ended statement of work.",
    )
    pricing_model = forms.ChoiceField(
        label="Pricing",
        choices=StatementOfWork.Pricing.choices,
        initial=StatementOfWork.Pricing.FIXED_MONTHLY,
        widget=forms.RadioSelect,
    )
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, initial="USD")
    monthly_fee = _amount_field("Monthly fee", "Fixed monthly and outcome-based pricing.")
    monthly_budget_cap = _amount_field(
        "Monthly budget cap", "Time and materials: the most the vendor can bill in one month."
    )
    credit_cap_pct = _percent_field(
        "Credit cap (% of the month's fee)", "SLA credits in one month add up to this at most.", initial="20"
    )
    bonus_cap_pct = _percent_field(
        "Bonus cap (% of the month's fee)",
        "Outcome-based pricing: bonuses in one month add up to this at most.",
        initial="10",
    )

    def to_input(self) -> SOWInput:
        data = self.cleaned_data
        return SOWInput(
            title=data["title"],
            scope=data["scope"],
            deliverables=data["deliverables"],
            start_date=data["start_date"],
            end_date=data["end_date"],
            pricing_model=data["pricing_model"],
            currency=data["currency"],
            monthly_fee=data["monthly_fee"],
            monthly_budget_cap=data["monthly_budget_cap"],
            credit_cap_pct=data["credit_cap_pct"],
            bonus_cap_pct=data["bonus_cap_pct"],
        )

    @staticmethod
    def initial_for(sow: StatementOfWork) -> dict[str, Any]:
        return {item.name: getattr(sow, item.name) for item in fields(SOWInput)}


class SOWCreateForm(SOWForm):
    """A new draft: the other side is chosen from `counterparties` (vendor firms for a client, known clients for
    a vendor)."""

    counterparty = forms.ModelChoiceField(queryset=Organization.objects.none())

    field_order = ["counterparty"]

    def __init__(self, *args: Any, counterparties: QuerySet[Organization], acting_kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["counterparty"])
        field.queryset = counterparties
        if acting_kind == Organization.Kind.CLIENT:
            field.label, field.empty_label = "Vendor firm", "Choose a vendor firm"
            field.error_messages["required"] = "Choose the vendor firm this statement of work is with."
        else:
            field.label, field.empty_label = "Client", "Choose a client"
            field.error_messages["required"] = "Choose the client this statement of work is with."
            field.help_text = "Clients whose gigs your firm bid on or was invited to, or who already work with you."


class ServiceLevelForm(forms.Form):
    metric = forms.ChoiceField(choices=ServiceLevel.Metric.choices)
    direction = forms.ChoiceField(
        required=False,
        label="Better is",
        choices=[("", "The metric's natural direction"), *ServiceLevel.Direction.choices],
    )
    target = forms.DecimalField(max_digits=10, decimal_places=2, widget=forms.NumberInput(attrs={"step": "0.01"}))
    credit_pct = _percent_field("Credit on breach (% of fee)")
    stretch_target = forms.DecimalField(
        required=False,
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        help_text="Optional: a better value, drawn on the dashboard (and paid a bonus when outcome-based).",
    )
    bonus_pct = _percent_field("Bonus at stretch (% of fee)", required=False)

    def to_input(self) -> ServiceLevelInput:
        data = self.cleaned_data
        return ServiceLevelInput(
            metric=data["metric"],
            direction=data["direction"],
            target=data["target"],
            credit_pct=data["credit_pct"],
            stretch_target=data["stretch_target"],
            bonus_pct=data["bonus_pct"] if data["bonus_pct"] is not None else Decimal(0),
        )

    @staticmethod
    def initial_for(level: ServiceLevel) -> dict[str, Any]:
        return {
            "metric": level.metric,
            "direction": level.direction,
            "target": level.target,
            "credit_pct": level.credit_pct,
            "stretch_target": level.stretch_target,
            "bonus_pct": level.bonus_pct,
        }


class MeasurementForm(forms.Form):
    metric = forms.ChoiceField(choices=())
    period = MonthField(label="Month")
    value = forms.DecimalField(max_digits=10, decimal_places=2, widget=forms.NumberInput(attrs={"step": "0.01"}))
    note = forms.CharField(required=False, max_length=300, help_text="Optional: how it was measured, or a caveat.")

    def __init__(self, *args: Any, metrics: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["metric"]).choices = metrics


class MeasurementImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text="Columns metric, period (YYYY-MM), value and optionally note. Every row is checked first; "
        "nothing is saved unless every row is good.",
    )


class UsageForm(forms.Form):
    rate_card_entry = forms.ModelChoiceField(
        queryset=RateCardEntry.objects.none(), label="Role", empty_label="Choose a rate-card role"
    )
    period = MonthField(label="Month")
    quantity = forms.DecimalField(
        max_digits=7,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.25"}),
        help_text="Hours or months, in quarter units (for example 7.5).",
    )
    description = forms.CharField(required=False, max_length=300)

    def __init__(self, *args: Any, vendor_organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["rate_card_entry"]).queryset = RateCardEntry.objects.filter(
            vendor__organization_id=vendor_organization_id
        ).order_by("role", "seniority")
