from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from engagements.models import Contract
from marketplace.models import Review
from marketplace.selectors.reviews import review_list_for_freelancer
from marketplace.services.bids import BidInput, bid_accept, bid_create
from marketplace.services.reviews import review_reveal_due, review_submit
from tests.factories import MembershipFactory
from tests.marketplace.conftest import make_gig


@pytest.fixture
def contract(client_member, python_skill, freelancer):
    gig = make_gig(client_member, python_skill)
    bid = bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Hi", hourly_rate=Decimal("60")), by=freelancer)
    return bid_accept(bid_id=bid.pk, by=client_member.user)


def _end(contract: Contract) -> None:
    Contract.objects.filter(pk=contract.pk).update(status="completed", ended_at=timezone.now())


@pytest.mark.django_db
def test_reviews_stay_hidden_until_both_sides_reviewed(contract, client_member, freelancer) -> None:
    _end(contract)

    review_submit(contract_id=contract.pk, by=client_member.user, rating=5, comment="Superb work.")
    assert list(review_list_for_freelancer(user_id=freelancer.pk)) == []
    freelancer.talent_profile.refresh_from_db()
    assert freelancer.talent_profile.rating_count == 0

    review_submit(contract_id=contract.pk, by=freelancer, rating=4, comment="Clear brief.")

    assert [r.comment for r in review_list_for_freelancer(user_id=freelancer.pk)] == ["Superb work."]
    profile = freelancer.talent_profile
    profile.refresh_from_db()
    assert (profile.rating_sum, profile.rating_count, profile.rating) == (5, 1, Decimal("5.00"))
    assert (profile.completed_contracts, profile.on_time_contracts) == (1, 1)


@pytest.mark.django_db
def test_a_lone_review_is_revealed_after_fourteen_days(contract, client_member, freelancer) -> None:
    _end(contract)
    review = review_submit(contract_id=contract.pk, by=client_member.user, rating=3)
    assert review_reveal_due() == 0

    Review.objects.filter(pk=review.pk).update(created_at=timezone.now() - timedelta(days=15))

    assert review_reveal_due() == 1
    assert review_reveal_due() == 0  # idempotent
    freelancer.talent_profile.refresh_from_db()
    assert freelancer.talent_profile.rating_count == 1


@pytest.mark.django_db
def test_review_refusals(contract, client_member, freelancer) -> None:
    with pytest.raises(ApplicationError, match="once the contract has ended"):
        review_submit(contract_id=contract.pk, by=client_member.user, rating=5)
    _end(contract)
    with pytest.raises(ApplicationError, match="Rate from 1 to 5"):
        review_submit(contract_id=contract.pk, by=client_member.user, rating=6)
    with pytest.raises(Contract.DoesNotExist):
        review_submit(contract_id=contract.pk, by=MembershipFactory().user, rating=5)
    review_submit(contract_id=contract.pk, by=client_member.user, rating=5)
    with pytest.raises(ApplicationError, match="already reviewed"):
        review_submit(contract_id=contract.pk, by=client_member.user, rating=1)
    assert list(Review.objects.values_list("rating", flat=True)) == [5]


@pytest.mark.django_db
def test_review_page_for_the_parties_only(client, contract, client_member, freelancer) -> None:
    _end(contract)
    client.force_login(client_member.user)

    response = client.post(f"/contracts/{contract.pk}/review/", {"rating": "5", "comment": "Great"})

    assert response.status_code == 302
    assert Review.objects.get().rating == 5
    client.force_login(MembershipFactory().user)
    assert client.get(f"/contracts/{contract.pk}/review/").status_code == 404
    client.force_login(freelancer)
    assert client.get(f"/contracts/{contract.pk}/review/").status_code == 200


@pytest.mark.django_db
def test_revealed_reviews_show_on_the_freelancers_profile(client, contract, client_member, freelancer) -> None:
    _end(contract)
    review_submit(contract_id=contract.pk, by=client_member.user, rating=5, comment="Shipped early, clean code.")
    client.force_login(client_member.user)
    assert "Shipped early" not in client.get(f"/talent/freelancers/{freelancer.pk}/").content.decode()

    review_submit(contract_id=contract.pk, by=freelancer, rating=5, comment="Great client.")

    assert "Shipped early, clean code." in client.get(f"/talent/freelancers/{freelancer.pk}/").content.decode()


@pytest.mark.django_db
def test_a_private_profile_is_visible_to_clients_the_freelancer_bid_for(
    client, client_member, python_skill, freelancer
) -> None:
    from marketplace.services.bids import BidInput, bid_create
    from tests.marketplace.conftest import make_gig

    freelancer.talent_profile.visibility = "private"
    freelancer.talent_profile.save()
    other_client = MembershipFactory(organization__kind="client").user
    gig = make_gig(client_member, python_skill)
    bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Hi", hourly_rate=Decimal("60")), by=freelancer)

    client.force_login(client_member.user)
    assert client.get(f"/talent/freelancers/{freelancer.pk}/").status_code == 200
    client.force_login(other_client)
    assert client.get(f"/talent/freelancers/{freelancer.pk}/").status_code == 404
