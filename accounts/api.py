"""Partner API of accounts: webhook subscriptions and their deliveries (scope area "webhooks").

An organisation's key manages that organisation's subscriptions; a freelancer's key the freelancer's own. The
signing secret is in the response of the create call only. Views translate: the services in accounts/webhooks/
decide, the selectors in accounts/selectors.py scope what a caller sees.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import WEBHOOK_EVENT_TYPES, ApiKey, WebhookAttempt, WebhookDelivery, WebhookSubscription
from accounts.selectors import (
    user_context,
    webhook_delivery_get,
    webhook_delivery_list_for_subscription,
    webhook_subscription_list_for_user,
)
from accounts.webhooks import webhook_delivery_replay, webhook_subscription_create, webhook_subscription_delete
from core.types import api_user


def _acting_organization_id(request: Request) -> int | None:
    """Whose webhooks: an organisation key's organisation, none for a freelancer's key (their own); a signed-in
    person's organisation chosen in the session, or none for a freelancer."""
    if isinstance(request.auth, ApiKey):
        return request.auth.organization_id
    context = user_context(user=api_user(request), session=request.session)
    return context.organization.pk if context.organization is not None else None


class WebhookSubscriptionOutputSerializer(serializers.ModelSerializer):
    url = serializers.CharField(read_only=True)

    class Meta:
        model = WebhookSubscription
        fields = ["id", "organization", "url", "events", "is_active", "created_at"]
        read_only_fields = fields


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionOutputSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret (whsec_…): shown in this response only, store it now."
    )

    class Meta(WebhookSubscriptionOutputSerializer.Meta):
        fields = [*WebhookSubscriptionOutputSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookSubscriptionInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text="https:// URL of your endpoint (public address).")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(WEBHOOK_EVENT_TYPES)), allow_empty=False, max_length=20
    )


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "error", "duration_ms"]
        read_only_fields = fields


class WebhookDeliveryOutputSerializer(serializers.ModelSerializer):
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "event_type",
            "event_id",
            "status",
            "attempts",
            "last_status_code",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "payload",
            "attempt_log",
        ]
        read_only_fields = fields


class WebhookDeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)
    event_type = django_filters.ChoiceFilter(choices=[(event, event) for event in WEBHOOK_EVENT_TYPES])

    class Meta:
        model = WebhookDelivery
        fields = ["status", "event_type"]


class WebhookSubscriptionListCreateApi(generics.ListAPIView):
    """The caller's webhook subscriptions, newest first; POST subscribes a URL (the response has the secret)."""

    scope_area = "webhooks"
    serializer_class = WebhookSubscriptionOutputSerializer
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no caller
            return WebhookSubscription.objects.none()
        return webhook_subscription_list_for_user(
            user=api_user(self.request), organization_id=_acting_organization_id(self.request)
        )

    @extend_schema(request=WebhookSubscriptionInputSerializer, responses={201: WebhookSubscriptionCreatedSerializer})
    def post(self, request: Request) -> Response:
        serializer = WebhookSubscriptionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription, secret = webhook_subscription_create(
            by=api_user(request),
            url=serializer.validated_data["url"],
            events=serializer.validated_data["events"],
            organization_id=_acting_organization_id(request),
        )
        subscription.secret = secret  # type: ignore[attr-defined]  # shown once, never stored in plain
        return Response(WebhookSubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED)


class WebhookSubscriptionDetailApi(APIView):
    scope_area = "webhooks"

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, subscription_id: int) -> Response:
        webhook_subscription_delete(subscription_id=subscription_id, by=api_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListApi(generics.ListAPIView):
    """A subscription's deliveries, newest first, each with its attempts and their response codes."""

    scope_area = "webhooks"
    serializer_class = WebhookDeliveryOutputSerializer
    filterset_class = WebhookDeliveryFilter
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no subscription to read
            return WebhookDelivery.objects.none()
        return webhook_delivery_list_for_subscription(
            subscription_id=self.kwargs["subscription_id"], user=api_user(self.request)
        )


class WebhookDeliveryReplayApi(APIView):
    """Send a delivery again now (queued; its status and log show the outcome)."""

    scope_area = "webhooks"

    @extend_schema(request=None, responses=WebhookDeliveryOutputSerializer)
    def post(self, request: Request, delivery_id: int) -> Response:
        delivery = webhook_delivery_replay(delivery_id=delivery_id, by=api_user(request))
        fresh = webhook_delivery_get(delivery_id=delivery.pk, user=api_user(request))
        return Response(WebhookDeliveryOutputSerializer(fresh).data)
