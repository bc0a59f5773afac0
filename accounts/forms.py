from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.db import transaction
from django.forms.boundfield import BoundWidget
from django.http import HttpRequest
from django.utils import timezone as django_timezone

from accounts.models import API_SCOPE_AREAS, API_SCOPES, WEBHOOK_EVENT_TYPES, User
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


# --- partner API settings ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScopeRow:
    """One area of the scopes table: its read checkbox and, unless the area is read-only, its write checkbox."""

    area: str
    description: str
    read: BoundWidget
    write: BoundWidget | None


class ApiKeyCreateForm(forms.Form):
    """A new API key: what will use it, what it may read or write, until when. The service decides the rest."""

    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What will use the key, e.g. “HR system sync”. Shown in the list so you can tell keys apart.",
        error_messages={"required": "Name the key after what will use it, e.g. “HR system sync”."},
    )
    scopes = forms.MultipleChoiceField(
        label="Scopes",
        choices=API_SCOPES,
        widget=forms.CheckboxSelectMultiple,
        help_text="Give the key only what its system needs. Write includes read.",
        error_messages={"required": "Choose at least one scope."},
    )
    expires_at = forms.DateField(
        label="Expires on (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The key stops working at the end of this day. Leave empty for a key that does not expire.",
    )

    def __init__(self, *args: Any, timezone_name: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timezone_name = timezone_name
        self.fields["expires_at"].widget.attrs["min"] = django_timezone.localdate().isoformat()

    def scope_rows(self) -> list[ScopeRow]:
        widgets = {widget.data["value"]: widget for widget in self["scopes"].subwidgets}
        return [
            ScopeRow(area, description, widgets[f"{area}:read"], widgets.get(f"{area}:write"))
            for area, description in API_SCOPE_AREAS.items()
        ]

    def expires_at_datetime(self) -> datetime | None:
        """The end of the chosen day in the user's timezone (the service checks it lies in the future)."""
        day: date | None = self.cleaned_data.get("expires_at")
        if day is None:
            return None
        try:
            zone = ZoneInfo(self.timezone_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


class WebhookSubscriptionCreateForm(forms.Form):
    """A partner endpoint and the events it receives; the service checks the URL (https, public address)."""

    url = forms.URLField(
        label="Endpoint URL",
        max_length=2000,
        assume_scheme="https",
        help_text="Where Tandem POSTs the events: an https:// URL on the public internet.",
        widget=forms.URLInput(attrs={"placeholder": "https://hr.example.com/hooks/tandem", "autocomplete": "url"}),
        error_messages={"required": "Enter the full URL of your endpoint, starting with https://."},
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=[(event, f"{event} — {description}") for event, description in WEBHOOK_EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text="Only the events you choose are sent, and only about your own work.",
        error_messages={"required": "Choose at least one event to receive."},
    )
