from django.urls import include, path

from marketplace.views import gigs, microtasks, reviews

app_name = "marketplace"

urlpatterns = [
    path("gigs/", gigs.gig_search_page, name="gig_search"),
    path("gigs/mine/", gigs.gig_list_mine, name="gig_list_mine"),
    path("gigs/new/", gigs.gig_edit, name="gig_create"),
    path("gigs/<int:gig_id>/", gigs.gig_detail, name="gig_detail"),
    path("gigs/<int:gig_id>/edit/", gigs.gig_edit, name="gig_edit"),
    path("gigs/<int:gig_id>/publish/", gigs.gig_publish, name="gig_publish"),
    path("gigs/<int:gig_id>/cancel/", gigs.gig_cancel, name="gig_cancel"),
    path("gigs/<int:gig_id>/bids/", gigs.gig_bids, name="gig_bids"),
    path("gigs/<int:gig_id>/matches/", gigs.gig_matches, name="gig_matches"),
    path("gigs/<int:gig_id>/matches/refresh/", gigs.gig_matches_refresh, name="gig_matches_refresh"),
    path("gigs/<int:gig_id>/invite/", gigs.gig_invite, name="gig_invite"),
    path("bids/mine/", gigs.bid_list_mine, name="bid_list_mine"),
    path("bids/<int:bid_id>/<slug:action>/", gigs.bid_action, name="bid_action"),
    path("contracts/<int:contract_id>/review/", reviews.contract_review, name="contract_review"),
    path("", include(microtasks.urlpatterns)),
]
