"""Admin for the sanctions list (read-only: it changes only by `manage.py sanctions_load`), data exports (read-only;
ops never download a person's export) and erasure requests (confirm or decline, through the services).

Compliance reviewers (`compliance.review_compliance`) and superusers see these and decide erasures; the services
check that again and audit each decision. Imported by compliance/admin.py.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.models import User
from compliance.models import DataExportRequest, ErasureRequest, SanctionsEntry
from compliance.services import data_rights
from core.errors import ApplicationError


def _is_reviewer(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and user.has_perm(data_rights.REVIEW_PERMISSION))


class _ReadOnlyForReviewers(admin.ModelAdmin):
    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return super().has_view_permission(request, obj) or _is_reviewer(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or _is_reviewer(request)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SanctionsEntry)
class SanctionsEntryAdmin(_ReadOnlyForReviewers):
    list_display = ("name", "is_alias", "primary_name", "kind", "programs", "list_entry_id", "list_source", "list_date")
    list_filter = ("kind", "is_alias", "list_source")
    search_fields = ("name", "primary_name", "=list_entry_id", "programs")
    ordering = ("primary_name", "is_alias", "name")
    show_facets = admin.ShowFacets.NEVER
    fields = (
        "name",
        "normalized_name",
        "primary_name",
        "is_alias",
        "kind",
        "programs",
        "remarks",
        "list_entry_id",
        "list_source",
        "list_date",
        "loaded_at",
    )
    readonly_fields = fields


@admin.register(DataExportRequest)
class DataExportRequestAdmin(_ReadOnlyForReviewers):
    list_display = ("pk", "user_id", "status", "created_at", "finished_at", "expires_at")
    list_filter = ("status",)
    search_fields = ("=user__id", "user__email")
    ordering = ("-created_at",)
    fields = ("user", "status", "created_at", "finished_at", "expires_at")
    readonly_fields = fields


class ErasureNoteForm(forms.Form):
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Confirming: optional. Declining: required — why (shown to the person on their data page).",
    )


@admin.register(ErasureRequest)
class ErasureRequestAdmin(_ReadOnlyForReviewers):
    list_display = ("pk", "user_id", "person", "status", "requested_at", "confirmed_by", "done_at")
    list_filter = ("status",)
    list_select_related = ("user", "confirmed_by")
    search_fields = ("=user__id", "user__email")
    ordering = ("-requested_at",)
    actions = ("confirm_erasure", "decline_erasure")
    fields = (
        "user",
        "status",
        "requested_at",
        "confirmed_by",
        "confirmed_at",
        "decision_note",
        "done_at",
        "open_business",
        "summary",
    )
    readonly_fields = fields

    def has_review_permission(self, request: HttpRequest) -> bool:
        return _is_reviewer(request)

    @admin.display(description="Person")
    def person(self, request_row: ErasureRequest) -> str:
        return request_row.user.email

    @admin.display(description="Open business (check before confirming)")
    def open_business(self, request_row: ErasureRequest) -> str:
        return data_rights.erasure_open_business(user=request_row.user) or "None."

    @admin.action(description="Confirm erasure (anonymise the person's data now)", permissions=["review"])
    def confirm_erasure(self, request: HttpRequest, queryset: QuerySet[ErasureRequest]) -> HttpResponse | None:
        return self._decide(request, queryset, confirm=True)

    @admin.action(description="Decline erasure (with reason)", permissions=["review"])
    def decline_erasure(self, request: HttpRequest, queryset: QuerySet[ErasureRequest]) -> HttpResponse | None:
        return self._decide(request, queryset, confirm=False)

    def _decide(
        self, request: HttpRequest, queryset: QuerySet[ErasureRequest], *, confirm: bool
    ) -> HttpResponse | None:
        by = request.user
        if not isinstance(by, User):
            return None
        waiting = queryset.filter(status=ErasureRequest.Status.REQUESTED).select_related("user").order_by("pk")
        form = ErasureNoteForm(request.POST if "apply" in request.POST else None)
        title = "Confirm erasure" if confirm else "Decline erasure"
        if "apply" in request.POST and form.is_valid():
            done = 0
            for row in waiting:
                try:
                    if confirm:
                        data_rights.erasure_confirm(request_id=row.pk, by=by, note=form.cleaned_data["note"])
                    else:
                        data_rights.erasure_decline(request_id=row.pk, by=by, note=form.cleaned_data["note"])
                    done += 1
                except (ApplicationError, PermissionDenied, ObjectDoesNotExist) as error:
                    message = getattr(error, "message", None) or str(error) or "Not allowed."
                    self.message_user(request, f"{row}: {message}", messages.ERROR)
            if done:
                self.message_user(request, f"{title}: {done} request(s).", messages.SUCCESS)
            return None
        if not waiting.exists():
            self.message_user(request, "None of the selected requests is waiting for a decision.", messages.WARNING)
            return None
        items = [
            f"{row} — {row.user.email}. Open business: {data_rights.erasure_open_business(user=row.user) or 'none'}"
            for row in waiting
        ]
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "items": items,
            "ids": [row.pk for row in waiting],
            "skipped": queryset.count() - waiting.count(),
            "form": form,
            "action": "confirm_erasure" if confirm else "decline_erasure",
            "submit": title,
        }
        return TemplateResponse(request, "admin/compliance/decide.html", context)
