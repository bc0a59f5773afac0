from __future__ import annotations

from celery import shared_task


@shared_task(name="marketplace.tasks.review_reveal_due", acks_late=True)
def review_reveal_due() -> int:
    """Daily: reveal reviews whose 14-day wait is over (idempotent: revealed reviews are skipped)."""
    from marketplace.services.reviews import review_reveal_due as reveal

    return reveal()
