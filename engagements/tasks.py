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


@shared_task(name="engagements.tasks.sows_activate_due", acks_late=True)
def sows_activate_due() -> int:
    """Daily: start signed SOWs on their start date, end active ones past their end date (idempotent)."""
    from engagements.services import sows_activate_due as run

    return run()


@shared_task(name="engagements.tasks.sla_evaluations_run", acks_late=True)
def sla_evaluations_run() -> int:
    """Daily: evaluate each SOW's finished months once (idempotent per SOW per month)."""
    from engagements.services import sla_evaluations_run as run

    return run()


@shared_task(name="engagements.tasks.sla_evaluation_email_send", queue="email", acks_late=True)
def sla_evaluation_email_send(*, evaluation_id: int) -> bool:
    """Tell both sides how the month went, once (the evaluation row's notified_at is the guard)."""
    from django.core.mail import send_mail
    from django.db import transaction
    from django.template.loader import render_to_string
    from django.utils import timezone

    from accounts.models import Membership
    from engagements.models import ServiceLevel, SLAEvaluation

    with transaction.atomic():
        evaluation = (
            SLAEvaluation.objects.select_for_update(of=("self",))
            .select_related("sow__organization", "sow__vendor")
            .filter(pk=evaluation_id, notified_at__isnull=True)
            .first()
        )
        if evaluation is None:
            return False
        sow = evaluation.sow
        recipients = sorted(
            set(
                Membership.objects.filter(
                    organization_id__in=[sow.organization_id, sow.vendor_id],
                    role__in=["owner", "admin", "finance"],
                    user__is_active=True,
                    user__is_service_account=False,
                ).values_list("user__email", flat=True)
            )
        )
        # Readable names for the stored codes ("First response (minutes)", "at most").
        lines = [
            {
                **line,
                "metric_label": ServiceLevel.Metric(line["metric"]).label,
                "direction_label": ServiceLevel.Direction(line["direction"]).label,
            }
            for line in evaluation.lines
        ]
        context = {"evaluation": evaluation, "sow": sow, "lines": lines, "breaches": list(evaluation.breaches.all())}
        subject = f"SLA report for {evaluation.period:%B %Y}: {sow.title}"
        if recipients:
            send_mail(subject, render_to_string("engagements/email/sla_evaluation.txt", context), None, recipients)
        evaluation.notified_at = timezone.now()
        evaluation.save(update_fields=["notified_at", "updated_at"])
    return bool(recipients)
