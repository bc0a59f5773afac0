"""The daily invoicing run: every approved week of hours, every finished week of accepted micro-task units and
every evaluated SOW month that has no invoice yet gets one (each in its own transaction; the unique source key
makes a second run, or a concurrent one, issue nothing twice)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import CharField, Count, Exists, OuterRef, Sum, Value
from django.db.models.functions import Cast, Concat, TruncDate, TruncWeek
from django.utils import timezone as django_timezone

from billing.models import Invoice
from billing.services.invoices import (
    invoice_issue_for_micro_tasks,
    invoice_issue_for_sow_month,
    invoice_issue_for_timesheet,
)

MICRO_TASK_WEEKS_BACK = 8


def _not_invoiced(prefix: str, *parts: Any) -> Any:
    key = Concat(Value(prefix), *parts, output_field=CharField())
    return ~Exists(Invoice.objects.filter(source_key=key))


def invoices_issue_due() -> int:
    from accounts.models import User
    from engagements.models import SLAEvaluation, Timesheet
    from marketplace.models import TaskUnit

    issued = 0
    timesheets = Timesheet.objects.filter(status=Timesheet.Status.APPROVED, total_hours__gt=0).filter(
        _not_invoiced("timesheet:", Cast(OuterRef("pk"), CharField()))
    )
    for timesheet in timesheets.select_related(
        "contract__organization", "contract__gig", "contract__freelancer", "contract__vendor"
    ):
        issued += invoice_issue_for_timesheet(timesheet=timesheet) is not None

    this_monday = django_timezone.localdate() - timedelta(days=django_timezone.localdate().weekday())
    weeks = (
        TaskUnit.objects.filter(
            status=TaskUnit.Status.ACCEPTED,
            earned_amount__isnull=False,
            claimed_by__isnull=False,
            # Bounded look-back: older weeks were invoiced by earlier runs (issuing is idempotent anyway).
            reviewed_at__date__gte=this_monday - timedelta(weeks=MICRO_TASK_WEEKS_BACK),
        )
        .annotate(week_start=TruncDate(TruncWeek("reviewed_at")))
        .filter(week_start__lt=this_monday)
        .values("batch_id", "claimed_by_id", "week_start")
        .annotate(amount=Sum("earned_amount"), units=Count("id"))
        .order_by("week_start", "batch_id", "claimed_by_id")
    )
    workers = {user.pk: user for user in User.objects.filter(pk__in={row["claimed_by_id"] for row in weeks})}
    for row in weeks:
        issued += (
            invoice_issue_for_micro_tasks(
                batch_id=row["batch_id"],
                worker=workers[row["claimed_by_id"]],
                week_start=row["week_start"],
                amount=row["amount"],
                units=row["units"],
            )
            is not None
        )

    months = SLAEvaluation.objects.filter(
        _not_invoiced(
            "sow:",
            Cast(OuterRef("sow_id"), CharField()),
            Value(":"),
            Cast(OuterRef("period"), CharField()),
        )
    ).select_related("sow__organization", "sow__vendor")
    for evaluation in months:
        issued += invoice_issue_for_sow_month(evaluation=evaluation) is not None
    return issued
