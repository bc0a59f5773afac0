"""Billing work in Celery: webhook events, invoice issuing, payout batches and transfers, invoice emails. Every
task takes ids and is idempotent."""

from __future__ import annotations

import stripe
from celery import shared_task

TRANSIENT = (ConnectionError, TimeoutError, stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


@shared_task(
    name="billing.tasks.stripe_event_process",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=8,
)
def stripe_event_process(*, event_id: str) -> str:
    from billing.services.webhooks import stripe_event_process as process

    return process(event_id=event_id)


@shared_task(
    name="billing.tasks.payout_send",
    queue="payouts",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
)
def payout_send(*, payout_id: int) -> str:
    from billing.services.payouts import payout_send as send

    return send(payout_id=payout_id).status


@shared_task(name="billing.tasks.payouts_create_due", queue="payouts", acks_late=True)
def payouts_create_due() -> int:
    from billing.services.payouts import payouts_create_due as create

    return len(create())


@shared_task(name="billing.tasks.invoices_issue_due", acks_late=True)
def invoices_issue_due() -> int:
    from billing.services.invoicing_runs import invoices_issue_due as issue

    return issue()


@shared_task(name="billing.tasks.invoice_issued_email_send", queue="email", acks_late=True)
def invoice_issued_email_send(*, invoice_id: int) -> bool:
    from billing.services.notifications import invoice_issued_email_send as send

    return send(invoice_id=invoice_id)
