"""Data-rights pages: where a person asks for a copy of their data or to be erased, and the download of their
export (only for its owner, with the emailed link, until it expires; 404 for anything else)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from compliance.models import DataExportRequest, private_storage
from compliance.services import data_rights
from core.errors import ApplicationError
from core.types import AuthenticatedHttpRequest


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def data_rights_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "export":
                data_rights.data_export_request(user=request.user)
                messages.success(request, "We are preparing your data. The download link will be emailed to you.")
            elif action == "erasure" and request.POST.get("confirm") != "yes":
                messages.error(request, "Tick the box to confirm that you want your account erased.")
            elif action == "erasure":
                data_rights.erasure_request(user=request.user)
                messages.success(request, "Your erasure request is with our team; this page shows where it stands.")
        except ApplicationError as error:  # already asked: say so on the same page
            messages.warning(request, error.message)
        return redirect("compliance_data:page")
    context = {
        **data_rights.data_rights_overview(user=request.user),
        "export_days": data_rights.DATA_EXPORT_DAYS,
        "retention": [(label, reason) for label, (_fields, reason) in sorted(data_rights.RETENTION.items())],
    }
    return render(request, "compliance/data_rights.html", context)


@login_required
@never_cache
@require_http_methods(["GET"])
def data_export_download(request: AuthenticatedHttpRequest, token: str) -> FileResponse:
    try:
        export = data_rights.data_export_for_download(token=token, user=request.user)
    except DataExportRequest.DoesNotExist:
        raise Http404("This download link is not valid for your account, or it expired.") from None
    try:
        handle = private_storage.open(export.file.name, "rb")
    except FileNotFoundError:
        raise Http404("This export's file is gone; ask for a new export.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"tandem-data-{export.created_at:%Y-%m-%d}.zip",
        content_type="application/zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    return response
