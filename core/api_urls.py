"""Routes of the core API under /api/v1/ (views in core.api_views)."""

from django.urls import path

from core import api_views

urlpatterns = [
    path("audit-events/", api_views.AuditEventListApi.as_view(), name="api-audit-event-list"),
]
