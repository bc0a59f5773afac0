import pytest
from django.db import IntegrityError, transaction

from core.models import exactly_one_of
from marketplace.models import Match
from tests.factories import MembershipFactory, UserFactory


def test_exactly_one_of_builds_an_xor_condition() -> None:
    condition = exactly_one_of("freelancer", "vendor")

    assert str(condition) == (
        "(OR: (AND: ('freelancer__isnull', False), ('vendor__isnull', True)), "
        "(AND: ('freelancer__isnull', True), ('vendor__isnull', False)))"
    )


@pytest.mark.django_db
def test_the_database_refuses_a_row_with_both_or_neither() -> None:
    from tests.factories import SkillFactory
    from tests.marketplace.conftest import make_gig

    gig = make_gig(MembershipFactory(organization__kind="client"), SkillFactory())
    vendor = MembershipFactory(organization__kind="vendor").organization

    with pytest.raises(IntegrityError), transaction.atomic():
        Match.objects.create(gig=gig, freelancer=UserFactory(), vendor=vendor, rank=1, score=1, factors={})
    with pytest.raises(IntegrityError), transaction.atomic():
        Match.objects.create(gig=gig, rank=1, score=1, factors={})
