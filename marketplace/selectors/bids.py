"""Bid reads: the client sees the bids on its gigs; a bidder sees their own bids."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import Membership
from marketplace.models import Bid, BidTeamMember, Gig, Invitation
from marketplace.selectors.gigs import gig_get_for_client, gig_visibility_filter

if TYPE_CHECKING:
    from accounts.models import User


def bid_list_for_gig(*, gig: Gig) -> QuerySet[Bid]:
    """Bids on `gig`, which the caller got from `gig_get_for_client` (so it is the user's own), with what the
    comparison view shows, in a fixed number of queries."""
    return (
        Bid.objects.filter(gig=gig)
        .select_related("freelancer__talent_profile", "vendor__vendor_profile", "gig")
        .prefetch_related(Prefetch("team", queryset=BidTeamMember.objects.select_related("team_member")))
        .order_by("status", "-created_at")
    )


def bid_list_for_bidder(*, user: User) -> QuerySet[Bid]:
    vendor_orgs = Membership.objects.filter(user=user, organization__kind="vendor").values("organization_id")
    return (
        Bid.objects.filter(Q(freelancer=user) | Q(vendor_id__in=vendor_orgs))
        .select_related("gig__organization", "vendor")
        .order_by("-created_at")
    )


def bid_count_waiting(*, user: User, vendor_id: int | None = None) -> int:
    """How many of the user's own bids (or, with `vendor_id`, of that vendor firm's, if the user belongs to it)
    wait for the client: submitted or shortlisted. One query."""
    bids = bid_list_for_bidder(user=user)
    bids = bids.filter(vendor_id=vendor_id) if vendor_id is not None else bids.filter(freelancer=user)
    return bids.filter(status__in=(Bid.Status.SUBMITTED, Bid.Status.SHORTLISTED)).count()


def bid_get_for_bidder(*, bid_id: int, user: User) -> Bid:
    return bid_list_for_bidder(user=user).get(pk=bid_id)


def bid_get_for_client(*, bid_id: int, user: User) -> Bid:
    client_orgs = Membership.objects.filter(user=user).values("organization_id")
    return Bid.objects.select_related("gig").get(pk=bid_id, gig__organization_id__in=client_orgs)


def invitation_list_for_gig(*, gig_id: int, user: User) -> QuerySet[Invitation]:
    """Invitations to bid on a gig of one of the user's organisations (Gig.DoesNotExist → 404 for others)."""
    gig = gig_get_for_client(gig_id=gig_id, user=user)
    return (
        Invitation.objects.filter(gig=gig)
        .select_related("gig__organization", "freelancer", "vendor")
        .order_by("-created_at")
    )


def invitation_list_for_invitee(*, user: User) -> QuerySet[Invitation]:
    """Invitations sent to the user as a freelancer or to their vendor firms, for gigs they may see."""
    vendor_orgs = Membership.objects.filter(user=user, organization__kind="vendor").values("organization_id")
    visible_gigs = Gig.objects.filter(gig_visibility_filter(user=user)).values("pk")
    return (
        Invitation.objects.filter(Q(freelancer=user) | Q(vendor_id__in=vendor_orgs), gig_id__in=visible_gigs)
        .select_related("gig__organization", "freelancer", "vendor")
        .order_by("-created_at")
    )
