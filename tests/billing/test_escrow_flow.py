"""Fixed-price money end to end through the real stripe library and the stand-in: fund a milestone (payment
confirmed only by a verified webhook), release it in parts, refund what is left, pay the worker out."""

import random
from decimal import Decimal

import pytest
from django.test import Client

from billing import services
from billing.models import Invoice, LedgerAccount, Payment, Payout, PayoutAccount, StripeEvent
from engagements.models import Milestone
from engagements.services import MilestoneInput, milestone_approve, milestone_create, milestone_submit


def deliver(client: Client, standin, *, shuffle: bool = False, times: int = 1) -> list[int]:
    """POST every stand-in event to the webhook endpoint (signed), then process what was stored."""
    ids = [event["id"] for event in standin.events()] * times
    if shuffle:
        random.Random(7).shuffle(ids)
    statuses = []
    for event_id in ids:
        body, headers = standin.webhook_request(event_id)
        response = client.post(
            "/billing/stripe/webhook/",
            body,
            content_type=headers["Content-Type"],
            HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
        )
        statuses.append(response.status_code)
    for event_id in ids:
        services.stripe_event_process(event_id=event_id)
    return statuses


def balance(kind: str, **owner) -> Decimal:
    account = LedgerAccount.objects.filter(kind=kind, **owner).first()
    return account.balance if account else Decimal("0")


@pytest.fixture
def funded(hire, stripe_standin, client: Client):
    contract, member, freelancer = hire()
    milestone = milestone_create(
        contract_id=contract.pk, data=MilestoneInput(title="Checkout", amount=Decimal("400.00")), by=member.user
    )
    client.force_login(member.user)
    response = client.post(f"/milestones/{milestone.pk}/fund/")
    payment = Payment.objects.get()
    assert response.url == f"/billing/payments/{payment.pk}/pay/"
    client.post(f"/billing/payments/{payment.pk}/pay/", {"payment_method": "pm_card_visa"})
    return contract, member, freelancer, milestone, payment


@pytest.mark.django_db
def test_funding_counts_only_when_the_verified_webhook_arrives(funded, stripe_standin, client: Client) -> None:
    contract, _member, _freelancer, milestone, payment = funded
    milestone.refresh_from_db()
    payment.refresh_from_db()
    assert (milestone.status, payment.status) == ("pending", "processing")

    statuses = deliver(client, stripe_standin, shuffle=True, times=3)

    assert set(statuses) == {200}
    milestone.refresh_from_db()
    payment.refresh_from_db()
    assert (milestone.status, payment.status) == ("funded", "succeeded")
    assert (payment.work_amount, payment.client_fee, payment.amount) == (
        Decimal("400.00"),
        Decimal("20.00"),
        Decimal("420.00"),
    )
    assert balance("client_escrow", organization=contract.organization) == Decimal("400.00")
    assert balance("platform_revenue", currency="USD") == Decimal("20.00")
    assert balance("processor_clearing", currency="USD") == Decimal("420.00")
    receipt = Invoice.objects.get()
    assert (receipt.kind, receipt.status, receipt.total) == ("milestone", "paid", Decimal("420.00"))
    assert StripeEvent.objects.filter(status="processed").count() >= 1


@pytest.mark.django_db
def test_forged_tampered_and_stale_webhooks_are_refused_and_change_nothing(
    funded, stripe_standin, client: Client
) -> None:
    _contract, _member, _freelancer, milestone, _payment = funded
    event_id = stripe_standin.events("payment_intent.succeeded")[0]["id"]
    body, headers = stripe_standin.webhook_request(event_id)
    _stale_body, stale_headers = stripe_standin.webhook_request(event_id, timestamp=1_600_000_000)
    attempts = {
        "unsigned": (body, ""),
        "forged": (body, "t=1700000000,v1=" + "0" * 64),
        "tampered": (body.replace(b'"succeeded"', b'"SUCCEEDED"', 1), headers["Stripe-Signature"]),
        "stale": (body, stale_headers["Stripe-Signature"]),
    }

    results = {
        name: client.post(
            "/billing/stripe/webhook/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
        for name, (payload, signature) in attempts.items()
    }

    assert {name: response.status_code for name, response in results.items()} == dict.fromkeys(attempts, 400)
    assert "signature" in results["forged"].json()["error"].lower()
    assert StripeEvent.objects.count() == 0
    milestone.refresh_from_db()
    assert milestone.status == "pending"


@pytest.mark.django_db
def test_partial_release_then_refund_of_the_rest_and_a_payout(funded, stripe_standin, client: Client) -> None:
    contract, member, freelancer, milestone, payment = funded
    deliver(client, stripe_standin)
    milestone_submit(milestone_id=milestone.pk, by=freelancer)
    milestone_approve(milestone_id=milestone.pk, by=member.user)
    client.post(f"/milestones/{milestone.pk}/release/", {"amount": "150.00"})
    client.post(f"/contracts/{contract.pk}/terminate/", {"reason": "Project cancelled"})

    client.post(f"/milestones/{milestone.pk}/refund/", {"reason": "Project cancelled"})
    deliver(client, stripe_standin)

    milestone.refresh_from_db()
    assert (milestone.released_amount, milestone.refunded_amount, milestone.status) == (
        Decimal("150.00"),
        Decimal("250.00"),
        "refunded",
    )
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("262.50")  # 250 of work and its 5 % fee
    assert balance("client_escrow", organization=contract.organization) == Decimal("0.00")
    assert balance("worker_payable", user=freelancer) == Decimal("135.00")  # 150 less the 10 % service fee
    assert balance("platform_revenue", currency="USD") == Decimal("22.50")  # 7.50 kept client fee + 15 service fee

    account = stripe_standin.objects("account")  # none yet
    assert account == []
    PayoutAccount.objects.create(user=freelancer, stripe_account_id=_express_account(stripe_standin), country="GB")
    stripe_standin.complete_onboarding(PayoutAccount.objects.get().stripe_account_id)
    deliver(client, stripe_standin)
    created = services.payouts_create_due()
    services.payout_send(payout_id=created[0])
    services.payout_send(payout_id=created[0])

    payout = Payout.objects.get()
    assert (payout.status, payout.amount) == ("paid", Decimal("135.00"))
    assert len(stripe_standin.transfers()) == 1
    assert balance("worker_payable", user=freelancer) == Decimal("0.00")
    assert balance("processor_clearing", currency="USD") == Decimal("22.50")


def _express_account(standin) -> str:
    from billing.services.payments import stripe_api

    return stripe_api().v1.accounts.create(params={"type": "express", "country": "GB", "email": "w@example.com"}).id


@pytest.mark.django_db
def test_a_declined_card_says_so_and_nothing_is_funded(hire, stripe_standin, client: Client) -> None:
    contract, member, _freelancer = hire()
    milestone = milestone_create(
        contract_id=contract.pk, data=MilestoneInput(title="Design", amount=Decimal("100.00")), by=member.user
    )
    client.force_login(member.user)
    client.post(f"/milestones/{milestone.pk}/fund/")
    payment = Payment.objects.get()

    response = client.post(f"/billing/payments/{payment.pk}/pay/", {"payment_method": "pm_card_chargeDeclined"})
    deliver(client, stripe_standin)

    assert response.status_code == 400
    assert "Your card was not charged" in response.content.decode()
    payment.refresh_from_db()
    milestone.refresh_from_db()
    assert (payment.status, milestone.status) == ("failed", "pending")
    assert LedgerAccount.objects.filter(balance__gt=0).count() == 0


@pytest.mark.django_db
def test_another_organisation_cannot_see_or_pay_the_payment(funded, client: Client) -> None:
    from tests.factories import MembershipFactory

    _contract, _member, freelancer, _milestone, payment = funded

    for outsider in (MembershipFactory().user, freelancer):
        client.force_login(outsider)
        assert client.get(f"/billing/payments/{payment.pk}/pay/").status_code == 404
        assert (
            client.post(f"/billing/payments/{payment.pk}/pay/", {"payment_method": "pm_card_visa"}).status_code == 404
        )
        assert client.get(f"/billing/payments/{payment.pk}/").status_code == 404
    assert Milestone.objects.get().status == "pending"
