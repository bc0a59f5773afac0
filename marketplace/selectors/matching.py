"""Match reads: a gig's ranked candidates, for the client who owns the gig."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from marketplace.models import Gig, Match
from marketplace.selectors.gigs import gig_get_for_client

if TYPE_CHECKING:
    from accounts.models import User


def match_list_for_gig(*, gig: Gig) -> QuerySet[Match]:
    """The ranked matches of `gig`, which the caller got from `gig_get_for_client` (so it is the user's own),
    best first, with the candidate each row names."""
    return (
        Match.objects.filter(gig=gig)
        .select_related("freelancer__talent_profile", "vendor__vendor_profile")
        .order_by("rank", "id")
    )


def match_list_for_client(*, gig_id: int, user: User) -> QuerySet[Match]:
    """The ranked matches of a gig of one of the user's organisations (Gig.DoesNotExist → 404 for others)."""
    return match_list_for_gig(gig=gig_get_for_client(gig_id=gig_id, user=user))
