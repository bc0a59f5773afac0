from django.urls import path

from engagements import views

app_name = "engagements"

urlpatterns = [
    path("contracts/", views.contract_list, name="contract_list"),
    path("contracts/<int:contract_id>/", views.contract_detail, name="contract_detail"),
    path("contracts/<int:contract_id>/milestones/", views.milestone_add, name="milestone_add"),
    path("contracts/<int:contract_id>/<slug:action>/", views.contract_action, name="contract_action"),
    path("milestones/<int:milestone_id>/<slug:action>/", views.milestone_action, name="milestone_action"),
]
