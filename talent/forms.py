"""Page forms for talent: they turn what was typed into service inputs. The rules live in talent.services."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import zip_longest
from typing import Any, cast

from django import forms
from django.http import QueryDict

from core.countries import COUNTRY_CHOICES, TIMEZONE_CHOICES
from core.errors import ApplicationError
from core.money import CURRENCY_CHOICES
from talent.models import RateCardEntry, TalentProfile
from talent.selectors import freelancer_get_by_email, skill_index, vendor_organization_search
from talent.services import RateCardEntryInput, SkillLevel, TalentProfileInput, TeamMemberInput, VendorProfileInput

TIMEZONE_FIELD_CHOICES = [(zone, zone.replace("_", " ")) for zone in TIMEZONE_CHOICES]


def add_service_errors(form: forms.Form, error: ApplicationError, aliases: Mapping[str, str] | None = None) -> None:
    """Put a service's refusal next to the fields it names (or above the form). Permission and not-found
    refusals are not form errors: they propagate to the error page."""
    if error.status in (403, 404):
        raise error
    placed = False
    for name, messages in error.field_errors.items():
        name = (aliases or {}).get(name, name)
        if name in form.fields:
            for message in messages:
                form.add_error(name, message)
            placed = True
    if not placed or error.status == 409:
        form.add_error(None, error.message)


def _split_list(value: str) -> list[str]:
    """Split on commas or new lines: “English, Polish” → ["English", "Polish"]."""
    return [part.strip() for part in (value or "").replace("\n", ",").split(",") if part.strip()]


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# --- freelancer profile ----------------------------------------------------------------------------------------
class TalentProfileForm(forms.Form):
    headline = forms.CharField(
        label="Headline",
        required=False,
        max_length=160,
        help_text="One line that says what you do, e.g. “Senior Django engineer for fintech APIs”.",
    )
    bio = forms.CharField(
        label="About you",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Your experience, the problems you solve and how you like to work.",
    )
    hourly_rate = forms.DecimalField(
        label="Hourly rate",
        required=False,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"min": "0.01", "step": "0.01", "inputmode": "decimal"}),
        help_text="Leave empty if you only take fixed-price work.",
    )
    currency = forms.ChoiceField(label="Currency", choices=CURRENCY_CHOICES)
    weekly_hours = forms.IntegerField(
        label="Availability (hours a week)",
        widget=forms.NumberInput(attrs={"min": 0, "max": 80}),
        help_text="From 0 (not taking work) to 80.",
    )
    country = forms.ChoiceField(
        label="Country", required=False, choices=[("", "Choose your country"), *COUNTRY_CHOICES]
    )
    timezone = forms.ChoiceField(label="Time zone", choices=TIMEZONE_FIELD_CHOICES)
    languages = forms.CharField(
        label="Languages",
        required=False,
        help_text="Separate them with commas, e.g. “English, Polish”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    visibility = forms.ChoiceField(
        label="Who can see your profile",
        choices=[
            (TalentProfile.Visibility.PUBLIC, "Everyone signed in to Tandem"),
            (TalentProfile.Visibility.CLIENTS, "Members of client organisations only"),
            (TalentProfile.Visibility.PRIVATE, "Only me (hidden from search and profile links)"),
        ],
        widget=forms.RadioSelect,
    )

    @classmethod
    def initial_for(cls, profile: TalentProfile) -> dict[str, Any]:
        return {
            "headline": profile.headline,
            "bio": profile.bio,
            "hourly_rate": profile.hourly_rate,
            "currency": profile.currency,
            "weekly_hours": profile.weekly_hours,
            "country": profile.country,
            "timezone": profile.timezone,
            "languages": ", ".join(profile.languages),
            "visibility": profile.visibility,
        }

    def to_input(self) -> TalentProfileInput:
        data = self.cleaned_data
        return TalentProfileInput(
            headline=data["headline"],
            bio=data["bio"],
            hourly_rate=data["hourly_rate"],
            currency=data["currency"],
            weekly_hours=data["weekly_hours"],
            timezone=data["timezone"],
            country=data["country"],
            languages=_split_list(data["languages"]),
            visibility=data["visibility"],
        )


@dataclass
class SkillRow:
    """One row of a skills editor as typed (strings), with its own errors."""

    key: str
    name: str = ""
    level: str = "3"
    years: str = "0"
    errors: list[str] = field(default_factory=list)

    @classmethod
    def blank(cls) -> SkillRow:
        return cls(key=secrets.token_hex(4))


class SkillRowsForm:
    """The repeated skill / level / years inputs of a skills editor (freelancer skills, vendor capabilities).

    Names are matched against the taxonomy (names and synonyms, case-insensitively); empty rows are ignored.
    """

    def __init__(self, data: QueryDict | None = None, *, rows: list[SkillRow] | None = None, with_years: bool = True):
        self.with_years = with_years
        self.errors: list[str] = []
        self.entries: list[SkillLevel] = []
        if data is not None:
            triples = zip_longest(data.getlist("skill"), data.getlist("level"), data.getlist("years"), fillvalue="")
            self.rows = [
                SkillRow(key=f"r{index}", name=name.strip(), level=level.strip(), years=years.strip() or "0")
                for index, (name, level, years) in enumerate(triples)
                if name.strip()
            ]
        else:
            self.rows = rows or []

    @classmethod
    def from_levels(cls, items: Iterable[Any], *, with_years: bool = True) -> SkillRowsForm:
        """From saved ProfileSkill / VendorCapability rows."""
        rows = [
            SkillRow(
                key=f"s{item.skill_id}",
                name=item.skill.name,
                level=str(item.level),
                years=str(getattr(item, "years", 0)),
            )
            for item in items
        ]
        return cls(rows=rows, with_years=with_years)

    def is_valid(self) -> bool:
        index = skill_index()
        seen: dict[int, str] = {}
        self.entries = []
        for row in self.rows:
            skill = index.get(row.name.casefold())
            if skill is None:
                row.errors.append(f"We don’t know “{row.name}”. Pick a skill from the suggestions as you type.")
            else:
                row.name = skill.name
                if skill.pk in seen:
                    row.errors.append(f"“{skill.name}” is already listed above; keep one row for it.")
            level = _int_or_none(row.level)
            if level is None or not 1 <= level <= 5:
                row.errors.append("Choose a level from 1 (beginner) to 5 (expert).")
            years = _int_or_none(row.years) if self.with_years else 0
            if years is None or not 0 <= years <= 60:
                row.errors.append("Enter whole years of experience, from 0 to 60.")
            if skill is not None and level is not None and years is not None and not row.errors:
                seen[skill.pk] = skill.name
                self.entries.append(SkillLevel(skill_id=skill.pk, level=level, years=years))
        return not self.errors and not any(row.errors for row in self.rows)

    def add_service_error(self, error: ApplicationError) -> None:
        if error.status in (403, 404):
            raise error
        self.errors.append(error.message)
        for messages in error.field_errors.values():
            self.errors.extend(message for message in messages if message != error.message)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(row.errors for row in self.rows)


def _int_or_none(value: str) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


class PortfolioItemForm(forms.Form):
    title = forms.CharField(label="Title", max_length=160, help_text="What you built or delivered.")
    url = forms.CharField(
        label="Link",
        required=False,
        max_length=200,
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
        help_text="Optional: where clients can see it.",
    )
    description = forms.CharField(
        label="Description",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Your part in it and the result, in a sentence or two.",
    )


# --- vendor firm profile ---------------------------------------------------------------------------------------
class VendorProfileForm(forms.Form):
    headline = forms.CharField(
        label="Headline",
        required=False,
        max_length=160,
        help_text="One line clients see in search, e.g. “24/7 multilingual customer support for fintech”.",
    )
    description = forms.CharField(
        label="About the firm",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What you deliver, for whom, and how you run engagements.",
    )
    service_lines = forms.CharField(
        label="Service lines",
        required=False,
        help_text="Separate them with commas, e.g. “customer support, QA testing, data labelling”.",
    )
    headcount = forms.IntegerField(label="Headcount", widget=forms.NumberInput(attrs={"min": 1}))
    timezone = forms.ChoiceField(label="Main time zone", choices=TIMEZONE_FIELD_CHOICES)
    countries_served = forms.MultipleChoiceField(
        label="Countries served",
        required=False,
        choices=COUNTRY_CHOICES,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="The countries you deliver to are listed first. Hold Ctrl (⌘ on a Mac) to choose several.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The chosen countries first, so a long list still shows what is selected.
        if isinstance(self.data, QueryDict):
            chosen = set(self.data.getlist("countries_served"))
        else:
            chosen = set(self.initial.get("countries_served") or [])
        field = cast(forms.ChoiceField, self.fields["countries_served"])
        field.choices = sorted(COUNTRY_CHOICES, key=lambda choice: choice[0] not in chosen)

    @classmethod
    def initial_for(cls, vendor: Any) -> dict[str, Any]:
        return {
            "headline": vendor.headline,
            "description": vendor.description,
            "service_lines": ", ".join(vendor.service_lines),
            "headcount": vendor.headcount,
            "timezone": vendor.timezone,
            "countries_served": vendor.countries_served,
        }

    def to_input(self) -> VendorProfileInput:
        data = self.cleaned_data
        return VendorProfileInput(
            headline=data["headline"],
            description=data["description"],
            service_lines=_split_list(data["service_lines"]),
            headcount=data["headcount"],
            countries_served=data["countries_served"],
            timezone=data["timezone"],
        )


class CertificationForm(forms.Form):
    name = forms.CharField(label="Certification", max_length=120, help_text="e.g. ISO 27001, SOC 2 Type II")
    issuer = forms.CharField(label="Issued by", required=False, max_length=120)
    issued_date = forms.DateField(label="Issued on", required=False, widget=_date_widget())
    expires_date = forms.DateField(
        label="Expires on", required=False, widget=_date_widget(), help_text="Leave empty if it doesn’t expire."
    )


class RateCardEntryForm(forms.Form):
    role = forms.CharField(label="Role", max_length=100, help_text="e.g. Support agent, QA engineer")
    seniority = forms.ChoiceField(label="Seniority", choices=RateCardEntry.Seniority.choices)
    rate = forms.DecimalField(
        label="Rate",
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"min": "0.01", "step": "0.01", "inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(label="Currency", choices=CURRENCY_CHOICES)
    unit = forms.ChoiceField(label="Per", choices=RateCardEntry.Unit.choices)

    def to_input(self) -> RateCardEntryInput:
        data = self.cleaned_data
        return RateCardEntryInput(
            role=data["role"],
            seniority=data["seniority"],
            rate=Decimal(data["rate"]),
            currency=data["currency"],
            unit=data["unit"],
        )


class TeamMemberForm(forms.Form):
    full_name = forms.CharField(label="Full name", max_length=150)
    title = forms.CharField(label="Job title", max_length=120)
    rate_card_entry = forms.TypedChoiceField(
        label="Rate card role",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="The rate this person is proposed at on bids.",
    )
    skills = forms.TypedMultipleChoiceField(
        label="Skills",
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text="Chosen from the firm’s capabilities; add capabilities to offer more skills here.",
    )
    is_active = forms.BooleanField(label="Active: can be proposed on bids", required=False, initial=True)

    def __init__(self, *args: Any, rate_card: Iterable[Any] = (), skills: Iterable[Any] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["rate_card_entry"]).choices = [("", "No rate card role yet")] + [
            (
                entry.pk,
                f"{entry.role} · {entry.get_seniority_display()} · {entry.rate} {entry.currency} "
                f"{entry.get_unit_display()}",
            )
            for entry in rate_card
        ]
        cast(forms.ChoiceField, self.fields["skills"]).choices = [(skill.pk, skill.name) for skill in skills]

    def to_input(self) -> TeamMemberInput:
        data = self.cleaned_data
        return TeamMemberInput(
            full_name=data["full_name"],
            title=data["title"],
            rate_card_entry_id=data["rate_card_entry"],
            skill_ids=data["skills"],
            is_active=data["is_active"],
        )


# --- talent pools ----------------------------------------------------------------------------------------------
class TalentPoolForm(forms.Form):
    name = forms.CharField(
        label="Pool name", max_length=120, help_text="e.g. “Backend bench” or “Peak-season support”."
    )
    description = forms.CharField(
        label="Description",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What this pool is for, so colleagues know when to use it.",
    )
    organization = forms.TypedChoiceField(label="Organisation", coerce=int)

    def __init__(self, *args: Any, organizations: Iterable[Any] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [(organization.pk, organization.name) for organization in organizations]
        cast(forms.ChoiceField, self.fields["organization"]).choices = choices
        if len(choices) == 1:
            self.fields["organization"].widget = forms.HiddenInput()
            self.fields["organization"].initial = choices[0][0]


class PoolFreelancerAddForm(forms.Form):
    email = forms.EmailField(
        label="Freelancer’s email",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "placeholder": "name@example.com"}),
        help_text="The email they sign in to Tandem with.",
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only your organisation sees these.",
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        freelancer = freelancer_get_by_email(email=email)
        if freelancer is None:
            raise forms.ValidationError(
                "No freelancer on Tandem uses that email. Check it, or ask them to sign up as a freelancer."
            )
        self.freelancer = freelancer
        return email


class PoolVendorAddForm(forms.Form):
    vendor = forms.CharField(
        label="Vendor firm",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "list": "vendor-options"}),
        help_text="The firm’s name (suggestions appear as you type) or its Tandem id.",
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only your organisation sees these.",
    )

    def clean_vendor(self) -> str:
        query = self.cleaned_data["vendor"].strip()
        matches = vendor_organization_search(query=query)
        if not matches:
            raise forms.ValidationError(f"No vendor firm called “{query}” is on Tandem. Check the name or use its id.")
        if len(matches) > 1:
            names = ", ".join(match.name for match in matches[:5])
            raise forms.ValidationError(f"Several firms match: {names}. Type the full name.")
        self.vendor_organization = matches[0]
        return query


class PoolMemberNotesForm(forms.Form):
    notes = forms.CharField(
        label="Notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only your organisation sees these.",
    )
