from django.urls import path

from compliance import views_data_rights as views

app_name = "compliance_data"

urlpatterns = [
    path("compliance/data/", views.data_rights_page, name="page"),
    path("compliance/data/export/<str:token>/", views.data_export_download, name="export_download"),
]
