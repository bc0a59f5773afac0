"""Stripe webhooks: anything not signed by Stripe, signed for another body, or signed too long ago is refused
(400) and changes nothing; every genuine event has its effect once, however often, concurrently and in whatever
order it arrives, including a refund event that arrives before the payment it refunds was recorded."""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from billing import services, tasks
from billing.models import (
    Invoice,
    LedgerAccount,
    LedgerTransaction,
    Payment,
    Payout,
    PayoutAccount,
    Refund,
    StripeEvent,
)
from billing.services.payments import stripe_api
from billing.stripe_standin import signature_header
from core.models import AuditEvent
from engagements.models import Milestone
from engagements.services import (
    MilestoneInput,
    milestone_approve,
    milestone_create,
    milestone_fund,
    milestone_release,
    milestone_submit,
)
from tests.billing.test_properties import assert_ledger_invariants, balance, ledger_snapshot
from tests.compliance_support import approve_all
from tests.factories import UserFactory

Kind = LedgerAccount.Kind
WEBHOOK = "/billing/stripe/webhook/"


def post_event(client: Client, standin, event_id: str) -> int:
    body, headers = standin.webhook_request(event_id)
    response = client.post(
        WEBHOOK, body, content_type=headers["Content-Type"], HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"]
    )
    return response.status_code


def deliver(client: Client, standin, event_ids: list[str]) -> list[str]:
    """POST each event to the endpoint, signed, then process it as the task would; return the outcomes."""
    statuses = [post_event(client, standin, event_id) for event_id in event_ids]
    assert set(statuses) == {200}
    return [services.stripe_event_process(event_id=event_id) for event_id in event_ids]


def pay_without_webhooks(milestone: Milestone, by) -> Payment:
    """The client pays (Stripe has the money) but no webhook has arrived yet."""
    payment = milestone_fund(milestone_id=milestone.pk, by=by)
    return services.payment_confirm(payment_id=payment.pk, payment_method="pm_card_visa", by=by)


def dashboard_refund(payment: Payment, minor_units: int) -> str:
    """Finance refunds part of a charge in Stripe's Dashboard: the product learns of it only by webhook."""
    refund = stripe_api().v1.refunds.create(
        params={"payment_intent": payment.stripe_payment_intent_id, "amount": minor_units, "reason": "duplicate"}
    )
    return refund.id


def new_account(standin, user) -> PayoutAccount:
    remote = stripe_api().v1.accounts.create(params={"type": "express", "country": "GB", "email": user.email})
    return PayoutAccount.objects.create(user=user, stripe_account_id=remote.id, country="GB")


def _funded_milestone(hire, fund_milestone, amount: str = "400.00"):
    contract, member, freelancer = hire()
    milestone = milestone_create(
        contract_id=contract.pk, data=MilestoneInput(title="Checkout", amount=Decimal(amount)), by=member.user
    )
    return contract, member, freelancer, milestone


# --- refused ---------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_forged_unsigned_tampered_and_stale_refund_and_account_events_are_refused_and_change_nothing(
    hire, fund_milestone, stripe_standin, client: Client
) -> None:
    _contract, member, freelancer, milestone = _funded_milestone(hire, fund_milestone)
    payment = fund_milestone(milestone.pk, member.user)
    account = new_account(stripe_standin, freelancer)
    refund_id = dashboard_refund(payment, 10_500)
    stripe_standin.complete_onboarding(account.stripe_account_id)
    refund_event = stripe_standin.events("refund.created")[0]
    account_event = stripe_standin.events("account.updated")[0]
    events_before, ledger_before = StripeEvent.objects.count(), ledger_snapshot()

    codes = {}
    for event, original, forged in (
        (refund_event, b'"amount": 10500', b'"amount": 42000'),
        (account_event, b'"payouts_enabled": true', b'"payouts_enabled": false'),
    ):
        body, headers = stripe_standin.webhook_request(event["id"])
        _, stale = stripe_standin.webhook_request(event["id"], timestamp=1_600_000_000)
        assert original in body
        attempts = {
            "unsigned": (body, ""),
            "forged": (body, "t=1700000000,v1=" + "0" * 64),
            "another secret": (body, signature_header(body, "whsec_someone_else")),
            "tampered": (body.replace(original, forged), headers["Stripe-Signature"]),
            "stale": (body, stale["Stripe-Signature"]),
        }
        for name, (payload, signature) in attempts.items():
            response = Client().post(WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
            codes[(event["type"], name)] = (response.status_code, response.json()["code"])

    assert codes == {
        (kind, name): (400, "signature_missing" if name == "unsigned" else "signature_invalid")
        for kind in ("refund.created", "account.updated")
        for name in ("unsigned", "forged", "another secret", "tampered", "stale")
    }
    assert (StripeEvent.objects.count(), ledger_snapshot()) == (events_before, ledger_before)
    assert Refund.objects.count() == 0
    account.refresh_from_db()
    assert (account.details_submitted, account.payouts_enabled) == (False, False)

    # The genuine events, delivered as Stripe signs them, do have their effect: the refusals above could fail.
    assert deliver(client, stripe_standin, [refund_event["id"], account_event["id"]]) == ["processed"] * 2
    refund = Refund.objects.get()
    assert (refund.stripe_refund_id, refund.amount, refund.status) == (refund_id, Decimal("105.00"), "succeeded")
    account.refresh_from_db()
    assert (account.details_submitted, account.payouts_enabled) == (True, True)


# --- order -----------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_refund_event_before_the_payment_succeeded_event_records_both_exactly_once(
    hire, stripe_standin, client: Client
) -> None:
    contract, member, _freelancer = hire()
    milestone = milestone_create(
        contract_id=contract.pk, data=MilestoneInput(title="Checkout", amount=Decimal("400.00")), by=member.user
    )
    payment = pay_without_webhooks(milestone, member.user)
    refund_id = dashboard_refund(payment, 10_500)  # 105.00 of the 420.00 charged

    refund_first = [e["id"] for e in stripe_standin.events() if e["type"] in ("refund.created", "charge.refunded")]
    assert deliver(client, stripe_standin, refund_first) == ["processed", "processed"]

    payment.refresh_from_db()
    milestone.refresh_from_db()
    assert (payment.status, payment.refunded_amount, milestone.status) == ("succeeded", Decimal("105.00"), "funded")
    assert (milestone.refunded_amount, milestone.remaining_amount) == (Decimal("100.00"), Decimal("300.00"))
    assert Refund.objects.get().stripe_refund_id == refund_id
    organization = contract.organization

    def books():
        return (
            balance(Kind.PROCESSOR_CLEARING),
            balance(Kind.CLIENT_ESCROW, organization=organization),
            balance(Kind.PLATFORM_REVENUE),
        )

    assert books() == (Decimal("315.00"), Decimal("300.00"), Decimal("15.00"))
    every = [e["id"] for e in stripe_standin.events()]
    random.Random(3).shuffle(every)
    deliver(client, stripe_standin, every * 2)

    assert books() == (Decimal("315.00"), Decimal("300.00"), Decimal("15.00"))
    assert Counter(LedgerTransaction.objects.values_list("kind", flat=True)) == {
        "escrow_funded": 1,
        "escrow_refunded": 1,
    }
    assert AuditEvent.objects.filter(action="milestone.funded").count() == 1
    assert Invoice.objects.filter(kind="milestone").count() == 1
    assert_ledger_invariants()


@pytest.mark.django_db
def test_account_events_out_of_order_leave_the_account_as_stripe_has_it(stripe_standin, client: Client) -> None:
    user = UserFactory()
    approve_all(user=user)  # the compliance gate is met: only the account decides
    account = new_account(stripe_standin, user)
    stripe_api().v1.accounts.update(account.stripe_account_id, params={"email": "new@example.com"})
    stripe_standin.complete_onboarding(account.stripe_account_id)
    older, newer = stripe_standin.events("account.updated")
    assert (older["data"]["object"]["payouts_enabled"], newer["data"]["object"]["payouts_enabled"]) == (False, True)

    deliver(client, stripe_standin, [newer["id"], older["id"]])

    account.refresh_from_db()
    assert (account.details_submitted, account.payouts_enabled, account.requirements_due) == (True, True, [])
    assert services.payout_blockers(account=account) == []


# --- replayed, concurrently and out of order, through a real server -------------------------------------------------
def _process_concurrently(event_ids: list[str], times: int, seed: int) -> Counter[str]:
    """Every stored event processed `times` times, shuffled, from 8 threads (as several workers would)."""
    jobs = [event_id for event_id in event_ids for _ in range(times)]
    random.Random(seed).shuffle(jobs)
    errors: list[BaseException] = []

    def process(event_id: str) -> str:
        try:
            return services.stripe_event_process(event_id=event_id)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
            return "error"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(process, jobs))
    assert errors == []
    return outcomes


def _replay_everything(standin, live_server, seed: int) -> None:
    standin.webhook_url = live_server.url + WEBHOOK
    replies = standin.replay_webhooks(times=4, concurrency=8, seed=seed)
    standin.webhook_url = None
    assert {status for _event, status in replies} == {200}
    assert len(replies) == 4 * len(standin.events())
    stored = list(StripeEvent.objects.values_list("event_id", flat=True))
    assert sorted(stored) == sorted(e["id"] for e in standin.events())  # one row per event, however often sent
    outcomes = _process_concurrently(stored, times=3, seed=seed)
    assert set(outcomes) <= {"processed", "ignored"}
    assert set(StripeEvent.objects.values_list("status", flat=True)) <= {"processed", "ignored"}


@pytest.mark.django_db(transaction=True)
def test_every_event_replayed_four_times_concurrently_and_out_of_order_has_its_effect_once(
    hire, stripe_standin, live_server
) -> None:
    contract, member, freelancer = hire()
    client_user, organization = member.user, contract.organization
    milestones = [
        milestone_create(contract_id=contract.pk, data=MilestoneInput(title=t, amount=Decimal(a)), by=client_user)
        for t, a in (("Design", "400.00"), ("Build", "300.00"), ("Launch", "200.00"))
    ]
    payments = [pay_without_webhooks(milestone, client_user) for milestone in milestones]
    dashboard_refund(payments[2], 5_250)  # 52.50 of the 210.00 charged, before any webhook arrived
    account = new_account(stripe_standin, freelancer)
    stripe_api().v1.accounts.update(account.stripe_account_id, params={"email": "w2@example.com"})
    stripe_standin.complete_onboarding(account.stripe_account_id)

    _replay_everything(stripe_standin, live_server, seed=11)

    assert set(Payment.objects.values_list("status", flat=True)) == {"succeeded"}
    assert set(Milestone.objects.values_list("status", flat=True)) == {"funded"}
    assert AuditEvent.objects.filter(action="milestone.funded").count() == 3
    assert Invoice.objects.filter(kind="milestone").count() == 3
    assert Counter(LedgerTransaction.objects.values_list("kind", flat=True)) == {
        "escrow_funded": 3,
        "escrow_refunded": 1,
    }
    assert (
        balance(Kind.PROCESSOR_CLEARING),
        balance(Kind.CLIENT_ESCROW, organization=organization),
        balance(Kind.PLATFORM_REVENUE),
    ) == (Decimal("892.50"), Decimal("850.00"), Decimal("42.50"))
    account.refresh_from_db()
    assert account.payouts_enabled is True

    # Release one milestone, refund part of another in the product, pay the freelancer; then replay everything.
    milestone_submit(milestone_id=milestones[0].pk, by=freelancer)
    milestone_approve(milestone_id=milestones[0].pk, by=client_user)
    milestone_release(milestone_id=milestones[0].pk, by=client_user)
    services.refund_create(payment_id=payments[1].pk, amount=Decimal("105.00"), reason="Scope cut", by=None)
    (payout_id,) = services.payouts_create_due()
    assert tasks.payout_send.apply(kwargs={"payout_id": payout_id}).get() == "paid"

    _replay_everything(stripe_standin, live_server, seed=12)

    assert Counter(LedgerTransaction.objects.values_list("kind", flat=True)) == {
        "escrow_funded": 3,
        "escrow_refunded": 2,
        "escrow_released": 1,
        "payout_paid": 1,
    }
    assert sorted(Refund.objects.values_list("amount", "status")) == [
        (Decimal("52.50"), "succeeded"),
        (Decimal("105.00"), "succeeded"),
    ]
    assert Payout.objects.get().status == "paid" and len(stripe_standin.transfers()) == 1
    assert (
        balance(Kind.PROCESSOR_CLEARING),
        balance(Kind.CLIENT_ESCROW, organization=organization),
        balance(Kind.WORKER_PAYABLE, user=freelancer),
        balance(Kind.PLATFORM_REVENUE),
    ) == (Decimal("427.50"), Decimal("350.00"), Decimal("0.00"), Decimal("77.50"))
    assert [(m.status, m.released_amount, m.refunded_amount) for m in Milestone.objects.order_by("pk")] == [
        ("released", Decimal("400.00"), Decimal("0.00")),
        ("funded", Decimal("0.00"), Decimal("100.00")),
        ("funded", Decimal("0.00"), Decimal("50.00")),
    ]
    assert AuditEvent.objects.filter(action="milestone.funded").count() == 3
    moved = stripe_standin.balance()["usd"]["available"] - 1_000_000_000
    assert moved == 42_750  # Stripe holds exactly what processor clearing says
    assert_ledger_invariants()
