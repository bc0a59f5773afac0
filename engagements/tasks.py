from __future__ import annotations

from celery import shared_task


@shared_task(name="engagements.tasks.contract_activate_if_ready", acks_late=True)
def contract_activate_if_ready(*, contract_id: int) -> bool:
    """Start a hired contract once the compliance gate lets it (idempotent)."""
    from engagements.services import contract_activate_if_ready as activate

    return activate(contract_id=contract_id)


@shared_task(name="engagements.tasks.timesheets_auto_approve", acks_late=True)
def timesheets_auto_approve() -> int:
    """Hourly: approve weeks submitted more than 5 days ago that the client left alone (idempotent)."""
    from engagements.services import timesheets_auto_approve as approve

    return approve()
