from django.urls import path

from marketplace import api

urlpatterns = [
    # Gigs
    path("gigs/", api.GigListCreateApi.as_view(), name="api-gig-list"),
    path("gigs/search/", api.GigSearchApi.as_view(), name="api-gig-search"),
    path("gigs/<int:gig_id>/", api.GigDetailApi.as_view(), name="api-gig-detail"),
    path("gigs/<int:gig_id>/publish/", api.GigPublishApi.as_view(), name="api-gig-publish"),
    path("gigs/<int:gig_id>/cancel/", api.GigCancelApi.as_view(), name="api-gig-cancel"),
    # Bids
    path("gigs/<int:gig_id>/bids/", api.GigBidListCreateApi.as_view(), name="api-gig-bid-list"),
    path("bids/", api.BidListApi.as_view(), name="api-bid-list"),
    path("bids/<int:bid_id>/withdraw/", api.BidWithdrawApi.as_view(), name="api-bid-withdraw"),
    path("bids/<int:bid_id>/shortlist/", api.BidShortlistApi.as_view(), name="api-bid-shortlist"),
    path("bids/<int:bid_id>/accept/", api.BidAcceptApi.as_view(), name="api-bid-accept"),
    path("bids/<int:bid_id>/decline/", api.BidDeclineApi.as_view(), name="api-bid-decline"),
    # Invitations and matches
    path("gigs/<int:gig_id>/invitations/", api.GigInvitationListCreateApi.as_view(), name="api-gig-invitation-list"),
    path("invitations/", api.InvitationListApi.as_view(), name="api-invitation-list"),
    path("gigs/<int:gig_id>/matches/", api.GigMatchListApi.as_view(), name="api-gig-match-list"),
    path("gigs/<int:gig_id>/matches/refresh/", api.GigMatchRefreshApi.as_view(), name="api-gig-match-refresh"),
    # Micro-tasks: the client's batch and units
    path("gigs/<int:gig_id>/batch/", api.TaskBatchApi.as_view(), name="api-task-batch"),
    path("gigs/<int:gig_id>/batch/open/", api.TaskBatchOpenApi.as_view(), name="api-task-batch-open"),
    path("gigs/<int:gig_id>/batch/close/", api.TaskBatchCloseApi.as_view(), name="api-task-batch-close"),
    path("gigs/<int:gig_id>/units/", api.GigTaskUnitListCreateApi.as_view(), name="api-task-unit-list"),
    path("units/<int:unit_id>/accept/", api.TaskUnitAcceptApi.as_view(), name="api-task-unit-accept"),
    path("units/<int:unit_id>/reject/", api.TaskUnitRejectApi.as_view(), name="api-task-unit-reject"),
    # Micro-tasks: the worker's side
    path("task-batches/", api.WorkerTaskBatchListApi.as_view(), name="api-worker-task-batch-list"),
    path("task-batches/<int:batch_id>/claim/", api.TaskUnitClaimApi.as_view(), name="api-task-unit-claim"),
    path("units/<int:unit_id>/submit/", api.TaskUnitSubmitApi.as_view(), name="api-task-unit-submit"),
]
