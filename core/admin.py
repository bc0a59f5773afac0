from django.contrib import admin
from django.http import HttpRequest

from core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: audit events are append-only."""

    list_display = (
        "created_at",
        "action",
        "actor_label",
        "organization",
        "target_type",
        "target_id",
        "from_state",
        "to_state",
    )
    list_filter = ("action", "target_type", ("organization", admin.RelatedOnlyFieldListFilter))
    search_fields = ("action", "actor_label", "target_label", "target_id")
    date_hierarchy = "created_at"
    list_select_related = ("organization",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
