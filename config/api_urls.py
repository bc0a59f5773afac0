"""`/api/v1/`: every app's API routes (each app's api_urls.py), and the schema with its offline viewers."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("v1/", include("marketplace.api_urls")),
    path("v1/", include("talent.api_urls")),
    path("v1/", include("engagements.api_urls")),
    path("v1/", include("billing.api_urls")),
    path("v1/", include("compliance.api_urls")),
    path("v1/", include("core.api_urls")),
    path("v1/", include("accounts.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
