"""Contract pages for both sides: the list, the overview with milestones, and the lifecycle actions. Each
action calls one service; refusals come back as a message on the page (core.middleware)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.errors import ApplicationError
from core.forms import form_add_application_error
from core.types import AuthenticatedHttpRequest
from engagements import services
from engagements.forms import MilestoneForm, ReasonForm, ReleaseForm, TimeEntryForm
from engagements.models import TimeEntry
from engagements.selectors import contract_get, contract_list_for_user, contract_side, timesheet_list_for_contract

PAGE_SIZE = 20


@login_required
@require_GET
def contract_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    contracts = contract_list_for_user(user=request.user).order_by("-created_at")
    page = Paginator(contracts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "engagements/contract_list.html", {"page": page})


def _detail_context(request: AuthenticatedHttpRequest, contract_id: int, **extra: object) -> dict[str, object]:
    from compliance.selectors import contract_activation_blockers

    contract = contract_get(contract_id=contract_id, user=request.user)
    waiting = contract.status == "pending_compliance"
    return {
        "compliance_blockers": contract_activation_blockers(contract=contract) if waiting else [],
        "contract": contract,
        "side": contract_side(contract=contract, user=request.user),
        "milestones": list(contract.milestones.all()),
        "timesheets": list(timesheet_list_for_contract(contract=contract)[:8]),
        "milestone_form": MilestoneForm(),
        "reason_form": ReasonForm(),
        "release_form": ReleaseForm(),
        "time_form": TimeEntryForm(initial={"work_date": timezone.localdate(), "start_time": "09:00", "hours": "1"}),
        **extra,
    }


@login_required
@require_GET
def contract_detail(request: AuthenticatedHttpRequest, contract_id: int) -> HttpResponse:
    return render(request, "engagements/contract_detail.html", _detail_context(request, contract_id))


def _timesheets_response(request: AuthenticatedHttpRequest, contract_id: int, **extra: object) -> HttpResponse:
    """htmx gets the timesheet section back; a plain form post goes back to the page."""
    if request.htmx:  # type: ignore[attr-defined]
        context = _detail_context(request, contract_id, **extra)
        return render(request, "engagements/contract_detail.html#timesheets", context)
    return redirect("engagements:contract_detail", contract_id=contract_id)


@login_required
@require_POST
def time_entry_add(request: AuthenticatedHttpRequest, contract_id: int) -> HttpResponse:
    form = TimeEntryForm(request.POST)
    if form.is_valid():
        try:
            services.time_entry_add(
                contract_id=contract_id, data=services.TimeEntryInput(**form.cleaned_data), by=request.user
            )
            if not request.htmx:  # type: ignore[attr-defined]
                messages.success(request, "Time logged.")
            return _timesheets_response(request, contract_id)
        except ApplicationError as error:
            if not error.field_errors:
                raise
            form_add_application_error(form, error)
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request,
            "engagements/contract_detail.html#timesheets",
            _detail_context(request, contract_id, time_form=form),
        )
    context = _detail_context(request, contract_id, time_form=form)
    return render(request, "engagements/contract_detail.html", context, status=400)


@login_required
@require_POST
def time_entry_remove(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    contract_id = TimeEntry.objects.filter(pk=entry_id).values_list("timesheet__contract_id", flat=True).first()
    services.time_entry_remove(entry_id=entry_id, by=request.user)
    return _timesheets_response(request, int(contract_id or 0))


@login_required
@require_POST
def timesheet_action(request: AuthenticatedHttpRequest, timesheet_id: int, action: str) -> HttpResponse:
    if action == "submit":
        timesheet = services.timesheet_submit(timesheet_id=timesheet_id, by=request.user)
        messages.success(request, "Week submitted: the client has 5 days to review it.")
    elif action == "approve":
        timesheet = services.timesheet_approve(timesheet_id=timesheet_id, by=request.user)
        messages.success(request, "Week approved.")
    elif action == "reject":
        timesheet = services.timesheet_reject(
            timesheet_id=timesheet_id, by=request.user, reason=request.POST.get("reason", "")
        )
        messages.success(request, "Week sent back with your reason.")
    else:
        raise ApplicationError("Unknown action.", status=404)
    return redirect("engagements:contract_detail", contract_id=timesheet.contract_id)


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
        payment = services.milestone_fund(milestone_id=milestone_id, by=by)
        return redirect("billing:payment_pay", payment_id=payment.pk)
    if action == "submit":
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
    elif action == "refund":
        milestone = services.milestone_refund(milestone_id=milestone_id, by=by, reason=request.POST.get("reason", ""))
        message = "Refund requested: the money goes back to your card within a few days."
    else:
        raise ApplicationError("Unknown action.", status=404)
    messages.success(request, message)
    return redirect("engagements:contract_detail", contract_id=milestone.contract_id)
