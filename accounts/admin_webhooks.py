"""Ops admin of webhook subscriptions and deliveries (imported by accounts/admin.py).

Read-only: subscriptions are made and deleted by their organisations (settings page, API). Ops look at what was
sent and what the endpoints answered, and replay deliveries through the same service the settings page uses
(it needs `accounts.change_webhookdelivery`). Signing secrets are never shown.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from accounts.webhooks import webhook_delivery_replay
from core.errors import ApplicationError


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(_ReadOnlyAdmin):
    list_display = ("id", "url", "organization", "user", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "organization__name", "user__email")
    list_select_related = ("organization", "user")
    fields = ("organization", "user", "url", "events", "is_active", "created_by", "created_at")
    readonly_fields = fields


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    fields = ("attempted_at", "status_code", "error", "duration_ms")
    readonly_fields = fields
    ordering = ("id",)
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnlyAdmin):
    list_display = (
        "id",
        "event_type",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event_type")
    search_fields = ("=event_id", "=audit_event_id", "subscription__url", "subscription__organization__name")
    list_select_related = ("subscription",)
    fields = (
        "subscription",
        "event_type",
        "event_id",
        "audit_event_id",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
        "delivered_at",
        "payload",
    )
    readonly_fields = fields
    inlines = (WebhookAttemptInline,)
    actions = ("replay",)

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.change_webhookdelivery")

    @admin.action(description="Replay (send again now)", permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        replayed = 0
        for delivery in queryset.order_by("pk"):
            try:
                webhook_delivery_replay(delivery_id=delivery.pk, by=request.user)  # type: ignore[arg-type]
            except ApplicationError as exc:
                self.message_user(request, f"Delivery {delivery.pk}: {exc.message}", messages.WARNING)
            else:
                replayed += 1
        if replayed:
            noun = "delivery" if replayed == 1 else "deliveries"
            self.message_user(request, f"{replayed} {noun} queued to be sent again.", messages.SUCCESS)


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(_ReadOnlyAdmin):
    list_display = ("id", "delivery", "attempted_at", "status_code", "duration_ms")
    list_filter = ("status_code",)
    search_fields = ("=delivery__id",)
    list_select_related = ("delivery",)
    fields = ("delivery", "attempted_at", "status_code", "error", "duration_ms")
    readonly_fields = fields
