"""Compliance background work. Each task wraps the service of the same name; tasks take ids and are idempotent."""

from __future__ import annotations

from celery import shared_task

from compliance import tasks_checks  # noqa: F401  (the checks' tasks register with this module)


@shared_task(name="compliance.tasks.documents_expire", acks_late=True)
def documents_expire() -> int:
    """Daily (beat): approved documents past their expiry become expired (idempotent)."""
    from compliance.services.documents import documents_expire as expire

    return expire()
