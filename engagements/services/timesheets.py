"""Timesheet writes for hourly contracts: log time (checked against every rule), submit the week, approve or
reject it, and auto-approve weeks the client left alone for 5 days."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone as django_timezone

from core.bulk import all_or_nothing
from core.errors import ApplicationError
from core.models import AuditEvent
from core.services import audit_record, audit_record_many
from engagements.models import Contract, TimeEntry, Timesheet
from engagements.selectors import CLIENT, WORKER, contract_get_for_update

if TYPE_CHECKING:
    from accounts.models import User

QUARTER = Decimal("0.25")
DAY_HOURS = Decimal("24")
AUTO_APPROVE_AFTER = timedelta(days=5)
EDITABLE = (Timesheet.Status.DRAFT, Timesheet.Status.REJECTED)


@dataclass
class TimeEntryInput:
    work_date: date
    start_time: time
    hours: Decimal
    description: str
    evidence_url: str = ""


def week_start_of(day: date) -> date:
    """The Monday of the ISO week `day` is in."""
    return day - timedelta(days=day.weekday())


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _lock_timesheet(contract: Contract, week_start: date) -> Timesheet:
    timesheet, _created = Timesheet.objects.get_or_create(contract=contract, week_start=week_start)
    return Timesheet.objects.select_for_update().get(pk=timesheet.pk)


def _refresh_total(timesheet: Timesheet) -> None:
    timesheet.total_hours = timesheet.entries.aggregate(total=Sum("hours"))["total"] or Decimal("0")
    timesheet.save(update_fields=["total_hours", "updated_at"])


@transaction.atomic
def time_entry_add(*, contract_id: int, data: TimeEntryInput, by: User) -> TimeEntry:
    """Log time on the worker's hourly contract. Each rule refuses with what to change; nothing is saved then."""
    contract, side = contract_get_for_update(contract_id=contract_id, user=by)  # serialises this contract's edits
    if side != WORKER:
        raise ApplicationError("Only the freelancer or vendor doing the work logs time.", status=403)
    if contract.kind != Contract.Kind.HOURLY:
        raise ApplicationError("Time is logged on hourly contracts; fixed-price work is paid by milestone.")
    if contract.status != Contract.Status.ACTIVE:
        raise ApplicationError("Time can be logged while the contract is active.", status=409)

    def refuse(field: str, message: str) -> ApplicationError:
        return ApplicationError(message, field_errors={field: [message]})

    hours = data.hours
    if hours <= 0 or hours > DAY_HOURS or (hours / QUARTER) != (hours / QUARTER).to_integral_value():
        raise refuse("hours", "Log time in quarter-hours, from 0.25 to 24.")
    if data.start_time.minute % 15 or data.start_time.second:
        raise refuse("start_time", "Start on the quarter-hour (e.g. 09:00, 09:15).")
    if _minutes(data.start_time) + int(hours * 60) > 24 * 60:
        raise refuse("hours", "An entry ends by midnight; log the time after midnight on the next day.")
    today = django_timezone.localdate()
    if data.work_date > today:
        raise refuse("work_date", "You can't log time in the future.")
    if contract.start_date and data.work_date < contract.start_date:
        raise refuse("work_date", f"The contract started on {contract.start_date}; log time from then on.")
    if contract.end_date and data.work_date > contract.end_date:
        raise refuse("work_date", f"The contract ended on {contract.end_date}.")
    if not data.description.strip():
        raise refuse("description", "Say what you worked on.")
    if data.evidence_url:
        try:
            URLValidator(schemes=["https", "http"])(data.evidence_url)
        except ValidationError as error:
            raise refuse("evidence_url", "Enter a full link, e.g. https://github.com/acme/app/pull/42.") from error

    timesheet = _lock_timesheet(contract, week_start_of(data.work_date))
    if timesheet.status not in EDITABLE:
        raise ApplicationError(
            f"The week of {timesheet.week_start} is {timesheet.get_status_display().lower()}; it can't be edited.",
            status=409,
        )
    same_day = list(timesheet.entries.filter(work_date=data.work_date))
    if sum((entry.hours for entry in same_day), Decimal("0")) + hours > DAY_HOURS:
        raise refuse("hours", f"That would be more than 24 hours on {data.work_date}.")
    start, end = _minutes(data.start_time), _minutes(data.start_time) + int(hours * 60)
    for entry in same_day:
        other_start = _minutes(entry.start_time)
        if start < other_start + int(entry.hours * 60) and other_start < end:
            raise refuse("start_time", f"This overlaps the entry at {entry.start_time:%H:%M} on {entry.work_date}.")
    if contract.weekly_hour_cap is not None and timesheet.total_hours + hours > contract.weekly_hour_cap:
        left = Decimal(contract.weekly_hour_cap) - timesheet.total_hours
        raise refuse("hours", f"The weekly cap is {contract.weekly_hour_cap} hours; {left} hours are left this week.")

    entry = TimeEntry.objects.create(
        timesheet=timesheet,
        work_date=data.work_date,
        start_time=data.start_time,
        hours=hours,
        description=data.description.strip(),
        evidence_url=data.evidence_url,
    )
    _refresh_total(timesheet)
    return entry


def time_entries_add(*, contract_id: int, entries: Sequence[TimeEntryInput], by: User) -> list[TimeEntry]:
    """Log several entries at once (the partner API's bulk call): each checked by time_entry_add's rules (quarter
    hours, no overlaps, the weekly cap, …), all saved or none; field errors come back by index
    (BulkApplicationError), a refusal of the whole call names its entry."""
    return all_or_nothing(
        entries,
        lambda data: time_entry_add(contract_id=contract_id, data=data, by=by),
        collection="entries",
        label="entry",
    )


@transaction.atomic
def time_entry_remove(*, entry_id: int, by: User) -> None:
    contract_id = TimeEntry.objects.filter(pk=entry_id).values_list("timesheet__contract_id", flat=True).first()
    if contract_id is None:
        raise TimeEntry.DoesNotExist
    _contract, side = contract_get_for_update(contract_id=contract_id, user=by)
    if side != WORKER:
        raise ApplicationError("Only the person who logged the time can remove it.", status=403)
    entry = TimeEntry.objects.select_related("timesheet").get(pk=entry_id)
    timesheet = Timesheet.objects.select_for_update().get(pk=entry.timesheet_id)
    if timesheet.status not in EDITABLE:
        raise ApplicationError("A submitted week can't be edited.", status=409)
    entry.delete()
    _refresh_total(timesheet)


def _timesheet_for_update(*, timesheet_id: int, by: User) -> tuple[Timesheet, str]:
    contract_id = Timesheet.objects.filter(pk=timesheet_id).values_list("contract_id", flat=True).first()
    if contract_id is None:
        raise Timesheet.DoesNotExist
    try:
        _contract, side = contract_get_for_update(contract_id=contract_id, user=by)
    except Contract.DoesNotExist as error:
        raise Timesheet.DoesNotExist from error
    return Timesheet.objects.select_for_update().select_related("contract__organization").get(pk=timesheet_id), side


def _decide(timesheet: Timesheet, new_status: str, *, by: User | None, action: str, **data: str) -> Timesheet:
    previous = timesheet.transition_to(new_status)
    timesheet.save()
    audit_record(
        actor=by,
        action=action,
        target=timesheet,
        organization=timesheet.contract.organization,
        from_state=previous,
        to_state=timesheet.status,
        data=data,
    )
    return timesheet


@transaction.atomic
def timesheet_submit(*, timesheet_id: int, by: User) -> Timesheet:
    timesheet, side = _timesheet_for_update(timesheet_id=timesheet_id, by=by)
    if side != WORKER:
        raise ApplicationError("Only the worker submits their week.", status=403)
    if not timesheet.entries.exists():
        raise ApplicationError("Log some time before submitting the week.")
    timesheet.submitted_at = django_timezone.now()
    timesheet.rejection_reason = ""
    return _decide(timesheet, Timesheet.Status.SUBMITTED, by=by, action="timesheet.submitted")


@transaction.atomic
def timesheet_approve(*, timesheet_id: int, by: User) -> Timesheet:
    timesheet, side = _timesheet_for_update(timesheet_id=timesheet_id, by=by)
    if side != CLIENT:
        raise ApplicationError("Only the client approves timesheets.", status=403)
    timesheet.decided_at, timesheet.decided_by = django_timezone.now(), by
    return _decide(timesheet, Timesheet.Status.APPROVED, by=by, action="timesheet.approved")


@transaction.atomic
def timesheet_reject(*, timesheet_id: int, by: User, reason: str) -> Timesheet:
    timesheet, side = _timesheet_for_update(timesheet_id=timesheet_id, by=by)
    if side != CLIENT:
        raise ApplicationError("Only the client rejects timesheets.", status=403)
    if not reason.strip():
        raise ApplicationError(
            "Say what is wrong so the week can be corrected.", field_errors={"reason": ["Required."]}
        )
    timesheet.decided_at, timesheet.decided_by = django_timezone.now(), by
    timesheet.rejection_reason = reason.strip()
    return _decide(timesheet, Timesheet.Status.REJECTED, by=by, action="timesheet.rejected", reason=reason.strip())


@transaction.atomic
def timesheets_auto_approve(*, now: datetime | None = None) -> int:
    """Approve weeks submitted more than 5 days ago that the client left alone: one UPDATE and one bulk insert
    of audit events (idempotent: approved weeks no longer match)."""
    now = now or django_timezone.now()
    due = Timesheet.objects.select_for_update(skip_locked=True).filter(
        status=Timesheet.Status.SUBMITTED, submitted_at__lte=now - AUTO_APPROVE_AFTER
    )
    rows = list(due.values_list("pk", "contract__organization_id"))
    if not rows:
        return 0
    Timesheet.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        status=Timesheet.Status.APPROVED, decided_at=now, is_auto_approved=True, updated_at=now
    )
    audit_record_many(
        events=[
            AuditEvent(
                actor_label="system",
                organization_id=organization_id,
                action="timesheet.auto_approved",
                target_type="engagements.timesheet",
                target_id=str(pk),
                from_state=Timesheet.Status.SUBMITTED,
                to_state=Timesheet.Status.APPROVED,
                data={"after_days": AUTO_APPROVE_AFTER.days},
            )
            for pk, organization_id in rows
        ]
    )
    return len(rows)
