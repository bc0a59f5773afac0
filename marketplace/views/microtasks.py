"""Micro-task pages: the worker's claim → do → submit screen and the client's review queue."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
