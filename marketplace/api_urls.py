from django.urls import path

from marketplace import api

urlpatterns = [
    path("gigs/", api.GigListCreateApi.as_view(), name="api-gig-list"),
    path("gigs/search/", api.GigSearchApi.as_view(), name="api-gig-search"),
    path("gigs/<int:gig_id>/", api.GigDetailApi.as_view(), name="api-gig-detail"),
    path("gigs/<int:gig_id>/publish/", api.GigPublishApi.as_view(), name="api-gig-publish"),
    path("gigs/<int:gig_id>/cancel/", api.GigCancelApi.as_view(), name="api-gig-cancel"),
]
