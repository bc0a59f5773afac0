from __future__ import annotations

import time

from celery import shared_task
from django.core.cache import cache

BEAT_HEARTBEAT_KEY = "core:beat:last_seen"


@shared_task(name="core.tasks.ping")
def ping(token: str) -> str:
    """Round-trip check used by the health endpoint: proves a worker consumed the default queue."""
    return token


@shared_task(name="core.tasks.beat_heartbeat")
def beat_heartbeat() -> float:
    """Scheduled by beat every 30 s; the health endpoint reads the time to tell whether beat is alive."""
    now = time.time()
    cache.set(BEAT_HEARTBEAT_KEY, now, timeout=None)
    return now


@shared_task(name="core.tasks.audit_seal", acks_late=True)
def audit_seal() -> int:
    """Chain the audit events recorded since the last run (queued on commit by audit_record; beat every minute)."""
    from core.services import AUDIT_SEAL_QUEUED_KEY
    from core.services import audit_seal as seal

    cache.delete(AUDIT_SEAL_QUEUED_KEY)
    sealed = seal()
    if sealed:
        from accounts.tasks import webhooks_dispatch

        webhooks_dispatch.delay()  # webhooks are derived from sealed events (accounts/webhooks/)
    return sealed


@shared_task(name="core.tasks.idempotency_records_purge")
def idempotency_records_purge() -> int:
    """Delete API Idempotency-Key records older than their 24 hours (beat, daily)."""
    from core.idempotency import idempotency_records_purge as purge

    return purge()
