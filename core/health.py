"""Health checks of the parts the product needs: PostgreSQL, Redis, a Celery worker, beat."""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.core.cache import cache
from django.db import connection

BEAT_STALE_AFTER_SECONDS = 120


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means unhealthy; report it, don't crash
        return {"ok": False, "error": str(error)}
    return {"ok": True}


def check_redis() -> dict[str, Any]:
    try:
        cache.set("core:health:probe", "1", timeout=10)
        ok = cache.get("core:health:probe") == "1"
    except Exception as error:  # noqa: BLE001
        return {"ok": False, "error": str(error)}
    return {"ok": ok}


def check_worker(timeout: float = 5.0) -> dict[str, Any]:
    """Send a task through the broker and wait for a worker's answer through the result backend."""
    from core.tasks import ping

    token = uuid.uuid4().hex
    started = time.monotonic()
    try:
        result = ping.apply_async(kwargs={"token": token}, queue="default", expires=timeout)
        answer = result.get(timeout=timeout)
        result.forget()
    except Exception as error:  # noqa: BLE001
        return {"ok": False, "error": f"no worker answered within {timeout:.0f}s ({type(error).__name__})"}
    return {"ok": answer == token, "round_trip_ms": round((time.monotonic() - started) * 1000)}


def check_beat() -> dict[str, Any]:
    from core.tasks import BEAT_HEARTBEAT_KEY

    try:
        last_seen = cache.get(BEAT_HEARTBEAT_KEY)
    except Exception as error:  # noqa: BLE001
        return {"ok": False, "error": str(error)}
    if last_seen is None:
        return {"ok": False, "error": "beat has not run yet"}
    age = time.time() - float(last_seen)
    return {"ok": age < BEAT_STALE_AFTER_SECONDS, "last_seen_seconds_ago": round(age)}


def health_report(*, include_worker: bool = True) -> dict[str, Any]:
    checks = {"database": check_database(), "redis": check_redis()}
    if include_worker:
        checks["worker"] = check_worker()
        checks["beat"] = check_beat()
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}
