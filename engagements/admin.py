from django.contrib import admin
from django.http import HttpRequest

from engagements.models import Contract


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    """Read-only until the engagements issue adds the audited actions (pause, end, resolve disputes)."""

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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
