"""Admin for micro-task batches and units: ops staff look, filter and search; state changes go through the
services (clients review units on the site), so status fields are read-only here."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from marketplace.models import TaskBatch, TaskUnit


@admin.register(TaskBatch)
class TaskBatchAdmin(admin.ModelAdmin):
    list_display = ["id", "gig", "organization", "status", "unit_price", "currency", "time_limit_minutes", "created_at"]
    list_filter = ["status", "currency"]
    search_fields = ["gig__title", "gig__organization__name"]
    list_select_related = ["gig", "gig__organization"]
    raw_id_fields = ["gig", "created_by"]
    readonly_fields = ["status", "opened_at", "closed_at", "created_at", "updated_at", "created_by", "gig"]
    date_hierarchy = "created_at"

    @admin.display(ordering="gig__organization__name")
    def organization(self, obj: TaskBatch) -> str:
        return obj.gig.organization.name

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # batches are created by clients on the site, with the checks the service makes


@admin.register(TaskUnit)
class TaskUnitAdmin(admin.ModelAdmin):
    list_display = ["id", "external_id", "batch", "status", "is_gold", "claimed_by", "leased_until", "submitted_at"]
    list_filter = ["status", "is_gold"]
    search_fields = ["external_id", "claimed_by__email"]
    list_select_related = ["batch", "claimed_by"]
    raw_id_fields = ["batch", "claimed_by", "reviewed_by"]
    show_full_result_count = False  # batches hold tens of thousands of units: skip the extra COUNT(*)
    readonly_fields = [
        "batch",
        "external_id",
        "status",
        "claimed_by",
        "leased_until",
        "submitted_at",
        "result",
        "is_gold_correct",
        "reviewed_by",
        "reviewed_at",
        "rejection_reason",
        "earned_amount",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # units come from the client's upload (task_units_import), all or nothing
