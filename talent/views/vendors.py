"""The vendor firm's editor and public page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Membership
from accounts.selectors import user_context
from core.countries import COUNTRIES
from core.errors import ApplicationError
from talent import selectors, services
from talent.forms import (
    CertificationForm,
    RateCardEntryForm,
    SkillRow,
    SkillRowsForm,
    TeamMemberForm,
    VendorProfileForm,
    add_service_errors,
)
from talent.models import SKILL_LEVELS, RateCardEntry, VendorProfile

if TYPE_CHECKING:
    pass
from talent.views.common import _confirm, _is_htmx, _user


# --- vendor firm profile ---------------------------------------------------------------------------------------
def _own_vendor(request: HttpRequest) -> tuple[Membership, VendorProfile]:
    """The vendor firm the user is working in right now, and its profile (created on first visit)."""
    context = user_context(user=_user(request), session=request.session)
    if context.role != "vendor" or context.membership is None or context.organization is None:
        raise ApplicationError(
            "The firm profile editor is for members of vendor firms. Sign in with your vendor firm’s account.",
            code="not_a_vendor",
            status=403,
        )
    vendor = services.vendor_profile_get_or_create(organization=context.organization, by=_user(request))
    vendor.organization = context.organization
    return context.membership, vendor


def _require_manager(membership: Membership) -> None:
    """Edit-only pages say who can use them; the services refuse the change itself either way."""
    if not membership.can_manage:
        raise ApplicationError(
            f"Only owners and admins of {membership.organization.name} can change the firm profile. "
            "Ask one of them to make this change.",
            code="permission_denied",
            status=403,
        )


def _vendor_context(
    membership: Membership,
    vendor: VendorProfile,
    *,
    form: VendorProfileForm | None = None,
    capabilities_form: SkillRowsForm | None = None,
    certification_form: CertificationForm | None = None,
    rate_form: RateCardEntryForm | None = None,
    team_form: TeamMemberForm | None = None,
    notice: str = "",
    notice_section: str = "",
) -> dict[str, Any]:
    selectors.vendor_profile_details(vendor=vendor, active_team_only=False)
    rate_card = list(vendor.rate_card.all())
    capabilities = list(vendor.vendor_capabilities.all())
    return {
        "membership": membership,
        "organization": membership.organization,
        "vendor": vendor,
        "can_edit": membership.can_manage,
        "form": form or VendorProfileForm(initial=VendorProfileForm.initial_for(vendor)),
        "capabilities": capabilities,
        "capabilities_form": capabilities_form or SkillRowsForm.from_levels(capabilities, with_years=False),
        "blank_row": SkillRow.blank(),
        "skill_levels": SKILL_LEVELS,
        "certifications": list(vendor.certifications.all()),
        "certification_form": certification_form or CertificationForm(),
        "rate_card": rate_card,
        "rate_form": rate_form or RateCardEntryForm(initial={"currency": "USD", "unit": RateCardEntry.Unit.HOUR}),
        "team": list(vendor.team_members.all()),
        "countries": [COUNTRIES.get(code, code) for code in vendor.countries_served],
        "team_form": team_form
        or TeamMemberForm(rate_card=rate_card, skills=[c.skill for c in capabilities], prefix="team"),
        "max_capabilities": services.MAX_VENDOR_CAPABILITIES,
        "notice": notice,
        "notice_section": notice_section,
    }


def _vendor_section(request: HttpRequest, section: str, context: dict[str, Any]) -> HttpResponse:
    if _is_htmx(request):
        return render(request, f"talent/vendor_edit.html#{section}", context)
    context["skill_names"] = selectors.skill_list()
    return render(request, "talent/vendor_edit.html", context)


def _vendor_done(request: HttpRequest, section: str, notice: str) -> HttpResponse:
    """After a change: htmx gets the section again with a notice; a plain form post goes back to the editor."""
    if _is_htmx(request):
        membership, vendor = _own_vendor(request)
        return _vendor_section(
            request, section, _vendor_context(membership, vendor, notice=notice, notice_section=section)
        )
    messages.success(request, notice)
    return redirect(reverse("talent:vendor_edit") + f"#{section}")


@login_required
@require_http_methods(["GET", "POST"])
def vendor_edit(request: HttpRequest) -> HttpResponse:
    membership, vendor = _own_vendor(request)
    form = None
    if request.method == "POST":
        form = VendorProfileForm(request.POST)
        if form.is_valid():
            try:
                services.vendor_profile_update(vendor_id=vendor.pk, by=_user(request), data=form.to_input())
            except ApplicationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "The firm profile is saved.")
                return redirect("talent:vendor_edit")
        elif not membership.can_manage:
            _require_manager(membership)
    context = _vendor_context(membership, vendor, form=form)
    context["skill_names"] = selectors.skill_list()
    return render(request, "talent/vendor_edit.html", context)


@login_required
@require_POST
def vendor_capabilities(request: HttpRequest) -> HttpResponse:
    membership, vendor = _own_vendor(request)
    capabilities_form = SkillRowsForm(request.POST, with_years=False)
    if capabilities_form.is_valid():
        try:
            saved = services.vendor_capabilities_set(
                vendor_id=vendor.pk,
                by=_user(request),
                capabilities=capabilities_form.entries,
            )
        except ApplicationError as error:
            capabilities_form.add_service_error(error)
        else:
            return _vendor_done(request, "capabilities", f"Capabilities saved: {len(saved)} listed.")
    else:
        _require_manager(membership)
    return _vendor_section(
        request, "capabilities", _vendor_context(membership, vendor, capabilities_form=capabilities_form)
    )


@login_required
@require_POST
def vendor_certification_add(request: HttpRequest) -> HttpResponse:
    membership, vendor = _own_vendor(request)
    form = CertificationForm(request.POST)
    if form.is_valid():
        try:
            certification = services.vendor_certification_add(
                vendor_id=vendor.pk,
                by=_user(request),
                **form.cleaned_data,
            )
        except ApplicationError as error:
            add_service_errors(form, error)
        else:
            return _vendor_done(request, "certifications", f"“{certification.name}” was added.")
    else:
        _require_manager(membership)
    return _vendor_section(request, "certifications", _vendor_context(membership, vendor, certification_form=form))


@login_required
@require_http_methods(["GET", "POST"])
def vendor_certification_remove(request: HttpRequest, certification_id: int) -> HttpResponse:
    membership, vendor = _own_vendor(request)
    _require_manager(membership)
    certification = vendor.certifications.get(pk=certification_id)
    if request.method == "GET":
        return _confirm(
            request,
            title=f"Remove “{certification.name}”?",
            message="Clients will no longer see it on your firm’s page.",
            action_url=reverse("talent:vendor_certification_remove", args=[certification.pk]),
            cancel_url=reverse("talent:vendor_edit") + "#certifications",
            label="Remove certification",
        )
    services.vendor_certification_remove(vendor_id=vendor.pk, certification_id=certification.pk, by=_user(request))
    return _vendor_done(request, "certifications", f"“{certification.name}” was removed.")


@login_required
@require_POST
def vendor_rate_add(request: HttpRequest) -> HttpResponse:
    membership, vendor = _own_vendor(request)
    form = RateCardEntryForm(request.POST)
    if form.is_valid():
        try:
            entry = services.rate_card_entry_add(vendor_id=vendor.pk, by=_user(request), data=form.to_input())
        except ApplicationError as error:
            add_service_errors(form, error)
        else:
            return _vendor_done(request, "rates", f"{entry.role} ({entry.get_seniority_display()}) was added.")
    else:
        _require_manager(membership)
    return _vendor_section(request, "rates", _vendor_context(membership, vendor, rate_form=form))


@login_required
@require_http_methods(["GET", "POST"])
def vendor_rate_edit(request: HttpRequest, entry_id: int) -> HttpResponse:
    membership, vendor = _own_vendor(request)
    _require_manager(membership)
    entry = selectors.rate_card_entry_get(vendor=vendor, entry_id=entry_id)
    if request.method == "POST":
        form = RateCardEntryForm(request.POST)
        if form.is_valid():
            try:
                services.rate_card_entry_update(
                    vendor_id=vendor.pk,
                    entry_id=entry.pk,
                    by=_user(request),
                    data=form.to_input(),
                )
            except ApplicationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "The rate card line is saved.")
                return redirect(reverse("talent:vendor_edit") + "#rates")
    else:
        form = RateCardEntryForm(
            initial={
                "role": entry.role,
                "seniority": entry.seniority,
                "rate": entry.rate,
                "currency": entry.currency,
                "unit": entry.unit,
            }
        )
    return render(
        request, "talent/vendor_rate_edit.html", {"form": form, "entry": entry, "organization": membership.organization}
    )


@login_required
@require_http_methods(["GET", "POST"])
def vendor_rate_remove(request: HttpRequest, entry_id: int) -> HttpResponse:
    membership, vendor = _own_vendor(request)
    _require_manager(membership)
    entry = selectors.rate_card_entry_get(vendor=vendor, entry_id=entry_id)
    label = f"{entry.role} ({entry.get_seniority_display()}, {entry.get_unit_display()})"
    if request.method == "GET":
        return _confirm(
            request,
            title=f"Remove {label}?",
            message="Team members on this line keep their place in the team but lose their rate-card role.",
            action_url=reverse("talent:vendor_rate_remove", args=[entry.pk]),
            cancel_url=reverse("talent:vendor_edit") + "#rates",
            label="Remove rate",
        )
    services.rate_card_entry_remove(vendor_id=vendor.pk, entry_id=entry.pk, by=_user(request))
    return _vendor_done(request, "rates", f"{label} was removed from the rate card.")


def _team_form(vendor: VendorProfile, data: Any = None, *, member: Any = None, prefix: str = "team") -> TeamMemberForm:
    include = [skill.pk for skill in member.skills.all()] if member is not None else []
    return TeamMemberForm(
        data,
        rate_card=RateCardEntry.objects.filter(vendor=vendor),
        skills=selectors.vendor_skill_choices(vendor=vendor, include_ids=include).order_by("name"),
        prefix=prefix,
        initial=(
            {
                "full_name": member.full_name,
                "title": member.title,
                "rate_card_entry": member.rate_card_entry_id,
                "skills": include,
                "is_active": member.is_active,
            }
            if member is not None
            else None
        ),
    )


@login_required
@require_POST
def vendor_team_add(request: HttpRequest) -> HttpResponse:
    membership, vendor = _own_vendor(request)
    form = _team_form(vendor, request.POST)
    if form.is_valid():
        try:
            member = services.vendor_team_member_add(vendor_id=vendor.pk, by=_user(request), data=form.to_input())
        except ApplicationError as error:
            add_service_errors(form, error)
        else:
            return _vendor_done(request, "team", f"{member.full_name} joined the team list.")
    else:
        _require_manager(membership)
    return _vendor_section(request, "team", _vendor_context(membership, vendor, team_form=form))


@login_required
@require_http_methods(["GET", "POST"])
def vendor_team_edit(request: HttpRequest, team_member_id: int) -> HttpResponse:
    membership, vendor = _own_vendor(request)
    _require_manager(membership)
    member = selectors.vendor_team_member_get(vendor=vendor, team_member_id=team_member_id)
    if request.method == "POST":
        form = _team_form(vendor, request.POST, member=member, prefix="")
        if form.is_valid():
            try:
                services.vendor_team_member_update(
                    vendor_id=vendor.pk,
                    team_member_id=member.pk,
                    by=_user(request),
                    data=form.to_input(),
                )
            except ApplicationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{form.cleaned_data['full_name']} is saved.")
                return redirect(reverse("talent:vendor_edit") + "#team")
    else:
        form = _team_form(vendor, member=member, prefix="")
    return render(
        request,
        "talent/vendor_team_edit.html",
        {"form": form, "member": member, "organization": membership.organization},
    )


@login_required
@require_http_methods(["GET", "POST"])
def vendor_team_remove(request: HttpRequest, team_member_id: int) -> HttpResponse:
    membership, vendor = _own_vendor(request)
    _require_manager(membership)
    member = selectors.vendor_team_member_get(vendor=vendor, team_member_id=team_member_id)
    if request.method == "GET":
        return _confirm(
            request,
            title=f"Remove {member.full_name} from the team?",
            message="People already proposed on bids can’t be removed; mark them inactive instead.",
            action_url=reverse("talent:vendor_team_remove", args=[member.pk]),
            cancel_url=reverse("talent:vendor_edit") + "#team",
            label="Remove team member",
        )
    services.vendor_team_member_remove(vendor_id=vendor.pk, team_member_id=member.pk, by=_user(request))
    return _vendor_done(request, "team", f"{member.full_name} was removed from the team list.")


@login_required
@require_GET
def vendor_detail(request: HttpRequest, organization_id: int) -> HttpResponse:
    organization = selectors.vendor_organization_get(organization_id=organization_id, user=_user(request))
    vendor = getattr(organization, "vendor_profile", None)  # None until the firm opens its editor
    if vendor is not None:
        selectors.vendor_profile_details(vendor=vendor, active_team_only=True)
    membership = selectors.vendor_membership_get(organization_id=organization.pk, user=_user(request))
    return render(
        request,
        "talent/vendor_detail.html",
        {
            "organization": organization,
            "vendor": vendor,
            "countries": [COUNTRIES.get(code, code) for code in vendor.countries_served] if vendor else [],
            "is_member": membership is not None,
            "can_edit": membership is not None and membership.can_manage,
        },
    )
