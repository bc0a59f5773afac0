"""Forms of the compliance pages and admin: they translate input; the services decide and say what is wrong (so the
page, the admin and any API give the same messages)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.postgres.forms import SimpleArrayField

from compliance.models import Requirement
from compliance.tax_ids import tax_id_format

ACCEPTED_TYPES = "application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"


class DocumentUploadForm(forms.Form):
    """One requirement's upload form on the checklist (prefixed by the requirement, several share a page). The
    file comes last: an upload stopped for its size keeps the fields before it."""

    tax_id = forms.CharField(
        label="Taxpayer identification number",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )
    # Not required and empty files allowed here: compliance.services.documents says what is wrong with a file.
    file = forms.FileField(
        label="File",
        required=False,
        allow_empty_file=True,
        widget=forms.FileInput(attrs={"accept": ACCEPTED_TYPES}),
        help_text="A PDF, PNG or JPEG of up to 10 MB.",
    )

    def __init__(self, *args: Any, requirement: Requirement, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"requirement-{requirement.pk}")
        super().__init__(*args, **kwargs)
        self.requirement = requirement
        if requirement.asks_tax_id:
            tax_id = self.fields["tax_id"]
            tax_id.help_text = tax_id_format(requirement_code=requirement.code)
            tax_id.help_text += " It is stored encrypted; only its last 4 characters are ever shown."
            tax_id.widget.attrs["required"] = True
        else:
            del self.fields["tax_id"]
        self.fields["file"].widget.attrs["required"] = True


class AppealForm(forms.Form):
    comment = forms.CharField(
        label="Why should the document be accepted?",
        required=False,  # the service asks for it, with its own message
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "required": True}),
        help_text="You can appeal a rejection once. Our compliance team reviews the document again with your comment.",
    )

    def __init__(self, *args: Any, document_id: int, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"appeal-{document_id}")
        super().__init__(*args, **kwargs)


# --- admin -----------------------------------------------------------------------------------------------------------
class RejectionForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="The owner sees this on their compliance checklist: say what is wrong and what to upload instead.",
    )


class DecisionNoteForm(forms.Form):
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Why you decided so; kept with the decision and in the audit trail.",
    )


def _codes(value: list[str], *, allowed: tuple[str, ...] | None = None, upper: bool = False) -> list[str]:
    cleaned = [item.strip().upper() if upper else item.strip() for item in value if item.strip()]
    if allowed is not None:
        unknown = sorted(set(cleaned) - set(allowed))
        if unknown:
            raise forms.ValidationError(f"Unknown: {', '.join(unknown)}. Use {', '.join(allowed)}.")
    return cleaned


class RequirementAdminForm(forms.ModelForm):
    # Declared, not generated: the generated item field stops at 2 characters with a message about array items.
    countries = SimpleArrayField(
        forms.CharField(),
        required=False,
        help_text="Comma-separated two-letter country codes (US, CA). Empty: every country.",
    )
    excluded_countries = SimpleArrayField(
        forms.CharField(),
        required=False,
        help_text="Comma-separated two-letter country codes that never need it (US).",
    )

    class Meta:
        model = Requirement
        fields = [
            "name",
            "code",
            "description",
            "evidence",
            "is_active",
            "party",
            "countries",
            "excluded_countries",
            "engagement_kinds",
            "engagement_flags",
            "min_weekly_hours",
            "min_duration_weeks",
            "blocks_activation",
            "blocks_payout",
            "validity_days",
            "asks_tax_id",
        ]
        help_texts = {
            "code": "A stable identifier used by the code and tests (tax-form-w9 …); don't change it once in use.",
            "name": "What people see on their checklist and in every blocked-action message.",
            "description": "Why it is needed, in one or two sentences: shown to the people who must meet it.",
            "evidence": "A document (uploaded, reviewed here) or the classification assessment of an engagement.",
            "party": "Who must meet it: freelancers, vendor firms, or both.",
            "engagement_kinds": "Comma-separated: fixed, hourly, micro_task, sow. Empty: needed in general (payouts, "
            "the checklist) rather than for particular engagements.",
            "engagement_flags": "Comma-separated: handles_personal_data, is_healthcare, is_finance. Only engagements "
            "with one of these flags need it.",
            "min_weekly_hours": "Hourly contracts with a weekly cap of at least this many hours need it…",
            "min_duration_weeks": "…or those planned to last at least this many weeks (open-ended ones count).",
            "blocks_activation": "Contracts and SOWs cannot start until it is met.",
            "blocks_payout": "No payout is released until it is met.",
            "validity_days": "An approval expires after this many days (W-8BEN: 1095). Empty: never expires.",
            "asks_tax_id": "The upload form asks for a taxpayer id (validated for W-9, W-8BEN and W-8BEN-E; stored "
            "encrypted, shown as its last 4 characters).",
            "is_active": "Untick to retire a requirement: it stops applying, and its documents stay.",
        }

    def clean_countries(self) -> list[str]:
        countries = _codes(self.cleaned_data["countries"], upper=True)
        if any(len(country) != 2 or not country.isalpha() for country in countries):
            raise forms.ValidationError("Use two-letter country codes, such as US or DE.")
        return countries

    def clean_excluded_countries(self) -> list[str]:
        countries = _codes(self.cleaned_data["excluded_countries"], upper=True)
        if any(len(country) != 2 or not country.isalpha() for country in countries):
            raise forms.ValidationError("Use two-letter country codes, such as US or DE.")
        return countries

    def clean_engagement_kinds(self) -> list[str]:
        return _codes(self.cleaned_data["engagement_kinds"], allowed=Requirement.ENGAGEMENT_KINDS)

    def clean_engagement_flags(self) -> list[str]:
        return _codes(self.cleaned_data["engagement_flags"], allowed=Requirement.FLAGS)
