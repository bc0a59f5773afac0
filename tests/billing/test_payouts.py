"""Payouts through the real Celery task and the Stripe stand-in: each payout reaches Stripe exactly once however
often, and however concurrently, its task runs while Stripe drops answers; a payout never exceeds what is
payable; blocked payees are told why; a definitive refusal fails the payout with Stripe's reason, and a manual
retry sends it again under a new idempotency key."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from billing import services, tasks
from billing.models import LedgerAccount, LedgerTransaction, Payout, PayoutAccount
from billing.services import LedgerEntry, ledger_account, ledger_post
from billing.services.payments import stripe_api
from core.errors import ApplicationError
from core.money import to_minor_units
from tests.billing.test_properties import assert_ledger_invariants, balance, onboarded_payout_account
from tests.compliance_support import approve_all
from tests.factories import UserFactory
from tests.oncommit import task_callbacks

Kind = LedgerAccount.Kind
NO_ACCOUNT = "Connect a payout account (Stripe) to receive payments."


def _fund_payables(payables: dict[object, Decimal], currency: str = "USD") -> None:
    """Setup: make `payables` (user → amount) payable in one balanced posting from processor clearing."""
    clearing = ledger_account(kind=Kind.PROCESSOR_CLEARING, currency=currency)
    entries = [LedgerEntry(clearing, sum(payables.values(), Decimal(0)))]
    entries += [
        LedgerEntry(ledger_account(kind=Kind.WORKER_PAYABLE, currency=currency, user=user), -amount)
        for user, amount in payables.items()
    ]
    number = LedgerTransaction.objects.count()
    ledger_post(kind="reversal", reference=f"test-setup:{currency}:{number}", description="setup", entries=entries)


def make_compliant(*users: User) -> None:
    """The payees meet the compliance gate (approved documents, as ops would approve them): the first through
    tests.compliance_support, the others by copying its documents (one bulk insert for many payees)."""
    from compliance.models import ComplianceDocument

    first, *others = users
    approve_all(user=first)
    documents = list(ComplianceDocument.objects.filter(user=first))
    fields = [
        field.attname for field in ComplianceDocument._meta.concrete_fields if field.attname not in ("id", "user_id")
    ]
    ComplianceDocument.objects.bulk_create(
        ComplianceDocument(user=user, **{name: getattr(document, name) for name in fields})
        for user in others
        for document in documents
    )


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The payout ids handed to the broker (payout_send.delay, after commit); the test is the worker."""
    sent: list[int] = []
    monkeypatch.setattr(tasks.payout_send, "delay", lambda *, payout_id: sent.append(payout_id))
    return sent


@pytest.fixture
def dropped_answers_reach_the_task(monkeypatch: pytest.MonkeyPatch, stripe_client_reset: None) -> None:
    """stripe-python retries a dropped connection itself, replaying the Idempotency-Key; with its retries off,
    an answer Stripe lost after making the transfer reaches our task as an APIConnectionError, which is what
    a worker whose call (or whose process) died mid-transfer looks like."""
    from billing import stripe_client

    monkeypatch.setattr(stripe_client, "MAX_NETWORK_RETRIES", 0)


@pytest.fixture
def stripe_client_reset() -> Iterator[None]:
    from billing import stripe_client

    stripe_client._client.cache_clear()
    yield
    stripe_client._client.cache_clear()


def run_payout_task(payout_id: int, *, worker_dies: bool = False) -> str:
    """One delivery of the payout_send message to a worker.

    A normal delivery is `tasks.payout_send.apply(...)`: the real Celery task, executed in this thread with
    Celery's own autoretry machinery (autoretry_for, max_retries; the backoff countdown is skipped), so a
    dropped Stripe answer is retried exactly as the worker would. A delivery whose worker dies mid-call runs
    the task body once (`.run`) and gives up without a retry; the broker (acks_late) redelivers the message
    later, which is simply the next delivery here."""
    if worker_dies:
        try:
            return tasks.payout_send.run(payout_id=payout_id)
        except ConnectionError:
            return "died"
    result = tasks.payout_send.apply(kwargs={"payout_id": payout_id})
    assert result.successful(), result.traceback
    return str(result.get())


# --- at most once, however often the task runs -------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_200_payouts_each_reach_stripe_exactly_once_however_often_and_concurrently_their_task_runs(
    stripe_standin, enqueued, dropped_answers_reach_the_task
) -> None:
    rng = random.Random(2026)
    users = User.objects.bulk_create(UserFactory.build(email=f"payee{number}@example.com") for number in range(200))
    make_compliant(*users)
    currencies = {user.pk: ("JPY" if number % 10 == 0 else "USD") for number, user in enumerate(users)}
    amounts = {
        user: Decimal(rng.randint(1, 200_000))
        if currencies[user.pk] == "JPY"
        else Decimal(rng.randint(100, 500_000)) / 100
        for user in users
    }
    for currency in ("USD", "JPY"):
        _fund_payables({u: a for u, a in amounts.items() if currencies[u.pk] == currency}, currency)
    yen = sum(a for u, a in amounts.items() if currencies[u.pk] == "JPY")
    stripe_standin.top_up(int(yen), "jpy")
    with ThreadPoolExecutor(max_workers=8) as pool:
        remote = list(pool.map(lambda _: stripe_api().v1.accounts.create(params={"type": "express"}), users))
    onboarded = [stripe_standin.complete_onboarding(account.id) for account in remote]
    PayoutAccount.objects.bulk_create(
        PayoutAccount(
            user=user,
            stripe_account_id=account["id"],
            country="GB",
            details_submitted=account["details_submitted"],
            charges_enabled=account["charges_enabled"],
            payouts_enabled=account["payouts_enabled"],
        )
        for user, account in zip(users, onboarded, strict=True)
    )
    platform_before = stripe_standin.balance()
    stripe_standin.set_faults({"transfers.create": {"mode": "timeout_after_create", "rate": 0.3, "seed": 1}})

    created = services.payouts_create_due()

    assert len(created) == 200 and sorted(enqueued) == sorted(created)
    payouts = {p.pk: p for p in Payout.objects.select_related("payout_account", "user")}
    assert {p.user: p.amount for p in payouts.values()} == amounts
    order = list(created)
    rng.shuffle(order)
    runs = {payout_id: rng.randint(1, 5) for payout_id in order}
    concurrent, sequential = order[:40], order[40:]

    # 160 payouts: each message delivered 1-5 times in a row; a delivery may die mid-call (then redelivered).
    outcomes: Counter[str] = Counter()
    for payout_id in sequential:
        for delivery in range(runs[payout_id]):
            last = delivery == runs[payout_id] - 1
            outcomes[run_payout_task(payout_id, worker_dies=not last and rng.random() < 0.5)] += 1
    # 40 payouts: all their deliveries at once, from 8 worker threads (redelivery while the first still runs).
    jobs = [payout_id for payout_id in concurrent for _ in range(max(2, runs[payout_id]))]
    rng.shuffle(jobs)
    errors: list[BaseException] = []

    def worker(payout_id: int) -> None:
        try:
            outcomes[run_payout_task(payout_id)] += 1
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(worker, jobs))

    assert errors == []
    assert stripe_standin.stats["transfers.create:timeout_after_create"] >= 30  # Stripe really lost answers
    assert outcomes["died"] >= 1
    assert stripe_standin.stats["transfers.create"] == 200  # transfers made; the rest were replays
    transfers = stripe_standin.transfers()
    by_payout = Counter(transfer["metadata"]["payout_id"] for transfer in transfers)
    assert by_payout == Counter({str(payout_id): 1 for payout_id in created})
    for transfer in transfers:
        payout = payouts[int(transfer["metadata"]["payout_id"])]
        assert (transfer["transfer_group"], transfer["destination"], transfer["currency"], transfer["amount"]) == (
            f"payout-{payout.pk}",
            payout.payout_account.stripe_account_id,
            payout.currency.lower(),
            to_minor_units(payout.amount, payout.currency),
        )
    assert {p.pk: (p.status, p.stripe_transfer_id, p.last_error) for p in Payout.objects.all()} == {
        int(t["metadata"]["payout_id"]): ("paid", t["id"], "") for t in transfers
    }
    dropped = stripe_standin.stats["transfers.create:timeout_after_create"]
    assert Payout.objects.aggregate(total=Sum("attempts"))["total"] == 200 + dropped  # every call counted once
    assert LedgerTransaction.objects.filter(kind="payout_paid").count() == 200
    assert set(LedgerAccount.objects.filter(kind=Kind.WORKER_PAYABLE).values_list("balance", flat=True)) == {
        Decimal("0.00")
    }
    assert balance(Kind.PROCESSOR_CLEARING, "USD") == balance(Kind.PROCESSOR_CLEARING, "JPY") == Decimal("0.00")
    usd = sum(a for u, a in amounts.items() if currencies[u.pk] == "USD")
    assert stripe_standin.balance()["usd"]["available"] == platform_before["usd"]["available"] - int(usd * 100)
    assert stripe_standin.balance()["jpy"]["available"] == 0
    assert_ledger_invariants()

    # Stripe's transfer.created webhooks, arriving after the task recorded each payout, change nothing.
    stripe_standin.clear_faults()
    for event in rng.sample(stripe_standin.events("transfer.created"), 50):
        body, headers = stripe_standin.webhook_request(event["id"])
        services.stripe_event_record(payload=body, signature=headers["Stripe-Signature"])
        assert services.stripe_event_process(event_id=event["id"]) == "processed"
    assert LedgerTransaction.objects.filter(kind="payout_paid").count() == 200
    assert stripe_standin.stats["transfers.create"] == 200


@pytest.mark.django_db
def test_a_lost_answer_is_completed_by_the_transfer_webhook_and_the_next_run_changes_nothing(
    stripe_standin, enqueued, dropped_answers_reach_the_task
) -> None:
    user = UserFactory()
    make_compliant(user)
    _fund_payables({user: Decimal("250.00")})
    onboarded_payout_account(stripe_standin, user=user)
    (payout_id,) = services.payouts_create_due()
    stripe_standin.set_faults({"transfers.create": {"mode": "timeout_after_create", "times": 1}})

    died = run_payout_task(payout_id, worker_dies=True)

    payout = Payout.objects.get()
    assert (died, payout.status, payout.attempts, len(stripe_standin.transfers())) == ("died", "pending", 1, 1)
    assert payout.last_error.startswith("Stripe did not answer")
    assert balance(Kind.WORKER_PAYABLE, user=user) == Decimal("250.00")
    event = stripe_standin.events("transfer.created")[0]
    body, headers = stripe_standin.webhook_request(event["id"])
    services.stripe_event_record(payload=body, signature=headers["Stripe-Signature"])
    services.stripe_event_process(event_id=event["id"])
    payout.refresh_from_db()
    assert (payout.status, payout.stripe_transfer_id, payout.last_error) == ("paid", event["data"]["object"]["id"], "")
    assert run_payout_task(payout_id) == "paid"
    assert (stripe_standin.stats["transfers.create"], len(stripe_standin.transfers())) == (1, 1)
    assert balance(Kind.WORKER_PAYABLE, user=user) == Decimal("0.00")
    assert LedgerTransaction.objects.filter(kind="payout_paid").count() == 1


# --- blocked payees ---------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_payee_without_a_ready_account_gets_no_payout_and_is_told_why(
    stripe_standin, enqueued, django_capture_on_commit_callbacks
) -> None:
    user = UserFactory()
    make_compliant(user)
    _fund_payables({user: Decimal("100.00")})

    assert services.payout_blockers(account=None) == [NO_ACCOUNT]
    assert services.payouts_create_due() == []

    remote = stripe_api().v1.accounts.create(params={"type": "express", "country": "GB"})
    account = PayoutAccount.objects.create(user=user, stripe_account_id=remote.id, country="GB")
    services.payout_account_apply(stripe_account=remote.to_dict())
    account.refresh_from_db()
    assert services.payout_blockers(account=account) == ["Finish the payout account setup with Stripe."]
    assert services.payouts_create_due() == []

    services.payout_account_apply(
        stripe_account={
            **remote.to_dict(),
            "details_submitted": True,
            "payouts_enabled": False,
            "requirements": {"currently_due": ["external_account"], "disabled_reason": "requirements.past_due"},
        }
    )
    account.refresh_from_db()
    assert services.payout_blockers(account=account) == [
        "Stripe needs more information before payouts can start (external_account)."
    ]
    assert services.payouts_create_due() == []

    services.payout_account_apply(stripe_account=stripe_standin.complete_onboarding(remote.id))
    services.payout_hold_start(user=user)  # the payee changed their sign-in email
    account.refresh_from_db()
    until = timezone.localtime(account.hold_until)
    assert services.payout_blockers(account=account) == [
        f"Payouts are on hold until {until:%-d %b %Y %H:%M} after a change to your payout details or email."
    ]
    assert account.hold_until - timezone.now() > timedelta(hours=71)
    assert services.payouts_create_due() == []
    assert Payout.objects.count() == 0
    assert balance(Kind.WORKER_PAYABLE, user=user) == Decimal("100.00")

    PayoutAccount.objects.filter(pk=account.pk).update(hold_until=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        created = services.payouts_create_due()

    assert [Payout.objects.get(pk=pk).amount for pk in created] == [Decimal("100.00")]
    assert enqueued == created


@pytest.mark.django_db
def test_a_payee_who_has_not_met_the_compliance_gate_gets_no_payout_and_is_told_what_is_missing(
    stripe_standin,
) -> None:
    from compliance.selectors import payout_blockers as compliance_blockers

    user = UserFactory()
    _fund_payables({user: Decimal("60.00")})
    account = onboarded_payout_account(stripe_standin, user=user)

    missing = services.payout_blockers(account=account)

    assert missing == compliance_blockers(user=user, organization=None) and len(missing) >= 1
    assert services.payouts_create_due() == []
    make_compliant(user)
    assert services.payout_blockers(account=account) == []
    assert [Payout.objects.get(pk=pk).amount for pk in services.payouts_create_due()] == [Decimal("60.00")]


@pytest.mark.django_db
def test_a_hold_that_starts_after_the_payout_was_queued_fails_it_with_the_reason(stripe_standin, enqueued) -> None:
    user = UserFactory()
    make_compliant(user)
    _fund_payables({user: Decimal("80.00")})
    onboarded_payout_account(stripe_standin, user=user)
    (payout_id,) = services.payouts_create_due()
    services.payout_hold_start(user=user)

    assert run_payout_task(payout_id) == "failed"

    payout = Payout.objects.get()
    assert payout.status == "failed" and "Payouts are on hold until" in payout.last_error
    assert stripe_standin.transfers() == []
    assert balance(Kind.WORKER_PAYABLE, user=user) == Decimal("80.00")


# --- never more than is payable -----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_payout_never_exceeds_the_payable_balance_less_payouts_on_their_way(stripe_standin, enqueued) -> None:
    user = UserFactory()
    make_compliant(user)
    onboarded_payout_account(stripe_standin, user=user)
    _fund_payables({user: Decimal("100.00")})

    first = services.payouts_create_due()
    again = services.payouts_create_due()  # 100 is on its way already
    _fund_payables({user: Decimal("40.25")})
    more = services.payouts_create_due()

    assert again == []
    assert [Payout.objects.get(pk=pk).amount for pk in first + more] == [Decimal("100.00"), Decimal("40.25")]
    for payout_id in first + more:
        assert run_payout_task(payout_id) == "paid"
    assert balance(Kind.WORKER_PAYABLE, user=user) == Decimal("0.00")
    assert services.payouts_create_due() == []
    assert sorted(t["amount"] for t in stripe_standin.transfers()) == [4025, 10000]
    assert_ledger_invariants()


@pytest.mark.django_db
def test_after_a_failed_payout_the_money_goes_out_once_either_by_the_next_batch_or_by_the_retry(
    stripe_standin, enqueued
) -> None:
    user, finance = UserFactory(), UserFactory(is_staff=True)
    make_compliant(user)
    onboarded_payout_account(stripe_standin, user=user)
    _fund_payables({user: Decimal("100.00")})
    (failed_id,) = services.payouts_create_due()
    available = stripe_standin.balance()["usd"]["available"]
    stripe_standin.top_up(-available)
    assert run_payout_task(failed_id) == "failed"
    stripe_standin.top_up(available)

    (next_id,) = services.payouts_create_due()  # the failed payout is not on its way; its money is payable
    with pytest.raises(ApplicationError, match="no longer covers this payout"):
        services.payout_retry(payout_id=failed_id, by=finance)

    assert Payout.objects.get(pk=failed_id).status == "failed"
    assert (Payout.objects.get(pk=next_id).amount, run_payout_task(next_id)) == (Decimal("100.00"), "paid")
    assert [t["amount"] for t in stripe_standin.transfers()] == [10000]
    assert balance(Kind.WORKER_PAYABLE, user=user) == Decimal("0.00")
    assert_ledger_invariants()


@pytest.mark.django_db(transaction=True)
def test_concurrent_payout_runs_create_one_payout_per_payable_balance(stripe_standin, enqueued) -> None:
    users = UserFactory.create_batch(12)
    make_compliant(*users)
    amounts = {user: Decimal(17 + number) for number, user in enumerate(users)}
    _fund_payables(amounts)
    for user in users:
        onboarded_payout_account(stripe_standin, user=user)
    barrier = threading.Barrier(6)
    created: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            created.extend(services.payouts_create_due())
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(created) == sorted(Payout.objects.values_list("pk", flat=True))
    assert {p.user: p.amount for p in Payout.objects.select_related("user")} == amounts


# --- definitive refusals and the manual retry -----------------------------------------------------------------------
@pytest.mark.django_db
def test_a_definitive_refusal_fails_the_payout_and_a_manual_retry_sends_it_with_a_new_key(
    stripe_standin, enqueued, django_capture_on_commit_callbacks
) -> None:
    user, finance = UserFactory(), UserFactory(is_staff=True)
    make_compliant(user)
    onboarded_payout_account(stripe_standin, user=user)
    _fund_payables({user: Decimal("120.00")})
    (payout_id,) = services.payouts_create_due()
    available = stripe_standin.balance()["usd"]["available"]
    stripe_standin.top_up(-available + 5_000)  # 50.00 left at Stripe

    assert run_payout_task(payout_id) == "failed"
    assert run_payout_task(payout_id) == "failed"  # a redelivered message leaves a failed payout alone

    payout = Payout.objects.get()
    assert (payout.status, payout.attempts, payout.idempotency_key) == ("failed", 1, f"payout-{payout_id}")
    assert payout.last_error.startswith("You have insufficient available funds in your Stripe account.")
    assert (stripe_standin.transfers(), stripe_standin.stats["transfers.create"]) == ([], 1)
    assert balance(Kind.WORKER_PAYABLE, user=user) == Decimal("120.00")

    stripe_standin.top_up(1_000_000)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.payout_retry(payout_id=payout_id, by=finance)
    payout.refresh_from_db()
    assert (payout.status, payout.idempotency_key, payout.manual_retries) == (
        "pending",
        f"payout-{payout_id}-retry-1",
        1,
    )
    assert (len(task_callbacks(callbacks)), enqueued) == (1, [payout_id])

    assert run_payout_task(payout_id) == "paid"

    transfer = stripe_standin.transfers()[0]
    created_event = stripe_standin.events("transfer.created")[0]
    assert created_event["request"]["idempotency_key"] == f"payout-{payout_id}-retry-1"
    assert (len(stripe_standin.transfers()), transfer["amount"]) == (1, 12000)
    assert balance(Kind.WORKER_PAYABLE, user=user) == Decimal("0.00")
    with pytest.raises(ApplicationError, match="Only a failed payout can be retried"):
        services.payout_retry(payout_id=payout_id, by=finance)
    assert_ledger_invariants()
