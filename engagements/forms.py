from __future__ import annotations

from django import forms


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
