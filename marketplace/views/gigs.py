"""Gig and bid pages for clients (post, publish, compare bids, hire) and for freelancers and vendors (search,
read, bid). Each view translates the request, calls one service or selector, and renders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Membership
from accounts.selectors import user_context
from core.errors import ApplicationError
from core.forms import form_add_application_error
from core.types import AuthenticatedHttpRequest
from marketplace.forms.gigs import BidForm, GigForm, GigSearchForm, GigSkillFormSet, skills_from
from marketplace.models import Bid, Gig, Match
from marketplace.selectors.bids import bid_list_for_bidder, bid_list_for_gig
from marketplace.selectors.gigs import gig_get, gig_get_for_client, gig_list_for_client, gig_search
from marketplace.services import bids as bid_services
from marketplace.services import gigs as gig_services
from talent.models import TalentProfile

PAGE_SIZE = 20


def _client_organization_id(request: AuthenticatedHttpRequest) -> int:
    context = user_context(user=request.user, session=request.session)
    if context.role != "client" or context.organization is None:
        raise ApplicationError("Only members of a client organisation post gigs.", status=403)
    return context.organization.pk


@login_required
def gig_list_mine(request: AuthenticatedHttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    gigs = gig_list_for_client(user=request.user, status=status)
    page = Paginator(gigs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "marketplace/gig_list_mine.html",
        {
            "page": page,
            "status": status,
            "statuses": Gig.Status.choices,
            "query_string": f"status={status}" if status else "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def gig_edit(request: AuthenticatedHttpRequest, gig_id: int | None = None) -> HttpResponse:
    gig = gig_get_for_client(gig_id=gig_id, user=request.user) if gig_id else None
    organization_id = gig.organization_id if gig else _client_organization_id(request)
    if request.method == "POST":
        form = GigForm(request.POST, organization_id=organization_id)
        formset = GigSkillFormSet(request.POST, prefix="skills")
        if form.is_valid() and formset.is_valid():
            data = form.to_input(skills_from(formset))
            try:
                if gig is None:
                    gig = gig_services.gig_create(organization_id=organization_id, data=data, by=request.user)
                    messages.success(request, "Draft saved. Publish it when you're ready to receive bids.")
                else:
                    gig = gig_services.gig_update(gig_id=gig.pk, data=data, by=request.user)
                    messages.success(request, "Gig updated.")
                return redirect("marketplace:gig_detail", gig_id=gig.pk)
            except ApplicationError as error:
                form_add_application_error(form, error)
                if "skills" in error.field_errors:
                    formset._non_form_errors = formset.error_class(  # type: ignore[attr-defined]
                        error.field_errors["skills"]
                    )
    else:
        initial_skills = (
            [{"skill": gs.skill_id, "min_level": gs.min_level} for gs in gig.gig_skills.all()] if gig else []
        )
        form = GigForm(initial=GigForm.initial_for(gig) if gig else None, organization_id=organization_id)
        formset = GigSkillFormSet(initial=initial_skills, prefix="skills")
    return render(request, "marketplace/gig_form.html", {"form": form, "formset": formset, "gig": gig})


@login_required
@require_POST
def gig_publish(request: AuthenticatedHttpRequest, gig_id: int) -> HttpResponse:
    gig_services.gig_publish(gig_id=gig_id, by=request.user)
    messages.success(request, "Published. We're ranking freelancers and vendors for it now.")
    return redirect("marketplace:gig_detail", gig_id=gig_id)


@login_required
@require_POST
def gig_cancel(request: AuthenticatedHttpRequest, gig_id: int) -> HttpResponse:
    gig_services.gig_cancel(gig_id=gig_id, by=request.user, reason=request.POST.get("reason", ""))
    messages.success(request, "Gig cancelled; open bids were declined.")
    return redirect("marketplace:gig_detail", gig_id=gig_id)


@login_required
def gig_search_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = GigSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    gigs = gig_search(
        user=request.user,
        query=filters.get("q") or "",
        skill_ids=[filters["skill"].pk] if filters.get("skill") else None,
        kind=filters.get("kind") or None,
        min_budget=filters.get("min_budget"),
        max_budget=filters.get("max_budget"),
        timezone=filters.get("timezone") or None,
    )
    page = Paginator(gigs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "marketplace/gig_search.html#results" if request.htmx else "marketplace/gig_search.html"  # type: ignore[attr-defined]
    return render(request, template, {"form": form, "page": page, "query_string": query.urlencode()})


def _bidders(request: AuthenticatedHttpRequest) -> list[tuple[str, str]]:
    choices = []
    if TalentProfile.objects.filter(user=request.user).exists():
        choices.append(("self", "Myself, as a freelancer"))
    for membership in Membership.objects.filter(user=request.user, organization__kind="vendor").select_related(
        "organization"
    ):
        choices.append((f"vendor:{membership.organization_id}", f"{membership.organization.name} (vendor firm)"))
    return choices


@login_required
@require_http_methods(["GET", "POST"])
def gig_detail(request: AuthenticatedHttpRequest, gig_id: int) -> HttpResponse:
    gig = gig_get(gig_id=gig_id, user=request.user)
    is_client = Membership.objects.filter(user=request.user, organization_id=gig.organization_id).exists()
    bidders = [] if is_client else _bidders(request)
    form = None
    if bidders and gig.status == Gig.Status.OPEN and gig.kind != Gig.Kind.MICRO_TASK:
        vendor_ids = [int(value.split(":")[1]) for value, _ in bidders if value.startswith("vendor:")]
        form = BidForm(request.POST or None, gig=gig, bidders=bidders, vendor_ids=vendor_ids)
        if request.method == "POST" and form.is_valid():
            try:
                bid_services.bid_create(gig_id=gig.pk, data=form.to_input(), by=request.user)
                messages.success(request, "Your bid is in. We'll email you when the client decides.")
                return redirect("marketplace:bid_list_mine")
            except ApplicationError as error:
                form_add_application_error(form, error)
    my_bids = bid_list_for_bidder(user=request.user).filter(gig=gig) if not is_client else Bid.objects.none()
    return render(
        request,
        "marketplace/gig_detail.html",
        {"gig": gig, "is_client": is_client, "form": form, "my_bids": list(my_bids)},
    )


@login_required
def gig_bids(request: AuthenticatedHttpRequest, gig_id: int) -> HttpResponse:
    """The client's comparison of bids, side by side with each bidder's match explanation."""
    gig = gig_get_for_client(gig_id=gig_id, user=request.user)
    bids = list(bid_list_for_gig(gig=gig))
    matches = {(m.freelancer_id, m.vendor_id): m for m in Match.objects.filter(gig_id=gig_id)}
    rows = [
        {
            "bid": bid,
            "match": matches.get((bid.freelancer_id, bid.vendor_id)),
            "answers": list(zip(gig.screening_questions, bid.screening_answers, strict=False)),
        }
        for bid in bids
    ]
    return render(request, "marketplace/gig_bids.html", {"gig": gig, "rows": rows})


@login_required
def gig_matches(request: AuthenticatedHttpRequest, gig_id: int) -> HttpResponse:
    gig = gig_get_for_client(gig_id=gig_id, user=request.user)
    matches = list(
        Match.objects.filter(gig=gig)
        .select_related("freelancer__talent_profile", "vendor__vendor_profile")
        .order_by("rank")
    )
    invited = set(gig.invitations.values_list("freelancer_id", "vendor_id"))
    rows = [
        {
            "match": m,
            "is_invited": (m.freelancer_id, m.vendor_id) in invited,
            "was_emailed": m.invited_at is not None,  # top matches are emailed automatically when the gig opens
        }
        for m in matches
    ]
    return render(request, "marketplace/gig_matches.html", {"gig": gig, "rows": rows})


@login_required
@require_POST
def gig_matches_refresh(request: AuthenticatedHttpRequest, gig_id: int) -> HttpResponse:
    from marketplace.services.matching import match_refresh_request

    match_refresh_request(gig_id=gig_id, by=request.user)
    messages.success(request, "Re-ranking now: refresh this page in a few seconds.")
    return redirect("marketplace:gig_matches", gig_id=gig_id)


@login_required
@require_POST
def gig_invite(request: AuthenticatedHttpRequest, gig_id: int) -> HttpResponse:
    freelancer_id = request.POST.get("freelancer_id") or None
    vendor_id = request.POST.get("vendor_id") or None
    bid_services.invitation_create(
        gig_id=gig_id,
        by=request.user,
        freelancer_id=int(freelancer_id) if freelancer_id and freelancer_id.isdigit() else None,
        vendor_id=int(vendor_id) if vendor_id and vendor_id.isdigit() else None,
        message=request.POST.get("message", ""),
    )
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponse('<span class="badge badge-success">Invited</span>')
    messages.success(request, "Invitation sent.")
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return HttpResponseRedirect(next_url)
    return redirect("marketplace:gig_matches", gig_id=gig_id)


_BID_ACTIONS = {
    "shortlist": (bid_services.bid_shortlist, "Shortlisted."),
    "decline": (bid_services.bid_decline, "Bid declined."),
    "withdraw": (bid_services.bid_withdraw, "Bid withdrawn."),
}


@login_required
@require_POST
def bid_action(request: AuthenticatedHttpRequest, bid_id: int, action: str) -> HttpResponse:
    if action == "accept":
        contract = bid_services.bid_accept(bid_id=bid_id, by=request.user)
        messages.success(request, f"Hired. Contract #{contract.pk} starts once compliance checks pass.")
        return redirect("marketplace:gig_bids", gig_id=contract.gig_id)
    if action not in _BID_ACTIONS:
        raise ApplicationError("Unknown action.", status=404)
    service, message = _BID_ACTIONS[action]
    bid: Bid = service(bid_id=bid_id, by=request.user)  # type: ignore[operator]
    messages.success(request, message)
    target = (
        reverse("marketplace:bid_list_mine")
        if action == "withdraw"
        else reverse("marketplace:gig_bids", args=[bid.gig_id])
    )
    return HttpResponseRedirect(target)


@login_required
def bid_list_mine(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(bid_list_for_bidder(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "marketplace/bid_list_mine.html", {"page": page})
