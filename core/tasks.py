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
