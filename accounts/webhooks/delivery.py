"""Delivery: each delivery is POSTed by `webhook_delivery_attempt` with

    Tandem-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
    Tandem-Event: <type>
    Tandem-Delivery: <delivery id>

A 2xx answer delivers it; anything else (or no answer within 10 s) schedules the next attempt 1, 2, 4, … minutes
later (at most an hour apart) until a day after the event, then it has failed. Receivers check the signature with
`webhook_signature_verify` (the partner documentation shows the same function).
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import WebhookAttempt, WebhookDelivery
from accounts.webhooks.signing import webhook_body, webhook_secret, webhook_signature
from accounts.webhooks.targets import WEBHOOK_TIMEOUT_SECONDS, _http_post, webhook_target
from core.errors import ApplicationError

WEBHOOK_RETRY_WINDOW = timedelta(hours=24)
WEBHOOK_FIRST_RETRY = timedelta(minutes=1)
WEBHOOK_MAX_RETRY_INTERVAL = timedelta(hours=1)
# A claimed attempt holds its delivery this long; if the worker dies mid-POST, the retry sweep takes it up after.
WEBHOOK_CLAIM_LEASE = timedelta(minutes=5)


def _enqueue_attempts(delivery_ids: Iterable[int]) -> None:
    from accounts.tasks import webhook_delivery_attempt as attempt_task

    for delivery_id in delivery_ids:
        attempt_task.delay(delivery_id=delivery_id)


@dataclass(frozen=True)
class _Outcome:
    attempted_at: datetime
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Take a due delivery for one attempt (counted now; leased so no other worker sends it meanwhile)."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("subscription")
            .filter(pk=delivery_id)
            .first()
        )
        now = timezone.now()
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return None
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return None
        if not delivery.subscription.is_active:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
            delivery.save(update_fields=["status", "next_attempt_at"])
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + WEBHOOK_CLAIM_LEASE
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        return delivery


def _send(delivery: WebhookDelivery) -> _Outcome:
    from compliance.crypto import InvalidToken

    body = webhook_body(delivery=delivery)
    attempted_at, started = timezone.now(), time.monotonic()
    status_code, error = None, ""
    try:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Tandem-Webhooks/1.0",
            "Tandem-Signature": webhook_signature(
                payload=body, secret=webhook_secret(subscription=delivery.subscription), timestamp=int(time.time())
            ),
            "Tandem-Event": delivery.event_type,
            "Tandem-Delivery": str(delivery.pk),
        }
        target = webhook_target(url=delivery.subscription.url)  # again: DNS may point elsewhere by now
        status_code, text = _http_post(target, body=body, headers=headers)
        if not 200 <= status_code < 300:
            error = f"The endpoint answered HTTP {status_code}: {text[:300]}".strip().rstrip(":")
    except ApplicationError as exc:
        error = exc.message
    except InvalidToken:
        error = "The signing secret cannot be decrypted with the configured keys (see webhook_secrets_rotate)."
    except TimeoutError:
        error = f"No answer within {WEBHOOK_TIMEOUT_SECONDS} seconds."
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration_ms = int((time.monotonic() - started) * 1000)
    return _Outcome(attempted_at=attempted_at, status_code=status_code, error=error, duration_ms=duration_ms)


def _next_attempt_at(delivery: WebhookDelivery, *, now: datetime) -> datetime | None:
    """1, 2, 4, … minutes after this attempt, at most an hour apart; None once past the day after the event."""
    exponent = min(max(delivery.attempts - 1, 0), 16)
    interval = min(WEBHOOK_FIRST_RETRY * (2**exponent), WEBHOOK_MAX_RETRY_INTERVAL)
    due = now + interval
    return due if due <= delivery.created_at + WEBHOOK_RETRY_WINDOW else None


@transaction.atomic
def _record(delivery_id: int, outcome: _Outcome) -> WebhookDelivery | None:
    delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
    if delivery is None:
        return None  # the subscription was deleted while the POST was under way
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=outcome.attempted_at,
        status_code=outcome.status_code,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
    )
    now = timezone.now()
    delivery.last_status_code = outcome.status_code
    if outcome.succeeded:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = WebhookDelivery.Status.SUCCEEDED, now, None
    else:
        delivery.next_attempt_at = _next_attempt_at(delivery, now=now)
        if delivery.next_attempt_at is None:
            delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(update_fields=["status", "delivered_at", "next_attempt_at", "last_status_code"])
    return delivery


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery:
    """POST a due delivery once and log the attempt (module doc for headers and retries). A delivery that is not
    due, already settled or being sent by another worker is returned as it is; DoesNotExist if it is gone."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return WebhookDelivery.objects.get(pk=delivery_id)
    # No transaction is open while the POST waits on the partner's endpoint.
    recorded = _record(delivery.pk, _send(delivery))
    if recorded is None:
        raise WebhookDelivery.DoesNotExist
    return recorded


def webhook_deliveries_due(*, limit: int = 1000) -> list[int]:
    """Ids of pending deliveries whose next attempt is due (the retry sweep queues an attempt for each)."""
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
