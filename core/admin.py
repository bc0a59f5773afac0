"""The audit trail for ops: read-only for everyone (superusers too: the database refuses changes anyway), filtered
by app, action, organisation, actor and date, searchable, and exported as CSV, either the selected events (the
"Export CSV" action) or the whole filtered list (the "Export CSV" button, `export/` with the list's query string).

Exports stream rows from a server-side cursor, so an export of millions of events never sits in memory. Filters
that would need a DISTINCT over the whole table to list their choices (action, organisation, actor) are typed in
instead, so the list costs the same few queries however long the trail grows.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import URLPattern, path
from django.utils import timezone

from core.models import AuditEvent
from core.services import audit_record

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices

EXPORT_COLUMNS = (
    ("sequence", "sequence"),
    ("created_at", "created_at"),
    ("action", "action"),
    ("actor_id", "actor_id"),
    ("actor_label", "actor"),
    ("organization_id", "organization_id"),
    ("organization__name", "organization"),
    ("target_type", "target_type"),
    ("target_id", "target_id"),
    ("target_label", "target"),
    ("from_state", "from_state"),
    ("to_state", "to_state"),
    ("data", "data"),
    ("previous_hash", "previous_hash"),
    ("hash", "hash"),
)
# Spreadsheets run a cell that starts like a formula; labels and data come from users.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PROJECT_APPS = ("accounts", "billing", "compliance", "core", "engagements", "marketplace", "talent")


class _Echo:
    """csv.writer writes each row here and gets it back, so rows can be streamed one by one."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False)
    elif hasattr(value, "isoformat"):
        value = value.isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def audit_events_csv(queryset: QuerySet[AuditEvent]) -> Iterator[str]:
    """The events as CSV lines, in the order they were recorded, read in chunks from a server-side cursor."""
    writer = csv.writer(_Echo())
    yield writer.writerow([header for _, header in EXPORT_COLUMNS])
    rows = queryset.order_by("id").values_list(*(field for field, _ in EXPORT_COLUMNS))
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow([_csv_cell(value) for value in row])


class InputFilter(admin.SimpleListFilter):
    """A list filter typed into a text box (its choices would be too many to list)."""

    template = "admin/core/input_filter.html"
    placeholder = ""
    hidden_params: list[tuple[str, str]]

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return []

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: ChangeList) -> Iterator[_ListFilterChoices]:
        # The template reads the box from the filter (`spec`); the one choice is the link that clears it.
        self.hidden_params = [
            (name, value)  # the other filters, the search and the ordering stay; the page starts again
            for name, values in changelist.filter_params.items()
            if name not in (self.parameter_name, PAGE_VAR)
            for value in values
        ]
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[str(self.parameter_name), PAGE_VAR]),
            "display": "Clear",
        }


class ActionFilter(InputFilter):
    title = "action"
    parameter_name = "action"
    placeholder = "contract. or sow.signed"

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        value = (self.value() or "").strip()
        return queryset.filter(action__startswith=value) if value else queryset


class OrganizationFilter(InputFilter):
    title = "organisation"
    parameter_name = "organization"
    placeholder = "id or name"

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        if value.isdigit():
            return queryset.filter(organization_id=int(value))
        return queryset.filter(organization__name__icontains=value)


class ActorFilter(InputFilter):
    title = "actor"
    parameter_name = "actor"
    placeholder = "user id, email or system"

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        if value.isdigit():
            return queryset.filter(actor_id=int(value))
        return queryset.filter(actor_label__icontains=value)


class AppFilter(admin.SimpleListFilter):
    """Which app's object the event is about (its target type's app label)."""

    title = "app"
    parameter_name = "app"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(label, label) for label in PROJECT_APPS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        value = self.value()
        return queryset.filter(target_type__startswith=f"{value}.") if value in PROJECT_APPS else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: audit events are append-only (the database refuses UPDATE and DELETE)."""

    list_display = (
        "chain_place",
        "created_at",
        "action",
        "actor_label",
        "organization",
        "target_type",
        "target_id",
        "from_state",
        "to_state",
    )
    list_display_links = ("chain_place",)
    list_filter = (AppFilter, ActionFilter, OrganizationFilter, ActorFilter)
    search_fields = ("=action", "actor_label", "target_label", "=target_id")
    date_hierarchy = "created_at"
    list_select_related = ("organization",)
    ordering = ("-id",)
    show_facets = admin.ShowFacets.NEVER  # facet counts are a full-table GROUP BY per filter
    show_full_result_count = False  # a COUNT(*) of the whole trail on every page adds nothing
    actions = ("export_csv",)

    @admin.display(description="Sequence", ordering="sequence")
    def chain_place(self, event: AuditEvent) -> str:
        """Its place in the chain, or "pending" for the seconds until audit_seal chains it."""
        return str(event.sequence) if event.sequence is not None else "pending"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    # --- export -------------------------------------------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        export = path("export/", self.admin_site.admin_view(self.export_view), name="core_auditevent_export")
        return [export, *super().get_urls()]

    @admin.action(description="Export CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> StreamingHttpResponse:
        return self._csv_response(request, queryset, scope="selected")

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        """Everything the change list shows with the same filters, search and dates, on all its pages."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return self._csv_response(request, changelist.get_queryset(request), scope=request.GET.urlencode())

    def _csv_response(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent], *, scope: str
    ) -> StreamingHttpResponse:
        # Who took a copy of the trail, and of which part, is itself part of the trail.
        with transaction.atomic():
            audit_record(actor=request.user, action="audit.exported", data={"scope": scope[:500]})  # type: ignore[arg-type]
        filename = f"audit-events-{timezone.now():%Y%m%d-%H%M%S}.csv"
        return StreamingHttpResponse(
            audit_events_csv(queryset),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
