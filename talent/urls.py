from django.urls import path

from talent import views

app_name = "talent"

urlpatterns = [
    # Freelancer profile
    path("profile/edit/", views.profile_edit, name="profile_edit"),
    path("profile/skills/", views.profile_skills, name="profile_skills"),
    path("profile/portfolio/", views.portfolio_add, name="portfolio_add"),
    path("profile/portfolio/<int:item_id>/remove/", views.portfolio_remove, name="portfolio_remove"),
    path("skill-row/", views.skill_row, name="skill_row"),
    path("freelancers/<int:user_id>/", views.freelancer_detail, name="freelancer_detail"),
    # Vendor firm profile
    path("vendor/edit/", views.vendor_edit, name="vendor_edit"),
    path("vendor/capabilities/", views.vendor_capabilities, name="vendor_capabilities"),
    path("vendor/certifications/", views.vendor_certification_add, name="vendor_certification_add"),
    path(
        "vendor/certifications/<int:certification_id>/remove/",
        views.vendor_certification_remove,
        name="vendor_certification_remove",
    ),
    path("vendor/rates/", views.vendor_rate_add, name="vendor_rate_add"),
    path("vendor/rates/<int:entry_id>/edit/", views.vendor_rate_edit, name="vendor_rate_edit"),
    path("vendor/rates/<int:entry_id>/remove/", views.vendor_rate_remove, name="vendor_rate_remove"),
    path("vendor/team/", views.vendor_team_add, name="vendor_team_add"),
    path("vendor/team/<int:team_member_id>/edit/", views.vendor_team_edit, name="vendor_team_edit"),
    path("vendor/team/<int:team_member_id>/remove/", views.vendor_team_remove, name="vendor_team_remove"),
    path("vendors/<int:organization_id>/", views.vendor_detail, name="vendor_detail"),
    # Client talent pools
    path("pools/", views.pool_list, name="pool_list"),
    path("pools/new/", views.pool_create, name="pool_create"),
    path("pools/<int:pool_id>/", views.pool_detail, name="pool_detail"),
    path("pools/<int:pool_id>/members/", views.pool_member_add, name="pool_member_add"),
    path("pools/<int:pool_id>/members/<int:member_id>/notes/", views.pool_member_notes, name="pool_member_notes"),
    path("pools/<int:pool_id>/members/<int:member_id>/remove/", views.pool_member_remove, name="pool_member_remove"),
]
