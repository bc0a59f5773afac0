"""Routes of the accounts API under /api/v1/ (views in the app's api module)."""

from django.urls import path

from accounts import api

urlpatterns = [
    path("webhooks/", api.WebhookSubscriptionListCreateApi.as_view(), name="api-webhook-list"),
    path("webhooks/<int:subscription_id>/", api.WebhookSubscriptionDetailApi.as_view(), name="api-webhook-detail"),
    path(
        "webhooks/<int:subscription_id>/deliveries/",
        api.WebhookDeliveryListApi.as_view(),
        name="api-webhook-delivery-list",
    ),
    path(
        "webhook-deliveries/<int:delivery_id>/replay/",
        api.WebhookDeliveryReplayApi.as_view(),
        name="api-webhook-delivery-replay",
    ),
]
