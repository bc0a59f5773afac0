"""The Stripe stand-in, driven by the real `stripe` library over HTTP (no database needed)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
import stripe

from billing.stripe_client import stripe_client
from billing.stripe_standin import StripeStandIn, decode_form

ROOT = Path(__file__).resolve().parents[2]


def client_for(standin: StripeStandIn, retries: int = 2, key: str = "sk_test_123") -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": standin.url}, max_network_retries=retries)


def onboarded_account(client: stripe.StripeClient, standin: StripeStandIn) -> str:
    account = client.v1.accounts.create({"type": "express", "email": "ada@example.com", "country": "US"})
    standin.complete_onboarding(account.id)
    return account.id


def transfer_params(destination: str, amount: int = 12_345, payout: int = 3) -> dict:
    return {
        "amount": amount,
        "currency": "usd",
        "destination": destination,
        "metadata": {"payout_id": str(payout)},
        "transfer_group": f"payout-{payout}",
    }


def test_form_decoding_handles_stripe_python_encoding():
    assert decode_form("amount=5&metadata[payout_id]=3&expand[0]=a&expand[1]=b&x[y][z]=1&list[]=p&list[]=q") == {
        "amount": "5",
        "metadata": {"payout_id": "3"},
        "expand": ["a", "b"],
        "x": {"y": {"z": "1"}},
        "list": ["p", "q"],
    }
    assert decode_form("metadata[0]=zero") == {"metadata": {"0": "zero"}}  # metadata keys stay keys


def test_payment_intent_confirm_and_refund(stripe_standin):
    client = stripe_client()  # built from settings, which the fixture points at the stand-in
    before = stripe_standin.balance()["usd"]["available"]
    intent = client.v1.payment_intents.create(
        {
            "amount": 5_000,
            "currency": "USD",
            "metadata": {"invoice_id": "7"},
            "automatic_payment_methods": {"enabled": True},
        }
    )
    assert intent.id.startswith("pi_") and intent.status == "requires_payment_method"
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert (intent.currency, intent.livemode, intent.metadata["invoice_id"]) == ("usd", False, "7")

    intent = client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})
    assert intent.status == "succeeded" and intent.amount_received == 5_000 and intent.latest_charge.startswith("ch_")
    assert stripe_standin.balance()["usd"]["available"] == before + 5_000

    refund = client.v1.refunds.create({"payment_intent": intent.id, "amount": 2_000})
    assert refund.id.startswith("re_") and refund.status == "succeeded" and refund.amount == 2_000
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 3_001})
    assert excinfo.value.code == "amount_too_large"
    rest = client.v1.refunds.create({"payment_intent": intent.id})  # the rest
    assert rest.amount == 3_000
    assert stripe_standin.balance()["usd"]["available"] == before
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.refunded and charge.amount_refunded == 5_000

    types = [e["type"] for e in stripe_standin.events()]
    assert types == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "refund.created",
        "charge.refunded",
        "refund.created",
        "charge.refunded",
    ]
    listed = client.v1.events.list({"type": "charge.refunded"})
    assert [e.data.object.amount_refunded for e in listed.data] == [5_000, 2_000]  # newest first


def test_declined_card_raises_card_error(stripe_standin):
    client = client_for(stripe_standin)
    intent = client.v1.payment_intents.create({"amount": 1_000, "currency": "eur"})
    with pytest.raises(stripe.CardError) as excinfo:
        client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_chargeDeclined"})
    assert excinfo.value.code == "card_declined" and excinfo.value.http_status == 402
    intent = client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.decline_code == "generic_decline"
    client.v1.payment_intents.cancel(intent.id)
    assert client.v1.payment_intents.retrieve(intent.id).status == "canceled"


def test_onboarding_through_the_link_page(stripe_standin):
    client = client_for(stripe_standin)
    account = client.v1.accounts.create({"type": "express", "email": "ada@example.com", "metadata": {"user_id": "9"}})
    assert account.id.startswith("acct_")
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (False, False, False)
    link = client.v1.account_links.create(
        {
            "account": account.id,
            "refresh_url": "http://app.test/refresh",
            "return_url": "http://app.test/done",
            "type": "account_onboarding",
        }
    )
    assert link.url == f"{stripe_standin.url}/onboarding/{account.id}"

    page = requests.get(link.url, timeout=5)
    assert page.status_code == 200 and "Complete onboarding" in page.text
    submitted = requests.post(link.url, timeout=5, allow_redirects=False)
    assert submitted.status_code == 303 and submitted.headers["Location"] == "http://app.test/done"

    account = client.v1.accounts.retrieve(account.id)
    assert account.payouts_enabled and account.charges_enabled and account.details_submitted
    (event,) = stripe_standin.events("account.updated")
    assert event["account"] == account.id and event["data"]["object"]["payouts_enabled"] is True
    assert event["data"]["previous_attributes"]["payouts_enabled"] is False


def test_transfer_moves_balance_to_the_connected_account(stripe_standin):
    client = client_for(stripe_standin)
    destination = onboarded_account(client, stripe_standin)
    platform_before = client.v1.balance.retrieve()
    transfer = client.v1.transfers.create(transfer_params(destination))
    assert transfer.id.startswith("tr_") and transfer.balance_transaction.startswith("txn_")
    assert (transfer.amount, transfer.destination, transfer.metadata["payout_id"]) == (12_345, destination, "3")

    usd = lambda balance: next(b.amount for b in balance.available if b.currency == "usd")  # noqa: E731
    assert usd(client.v1.balance.retrieve()) == usd(platform_before) - 12_345
    assert usd(client.v1.balance.retrieve(options={"stripe_account": destination})) == 12_345
    assert [t.id for t in client.v1.transfers.list({"transfer_group": "payout-3"}).data] == [transfer.id]
    assert client.v1.transfers.list({"destination": destination}).data[0].id == transfer.id
    assert client.v1.transfers.retrieve(transfer.id).amount == 12_345
    assert [e["data"]["object"]["id"] for e in stripe_standin.events("transfer.created")] == [transfer.id]


def test_transfer_refusals(stripe_standin):
    client = client_for(stripe_standin)
    not_onboarded = client.v1.accounts.create({"type": "express"}).id
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.transfers.create(transfer_params(not_onboarded))
    assert excinfo.value.code == "insufficient_capabilities_for_transfer"

    destination = onboarded_account(client, stripe_standin)
    stripe_standin.top_up(-stripe_standin.balance()["usd"]["available"] + 100)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.transfers.create(transfer_params(destination, amount=101))
    assert excinfo.value.code == "balance_insufficient" and excinfo.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.transfers.create(transfer_params("acct_nope"))
    assert excinfo.value.code == "resource_missing" and excinfo.value.param == "destination"
    assert stripe_standin.transfers() == []
    client.v1.transfers.create(transfer_params(destination, amount=100))
    assert stripe_standin.balance()["usd"]["available"] == 0


def test_api_keys_and_stripe_account_are_checked(stripe_standin):
    with pytest.raises(stripe.AuthenticationError):
        client_for(stripe_standin, key="sk_live_real").v1.balance.retrieve()
    response = requests.get(f"{stripe_standin.url}/v1/balance", timeout=5)
    assert response.status_code == 401 and response.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(stripe.PermissionError):
        client_for(stripe_standin).v1.balance.retrieve(options={"stripe_account": "acct_unknown"})
    with pytest.raises(stripe.InvalidRequestError):
        client_for(stripe_standin).v1.payment_intents.retrieve("pi_missing")


def test_idempotency_key_replays_and_refuses_different_params(stripe_standin):
    client = client_for(stripe_standin)
    destination = onboarded_account(client, stripe_standin)
    first = client.v1.transfers.create(transfer_params(destination), {"idempotency_key": "payout-3"})
    again = client.v1.transfers.create(transfer_params(destination), {"idempotency_key": "payout-3"})
    assert again.id == first.id and again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(stripe_standin.transfers()) == 1

    with pytest.raises(stripe.IdempotencyError):
        client.v1.transfers.create(transfer_params(destination, amount=1), {"idempotency_key": "payout-3"})
    with pytest.raises(stripe.IdempotencyError):  # another endpoint
        client.v1.payment_intents.create({"amount": 100, "currency": "usd"}, {"idempotency_key": "payout-3"})
    # Errors the endpoint returned are saved too; validation errors are not (a corrected retry runs).
    stripe_standin.top_up(-stripe_standin.balance()["usd"]["available"])
    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError, match="insufficient available funds"):
            client.v1.transfers.create(transfer_params(destination, payout=4), {"idempotency_key": "payout-4"})
    stripe_standin.top_up(1_000_000)
    with pytest.raises(stripe.InvalidRequestError):  # still the saved answer
        client.v1.transfers.create(transfer_params(destination, payout=4), {"idempotency_key": "payout-4"})
    assert len(stripe_standin.transfers()) == 1


def test_idempotency_keys_expire_after_a_day(stripe_standin):
    now = [time.time()]
    stripe_standin.clock = lambda: now[0]
    client = client_for(stripe_standin)
    params = {"amount": 100, "currency": "usd"}
    first = client.v1.payment_intents.create(params, {"idempotency_key": "k"})
    now[0] += 23 * 3600
    assert client.v1.payment_intents.create(params, {"idempotency_key": "k"}).id == first.id
    now[0] += 2 * 3600
    assert client.v1.payment_intents.create(params, {"idempotency_key": "k"}).id != first.id


def test_concurrent_requests_with_one_key_create_one_transfer(stripe_standin):
    client = client_for(stripe_standin)
    destination = onboarded_account(client, stripe_standin)
    barrier = threading.Barrier(10)
    ids: list[str] = []

    def send() -> None:
        barrier.wait()
        ids.append(client.v1.transfers.create(transfer_params(destination), {"idempotency_key": "same"}).id)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 10 and len(set(ids)) == 1
    assert len(stripe_standin.transfers()) == 1 and stripe_standin.stats["transfers.create"] == 1


def test_timeout_after_create_is_replayed_by_the_library_retry(stripe_standin):
    client = client_for(stripe_standin, retries=2)
    destination = onboarded_account(client, stripe_standin)
    stripe_standin.set_faults({"transfers.create": {"mode": "timeout_after_create", "times": 1}})
    transfer = client.v1.transfers.create(transfer_params(destination))  # the library's own key, re-sent
    assert [t["id"] for t in stripe_standin.transfers()] == [transfer.id]
    assert stripe_standin.stats["transfers.create:timeout_after_create"] == 1
    assert stripe_standin.stats["transfers.create:replayed"] == 1


def test_timeout_after_create_then_a_second_call_with_the_same_key(stripe_standin):
    client = client_for(stripe_standin, retries=0)
    destination = onboarded_account(client, stripe_standin)
    stripe_standin.set_faults({"transfers.create": "timeout_after_create"})
    with pytest.raises(stripe.APIConnectionError):
        client.v1.transfers.create(transfer_params(destination), {"idempotency_key": "payout-3"})
    (made,) = stripe_standin.transfers()  # made, but the caller never heard
    stripe_standin.clear_faults()
    assert client.v1.transfers.create(transfer_params(destination), {"idempotency_key": "payout-3"}).id == made["id"]
    assert len(stripe_standin.transfers()) == 1


def test_timeout_after_create_with_a_delay_longer_than_the_client_timeout(stripe_standin):
    http = stripe.RequestsClient(timeout=0.3)
    client = stripe.StripeClient(
        "sk_test_1", base_addresses={"api": stripe_standin.url}, max_network_retries=1, http_client=http
    )
    destination = onboarded_account(client, stripe_standin)
    stripe_standin.set_faults({"transfers.create": {"mode": "timeout_after_create", "times": 1, "delay": 1}})
    transfer = client.v1.transfers.create(transfer_params(destination))
    assert [t["id"] for t in stripe_standin.transfers()] == [transfer.id]


def test_error_500_fails_before_creating_then_succeeds(stripe_standin):
    destination = onboarded_account(client_for(stripe_standin), stripe_standin)
    stripe_standin.set_faults({"transfers.create": {"mode": "error_500", "times": 1}})
    with pytest.raises(stripe.APIError):
        client_for(stripe_standin, retries=0).v1.transfers.create(
            transfer_params(destination), {"idempotency_key": "a"}
        )
    assert stripe_standin.transfers() == []
    again = client_for(stripe_standin, retries=0).v1.transfers.create(
        transfer_params(destination), {"idempotency_key": "a"}
    )
    assert [t["id"] for t in stripe_standin.transfers()] == [again.id]

    stripe_standin.set_faults({"transfers.create": {"mode": "error_500", "times": 2}})
    retried = client_for(stripe_standin, retries=2).v1.transfers.create(transfer_params(destination, payout=5))
    assert len(stripe_standin.transfers()) == 2 and retried.transfer_group == "payout-5"


def test_random_faults_over_many_keys_give_one_transfer_each(stripe_standin):
    client = client_for(stripe_standin, retries=1)
    destination = onboarded_account(client, stripe_standin)
    stripe_standin.set_faults(
        {"transfers.create": {"mode": "timeout_after_create", "rate": 0.5, "seed": 7}},
    )
    for payout in range(40):
        for _attempt in range(10):  # the caller's own retries, with its stable key
            try:
                client.v1.transfers.create(
                    transfer_params(destination, payout=payout), {"idempotency_key": f"p{payout}"}
                )
                break
            except stripe.APIConnectionError:
                continue
    groups = Counter(t["transfer_group"] for t in stripe_standin.transfers())
    assert len(groups) == 40 and set(groups.values()) == {1}
    assert stripe_standin.stats["transfers.create:timeout_after_create"] > 5


def test_webhooks_are_signed_as_stripe_verifies_them(stripe_standin, webhook_receiver):
    stripe_standin.webhook_url = webhook_receiver.url
    webhook_receiver.statuses = [500]  # the first delivery fails and is retried
    client = client_for(stripe_standin)
    intent = client.v1.payment_intents.create(
        {"amount": 700, "currency": "gbp", "payment_method": "pm_card_visa", "confirm": True}
    )
    assert stripe_standin.wait_for_webhooks(timeout=10)
    events = [
        stripe.Webhook.construct_event(body, sig, "whsec_test_standin") for body, sig in webhook_receiver.received
    ]
    assert Counter(e.type for e in events) == Counter(
        ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]
    )
    assert next(e for e in events if e.type == "payment_intent.succeeded").data.object.id == intent.id
    assert [d["status"] for d in stripe_standin.deliveries].count(500) == 1
    body, sig = webhook_receiver.received[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, sig, "whsec_wrong")
    assert all(e["pending_webhooks"] == 0 for e in stripe_standin.events())


def test_webhook_duplicate_and_reorder_faults(webhook_receiver):
    standin = StripeStandIn(webhook_url=webhook_receiver.url, auto_deliver=False)
    with standin:
        client = client_for(standin)
        for amount in (100, 200, 300):
            client.v1.payment_intents.create({"amount": amount, "currency": "usd"})
        created = [e["id"] for e in standin.events()]

        standin.set_faults({"webhooks": ["duplicate", "reorder"]})
        deliveries = standin.deliver_webhooks()
        received = [json.loads(body)["id"] for body, _ in webhook_receiver.received]
        assert received == list(reversed(created)) * 2 and len(deliveries) == 6

        webhook_receiver.received.clear()
        standin.set_faults({"webhooks": {"mode": "reorder", "order": "random", "seed": 3}})
        for amount in range(1, 9):
            client.v1.payment_intents.create({"amount": amount, "currency": "usd"})
        standin.deliver_webhooks()
        received = [json.loads(body)["id"] for body, _ in webhook_receiver.received]
        later = [e["id"] for e in standin.events()][3:]
        assert sorted(received) == sorted(later) and received != later


def test_replay_webhooks_concurrently(stripe_standin, webhook_receiver):
    stripe_standin.webhook_url = webhook_receiver.url
    client_for(stripe_standin).v1.accounts.create({"type": "express"})
    client_for(stripe_standin).v1.payment_intents.create({"amount": 100, "currency": "usd"})
    ids = [e["id"] for e in stripe_standin.events()]
    results = stripe_standin.replay_webhooks(times=4, concurrency=6, seed=1)
    assert sorted(event_id for event_id, _ in results) == sorted(ids * 4)
    assert {status for _, status in results} == {200}
    body, headers = stripe_standin.webhook_request(ids[0])
    assert stripe.Webhook.construct_event(body, headers["Stripe-Signature"], stripe_standin.webhook_secret).id == ids[0]


def test_control_endpoints(stripe_standin):
    base = f"{stripe_standin.url}/_standin"
    assert requests.post(f"{base}/balance", json={"amount": 500, "currency": "eur"}, timeout=5).json()["eur"][
        "available"
    ] == (1_000_000_000 + 500)
    faults = requests.post(f"{base}/faults", json={"transfers.create": {"mode": "error_500", "times": 2}}, timeout=5)
    assert faults.json()["faults"]["transfers.create"]["times"] == 2
    assert requests.post(f"{base}/faults", json={"nope.create": "error_500"}, timeout=5).status_code == 400
    client_for(stripe_standin).v1.accounts.create({"type": "express"})
    state = requests.get(f"{base}/state", timeout=5).json()
    assert state["objects"]["account"] == 1 and state["faults"]["transfers.create"]["mode"] == "error_500"
    requests.post(f"{base}/reset", timeout=5)
    assert stripe_standin.objects("account") == [] and stripe_standin.faults == {}


def test_state_file_survives_a_restart(tmp_path):
    state = tmp_path / "standin.json"
    with StripeStandIn(state_file=state) as standin:
        account = client_for(standin).v1.accounts.create({"type": "express"}, {"idempotency_key": "acct-1"})
        standin.complete_onboarding(account.id)
    with StripeStandIn(state_file=state) as standin:
        client = client_for(standin)
        assert client.v1.accounts.retrieve(account.id).payouts_enabled
        assert client.v1.accounts.create({"type": "express"}, {"idempotency_key": "acct-1"}).id == account.id


def test_runs_as_its_own_process(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "billing.stripe_standin", "--port", str(port), "--state-file", str(tmp_path / "s.json")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        for _ in range(100):
            try:
                response = requests.get(
                    f"http://127.0.0.1:{port}/v1/balance", headers={"Authorization": "Bearer sk_test_x"}, timeout=1
                )
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        assert response.json()["object"] == "balance"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
