"""Two ways money could move twice, closed: retrying a failed payout whose transfer Stripe made after all, and
paying an old payment attempt after a newer one was started."""

from decimal import Decimal

import pytest

from billing import services
from billing.models import Payment, Payout
from billing.services.payments import stripe_api
from core.errors import ApplicationError
from engagements.services import MilestoneInput, milestone_create, milestone_fund
from tests.billing.test_payouts import _fund_payables, make_compliant, onboarded_payout_account
from tests.factories import UserFactory


@pytest.mark.django_db
def test_a_failed_payout_whose_transfer_exists_is_not_retried(stripe_standin) -> None:
    user, finance = UserFactory(), UserFactory(is_staff=True)
    make_compliant(user)
    account = onboarded_payout_account(stripe_standin, user=user)
    _fund_payables({user: Decimal("80.00")})
    (payout_id,) = services.payouts_create_due()
    Payout.objects.filter(pk=payout_id).update(status="failed", last_error="Stripe did not answer")
    transfer = stripe_api().v1.transfers.create(
        params={
            "amount": 8000,
            "currency": "usd",
            "destination": account.stripe_account_id,
            "transfer_group": f"payout-{payout_id}",
        }
    )

    with pytest.raises(ApplicationError, match=f"Stripe already made transfer {transfer.id} for this payout"):
        services.payout_retry(payout_id=payout_id, by=finance)

    payout = Payout.objects.get()
    assert (payout.status, payout.manual_retries, payout.idempotency_key) == ("failed", 0, f"payout-{payout_id}")
    assert len(stripe_standin.transfers()) == 1


@pytest.mark.django_db
def test_an_old_payment_attempt_cannot_be_paid_once_a_newer_one_exists(
    hire, stripe_standin, deliver_stripe_events
) -> None:
    contract, member, _freelancer = hire()
    milestone = milestone_create(
        contract_id=contract.pk, data=MilestoneInput(title="Design", amount=Decimal("100.00")), by=member.user
    )
    first = milestone_fund(milestone_id=milestone.pk, by=member.user)
    with pytest.raises(ApplicationError):
        services.payment_confirm(payment_id=first.pk, payment_method="pm_card_chargeDeclined", by=member.user)
    deliver_stripe_events()  # payment_intent.payment_failed
    assert Payment.objects.get(pk=first.pk).status == "failed"
    second = milestone_fund(milestone_id=milestone.pk, by=member.user)

    with pytest.raises(ApplicationError, match=r"This payment was replaced by a newer one; pay that one instead\."):
        services.payment_confirm(payment_id=first.pk, payment_method="pm_card_visa", by=member.user)

    assert second.pk != first.pk
    succeeded = [pi for pi in stripe_standin.objects("payment_intent") if pi["status"] == "succeeded"]
    assert succeeded == []
