"""Routes of the talent API under /api/v1/ (views in the app's api module)."""

from django.urls import path

from talent import api

urlpatterns = [
    path("talent/", api.TalentSearchApi.as_view(), name="api-talent-list"),
    path("talent/<int:freelancer_id>/", api.TalentDetailApi.as_view(), name="api-talent-detail"),
    path("vendors/", api.VendorSearchApi.as_view(), name="api-vendor-list"),
    path("vendors/<int:vendor_id>/", api.VendorDetailApi.as_view(), name="api-vendor-detail"),
    path("talent-pools/", api.TalentPoolListCreateApi.as_view(), name="api-talent-pool-list"),
    path("talent-pools/<int:pool_id>/", api.TalentPoolDetailApi.as_view(), name="api-talent-pool-detail"),
    path(
        "talent-pools/<int:pool_id>/members/",
        api.TalentPoolMemberListCreateApi.as_view(),
        name="api-talent-pool-member-list",
    ),
    path(
        "talent-pools/<int:pool_id>/members/<int:member_id>/",
        api.TalentPoolMemberDeleteApi.as_view(),
        name="api-talent-pool-member-detail",
    ),
]
