"""Engagements admin: ops read contracts and milestones and resolve disputes. Every change goes through a
service (so it is checked and audited); rows are not edited by hand."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from core.errors import ApplicationError
from engagements.models import Contract, Milestone, TimeEntry, Timesheet
from engagements.services import contract_dispute_resolve


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MilestoneInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ("title", "amount", "released_amount", "currency", "due_date", "status")


class DisputeResolutionForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            (Contract.Status.ACTIVE, "Back to active: work continues"),
            (Contract.Status.COMPLETED, "Completed"),
            (Contract.Status.TERMINATED, "Terminated"),
        ]
    )
    resolution = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), help_text="Both sides see this text.")


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "organization",
        "freelancer",
        "vendor",
        "kind",
        "status",
        "currency",
        "start_date",
        "end_date",
    )
    list_filter = ("status", "kind", "currency")
    search_fields = ("organization__name", "freelancer__email", "freelancer__full_name", "vendor__name", "gig__title")
    list_select_related = ("organization", "freelancer", "vendor")
    inlines = (MilestoneInline,)
    actions = ("resolve_disputes",)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return super().has_view_permission(request, obj) or request.user.has_perm("engagements.resolve_dispute")

    @admin.action(description="Resolve the selected disputes", permissions=["resolve"])
    def resolve_disputes(self, request: HttpRequest, queryset: QuerySet[Contract]) -> HttpResponse | None:
        disputed = queryset.filter(status=Contract.Status.DISPUTED)
        form = DisputeResolutionForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            resolved = 0
            for contract in disputed:
                try:
                    contract_dispute_resolve(
                        contract_id=contract.pk,
                        by=request.user,  # type: ignore[arg-type]
                        outcome=form.cleaned_data["outcome"],
                        resolution=form.cleaned_data["resolution"],
                    )
                    resolved += 1
                except ApplicationError as error:
                    self.message_user(request, f"Contract {contract.pk}: {error.message}", messages.ERROR)
            self.message_user(request, f"Resolved {resolved} dispute(s).", messages.SUCCESS)
            return None
        if not disputed.exists():
            self.message_user(request, "None of the selected contracts is in dispute.", messages.WARNING)
            return None
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Resolve disputes",
            "contracts": disputed,
            "form": form,
            "action": "resolve_disputes",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/engagements/resolve_disputes.html", context)

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("engagements.resolve_dispute")


@admin.register(Milestone)
class MilestoneAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("title", "contract", "amount", "released_amount", "currency", "status", "due_date")
    list_filter = ("status", "currency")
    search_fields = ("title", "contract__organization__name")
    list_select_related = ("contract",)


class TimeEntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TimeEntry
    extra = 0
    fields = ("work_date", "start_time", "hours", "description", "evidence_url")


@admin.register(Timesheet)
class TimesheetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("week_start", "contract", "status", "total_hours", "submitted_at", "is_auto_approved")
    list_filter = ("status", "is_auto_approved")
    search_fields = ("contract__organization__name", "contract__freelancer__email", "contract__vendor__name")
    list_select_related = ("contract",)
    date_hierarchy = "week_start"
    inlines = (TimeEntryInline,)
