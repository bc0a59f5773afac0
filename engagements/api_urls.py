"""Routes of the engagements API under /api/v1/ (views in the app's api module)."""

from django.urls import path

from engagements import api

urlpatterns = [
    path("contracts/", api.ContractListApi.as_view(), name="api-contract-list"),
    path("contracts/<int:contract_id>/", api.ContractDetailApi.as_view(), name="api-contract-detail"),
    path(
        "contracts/<int:contract_id>/milestones/",
        api.ContractMilestoneListCreateApi.as_view(),
        name="api-contract-milestones",
    ),
    path(
        "contracts/<int:contract_id>/timesheets/",
        api.ContractTimesheetListApi.as_view(),
        name="api-contract-timesheets",
    ),
    path(
        "contracts/<int:contract_id>/time-entries/",
        api.TimeEntryBulkCreateApi.as_view(),
        name="api-contract-time-entries",
    ),
    path("milestones/<int:milestone_id>/submit/", api.MilestoneSubmitApi.as_view(), name="api-milestone-submit"),
    path("milestones/<int:milestone_id>/approve/", api.MilestoneApproveApi.as_view(), name="api-milestone-approve"),
    path(
        "milestones/<int:milestone_id>/request-changes/",
        api.MilestoneRequestChangesApi.as_view(),
        name="api-milestone-request-changes",
    ),
    path("milestones/<int:milestone_id>/release/", api.MilestoneReleaseApi.as_view(), name="api-milestone-release"),
    path("timesheets/<int:timesheet_id>/", api.TimesheetDetailApi.as_view(), name="api-timesheet-detail"),
    path("timesheets/<int:timesheet_id>/submit/", api.TimesheetSubmitApi.as_view(), name="api-timesheet-submit"),
    path("timesheets/<int:timesheet_id>/approve/", api.TimesheetApproveApi.as_view(), name="api-timesheet-approve"),
    path("timesheets/<int:timesheet_id>/reject/", api.TimesheetRejectApi.as_view(), name="api-timesheet-reject"),
    path("sows/", api.StatementOfWorkListCreateApi.as_view(), name="api-sow-list"),
    path("sows/<int:sow_id>/", api.StatementOfWorkDetailApi.as_view(), name="api-sow-detail"),
    path("sows/<int:sow_id>/propose/", api.StatementOfWorkProposeApi.as_view(), name="api-sow-propose"),
    path("sows/<int:sow_id>/sign/", api.StatementOfWorkSignApi.as_view(), name="api-sow-sign"),
    path("sows/<int:sow_id>/service-levels/", api.ServiceLevelListSetApi.as_view(), name="api-sow-service-levels"),
    path("sows/<int:sow_id>/measurements/", api.SLAMeasurementListRecordApi.as_view(), name="api-sow-measurements"),
]
