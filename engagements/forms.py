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
