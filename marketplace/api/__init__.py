"""Partner API of the marketplace: gigs, bids, invitations, matches and micro-task batches and units.

Views translate: they read the request into a service's input, call that one service or selector, and write its
result out. Input serializers list exactly the fields a caller may set, so anything else in a body (status,
organization, amounts the platform computes) is ignored.

One module per area: `gigs`, `bids` (bids and invitations), `matches` and `microtasks` (batches, units, the
worker's side). The views are re-exported here for `marketplace.api_urls`.
"""

from marketplace.api.bids import (
    BidAcceptApi,
    BidDeclineApi,
    BidListApi,
    BidShortlistApi,
    BidWithdrawApi,
    GigBidListCreateApi,
    GigInvitationListCreateApi,
    InvitationListApi,
)
from marketplace.api.gigs import GigCancelApi, GigDetailApi, GigListCreateApi, GigPublishApi, GigSearchApi
from marketplace.api.matches import GigMatchListApi, GigMatchRefreshApi
from marketplace.api.microtasks import (
    GigTaskUnitListCreateApi,
    TaskBatchApi,
    TaskBatchCloseApi,
    TaskBatchOpenApi,
    TaskUnitAcceptApi,
    TaskUnitClaimApi,
    TaskUnitRejectApi,
    TaskUnitSubmitApi,
    WorkerTaskBatchListApi,
)

__all__ = [
    "BidAcceptApi",
    "BidDeclineApi",
    "BidListApi",
    "BidShortlistApi",
    "BidWithdrawApi",
    "GigBidListCreateApi",
    "GigCancelApi",
    "GigDetailApi",
    "GigInvitationListCreateApi",
    "GigListCreateApi",
    "GigMatchListApi",
    "GigMatchRefreshApi",
    "GigPublishApi",
    "GigSearchApi",
    "GigTaskUnitListCreateApi",
    "InvitationListApi",
    "TaskBatchApi",
    "TaskBatchCloseApi",
    "TaskBatchOpenApi",
    "TaskUnitAcceptApi",
    "TaskUnitClaimApi",
    "TaskUnitRejectApi",
    "TaskUnitSubmitApi",
    "WorkerTaskBatchListApi",
]
