"""Tasks of the accounts app: outgoing webhooks (queue "webhooks"; each task wraps the service of its name)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="accounts.tasks.webhooks_dispatch", acks_late=True)
def webhooks_dispatch() -> int:
    """Turn newly sealed audit events into deliveries (queued after each sealing; beat every minute)."""
    from accounts import webhooks

    return webhooks.webhooks_dispatch()


@shared_task(name="accounts.tasks.webhook_delivery_attempt", acks_late=True)
def webhook_delivery_attempt(*, delivery_id: int) -> str | None:
    """POST one delivery if it is due; returns its status (None if it was deleted meanwhile)."""
    from accounts import webhooks
    from accounts.models import WebhookDelivery

    try:
        return webhooks.webhook_delivery_attempt(delivery_id=delivery_id).status
    except WebhookDelivery.DoesNotExist:
        return None


@shared_task(name="accounts.tasks.webhook_deliveries_due", acks_late=True)
def webhook_deliveries_due() -> int:
    """Beat, every minute: queue an attempt for each delivery whose retry is due."""
    from accounts import webhooks

    due = webhooks.webhook_deliveries_due()
    for delivery_id in due:
        webhook_delivery_attempt.delay(delivery_id=delivery_id)
    return len(due)
