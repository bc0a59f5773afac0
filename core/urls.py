from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("health/", views.health, name="health"),
]
