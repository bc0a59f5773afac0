"""Routes of the compliance API under /api/v1/ (views in the app's api module)."""

from django.urls import path

from compliance import api

urlpatterns = [
    path("compliance/status/", api.ComplianceStatusApi.as_view(), name="api-compliance-status"),
    path("compliance/requirements/", api.ComplianceRequirementListApi.as_view(), name="api-compliance-requirements"),
    path(
        "contracts/<int:contract_id>/compliance/", api.ContractComplianceApi.as_view(), name="api-contract-compliance"
    ),
]
