from django.urls import path

from core import views, views_ops

app_name = "core"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("health/", views.health, name="health"),
    path("ops/", views_ops.ops_overview, name="ops_overview"),
]
