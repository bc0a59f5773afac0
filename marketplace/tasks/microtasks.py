"""Micro-task background work: returning units whose lease ran out to the queue (run by beat every minute)."""

from __future__ import annotations

from celery import shared_task

from marketplace.services import microtasks as services

__all__ = ["task_unit_leases_expire"]


@shared_task(
    name="marketplace.tasks.task_unit_leases_expire",
    acks_late=True,
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def task_unit_leases_expire() -> int:
    """Idempotent: a second run finds nothing left to expire. Returns how many units went back to the queue."""
    return services.task_unit_leases_expire()
