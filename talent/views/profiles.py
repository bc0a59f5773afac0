"""The freelancer's profile editor and public profile."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ApplicationError
from talent import selectors, services
from talent.forms import (
    PortfolioItemForm,
    SkillRow,
    SkillRowsForm,
    TalentProfileForm,
    add_service_errors,
)
from talent.models import SKILL_LEVELS, TalentProfile

if TYPE_CHECKING:
    pass
from talent.views.common import _confirm, _is_htmx, _user


# --- freelancer profile editor ---------------------------------------------------------------------------------
def _own_profile(request: HttpRequest) -> TalentProfile:
    try:
        return selectors.talent_profile_for_editor(user=_user(request))
    except TalentProfile.DoesNotExist:
        raise ApplicationError(
            "Only freelancers have a talent profile. Sign up with “Find work as a freelancer” to create one.",
            code="not_a_freelancer",
            status=403,
        ) from None


def _profile_context(
    request: HttpRequest,
    profile: TalentProfile,
    *,
    form: TalentProfileForm | None = None,
    skills_form: SkillRowsForm | None = None,
    portfolio_form: PortfolioItemForm | None = None,
    notice: str = "",
) -> dict[str, Any]:
    if skills_form is None:
        skills_form = SkillRowsForm.from_levels(profile.profile_skills.all())
    return {
        "profile": profile,
        "form": form or TalentProfileForm(initial=TalentProfileForm.initial_for(profile)),
        "skills_form": skills_form,
        "blank_row": SkillRow.blank(),
        "portfolio_form": portfolio_form or PortfolioItemForm(),
        "portfolio_items": list(profile.portfolio_items.all()),
        "skill_levels": SKILL_LEVELS,
        "max_skills": services.MAX_PROFILE_SKILLS,
        "max_portfolio_items": services.MAX_PORTFOLIO_ITEMS,
        "notice": notice,
    }


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    profile = _own_profile(request)
    form = None
    if request.method == "POST":
        form = TalentProfileForm(request.POST)
        if form.is_valid():
            try:
                services.talent_profile_update(user=_user(request), data=form.to_input())
            except ApplicationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Your profile is saved.")
                return redirect("talent:profile_edit")
    context = _profile_context(request, profile, form=form)
    context["skill_names"] = selectors.skill_list()
    return render(request, "talent/profile_edit.html", context)


@login_required
@require_POST
def profile_skills(request: HttpRequest) -> HttpResponse:
    profile = _own_profile(request)
    skills_form = SkillRowsForm(request.POST)
    notice = ""
    if skills_form.is_valid():
        try:
            saved = services.talent_profile_skills_set(user=_user(request), skills=skills_form.entries)
        except ApplicationError as error:
            skills_form.add_service_error(error)
        else:
            if not _is_htmx(request):
                messages.success(request, "Your skills are saved.")
                return redirect(reverse("talent:profile_edit") + "#skills")
            skills_form = SkillRowsForm.from_levels(saved)
            notice = f"Skills saved: {len(saved)} listed."
    context = _profile_context(request, profile, skills_form=skills_form, notice=notice)
    if _is_htmx(request):
        return render(request, "talent/profile_edit.html#skills", context)
    context["skill_names"] = selectors.skill_list()
    return render(request, "talent/profile_edit.html", context)


@login_required
@require_GET
def skill_row(request: HttpRequest) -> HttpResponse:
    """A blank row for a skills editor (htmx appends it); ?years=0 leaves out the years column."""
    with_years = request.GET.get("years") != "0"
    return render(
        request,
        "talent/_skill_row.html",
        {"row": SkillRow.blank(), "with_years": with_years, "skill_levels": SKILL_LEVELS, "autofocus": True},
    )


@login_required
@require_POST
def portfolio_add(request: HttpRequest) -> HttpResponse:
    profile = _own_profile(request)
    form = PortfolioItemForm(request.POST)
    notice = ""
    if form.is_valid():
        try:
            item = services.portfolio_item_add(user=_user(request), **form.cleaned_data)
        except ApplicationError as error:
            add_service_errors(form, error)
        else:
            if not _is_htmx(request):
                messages.success(request, f"“{item.title}” is in your portfolio.")
                return redirect(reverse("talent:profile_edit") + "#portfolio")
            profile = _own_profile(request)
            form, notice = PortfolioItemForm(), f"“{item.title}” is in your portfolio."
    context = _profile_context(request, profile, portfolio_form=form, notice=notice)
    if _is_htmx(request):
        return render(request, "talent/profile_edit.html#portfolio", context)
    context["skill_names"] = selectors.skill_list()
    return render(request, "talent/profile_edit.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def portfolio_remove(request: HttpRequest, item_id: int) -> HttpResponse:
    profile = _own_profile(request)
    item = profile.portfolio_items.get(pk=item_id)  # PortfolioItem.DoesNotExist (→ 404) if not the user's
    if request.method == "GET":
        return _confirm(
            request,
            title=f"Remove “{item.title}”?",
            message="It disappears from your public profile. You can add it again later.",
            action_url=reverse("talent:portfolio_remove", args=[item.pk]),
            cancel_url=reverse("talent:profile_edit") + "#portfolio",
            label="Remove from portfolio",
        )
    services.portfolio_item_remove(user=_user(request), item_id=item.pk)
    notice = f"“{item.title}” was removed from your portfolio."
    if not _is_htmx(request):
        messages.success(request, notice)
        return redirect(reverse("talent:profile_edit") + "#portfolio")
    return render(
        request, "talent/profile_edit.html#portfolio", _profile_context(request, _own_profile(request), notice=notice)
    )


@login_required
@require_GET
def freelancer_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    from marketplace.selectors.reviews import review_list_for_freelancer

    profile = selectors.talent_profile_get_for_viewer(user_id=user_id, viewer=_user(request))
    reviews = list(review_list_for_freelancer(user_id=profile.user_id)[:10])
    return render(
        request,
        "talent/freelancer_detail.html",
        {
            "profile": profile,
            "person": profile.user,
            "is_owner": profile.user_id == _user(request).pk,
            "reviews": reviews,
        },
    )
