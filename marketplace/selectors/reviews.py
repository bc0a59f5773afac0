"""Review reads."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from engagements.models import Contract
from marketplace.models import Review


def review_list_for_freelancer(*, user_id: int) -> QuerySet[Review]:
    """Revealed reviews clients wrote about the freelancer (public on their profile)."""
    return (
        Review.objects.filter(contract__freelancer_id=user_id, side=Review.Side.CLIENT, revealed_at__isnull=False)
        .select_related("contract__organization")
        .order_by("-revealed_at")
    )


def review_side_for(*, contract: Contract, user: User) -> str:
    """Which side of the contract `user` reviews from; Contract.DoesNotExist (→ 404) if not a party."""
    from engagements.selectors import CLIENT, contract_side

    return Review.Side.CLIENT if contract_side(contract=contract, user=user) == CLIENT else Review.Side.WORKER


def rating_counts_for_freelancer(*, user_id: int) -> dict[int, int]:
    """How many revealed client reviews gave the freelancer each rating, 5 down to 1 (zeros included). One query."""
    from django.db.models import Count

    counts = dict(
        review_list_for_freelancer(user_id=user_id)
        .order_by()
        .values("rating")
        .annotate(count=Count("id"))
        .values_list("rating", "count")
    )
    return {stars: counts.get(stars, 0) for stars in range(5, 0, -1)}
