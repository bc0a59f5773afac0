"""Routes of the talent API under /api/v1/ (views in the app's api module)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
