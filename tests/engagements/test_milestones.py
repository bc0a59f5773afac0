import threading
from decimal import Decimal

import pytest
from django.db import connection

from billing.models import LedgerAccount, LedgerTransaction
from core.errors import ApplicationError
from engagements.models import Milestone
from engagements.services import (
    MilestoneInput,
    contract_complete,
    milestone_approve,
    milestone_create,
    milestone_fund,
    milestone_release,
    milestone_request_changes,
    milestone_submit,
)


def _milestone(contract, member, amount="400.00", title="Design") -> Milestone:
    return milestone_create(
        contract_id=contract.pk, data=MilestoneInput(title=title, amount=Decimal(amount)), by=member.user
    )


@pytest.mark.django_db
def test_milestone_lifecycle_with_a_request_for_changes_and_a_partial_release(hire, fund_milestone) -> None:
    contract, member, freelancer = hire()
    milestone = _milestone(contract, member)

    fund_milestone(milestone.pk, member.user)
    milestone_submit(milestone_id=milestone.pk, by=freelancer, note="First cut")
    milestone_request_changes(milestone_id=milestone.pk, by=member.user, note="Use our brand colours")
    milestone.refresh_from_db()
    assert (milestone.status, milestone.change_request_note) == ("funded", "Use our brand colours")
    milestone_submit(milestone_id=milestone.pk, by=freelancer, note="Colours fixed")
    milestone_approve(milestone_id=milestone.pk, by=member.user)
    milestone_release(milestone_id=milestone.pk, by=member.user, amount=Decimal("150.00"))
    milestone.refresh_from_db()
    assert (milestone.status, milestone.released_amount, milestone.remaining_amount) == (
        "approved",
        Decimal("150.00"),
        Decimal("250.00"),
    )
    with pytest.raises(ApplicationError, match="Release or settle"):
        contract_complete(contract_id=contract.pk, by=member.user)

    milestone_release(milestone_id=milestone.pk, by=member.user)

    milestone.refresh_from_db()
    assert (milestone.status, milestone.released_amount) == ("released", Decimal("400.00"))
    releases = LedgerTransaction.objects.filter(kind="escrow_released").order_by("id")
    assert [t.reference for t in releases] == [
        f"milestone:{milestone.pk}:release:0.00",
        f"milestone:{milestone.pk}:release:150.00",
    ]
    payable = LedgerAccount.objects.get(kind="worker_payable", user=freelancer)
    assert payable.balance == Decimal("360.00")  # 400 less the 10 % service fee


@pytest.mark.django_db
def test_milestone_refusals_change_nothing(hire, fund_milestone) -> None:
    contract, member, freelancer = hire()
    milestone = _milestone(contract, member)

    with pytest.raises(ApplicationError) as too_much:
        _milestone(contract, member, amount="600.00")
    assert "more than the contract's 900.00" in too_much.value.field_errors["amount"][0]
    with pytest.raises(ApplicationError, match="Only the client can fund"):
        milestone_fund(milestone_id=milestone.pk, by=freelancer)
    with pytest.raises(ApplicationError, match="cannot become Submitted"):
        milestone_submit(milestone_id=milestone.pk, by=freelancer)
    fund_milestone(milestone.pk, member.user)
    with pytest.raises(ApplicationError, match="Only the freelancer or vendor"):
        milestone_submit(milestone_id=milestone.pk, by=member.user)
    with pytest.raises(ApplicationError, match="Approve the work before releasing"):
        milestone_release(milestone_id=milestone.pk, by=member.user)
    milestone_submit(milestone_id=milestone.pk, by=freelancer)
    with pytest.raises(ApplicationError, match="Say what should change"):
        milestone_request_changes(milestone_id=milestone.pk, by=member.user, note="")
    milestone_approve(milestone_id=milestone.pk, by=member.user)
    with pytest.raises(ApplicationError, match=r"Release between 0\.01 and 400\.00 USD"):
        milestone_release(milestone_id=milestone.pk, by=member.user, amount=Decimal("400.01"))

    milestone.refresh_from_db()
    assert (milestone.status, milestone.released_amount) == ("approved", Decimal("0.00"))
    assert Milestone.objects.count() == 1


@pytest.mark.django_db
def test_hourly_contracts_have_no_milestones(hire) -> None:
    contract, member, _ = hire(kind="hourly")

    with pytest.raises(ApplicationError, match="billed by timesheet"):
        _milestone(contract, member)


@pytest.mark.django_db(transaction=True)
def test_ten_threads_releasing_one_milestone_release_it_once(hire, fund_milestone) -> None:
    contract, member, freelancer = hire()
    milestone = _milestone(contract, member)
    fund_milestone(milestone.pk, member.user)
    milestone_submit(milestone_id=milestone.pk, by=freelancer)
    milestone_approve(milestone_id=milestone.pk, by=member.user)
    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def release() -> None:
        try:
            barrier.wait()
            milestone_release(milestone_id=milestone.pk, by=member.user)
            outcomes.append("released")
        except ApplicationError as error:
            outcomes.append(str(error.status))
        finally:
            connection.close()

    threads = [threading.Thread(target=release) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["409"] * 9 + ["released"]
    assert LedgerTransaction.objects.filter(kind="escrow_released").count() == 1
    assert LedgerAccount.objects.get(kind="worker_payable", user=freelancer).balance == Decimal("360.00")
    milestone.refresh_from_db()
    assert milestone.released_amount == Decimal("400.00")
