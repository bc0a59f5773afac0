"""Statement-of-work pages for both sides: the list, drafting and editing the terms, the overview with its
lifecycle actions, the service-level editor, measurements (one at a time or by CSV), time-and-materials usage, and
the SLA dashboard with its charts. Each write calls one service; refusals without a field to point at come back as
a message on the page (core.middleware), field errors are shown next to their fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Membership, Organization
from accounts.selectors import organization_list_for_user, user_context
from core import charts
from core.errors import ApplicationError
from core.forms import form_add_application_error
from core.types import AuthenticatedHttpRequest
from engagements import services
from engagements.forms import (
    MeasurementForm,
    MeasurementImportForm,
    ReasonForm,
    ServiceLevelForm,
    SOWCreateForm,
    SOWForm,
    UsageForm,
)
from engagements.models import ServiceLevel, SLABreach, SLAEvaluation, StatementOfWork
from engagements.selectors import (
    CLIENT,
    WORKER,
    sla_evaluation_list,
    sla_measurement_series,
    sow_counterparty_list,
    sow_get,
    sow_list_for_page,
    sow_role,
    sow_side,
)
from engagements.services.sows import month_start, sow_activation_blockers, sow_months

PAGE_SIZE = 20
DASHBOARD_MONTHS = 12
DETAIL_MONTHS = 6
Status = StatementOfWork.Status
MEASURABLE = (Status.ACTIVE, Status.ENDED)


def _is_htmx(request: AuthenticatedHttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _month_label(month: date, *, with_year: bool = False) -> str:
    return f"{month:%b} ’{month:%y}" if with_year else f"{month:%b}"


# --- list ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SOWRow:
    sow: StatementOfWork
    counterparty: Organization
    side: str
    latest_period: date | None
    latest_attainment: Decimal | None
    latest_levels_met: int | None
    latest_levels_total: int | None


def _list_row(sow: StatementOfWork) -> SOWRow:
    """A row from sow_list_for_page's annotations (no query per row)."""
    is_client = bool(getattr(sow, "viewer_is_client", False))
    evaluated: date | None = getattr(sow, "latest_period", None)
    met: int = getattr(sow, "latest_levels_met", None) or 0
    total: int = getattr(sow, "latest_levels_total", None) or 0
    return SOWRow(
        sow=sow,
        counterparty=sow.vendor if is_client else sow.organization,
        side=CLIENT if is_client else WORKER,
        latest_period=evaluated,
        # The model's own rule for attainment, applied to the annotated numbers.
        latest_attainment=SLAEvaluation(levels_met=met, levels_total=total).attainment_pct if evaluated else None,
        latest_levels_met=met if evaluated else None,
        latest_levels_total=total if evaluated else None,
    )


@login_required
@require_GET
def sow_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status not in Status.values:
        status = None
    page = Paginator(sow_list_for_page(user=request.user, status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [_list_row(sow) for sow in page.object_list]
    return render(
        request,
        "engagements/sow_list.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": Status.choices,
            "query_string": f"status={status}" if status else "",
        },
    )


# --- drafting and editing the terms -------------------------------------------------------------------------------
def _acting_organization(request: AuthenticatedHttpRequest, organizations: list[Organization]) -> Organization:
    """The organisation the user drafts for: the one the form names (404 if it isn't theirs), else the one chosen
    in the session, else their first."""
    requested = request.POST.get("organization") or request.GET.get("organization")
    if requested:
        chosen = next((org for org in organizations if str(org.pk) == requested), None)
        if chosen is None:
            raise Organization.DoesNotExist
        return chosen
    current = user_context(user=request.user, session=request.session).organization
    return next((org for org in organizations if current is not None and org.pk == current.pk), organizations[0])


@login_required
@require_http_methods(["GET", "POST"])
def sow_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    organizations = list(organization_list_for_user(user=request.user))
    if not organizations:
        raise ApplicationError(
            "Statements of work are agreed between a client organisation and a vendor firm; join one to draft them.",
            status=403,
        )
    acting = _acting_organization(request, organizations)
    counterparties = sow_counterparty_list(organization=acting)
    data = request.POST if request.method == "POST" else None
    form = SOWCreateForm(data, counterparties=counterparties, acting_kind=acting.kind)
    if form.is_bound and form.is_valid():
        try:
            sow = services.sow_create(
                organization_id=acting.pk,
                counterparty_id=form.cleaned_data["counterparty"].pk,
                data=form.to_input(),
                by=request.user,
            )
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, "Draft saved. Add its service levels, then propose it for signature.")
            return redirect("engagements:sow_detail", sow_id=sow.pk)
    context = {"form": form, "acting": acting, "organizations": organizations, "sow": None}
    return render(request, "engagements/sow_form.html", context, status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def sow_edit(request: AuthenticatedHttpRequest, sow_id: int) -> HttpResponse:
    sow = sow_get(sow_id=sow_id, user=request.user)
    if sow.status != Status.DRAFT:
        messages.info(request, "Only a draft can be changed: send the statement of work back to draft first.")
        return redirect("engagements:sow_detail", sow_id=sow.pk)
    data = request.POST if request.method == "POST" else None
    form = SOWForm(data, initial=SOWForm.initial_for(sow))
    if form.is_bound and form.is_valid():
        try:
            services.sow_update(sow_id=sow.pk, data=form.to_input(), by=request.user)
        except ApplicationError as error:
            if not error.field_errors:
                raise
            form_add_application_error(form, error)
        else:
            messages.success(request, "Terms saved.")
            return redirect("engagements:sow_detail", sow_id=sow.pk)
    context = {"form": form, "sow": sow, "acting": None, "organizations": []}
    return render(request, "engagements/sow_form.html", context, status=400 if form.is_bound else 200)


# --- overview -----------------------------------------------------------------------------------------------------
def _default_month(months: list[date], evaluated: set[date]) -> date | None:
    """The month people most likely report next: the latest finished month not yet evaluated."""
    this_month = month_start(timezone.localdate())
    open_months = [month for month in months if month < this_month and month not in evaluated]
    if open_months:
        return open_months[-1]
    return months[-1] if months else None


def _measurement_grid(sow: StatementOfWork, levels: list[ServiceLevel], months: list[date]) -> list[dict[str, Any]]:
    """The last months (newest first) × the service levels, each cell with its value and whether it meets the
    target."""
    values = {
        (measurement.metric, measurement.period): measurement.value
        for measurement in sla_measurement_series(sow=sow, months=DETAIL_MONTHS)
    }
    grid = []
    for month in reversed(months[-DETAIL_MONTHS:]):
        cells = []
        for level in levels:
            value = values.get((level.metric, month))
            cells.append({"level": level, "value": value, "is_met": value is not None and level.is_met(value)})
        grid.append({"period": month, "cells": cells})
    return grid


def _detail_context(request: AuthenticatedHttpRequest, sow_id: int, **extra: Any) -> dict[str, Any]:
    sow = sow_get(sow_id=sow_id, user=request.user)
    side, role = sow_role(sow=sow, user=request.user)
    levels = list(sow.service_levels.all())
    evaluations = list(sla_evaluation_list(sow=sow))
    evaluated = {evaluation.period for evaluation in evaluations}
    months = sow_months(sow)
    default_month = _default_month(months, evaluated)
    is_measurable = sow.status in MEASURABLE
    proposed_by_my_side = False
    if sow.status == Status.PROPOSED and sow.proposed_by is not None:
        try:
            proposed_by_my_side = sow_side(sow=sow, user=sow.proposed_by) == side
        except StatementOfWork.DoesNotExist:  # the proposer has left their organisation since
            proposed_by_my_side = False
    level_form = ServiceLevelForm()
    editing = request.GET.get("level")
    if editing:
        level = next((level for level in levels if str(level.pk) == editing), None)
        if level is not None:
            level_form = ServiceLevelForm(initial=ServiceLevelForm.initial_for(level))
    context: dict[str, Any] = {
        "sow": sow,
        "side": side,
        "role": role,
        "role_label": Membership.Role(role).label,
        "can_edit": role != Membership.Role.FINANCE,
        "can_manage": role in Membership.MANAGER_ROLES,
        "own_organization": sow.organization if side == CLIENT else sow.vendor,
        "counterparty": sow.vendor if side == CLIENT else sow.organization,
        "my_signed_at": sow.client_signed_at if side == CLIENT else sow.vendor_signed_at,
        "proposed_by_my_side": proposed_by_my_side,
        "blockers": sow_activation_blockers(sow) if sow.status == Status.SIGNED else [],
        "levels": levels,
        "is_outcome_based": sow.pricing_model == StatementOfWork.Pricing.OUTCOME_BASED,
        "is_time_and_materials": sow.pricing_model == StatementOfWork.Pricing.TIME_AND_MATERIALS,
        "is_measurable": is_measurable,
        "evaluations": evaluations,
        "credit_total": sum((evaluation.credit_total for evaluation in evaluations), Decimal(0)),
        "bonus_total": sum((evaluation.bonus_total for evaluation in evaluations), Decimal(0)),
        "level_form": level_form,
        "reason_form": ReasonForm(),
        "notice": "",
    }
    if is_measurable and levels:
        context["measurement_grid"] = _measurement_grid(sow, levels, months)
        context["measurement_form"] = MeasurementForm(
            metrics=[(level.metric, level.get_metric_display()) for level in levels],
            initial={"period": default_month},
        )
        context["import_form"] = MeasurementImportForm()
    if context["is_time_and_materials"]:
        context["usage"] = list(sow.usage.all()[:24])
        if side == WORKER and is_measurable:
            context["usage_form"] = UsageForm(vendor_organization_id=sow.vendor_id, initial={"period": default_month})
    context.update(extra)
    return context


@login_required
@require_GET
def sow_detail(request: AuthenticatedHttpRequest, sow_id: int) -> HttpResponse:
    return render(request, "engagements/sow_detail.html", _detail_context(request, sow_id))


def _section_saved(request: AuthenticatedHttpRequest, sow_id: int, section: str, notice: str) -> HttpResponse:
    """htmx gets the section back with a confirmation; a plain form post goes back to the page."""
    if _is_htmx(request):
        context = _detail_context(request, sow_id, notice=notice)
        return render(request, f"engagements/sow_detail.html#{section}", context)
    messages.success(request, notice)
    return redirect(f"{_detail_url(sow_id)}#{section}")


def _section_invalid(request: AuthenticatedHttpRequest, sow_id: int, section: str, **forms: Any) -> HttpResponse:
    """The section (htmx) or the page, with the form as typed and its errors next to the fields."""
    context = _detail_context(request, sow_id, **forms)
    if _is_htmx(request):
        # 200 so htmx swaps the form in; the errors are in it.
        return render(request, f"engagements/sow_detail.html#{section}", context)
    return render(request, "engagements/sow_detail.html", context, status=400)


def _detail_url(sow_id: int) -> str:
    return reverse("engagements:sow_detail", kwargs={"sow_id": sow_id})


def _apply(form: Any, error: ApplicationError) -> None:
    """Field errors go next to their fields; a refusal that names no field is the page's business."""
    if not error.field_errors:
        raise error
    form_add_application_error(form, error)


# --- lifecycle ----------------------------------------------------------------------------------------------------
def _signed_message(sow: StatementOfWork) -> str:
    if sow.status == Status.ACTIVE:
        return "Signed by both sides: the statement of work is active."
    if sow.status == Status.SIGNED:
        return f"Signed by both sides. It starts on {sow.start_date:%-d %B %Y}."
    return "Signed. It takes effect once the other side signs too."


@login_required
@require_POST
def sow_action(request: AuthenticatedHttpRequest, sow_id: int, action: str) -> HttpResponse:
    by = request.user
    if action == "propose":
        sow = services.sow_propose(sow_id=sow_id, by=by)
        message = "Proposed. The other side can now sign it, or send it back with a note."
    elif action == "return":
        note = request.POST.get("note", "")
        sow = services.sow_return_to_draft(sow_id=sow_id, by=by, note=note)
        message = "Back to draft with your note." if note.strip() else "Back to draft: change it and propose again."
    elif action == "sign":
        sow = services.sow_sign(sow_id=sow_id, by=by)
        message = _signed_message(sow)
    elif action == "end":
        form = ReasonForm(request.POST)
        try:
            sow = services.sow_end(sow_id=sow_id, by=by, reason=request.POST.get("reason", ""))
        except ApplicationError as error:
            _apply(form, error)
            context = _detail_context(request, sow_id, reason_form=form)
            return render(request, "engagements/sow_detail.html", context, status=400)
        message = "The statement of work has ended."
    else:
        sow_get(sow_id=sow_id, user=by)  # outsiders learn nothing, not even which actions exist
        raise ApplicationError("Unknown action.", status=404)
    messages.success(request, message)
    return redirect("engagements:sow_detail", sow_id=sow.pk)


# --- service levels -----------------------------------------------------------------------------------------------
@login_required
@require_POST
def service_level_set(request: AuthenticatedHttpRequest, sow_id: int) -> HttpResponse:
    sow_get(sow_id=sow_id, user=request.user)
    form = ServiceLevelForm(request.POST)
    if form.is_valid():
        try:
            level = services.service_level_set(sow_id=sow_id, data=form.to_input(), by=request.user)
        except ApplicationError as error:
            _apply(form, error)
        else:
            return _section_saved(request, sow_id, "levels", f"Service level saved: {level}.")
    return _section_invalid(request, sow_id, "levels", level_form=form)


@login_required
@require_POST
def service_level_remove(request: AuthenticatedHttpRequest, sow_id: int, level_id: int) -> HttpResponse:
    sow_get(sow_id=sow_id, user=request.user)
    services.service_level_remove(service_level_id=level_id, by=request.user)
    return _section_saved(request, sow_id, "levels", "Service level removed.")


# --- measurements and usage ---------------------------------------------------------------------------------------
@login_required
@require_POST
def measurement_add(request: AuthenticatedHttpRequest, sow_id: int) -> HttpResponse:
    sow = sow_get(sow_id=sow_id, user=request.user)
    metrics = [(level.metric, level.get_metric_display()) for level in sow.service_levels.all()]
    form = MeasurementForm(request.POST, metrics=metrics)
    if form.is_valid():
        data = form.cleaned_data
        try:
            measurement = services.sla_measurement_record(
                sow_id=sow_id,
                metric=data["metric"],
                period=data["period"],
                value=data["value"],
                note=data["note"],
                by=request.user,
            )
        except ApplicationError as error:
            _apply(form, error)
        else:
            notice = f"Saved: {measurement.get_metric_display()} for {measurement.period:%B %Y} is {measurement.value}."
            if _is_htmx(request):
                # Keep the month: people enter every metric of one month in a row.
                fresh = MeasurementForm(metrics=metrics, initial={"period": measurement.period})
                context = _detail_context(request, sow_id, notice=notice, measurement_form=fresh)
                return render(request, "engagements/sow_detail.html#measurements", context)
            return _section_saved(request, sow_id, "measurements", notice)
    return _section_invalid(request, sow_id, "measurements", measurement_form=form)


@login_required
@require_POST
def measurement_import(request: AuthenticatedHttpRequest, sow_id: int) -> HttpResponse:
    sow_get(sow_id=sow_id, user=request.user)
    form = MeasurementImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            result = services.sla_measurements_import(sow_id=sow_id, file=form.cleaned_data["file"], by=request.user)
        except ApplicationError as error:
            if error.field_errors:
                form.add_error(None, error.message)  # the summary above, each row's problem under the file field
            _apply(form, error)
        else:
            notice = f"Imported: {result.created} new and {result.updated} corrected measurement(s)."
            return _section_saved(request, sow_id, "measurements", notice)
    return _section_invalid(request, sow_id, "measurements", import_form=form)


@login_required
@require_POST
def usage_add(request: AuthenticatedHttpRequest, sow_id: int) -> HttpResponse:
    sow = sow_get(sow_id=sow_id, user=request.user)
    form = UsageForm(request.POST, vendor_organization_id=sow.vendor_id)
    if form.is_valid():
        data = form.cleaned_data
        try:
            usage = services.sow_usage_add(
                sow_id=sow_id,
                period=data["period"],
                rate_card_entry_id=data["rate_card_entry"].pk,
                quantity=data["quantity"],
                description=data["description"],
                by=request.user,
            )
        except ApplicationError as error:
            _apply(form, error)
        else:
            notice = (
                f"Recorded: {usage.role} × {usage.quantity} for {usage.period:%B %Y} = {usage.amount} {usage.currency}."
            )
            return _section_saved(request, sow_id, "usage", notice)
    return _section_invalid(request, sow_id, "usage", usage_form=form)


# --- SLA dashboard ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MonthOutcome:
    period: date
    value: Decimal | None
    tone: str  # "met", "miss" (off target, not evaluated yet), "breach", "empty"
    status: str


@dataclass(frozen=True)
class LevelPanel:
    level: ServiceLevel
    chart: charts.LineChart
    months: list[MonthOutcome]
    breach_count: int
    description: str


def _month_outcome(
    level: ServiceLevel, month: date, value: Decimal | None, breach: SLABreach | None, evaluated: bool
) -> MonthOutcome:
    if breach is not None:
        status = "Breached: not reported" if breach.measured_value is None else "Breached"
        return MonthOutcome(month, value, "breach", status)
    if value is None:
        return MonthOutcome(month, None, "empty", "Not reported")
    if evaluated:
        return MonthOutcome(month, value, "met", "Stretch met" if level.is_stretch_met(value) else "Met")
    if level.is_met(value):
        return MonthOutcome(month, value, "met", "On target (not evaluated yet)")
    return MonthOutcome(month, value, "miss", "Off target (not evaluated yet)")


def _level_panel(
    level: ServiceLevel,
    months: list[date],
    labels: list[str],
    values: dict[tuple[str, date], Decimal],
    breaches: dict[tuple[str, date], SLABreach],
    evaluated: set[date],
) -> LevelPanel:
    outcomes = [
        _month_outcome(
            level, month, values.get((level.metric, month)), breaches.get((level.metric, month)), month in evaluated
        )
        for month in months
    ]
    references = [("Target", level.target, "target")]
    if level.stretch_target is not None:
        references.append(("Stretch", level.stretch_target, "stretch"))
    chart = charts.line_chart(
        labels=labels,
        values=[outcome.value for outcome in outcomes],
        references=references,
        tones=[outcome.tone for outcome in outcomes],
        width=560,  # about the card's width, so the 11px labels stay 11px
        height=240,
    )
    breach_count = sum(outcome.tone == "breach" for outcome in outcomes)
    reported = sum(outcome.value is not None for outcome in outcomes)
    stretch = f", stretch target {level.stretch_target}" if level.stretch_target is not None else ""
    span = f"{months[0]:%B %Y} to {months[-1]:%B %Y}" if months else "no months yet"
    description = (
        f"Monthly {level.get_metric_display()}, {span}: {reported} of {len(months)} months reported. "
        f"Target {level.get_direction_display()} {level.target}{stretch}. "
        f"{breach_count} month{'s' if breach_count != 1 else ''} breached."
    )
    return LevelPanel(level, chart, outcomes, breach_count, description)


@login_required
@require_GET
def sow_sla(request: AuthenticatedHttpRequest, sow_id: int) -> HttpResponse:
    sow = sow_get(sow_id=sow_id, user=request.user)
    side = sow_side(sow=sow, user=request.user)
    levels = list(sow.service_levels.all())
    months = sow_months(sow)[-DASHBOARD_MONTHS:]
    labels = [_month_label(month, with_year=index == 0 or month.month == 1) for index, month in enumerate(months)]
    values = {(m.metric, m.period): m.value for m in sla_measurement_series(sow=sow, months=DASHBOARD_MONTHS)}
    evaluations = list(sla_evaluation_list(sow=sow))
    by_period = {evaluation.period: evaluation for evaluation in evaluations}
    breaches = {(breach.metric, breach.period): breach for e in evaluations for breach in e.breaches.all()}
    panels = [_level_panel(level, months, labels, values, breaches, set(by_period)) for level in levels]
    attainment = [by_period[month].attainment_pct if month in by_period else None for month in months]
    attainment_chart = charts.bar_chart(
        labels=labels,
        values=attainment,
        maximum=Decimal(100),
        width=1040,  # the full-width card
        height=220,
        tones=[
            "empty" if month not in by_period else "met" if value == 100 else "breach"
            for month, value in zip(months, attainment, strict=True)
        ],
    )
    attainment_rows = [(month, by_period.get(month)) for month in months]
    latest = evaluations[0] if evaluations else None
    context = {
        "sow": sow,
        "side": side,
        "counterparty": sow.vendor if side == CLIENT else sow.organization,
        "panels": panels,
        "months": months,
        "attainment_chart": attainment_chart,
        "attainment_rows": attainment_rows,
        "evaluations": evaluations,
        "latest": latest,
        "credit_total": sum((evaluation.credit_total for evaluation in evaluations), Decimal(0)),
        "bonus_total": sum((evaluation.bonus_total for evaluation in evaluations), Decimal(0)),
        "breach_total": sum(len(evaluation.breaches.all()) for evaluation in evaluations),
    }
    return render(request, "engagements/sow_sla.html", context)
