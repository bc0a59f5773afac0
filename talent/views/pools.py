"""Client talent pools."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Organization
from accounts.selectors import user_context
from core.errors import ApplicationError
from talent import selectors, services
from talent.forms import (
    PoolFreelancerAddForm,
    PoolMemberNotesForm,
    PoolVendorAddForm,
    TalentPoolForm,
    add_service_errors,
)
from talent.models import TalentPool

if TYPE_CHECKING:
    pass
from talent.views.common import _confirm, _is_htmx, _user


# --- talent pools ----------------------------------------------------------------------------------------------
def _client_organizations(request: HttpRequest) -> list[Organization]:
    """The client organisations the user belongs to; pools are theirs alone, so anyone else gets a 404."""
    organizations = list(selectors.client_organization_list_for_user(user=_user(request)))
    if not organizations:
        raise TalentPool.DoesNotExist
    return organizations


@login_required
@require_GET
def pool_list(request: HttpRequest) -> HttpResponse:
    organizations = _client_organizations(request)
    pools = list(selectors.talent_pool_list_for_user(user=_user(request)))
    return render(
        request,
        "talent/pool_list.html",
        {
            "pools": pools,
            "organizations": organizations,
            "show_organization": len(organizations) > 1,
            "total_freelancers": sum(pool.freelancer_count for pool in pools),  # type: ignore[attr-defined]
            "total_vendors": sum(pool.vendor_count for pool in pools),  # type: ignore[attr-defined]
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def pool_create(request: HttpRequest) -> HttpResponse:
    organizations = _client_organizations(request)
    context = user_context(user=_user(request), session=request.session)
    active = context.organization.pk if context.role == "client" and context.organization else organizations[0].pk
    if request.method == "POST":
        form = TalentPoolForm(request.POST, organizations=organizations)
        if form.is_valid():
            try:
                pool = services.talent_pool_create(
                    organization_id=form.cleaned_data["organization"],
                    by=_user(request),
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                )
            except ApplicationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"“{pool.name}” is ready. Add freelancers and vendor firms to it.")
                return redirect("talent:pool_detail", pool_id=pool.pk)
    else:
        form = TalentPoolForm(organizations=organizations, initial={"organization": active})
    return render(request, "talent/pool_create.html", {"form": form})


def _pool_context(
    request: HttpRequest,
    pool: TalentPool,
    *,
    freelancer_form: PoolFreelancerAddForm | None = None,
    vendor_form: PoolVendorAddForm | None = None,
    notice: str = "",
    add_kind: str = "freelancer",
) -> dict[str, Any]:
    return {
        "pool": pool,
        "members": list(selectors.talent_pool_members(pool_id=pool.pk, user=_user(request))),
        "freelancer_form": freelancer_form or PoolFreelancerAddForm(prefix="freelancer"),
        "vendor_form": vendor_form or PoolVendorAddForm(prefix="vendor"),
        "notice": notice,
        "add_kind": add_kind,
    }


@login_required
@require_GET
def pool_detail(request: HttpRequest, pool_id: int) -> HttpResponse:
    pool = selectors.talent_pool_get(pool_id=pool_id, user=_user(request))
    from marketplace.models import Gig
    from marketplace.selectors.gigs import gig_list_for_client

    context = _pool_context(request, pool)
    context["vendor_names"] = selectors.vendor_name_list()
    # Gigs members can be invited to: the organisation's drafts and open gigs that take bids.
    context["invitable_gigs"] = list(
        gig_list_for_client(user=_user(request))
        .filter(organization_id=pool.organization_id, status__in=[Gig.Status.DRAFT, Gig.Status.OPEN])
        .exclude(kind=Gig.Kind.MICRO_TASK)[:50]
    )
    return render(request, "talent/pool_detail.html", context)


@login_required
@require_POST
def pool_member_add(request: HttpRequest, pool_id: int) -> HttpResponse:
    pool = selectors.talent_pool_get(pool_id=pool_id, user=_user(request))
    kind = "vendor" if request.POST.get("kind") == "vendor" else "freelancer"
    form: PoolFreelancerAddForm | PoolVendorAddForm
    if kind == "vendor":
        form = PoolVendorAddForm(request.POST, prefix="vendor")
    else:
        form = PoolFreelancerAddForm(request.POST, prefix="freelancer")
    if form.is_valid():
        try:
            member = services.talent_pool_member_add(
                pool_id=pool.pk,
                by=_user(request),
                freelancer_id=form.freelancer.pk if kind == "freelancer" else None,  # type: ignore[union-attr]
                vendor_id=form.vendor_organization.pk if kind == "vendor" else None,  # type: ignore[union-attr]
                notes=form.cleaned_data["notes"],
            )
        except ApplicationError as error:
            add_service_errors(form, error, aliases={"freelancer": "email"})
        else:
            notice = f"{member} was added to “{pool.name}”."
            if not _is_htmx(request):
                messages.success(request, notice)
                return redirect("talent:pool_detail", pool_id=pool.pk)
            pool = selectors.talent_pool_get(pool_id=pool_id, user=_user(request))
            return render(
                request, "talent/pool_detail.html#body", _pool_context(request, pool, notice=notice, add_kind=kind)
            )
    forms_kwargs: dict[str, Any] = {f"{kind}_form": form}
    context = _pool_context(request, pool, add_kind=kind, **forms_kwargs)
    if _is_htmx(request):
        return render(request, "talent/pool_detail.html#body", context)
    context["vendor_names"] = selectors.vendor_name_list()
    return render(request, "talent/pool_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def pool_member_notes(request: HttpRequest, pool_id: int, member_id: int) -> HttpResponse:
    member = selectors.talent_pool_member_get(pool_id=pool_id, member_id=member_id, user=_user(request))
    if request.method == "GET" and request.GET.get("cancel") and _is_htmx(request):
        return render(request, "talent/_pool_member_notes.html", {"member": member, "pool": member.pool})
    if request.method == "POST":
        form = PoolMemberNotesForm(request.POST, auto_id=f"id_member{member.pk}_%s")
        if form.is_valid():
            try:
                member = services.talent_pool_member_update_notes(
                    pool_id=pool_id,
                    member_id=member.pk,
                    by=_user(request),
                    notes=form.cleaned_data["notes"],
                )
            except ApplicationError as error:
                add_service_errors(form, error)
            else:
                if _is_htmx(request):
                    return render(
                        request,
                        "talent/_pool_member_notes.html",
                        {"member": member, "pool": member.pool, "saved": True},
                    )
                messages.success(request, f"Notes on {member} are saved.")
                return redirect("talent:pool_detail", pool_id=pool_id)
    else:
        form = PoolMemberNotesForm(initial={"notes": member.notes}, auto_id=f"id_member{member.pk}_%s")
    template = "talent/pool_member_notes.html#form" if _is_htmx(request) else "talent/pool_member_notes.html"
    return render(request, template, {"form": form, "member": member, "pool": member.pool})


@login_required
@require_http_methods(["GET", "POST"])
def pool_member_remove(request: HttpRequest, pool_id: int, member_id: int) -> HttpResponse:
    member = selectors.talent_pool_member_get(pool_id=pool_id, member_id=member_id, user=_user(request))
    pool_url = reverse("talent:pool_detail", args=[pool_id])
    if request.method == "GET":
        return _confirm(
            request,
            title=f"Remove {member} from “{member.pool.name}”?",
            message="Your notes on them are deleted too. Pool-only gigs stop showing to them.",
            action_url=reverse("talent:pool_member_remove", args=[pool_id, member.pk]),
            cancel_url=pool_url,
            label="Remove from pool",
        )
    services.talent_pool_member_remove(pool_id=pool_id, member_id=member.pk, by=_user(request))
    notice = f"{member} was removed from “{member.pool.name}”."
    if not _is_htmx(request):
        messages.success(request, notice)
        return redirect(pool_url)
    pool = selectors.talent_pool_get(pool_id=pool_id, user=_user(request))
    return render(request, "talent/pool_detail.html#body", _pool_context(request, pool, notice=notice))
