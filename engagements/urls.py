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
]
