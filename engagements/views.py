"""Contract pages for both sides: the list, the overview with milestones, and the lifecycle actions. Each
action calls one service; refusals come back as a message on the page (core.middleware)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.errors import ApplicationError
from core.types import AuthenticatedHttpRequest
from engagements import services
from engagements.forms import MilestoneForm, ReasonForm, ReleaseForm
from engagements.selectors import contract_get, contract_list_for_user, contract_side

PAGE_SIZE = 20


@login_required
@require_GET
def contract_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    contracts = contract_list_for_user(user=request.user).order_by("-created_at")
    page = Paginator(contracts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "engagements/contract_list.html", {"page": page})


@login_required
@require_GET
def contract_detail(request: AuthenticatedHttpRequest, contract_id: int) -> HttpResponse:
    contract = contract_get(contract_id=contract_id, user=request.user)
    return render(
        request,
        "engagements/contract_detail.html",
        {
            "contract": contract,
            "side": contract_side(contract=contract, user=request.user),
            "milestones": list(contract.milestones.all()),
            "milestone_form": MilestoneForm(),
            "reason_form": ReasonForm(),
            "release_form": ReleaseForm(),
        },
    )


_CONTRACT_ACTIONS = {
    "activate": ("Contract started.", False),
    "pause": ("Contract paused.", False),
    "resume": ("Contract resumed.", False),
    "complete": ("Contract completed. You can now review each other.", False),
    "terminate": ("Contract ended.", True),
    "dispute": ("Dispute opened: our team will contact both sides.", True),
}


@login_required
@require_POST
def contract_action(request: AuthenticatedHttpRequest, contract_id: int, action: str) -> HttpResponse:
    if action not in _CONTRACT_ACTIONS:
        raise ApplicationError("Unknown action.", status=404)
    message, needs_reason = _CONTRACT_ACTIONS[action]
    service = getattr(services, f"contract_{action}")
    kwargs = {"contract_id": contract_id, "by": request.user}
    if needs_reason or action == "pause":
        kwargs["reason"] = request.POST.get("reason", "")
    service(**kwargs)
    messages.success(request, message)
    return redirect("engagements:contract_detail", contract_id=contract_id)


@login_required
@require_POST
def milestone_add(request: AuthenticatedHttpRequest, contract_id: int) -> HttpResponse:
    form = MilestoneForm(request.POST)
    if not form.is_valid():
        raise ApplicationError(
            "Give the milestone a title and an amount above zero.",
            field_errors={name: [str(e) for e in errors] for name, errors in form.errors.items()},
        )
    services.milestone_create(
        contract_id=contract_id,
        data=services.MilestoneInput(
            title=form.cleaned_data["title"],
            amount=form.cleaned_data["amount"],
            due_date=form.cleaned_data["due_date"],
            description=form.cleaned_data["description"],
        ),
        by=request.user,
    )
    messages.success(request, "Milestone added. Fund it so work can start.")
    return redirect("engagements:contract_detail", contract_id=contract_id)


@login_required
@require_POST
def milestone_action(request: AuthenticatedHttpRequest, milestone_id: int, action: str) -> HttpResponse:
    by = request.user
    if action == "fund":
        milestone = services.milestone_fund(milestone_id=milestone_id, by=by)
        message = "Milestone funded."
    elif action == "submit":
        milestone = services.milestone_submit(milestone_id=milestone_id, by=by, note=request.POST.get("note", ""))
        message = "Work submitted for review."
    elif action == "request-changes":
        milestone = services.milestone_request_changes(
            milestone_id=milestone_id, by=by, note=request.POST.get("note", "")
        )
        message = "Changes requested."
    elif action == "approve":
        milestone = services.milestone_approve(milestone_id=milestone_id, by=by)
        message = "Work approved. Release the payment when you're ready."
    elif action == "release":
        form = ReleaseForm(request.POST)
        if not form.is_valid():
            raise ApplicationError("Enter the amount to release, or leave it empty to release everything.")
        amount: Decimal | None = form.cleaned_data["amount"]
        milestone = services.milestone_release(milestone_id=milestone_id, by=by, amount=amount)
        message = "Payment released."
    else:
        raise ApplicationError("Unknown action.", status=404)
    messages.success(request, message)
    return redirect("engagements:contract_detail", contract_id=milestone.contract_id)
