from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import stripe
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache

from billing.stripe_standin import StripeStandIn
from config.celery import app as celery_app


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Rate-limit counters and other cached state never leak from one test into the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[object]:
    """A real Celery worker (in a thread of this process) consuming every queue from the real Redis broker.

    Tests using it must be `transaction=True` (the worker's own database connection sees only committed rows).
    """
    celery_app.control.purge()  # a previous run's leftovers must not run inside this test
    with start_worker(
        celery_app,
        pool="solo",
        concurrency=1,
        perform_ping_check=False,
        queues=["default", "matching", "email", "payouts", "webhooks"],
        loglevel="WARNING",
        shutdown_timeout=10,
    ) as worker:
        yield worker


@pytest.fixture
def stripe_standin(settings, monkeypatch) -> Iterator[StripeStandIn]:
    """A Stripe stand-in on a free loopback port; `billing.stripe_client.stripe_client()` talks to it.

    No webhook URL: events are stored (`standin.events()`), and a test can deliver them itself
    (`standin.webhook_request(id)` for the Django test client, `replay_webhooks`) or set `standin.webhook_url`.
    """
    # stripe-python waits 0.5 s and more between its retries; tests make many, so keep them quick.
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.05)
    with StripeStandIn(webhook_secret="whsec_test_standin", webhook_retry_delay=0.05) as standin:
        settings.STRIPE_SECRET_KEY = ""
        settings.STRIPE_API_BASE = ""
        settings.STRIPE_STANDIN_URL = standin.url
        settings.STRIPE_WEBHOOK_SECRET = standin.webhook_secret
        yield standin


@pytest.fixture
def deliver_stripe_events(stripe_standin: StripeStandIn) -> Callable[[], int]:
    """Deliver every new stand-in event through the real webhook path (signature check, storage, processing)
    and return how many were new."""
    from billing.services import stripe_event_process, stripe_event_record

    delivered: set[str] = set()

    def deliver() -> int:
        count = 0
        for event in sorted(stripe_standin.events(), key=lambda e: (e["created"], e["id"])):
            if event["id"] in delivered:
                continue
            body, headers = stripe_standin.webhook_request(event["id"])
            stripe_event_record(payload=body, signature=headers["Stripe-Signature"])
            stripe_event_process(event_id=event["id"])
            delivered.add(event["id"])
            count += 1
        return count

    return deliver


@pytest.fixture
def fund_milestone(deliver_stripe_events: Callable[[], int]) -> Callable[..., object]:
    """fund_milestone(milestone_id, by): the client pays the milestone with a test card and Stripe's webhooks
    confirm it, as in production."""
    from billing.services import payment_confirm
    from engagements.services import milestone_fund

    def fund(milestone_id: int, by: object) -> object:
        payment = milestone_fund(milestone_id=milestone_id, by=by)
        payment_confirm(payment_id=payment.pk, payment_method="pm_card_visa", by=by)
        deliver_stripe_events()
        return payment

    return fund
