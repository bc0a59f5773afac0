"""Reviews after a contract ends: each side rates the other once; both are revealed together when both have
reviewed, or 14 days after the first review, and revealed ratings update the freelancer's profile stats."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone as django_timezone

from core.errors import ApplicationError
from core.services import audit_record
from engagements.models import Contract
from marketplace.models import Review
from marketplace.selectors.reviews import review_side_for
from talent.models import TalentProfile

if TYPE_CHECKING:
    from accounts.models import User

REVEAL_AFTER = timedelta(days=14)
ENDED = (Contract.Status.COMPLETED, Contract.Status.TERMINATED)


@transaction.atomic
def review_submit(*, contract_id: int, by: User, rating: int, comment: str = "") -> Review:
    contract = Contract.objects.select_for_update().get(pk=contract_id)
    side = review_side_for(contract=contract, user=by)  # 404 for anyone not a party to the contract
    if contract.status not in ENDED:
        raise ApplicationError("You can review once the contract has ended.", status=409)
    if not 1 <= rating <= 5:
        raise ApplicationError("Rate from 1 to 5 stars.", field_errors={"rating": ["Choose 1 to 5 stars."]})
    if len(comment) > 2000:
        raise ApplicationError("Keep the comment under 2,000 characters.", field_errors={"comment": ["Too long."]})
    try:
        with transaction.atomic():
            review = Review.objects.create(contract=contract, side=side, author=by, rating=rating, comment=comment)
    except IntegrityError as error:
        raise ApplicationError("You already reviewed this contract.", status=409) from error
    audit_record(
        actor=by,
        action="review.submitted",
        target=review,
        organization=contract.organization,
        data={"side": side, "rating": rating},
    )
    if Review.objects.filter(contract=contract).count() == 2:
        _reveal(Review.objects.filter(contract=contract, revealed_at__isnull=True))
    return review


def _reveal(reviews) -> int:  # type: ignore[no-untyped-def]
    contract_ids = set(reviews.values_list("contract_id", flat=True))
    count = reviews.update(revealed_at=django_timezone.now())
    freelancer_ids = set(
        Contract.objects.filter(pk__in=contract_ids, freelancer__isnull=False).values_list("freelancer_id", flat=True)
    )
    for freelancer_id in freelancer_ids:
        talent_profile_stats_refresh(user_id=freelancer_id)
    return count


@transaction.atomic
def review_reveal_due() -> int:
    """Reveal reviews whose 14 days have passed without the other side (beat, daily). Idempotent."""
    due = Review.objects.filter(revealed_at__isnull=True, created_at__lte=django_timezone.now() - REVEAL_AFTER)
    return _reveal(due)


def talent_profile_stats_refresh(*, user_id: int) -> None:
    """Recompute a freelancer's derived stats from revealed reviews and their contracts, in two queries."""
    ratings = Review.objects.filter(
        contract__freelancer_id=user_id, side=Review.Side.CLIENT, revealed_at__isnull=False
    ).aggregate(total=Sum("rating"), count=Count("id"))
    contracts = Contract.objects.filter(freelancer_id=user_id).aggregate(
        completed=Count("id", filter=Q(status=Contract.Status.COMPLETED)),
        on_time=Count(
            "id",
            filter=Q(status=Contract.Status.COMPLETED)
            & (Q(end_date__isnull=True) | Q(ended_at__date__lte=F("end_date"))),
        ),
        active=Count("id", filter=Q(status__in=[Contract.Status.ACTIVE, Contract.Status.PAUSED])),
    )
    TalentProfile.objects.filter(user_id=user_id).update(
        rating_sum=ratings["total"] or 0,
        rating_count=ratings["count"],
        completed_contracts=contracts["completed"],
        on_time_contracts=contracts["on_time"],
        active_contracts=contracts["active"],
    )
