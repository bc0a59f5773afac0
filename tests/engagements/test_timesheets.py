import contextlib
import itertools
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ApplicationError
from core.models import AuditEvent
from engagements.models import Contract, TimeEntry, Timesheet
from engagements.services import (
    TimeEntryInput,
    time_entry_add,
    time_entry_remove,
    timesheet_approve,
    timesheet_reject,
    timesheet_submit,
    timesheets_auto_approve,
    week_start_of,
)

MONDAY = week_start_of(timezone.localdate() - timedelta(days=7))  # last week: every day is in the past


def _hourly(hire, cap: int = 40):
    contract, member, freelancer = hire(kind="hourly")
    Contract.objects.filter(pk=contract.pk).update(start_date=MONDAY - timedelta(days=7), weekly_hour_cap=cap)
    return contract, member, freelancer


def _log(contract, freelancer, day: int = 0, start: str = "09:00", hours: str = "2", **extra):
    hour, minute = (int(x) for x in start.split(":"))
    data = TimeEntryInput(
        work_date=MONDAY + timedelta(days=day),
        start_time=time(hour, minute),
        hours=Decimal(hours),
        description=extra.pop("description", "API work"),
        **extra,
    )
    return time_entry_add(contract_id=contract.pk, data=data, by=freelancer)


@pytest.mark.django_db
def test_time_is_logged_on_the_weeks_timesheet_and_totals_kept(hire) -> None:
    contract, _member, freelancer = _hourly(hire)

    _log(contract, freelancer, day=0, hours="3.5", evidence_url="https://github.com/acme/app/pull/42")
    _log(contract, freelancer, day=1, start="13:15", hours="1.25")

    timesheet = Timesheet.objects.get()
    assert (timesheet.week_start, timesheet.total_hours, timesheet.status) == (MONDAY, Decimal("4.75"), "draft")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"hours": "1.1"}, "hours", "quarter-hours"),
        ({"start": "09:10"}, "start_time", "quarter-hour"),
        ({"start": "23:00", "hours": "2"}, "hours", "ends by midnight"),
        ({"day": 30}, "work_date", "future"),
        ({"day": -30}, "work_date", "The contract started on"),
        ({"description": " "}, "description", "Say what you worked on"),
        ({"evidence_url": "not a link"}, "evidence_url", "Enter a full link"),
    ],
)
def test_each_rule_refuses_with_its_message_and_saves_nothing(hire, kwargs, field, message) -> None:
    contract, _member, freelancer = _hourly(hire)

    with pytest.raises(ApplicationError) as error:
        _log(contract, freelancer, **kwargs)

    assert message in error.value.field_errors[field][0]
    assert not TimeEntry.objects.exists()


@pytest.mark.django_db
def test_overlaps_day_limit_and_weekly_cap(hire) -> None:
    contract, _member, freelancer = _hourly(hire, cap=10)
    _log(contract, freelancer, day=0, start="09:00", hours="4")

    with pytest.raises(ApplicationError, match="overlaps the entry at 09:00"):
        _log(contract, freelancer, day=0, start="12:45", hours="1")
    _log(contract, freelancer, day=0, start="13:00", hours="4")
    with pytest.raises(ApplicationError) as capped:
        _log(contract, freelancer, day=1, start="09:00", hours="2.25")

    assert "2.00 hours are left this week" in capped.value.field_errors["hours"][0]
    assert Timesheet.objects.get().total_hours == Decimal("8")


@pytest.mark.django_db
def test_submit_approve_and_no_edits_after_submission(hire) -> None:
    contract, member, freelancer = _hourly(hire)
    entry = _log(contract, freelancer)
    timesheet = entry.timesheet

    timesheet_submit(timesheet_id=timesheet.pk, by=freelancer)
    with pytest.raises(ApplicationError, match="can't be edited"):
        _log(contract, freelancer, day=2)
    with pytest.raises(ApplicationError, match="can't be edited"):
        time_entry_remove(entry_id=entry.pk, by=freelancer)
    with pytest.raises(ApplicationError, match="Only the client approves"):
        timesheet_approve(timesheet_id=timesheet.pk, by=freelancer)
    timesheet_approve(timesheet_id=timesheet.pk, by=member.user)

    timesheet.refresh_from_db()
    assert (timesheet.status, timesheet.decided_by) == ("approved", member.user)


@pytest.mark.django_db
def test_rejected_weeks_are_corrected_and_resubmitted(hire) -> None:
    contract, member, freelancer = _hourly(hire)
    timesheet = _log(contract, freelancer).timesheet
    timesheet_submit(timesheet_id=timesheet.pk, by=freelancer)

    with pytest.raises(ApplicationError, match="Say what is wrong"):
        timesheet_reject(timesheet_id=timesheet.pk, by=member.user, reason="")
    timesheet_reject(timesheet_id=timesheet.pk, by=member.user, reason="Tuesday is missing the ticket link")
    _log(contract, freelancer, day=1)
    timesheet_submit(timesheet_id=timesheet.pk, by=freelancer)

    timesheet.refresh_from_db()
    assert (timesheet.status, timesheet.total_hours, timesheet.rejection_reason) == ("submitted", Decimal("4"), "")


@pytest.mark.django_db
def test_weeks_left_alone_for_five_days_are_auto_approved_once(hire) -> None:
    contract, _member, freelancer = _hourly(hire)
    timesheet = _log(contract, freelancer).timesheet
    timesheet_submit(timesheet_id=timesheet.pk, by=freelancer)
    assert timesheets_auto_approve() == 0

    later = timezone.now() + timedelta(days=5, minutes=1)
    assert timesheets_auto_approve(now=later) == 1
    assert timesheets_auto_approve(now=later) == 0

    timesheet.refresh_from_db()
    assert (timesheet.status, timesheet.is_auto_approved) == ("approved", True)
    assert AuditEvent.objects.filter(action="timesheet.auto_approved", target_id=str(timesheet.pk)).count() == 1


@pytest.mark.django_db
def test_outsiders_and_clients_cannot_log_time(hire) -> None:
    from tests.factories import MembershipFactory

    contract, member, _freelancer = _hourly(hire)

    with pytest.raises(ApplicationError, match="Only the freelancer or vendor"):
        _log(contract, member.user)
    with pytest.raises(Contract.DoesNotExist):
        _log(contract, MembershipFactory().user)
    assert not Timesheet.objects.exists()


entries = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 95), st.integers(1, 48)),  # day, start quarter, quarters
    min_size=1,
    max_size=25,
)


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(planned=entries, cap=st.integers(1, 60))
def test_whatever_is_logged_the_week_stays_within_every_rule(hire, planned, cap) -> None:
    contract, _member, freelancer = _hourly(hire, cap=cap)

    for day, start_quarter, quarters in planned:
        start = time(start_quarter // 4, (start_quarter % 4) * 15)
        with contextlib.suppress(ApplicationError):
            _log(contract, freelancer, day=day, start=f"{start:%H:%M}", hours=str(Decimal(quarters) / 4))

    timesheet = Timesheet.objects.filter(contract=contract).first()
    logged = list(TimeEntry.objects.filter(timesheet__contract=contract))
    total = sum((entry.hours for entry in logged), Decimal("0"))
    assert total <= cap
    assert timesheet is None or timesheet.total_hours == total
    by_day: dict[date, list[TimeEntry]] = {}
    for entry in logged:
        by_day.setdefault(entry.work_date, []).append(entry)
    for day_entries in by_day.values():
        assert sum((e.hours for e in day_entries), Decimal("0")) <= 24
        spans = sorted((e.start_time.hour * 60 + e.start_time.minute, int(e.hours * 60)) for e in day_entries)
        for (start_a, length_a), (start_b, _length_b) in itertools.pairwise(spans):
            assert start_a + length_a <= start_b  # no overlaps
