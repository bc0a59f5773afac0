from __future__ import annotations

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from accounts.services import SignupIntent, account_onboard
from core.countries import COUNTRY_CHOICES


class SignupForm(AllauthSignupForm):
    """allauth's sign-up plus what we need to know: why you are here, your name, your organisation."""

    intent = forms.ChoiceField(
        label="What brings you to Tandem?", choices=SignupIntent.CHOICES, widget=forms.RadioSelect
    )
    full_name = forms.CharField(
        label="Full name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    organization_name = forms.CharField(
        label="Organisation name",
        max_length=200,
        required=False,
        help_text="Your company (to hire) or your firm (as a vendor). Not needed to work as a freelancer.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    country = forms.ChoiceField(
        label="Country",
        choices=[("", "Choose your country"), *COUNTRY_CHOICES],
        help_text="Where you (or your organisation) are based; it decides which tax forms apply.",
    )

    field_order = ["intent", "full_name", "organization_name", "email", "password1", "password2", "country"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(self.field_order)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        intent = cleaned.get("intent")
        if intent in (SignupIntent.HIRE, SignupIntent.VENDOR) and not (cleaned.get("organization_name") or "").strip():
            what = "company" if intent == SignupIntent.HIRE else "firm"
            self.add_error("organization_name", f"Enter your {what}’s name.")
        return cleaned

    def save(self, request: HttpRequest) -> User | None:
        with transaction.atomic():
            user = super().save(request)
            if user is None:  # allauth hides that the email exists; it emails the owner instead
                return None
            account_onboard(
                user=user,
                intent=self.cleaned_data["intent"],
                full_name=self.cleaned_data["full_name"],
                country=self.cleaned_data["country"],
                organization_name=self.cleaned_data.get("organization_name", ""),
            )
        return user
