"""Gig and bid forms: they translate input into the services' dataclasses; the rules live in the services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.forms import formset_factory

from core.countries import COUNTRY_CHOICES, TIMEZONE_CHOICES
from core.money import CURRENCY_CHOICES
from marketplace.models import Gig
from marketplace.services.bids import BidInput
from marketplace.services.gigs import MAX_GIG_SKILLS, GigInput
from talent.models import Skill, TalentPool, VendorTeamMember

LEVEL_CHOICES = [(1, "1 · beginner"), (2, "2"), (3, "3 · solid"), (4, "4"), (5, "5 · expert")]


class GigForm(forms.Form):
    title = forms.CharField(max_length=160)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))
    deliverables = forms.CharField(
        required=False, label="Deliverables and acceptance criteria", widget=forms.Textarea(attrs={"rows": 4})
    )
    kind = forms.ChoiceField(choices=Gig.Kind.choices, widget=forms.RadioSelect, label="How will you pay?")
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, initial="USD")
    budget_amount = forms.DecimalField(required=False, min_value=0, decimal_places=2, label="Fixed budget")
    hourly_rate_min = forms.DecimalField(required=False, min_value=0, decimal_places=2, label="Hourly rate from")
    hourly_rate_max = forms.DecimalField(required=False, min_value=0, decimal_places=2, label="Hourly rate to")
    estimated_hours = forms.IntegerField(required=False, min_value=1, max_value=10_000)
    guardrail_min = forms.DecimalField(
        required=False,
        min_value=0,
        decimal_places=2,
        label="Guardrail: lowest acceptable price",
        help_text="Bids priced outside your guardrail are flagged (amount for fixed price, rate for hourly).",
    )
    guardrail_max = forms.DecimalField(
        required=False, min_value=0, decimal_places=2, label="Guardrail: highest acceptable price"
    )
    deadline_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Deadline")
    visibility = forms.ChoiceField(choices=Gig.Visibility.choices, widget=forms.RadioSelect, initial="public")
    talent_pool = forms.ModelChoiceField(queryset=TalentPool.objects.none(), required=False, label="Talent pool")
    timezone = forms.ChoiceField(choices=[(tz, tz) for tz in TIMEZONE_CHOICES], initial="UTC", label="Your time zone")
    required_country = forms.ChoiceField(
        choices=[("", "Anywhere"), *COUNTRY_CHOICES],
        required=False,
        label="Work must be done in",
        help_text="Only when the law or the contract requires a jurisdiction.",
    )
    handles_personal_data = forms.BooleanField(required=False, label="The work handles personal data")
    is_healthcare = forms.BooleanField(required=False, label="Healthcare work (HIPAA)")
    is_finance = forms.BooleanField(required=False, label="Financial services work")
    screening_questions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One question per line (at most 10)."
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["talent_pool"]).queryset = TalentPool.objects.filter(
            organization_id=organization_id
        )

    def to_input(self, skills: list[tuple[int, int]]) -> GigInput:
        data = self.cleaned_data
        return GigInput(
            title=data["title"],
            description=data["description"],
            deliverables=data["deliverables"],
            kind=data["kind"],
            currency=data["currency"],
            budget_amount=data["budget_amount"],
            hourly_rate_min=data["hourly_rate_min"],
            hourly_rate_max=data["hourly_rate_max"],
            estimated_hours=data["estimated_hours"],
            guardrail_min=data["guardrail_min"],
            guardrail_max=data["guardrail_max"],
            deadline_date=data["deadline_date"],
            visibility=data["visibility"],
            talent_pool_id=data["talent_pool"].pk if data["talent_pool"] else None,
            timezone=data["timezone"],
            required_country=data["required_country"],
            handles_personal_data=data["handles_personal_data"],
            is_healthcare=data["is_healthcare"],
            is_finance=data["is_finance"],
            screening_questions=[q for q in data["screening_questions"].splitlines() if q.strip()],
            skills=skills,
        )

    @staticmethod
    def initial_for(gig: Gig) -> dict[str, Any]:
        return {
            **{
                name: getattr(gig, name)
                for name in (
                    "title",
                    "description",
                    "deliverables",
                    "kind",
                    "currency",
                    "budget_amount",
                    "hourly_rate_min",
                    "hourly_rate_max",
                    "estimated_hours",
                    "guardrail_min",
                    "guardrail_max",
                    "deadline_date",
                    "visibility",
                    "timezone",
                    "required_country",
                    "handles_personal_data",
                    "is_healthcare",
                    "is_finance",
                )
            },
            "talent_pool": gig.talent_pool_id,
            "screening_questions": "\n".join(gig.screening_questions),
        }


class GigSkillForm(forms.Form):
    skill = forms.ModelChoiceField(
        queryset=Skill.objects.order_by("name"), required=False, empty_label="Choose a skill"
    )
    min_level = forms.TypedChoiceField(choices=LEVEL_CHOICES, coerce=int, initial=3, label="Minimum level")


GigSkillFormSet = formset_factory(GigSkillForm, extra=0, min_num=3, max_num=MAX_GIG_SKILLS, validate_max=True)


def skills_from(formset: Any) -> list[tuple[int, int]]:
    return [(f.cleaned_data["skill"].pk, f.cleaned_data["min_level"]) for f in formset if f.cleaned_data.get("skill")]


class GigSearchForm(forms.Form):
    q = forms.CharField(required=False, label="Search gigs")
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Gig.Kind.choices], required=False)
    skill = forms.ModelChoiceField(queryset=Skill.objects.order_by("name"), required=False, empty_label="Any skill")
    min_budget = forms.DecimalField(required=False, min_value=0, label="Budget or rate from")
    max_budget = forms.DecimalField(required=False, min_value=0, label="Budget or rate up to")
    timezone = forms.ChoiceField(
        choices=[("", "Any time zone")] + [(tz, tz) for tz in TIMEZONE_CHOICES], required=False
    )


class BidForm(forms.Form):
    bidder = forms.ChoiceField(label="Bid as")
    amount = forms.DecimalField(required=False, min_value=0, decimal_places=2, label="Your total price")
    hourly_rate = forms.DecimalField(required=False, min_value=0, decimal_places=2, label="Your hourly rate")
    estimated_hours = forms.IntegerField(required=False, min_value=1, max_value=10_000)
    cover_letter = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))
    team = forms.ModelMultipleChoiceField(
        queryset=VendorTeamMember.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Proposed team (vendor bids)",
        help_text="Each member is priced from your rate card.",
    )

    def __init__(
        self, *args: Any, gig: Gig, bidders: list[tuple[str, str]], vendor_ids: list[int] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.gig = gig
        cast(forms.ChoiceField, self.fields["bidder"]).choices = bidders
        if vendor_ids:
            cast(forms.ModelMultipleChoiceField, self.fields["team"]).queryset = (
                VendorTeamMember.objects.filter(vendor__organization_id__in=vendor_ids, is_active=True)
                .select_related("rate_card_entry", "vendor__organization")
                .order_by("full_name")
            )
            self.fields["team"].label_from_instance = lambda member: (  # type: ignore[attr-defined]
                f"{member.full_name} · {member.title}"
                + (
                    f" · {member.rate_card_entry.rate} {member.rate_card_entry.currency}"
                    if member.rate_card_entry
                    else ""
                )
            )
        else:
            del self.fields["team"]
        if gig.kind == Gig.Kind.FIXED:
            del self.fields["hourly_rate"]
        else:
            del self.fields["amount"]
        for index, question in enumerate(gig.screening_questions):
            self.fields[f"answer_{index}"] = forms.CharField(label=question, widget=forms.Textarea(attrs={"rows": 2}))

    def to_input(self) -> BidInput:
        data = self.cleaned_data
        vendor_id = int(data["bidder"].split(":")[1]) if data["bidder"].startswith("vendor:") else None
        return BidInput(
            cover_letter=data["cover_letter"],
            amount=data.get("amount"),
            hourly_rate=data.get("hourly_rate"),
            estimated_hours=data.get("estimated_hours"),
            screening_answers=[data[f"answer_{i}"] for i in range(len(self.gig.screening_questions))],
            vendor_organization_id=vendor_id,
            team_member_ids=[member.pk for member in data.get("team") or []],
        )
