from django.urls import path

from engagements import views

app_name = "engagements"

urlpatterns = [
    path("contracts/", views.contract_list, name="contract_list"),
    path("contracts/<int:contract_id>/", views.contract_detail, name="contract_detail"),
    path("contracts/<int:contract_id>/milestones/", views.milestone_add, name="milestone_add"),
    path("milestones/<int:milestone_id>/<slug:action>/", views.milestone_action, name="milestone_action"),
    path("contracts/<int:contract_id>/time/", views.time_entry_add, name="time_entry_add"),
    path("time-entries/<int:entry_id>/remove/", views.time_entry_remove, name="time_entry_remove"),
    path("timesheets/<int:timesheet_id>/<slug:action>/", views.timesheet_action, name="timesheet_action"),
    path("contracts/<int:contract_id>/<slug:action>/", views.contract_action, name="contract_action"),
    path("sows/", views.sow_list, name="sow_list"),
    path("sows/new/", views.sow_create, name="sow_create"),
    path("sows/<int:sow_id>/", views.sow_detail, name="sow_detail"),
    path("sows/<int:sow_id>/edit/", views.sow_edit, name="sow_edit"),
    path("sows/<int:sow_id>/sla/", views.sow_sla, name="sow_sla"),
    path("sows/<int:sow_id>/levels/", views.service_level_set, name="service_level_set"),
    path("sows/<int:sow_id>/levels/<int:level_id>/remove/", views.service_level_remove, name="service_level_remove"),
    path("sows/<int:sow_id>/measurements/", views.measurement_add, name="measurement_add"),
    path("sows/<int:sow_id>/measurements/import/", views.measurement_import, name="measurement_import"),
    path("sows/<int:sow_id>/usage/", views.usage_add, name="usage_add"),
    # last: the action slug would otherwise shadow the pages above
    path("sows/<int:sow_id>/<slug:action>/", views.sow_action, name="sow_action"),
]
