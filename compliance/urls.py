from django.urls import path

from compliance import views

app_name = "compliance"

urlpatterns = [
    path("compliance/", views.checklist, name="checklist"),
    path("compliance/requirements/<int:requirement_id>/upload/", views.document_upload, name="document_upload"),
    path("compliance/documents/<int:document_id>/appeal/", views.document_appeal, name="document_appeal"),
    # The only way a stored document is served (private storage has no URL of its own).
    path("compliance/documents/<int:document_id>/file/", views.document_file, name="document_file"),
]
