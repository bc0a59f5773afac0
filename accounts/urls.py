"""Pages of the accounts app: the partner API settings (keys, webhooks) and the developer documentation."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("settings/api/", views.api_settings, name="api_settings"),
    path("settings/api/keys/new/", views.api_key_create, name="api_key_create"),
    path("settings/api/keys/<int:key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("settings/webhooks/", views.webhook_settings, name="webhook_settings"),
    path("settings/webhooks/new/", views.webhook_create, name="webhook_create"),
    path("settings/webhooks/<int:subscription_id>/delete/", views.webhook_delete, name="webhook_delete"),
    path(
        "settings/webhooks/deliveries/<int:delivery_id>/replay/",
        views.webhook_delivery_replay,
        name="webhook_delivery_replay",
    ),
    path("developers/", views.developers, name="developers"),
]
