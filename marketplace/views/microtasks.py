"""Micro-task pages: the worker's claim → do → submit screen and the client's batch, upload and review queue.

Each view translates the request, makes one domain call and renders; htmx requests get a template partial.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ApplicationError
from marketplace.forms.microtasks import (
    TaskBatchForm,
    TaskUnitRejectForm,
    TaskUnitResultForm,
    TaskUnitsBulkReviewForm,
    TaskUnitsImportForm,
)
from marketplace.models import Gig, TaskBatch, TaskUnit
from marketplace.selectors.microtasks import (
    accuracy_percent,
    micro_task_gig_get_for_client,
    task_batch_get_for_client,
    task_batch_get_for_worker,
    task_batch_list_for_worker,
    task_batch_progress,
    task_unit_current_for_worker,
    task_unit_list_for_review,
    task_worker_stats,
)
from marketplace.services import microtasks as services
from talent.selectors import talent_profile_exists

WORKER_BATCHES_PER_PAGE = 20
REVIEW_PAGE_SIZES = (25, 50, 100)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg")


def _payload_rows(payload: Any, columns: list[str]) -> list[dict[str, Any]]:
    """How to show each payload value, in the upload's column order: a picture for an image URL, a link for a URL,
    JSON for nested data."""
    if isinstance(payload, dict):
        position = {column: index for index, column in enumerate(columns)}
        items = sorted(payload.items(), key=lambda item: position.get(item[0], len(position)))
    else:
        items = [("value", payload)]
    rows = []
    for key, value in items:
        kind = "text"
        if isinstance(value, dict | list):
            kind = "json"
        elif isinstance(value, str) and value.startswith(("https://", "http://")) and " " not in value:
            kind = "image" if value.lower().split("?")[0].endswith(IMAGE_EXTENSIONS) else "link"
        rows.append({"key": key, "value": value, "kind": kind})
    return rows


def _apply_field_errors(form: Any, error: ApplicationError) -> None:
    """Show a service's refusal on the form: its message at the top, each field's problems next to the field."""
    form.add_error(None, error.message)
    for name, field_messages in error.field_errors.items():
        if name in form.fields:
            for message in field_messages:
                form.add_error(name, message)


# --- worker ---------------------------------------------------------------------------------------------------------
@login_required
@require_GET
def task_batch_list_for_worker_view(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(task_batch_list_for_worker(worker=request.user), WORKER_BATCHES_PER_PAGE)  # type: ignore[arg-type]
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "marketplace/microtasks/worker_batches.html",
        {"page": page, "is_freelancer": talent_profile_exists(user=request.user)},  # type: ignore[arg-type]
    )


def _work_context(request: HttpRequest, batch: TaskBatch, unit: TaskUnit | None, **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"batch": batch, "gig": batch.gig, "unit": unit, **extra}
    if unit is not None:
        context.setdefault("form", TaskUnitResultForm(batch=batch))
        context["payload_rows"] = _payload_rows(unit.payload, batch.payload_columns)
        remaining = (unit.leased_until - timezone.now()).total_seconds() if unit.leased_until else 0
        context["lease_seconds_left"] = max(0, int(remaining))
        context["state"] = "unit"
    return context


@login_required
@require_GET
def task_work_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    worker = request.user
    batch = task_batch_get_for_worker(batch_id=batch_id, worker=worker)  # type: ignore[arg-type]
    unit = task_unit_current_for_worker(batch_id=batch.pk, worker=worker)  # type: ignore[arg-type]
    stats = task_worker_stats(batch_id=batch.pk, worker=worker)  # type: ignore[arg-type]
    progress = task_batch_progress(batch_id=batch.pk)
    state = "unit" if unit else ("start" if progress[TaskUnit.Status.OPEN] else "done")
    context = _work_context(request, batch, unit, stats=stats, remaining=progress[TaskUnit.Status.OPEN], state=state)
    return render(request, "marketplace/microtasks/work.html", context)


@login_required
@require_POST
def task_unit_claim_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    try:
        unit = services.task_unit_claim_next(batch_id=batch_id, worker=request.user)  # type: ignore[arg-type]
    except ApplicationError as error:
        if not request.htmx:  # type: ignore[attr-defined]
            raise  # the error page says why
        # In the flow (submit → next), say why in place of the unit rather than leave "Loading the next unit…".
        batch = task_batch_get_for_worker(batch_id=batch_id, worker=request.user)  # type: ignore[arg-type]
        context = {"batch": batch, "state": "refused", "message": error.message}
        return render(request, "marketplace/microtasks/work.html#workarea", context, status=error.status)
    if not request.htmx:  # type: ignore[attr-defined]
        if unit is None:
            messages.success(request, "All done: every unit of this batch has been claimed.")
        return redirect("marketplace:task_work", batch_id=batch_id)
    if unit is None:
        batch = task_batch_get_for_worker(batch_id=batch_id, worker=request.user)  # type: ignore[arg-type]
        return render(request, "marketplace/microtasks/work.html#workarea", {"batch": batch, "state": "done"})
    return render(request, "marketplace/microtasks/work.html#workarea", _work_context(request, unit.batch, unit))


@login_required
@require_POST
def task_unit_submit_view(request: HttpRequest, batch_id: int, unit_id: int) -> HttpResponse:
    worker = request.user
    batch = task_batch_get_for_worker(batch_id=batch_id, worker=worker)  # type: ignore[arg-type]
    form = TaskUnitResultForm(request.POST, batch=batch)
    # The service judges every answer (and the lease); the form only shapes what was typed.
    result = form.result() if form.is_valid() else form.data.get("answer", "")
    try:
        services.task_unit_submit(unit_id=unit_id, worker=worker, result=result)  # type: ignore[arg-type]
    except ApplicationError as error:
        if not error.field_errors:
            raise  # the lease ran out, already submitted, ...: the error page (or the htmx flash) explains
        form = TaskUnitResultForm(request.POST, batch=batch)
        form.is_valid()
        _apply_field_errors(form, error)
        unit = task_unit_current_for_worker(batch_id=batch.pk, worker=worker)  # type: ignore[arg-type]
        context = _work_context(request, batch, unit, form=form, state="unit" if unit else "start")
        template = "work.html#workarea" if request.htmx else "work.html"  # type: ignore[attr-defined]
        return render(request, f"marketplace/microtasks/{template}", context, status=400)
    if request.htmx:  # type: ignore[attr-defined]
        # The partial claims the next unit as soon as it lands, so the worker flows from unit to unit.
        return render(request, "marketplace/microtasks/work.html#workarea", {"batch": batch, "state": "submitted"})
    messages.success(request, "Submitted. Start the next unit when you are ready.")
    return redirect("marketplace:task_work", batch_id=batch.pk)


# --- client ---------------------------------------------------------------------------------------------------------
def _client_batch(request: HttpRequest, gig_id: int) -> tuple[Gig, TaskBatch | None]:
    gig = micro_task_gig_get_for_client(gig_id=gig_id, user=request.user)  # type: ignore[arg-type]
    try:
        return gig, task_batch_get_for_client(gig_id=gig.pk, user=request.user)  # type: ignore[arg-type]
    except TaskBatch.DoesNotExist:
        return gig, None


def _render_batch_detail(
    request: HttpRequest, gig: Gig, batch: TaskBatch, *, import_form: Any = None, status: int = 200
) -> HttpResponse:
    context = {
        "gig": gig,
        "batch": batch,
        "progress": task_batch_progress(batch_id=batch.pk),
        "import_form": import_form or TaskUnitsImportForm(),
    }
    return render(request, "marketplace/microtasks/batch_detail.html", context, status=status)


@login_required
@require_GET
def task_batch_detail_view(request: HttpRequest, gig_id: int) -> HttpResponse:
    gig, batch = _client_batch(request, gig_id)
    if batch is None:
        return redirect("marketplace:task_batch_create", gig_id=gig.pk)
    return _render_batch_detail(request, gig, batch)


@login_required
@require_http_methods(["GET", "POST"])
def task_batch_create_view(request: HttpRequest, gig_id: int) -> HttpResponse:
    gig, batch = _client_batch(request, gig_id)
    if batch is not None:
        return redirect("marketplace:task_batch_edit", gig_id=gig.pk)
    form = TaskBatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.task_batch_create(gig_id=gig.pk, data=form.to_input(), by=request.user)  # type: ignore[arg-type]
        except ApplicationError as error:
            _apply_field_errors(form, error)
        else:
            messages.success(request, "Batch created. Upload its units, then open it to workers.")
            return redirect("marketplace:task_batch_detail", gig_id=gig.pk)
    status = 400 if form.errors else 200
    return render(request, "marketplace/microtasks/batch_form.html", {"gig": gig, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def task_batch_edit_view(request: HttpRequest, gig_id: int) -> HttpResponse:
    gig, batch = _client_batch(request, gig_id)
    if batch is None:
        return redirect("marketplace:task_batch_create", gig_id=gig.pk)
    form = TaskBatchForm(request.POST or None, initial=TaskBatchForm.initial_from(batch))
    if request.method == "POST" and form.is_valid():
        try:
            services.task_batch_update(batch_id=batch.pk, data=form.to_input(), by=request.user)  # type: ignore[arg-type]
        except ApplicationError as error:
            _apply_field_errors(form, error)
        else:
            messages.success(request, "Batch settings saved.")
            return redirect("marketplace:task_batch_detail", gig_id=gig.pk)
    context = {"gig": gig, "batch": batch, "form": form}
    return render(request, "marketplace/microtasks/batch_form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def task_batch_open_view(request: HttpRequest, gig_id: int) -> HttpResponse:
    batch = task_batch_get_for_client(gig_id=gig_id, user=request.user)  # type: ignore[arg-type]
    services.task_batch_open(batch_id=batch.pk, by=request.user)  # type: ignore[arg-type]
    messages.success(request, "The batch is open: qualified workers can claim its units now.")
    return redirect("marketplace:task_batch_detail", gig_id=gig_id)


@login_required
@require_POST
def task_batch_close_view(request: HttpRequest, gig_id: int) -> HttpResponse:
    batch = task_batch_get_for_client(gig_id=gig_id, user=request.user)  # type: ignore[arg-type]
    services.task_batch_close(batch_id=batch.pk, by=request.user)  # type: ignore[arg-type]
    messages.success(request, "The batch is closed to new claims. Units already claimed can still be submitted.")
    return redirect("marketplace:task_batch_detail", gig_id=gig_id)


@login_required
@require_POST
def task_units_import_view(request: HttpRequest, gig_id: int) -> HttpResponse:
    gig, batch = _client_batch(request, gig_id)
    if batch is None:
        return redirect("marketplace:task_batch_create", gig_id=gig.pk)
    form = TaskUnitsImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            result = services.task_units_import(
                batch_id=batch.pk,
                file=form.cleaned_data["file"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ApplicationError as error:
            _apply_field_errors(form, error)
        else:
            messages.success(
                request,
                f"Imported {result.created:,} units ({result.gold:,} of them gold quality checks).",
            )
            return redirect("marketplace:task_batch_detail", gig_id=gig.pk)
    return _render_batch_detail(request, gig, batch, import_form=form, status=400)


def _review_page_url(gig_id: int, page: Any, per_page: Any) -> str:
    query = urlencode({"page": page or 1, "per_page": per_page or REVIEW_PAGE_SIZES[0]})
    return f"{reverse('marketplace:task_unit_review_list', kwargs={'gig_id': gig_id})}?{query}"


@login_required
@require_GET
def task_unit_review_list_view(request: HttpRequest, gig_id: int) -> HttpResponse:
    gig, batch = _client_batch(request, gig_id)
    if batch is None:
        return redirect("marketplace:task_batch_create", gig_id=gig.pk)
    requested = request.GET.get("per_page", "")
    per_page = int(requested) if requested.isdigit() and int(requested) in REVIEW_PAGE_SIZES else REVIEW_PAGE_SIZES[0]
    units = task_unit_list_for_review(batch_id=batch.pk, user=request.user)  # type: ignore[arg-type]
    page = Paginator(units, per_page).get_page(request.GET.get("page"))
    for unit in page.object_list:
        unit.payload_rows = _payload_rows(unit.payload, batch.payload_columns)  # type: ignore[attr-defined]
        unit.result_is_structured = isinstance(unit.result, dict | list)  # type: ignore[attr-defined]
        unit.worker_accuracy = accuracy_percent(  # type: ignore[attr-defined]
            answered=unit.worker_gold_answered,  # type: ignore[attr-defined]
            correct=unit.worker_gold_correct,  # type: ignore[attr-defined]
        )
    context = {
        "gig": gig,
        "batch": batch,
        "page": page,
        "per_page": per_page,
        "page_sizes": REVIEW_PAGE_SIZES,
        "reject_form": TaskUnitRejectForm(),
    }
    return render(request, "marketplace/microtasks/review_queue.html", context)


def _after_review(request: HttpRequest, gig_id: int) -> HttpResponse:
    return redirect(_review_page_url(gig_id, request.POST.get("page"), request.POST.get("per_page")))


@login_required
@require_POST
def task_unit_accept_view(request: HttpRequest, gig_id: int, unit_id: int) -> HttpResponse:
    unit = services.task_unit_accept(unit_id=unit_id, by=request.user)  # type: ignore[arg-type]
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "marketplace/microtasks/review_queue.html#reviewed", {"unit": unit})
    messages.success(request, f"Unit {unit.external_id} accepted.")
    return _after_review(request, gig_id)


@login_required
@require_POST
def task_unit_reject_view(request: HttpRequest, gig_id: int, unit_id: int) -> HttpResponse:
    form = TaskUnitRejectForm(request.POST)
    reason = form.data.get("reason", "")
    unit = services.task_unit_reject(unit_id=unit_id, by=request.user, reason=reason)  # type: ignore[arg-type]
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "marketplace/microtasks/review_queue.html#reviewed", {"unit": unit})
    messages.success(request, f"Unit {unit.external_id} rejected.")
    return _after_review(request, gig_id)


@login_required
@require_POST
def task_units_bulk_review_view(request: HttpRequest, gig_id: int) -> HttpResponse:
    batch = task_batch_get_for_client(gig_id=gig_id, user=request.user)  # type: ignore[arg-type]
    form = TaskUnitsBulkReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Select at least one unit, then choose accept or reject.")
        return _after_review(request, gig_id)
    unit_ids, action = form.cleaned_data["unit_ids"], form.cleaned_data["action"]
    if action == TaskUnitsBulkReviewForm.ACCEPT:
        result = services.task_units_accept(batch_id=batch.pk, unit_ids=unit_ids, by=request.user)  # type: ignore[arg-type]
    else:
        result = services.task_units_reject(
            batch_id=batch.pk,
            unit_ids=unit_ids,
            by=request.user,  # type: ignore[arg-type]
            reason=form.cleaned_data["reason"],
        )
    verb = "accepted" if action == TaskUnitsBulkReviewForm.ACCEPT else "rejected"
    note = f" {result.skipped} had already been reviewed." if result.skipped else ""
    messages.success(request, f"{result.reviewed} {'unit' if result.reviewed == 1 else 'units'} {verb}.{note}")
    return _after_review(request, gig_id)


urlpatterns: list[URLPattern] = [
    # Worker
    path("work/tasks/", task_batch_list_for_worker_view, name="task_batch_list_for_worker"),
    path("work/tasks/<int:batch_id>/", task_work_view, name="task_work"),
    path("work/tasks/<int:batch_id>/claim/", task_unit_claim_view, name="task_unit_claim"),
    path("work/tasks/<int:batch_id>/units/<int:unit_id>/submit/", task_unit_submit_view, name="task_unit_submit"),
    # Client
    path("gigs/<int:gig_id>/batch/", task_batch_detail_view, name="task_batch_detail"),
    path("gigs/<int:gig_id>/batch/new/", task_batch_create_view, name="task_batch_create"),
    path("gigs/<int:gig_id>/batch/edit/", task_batch_edit_view, name="task_batch_edit"),
    path("gigs/<int:gig_id>/batch/open/", task_batch_open_view, name="task_batch_open"),
    path("gigs/<int:gig_id>/batch/close/", task_batch_close_view, name="task_batch_close"),
    path("gigs/<int:gig_id>/batch/units/import/", task_units_import_view, name="task_units_import"),
    path("gigs/<int:gig_id>/batch/review/", task_unit_review_list_view, name="task_unit_review_list"),
    path("gigs/<int:gig_id>/batch/review/bulk/", task_units_bulk_review_view, name="task_units_bulk_review"),
    path("gigs/<int:gig_id>/batch/units/<int:unit_id>/accept/", task_unit_accept_view, name="task_unit_accept"),
    path("gigs/<int:gig_id>/batch/units/<int:unit_id>/reject/", task_unit_reject_view, name="task_unit_reject"),
]
