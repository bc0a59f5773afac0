from decimal import Decimal

import pytest
from django.test import Client

from engagements.models import Milestone
from tests.factories import MembershipFactory, TalentProfileFactory


@pytest.mark.django_db
def test_fixed_contract_journey_through_the_pages(client: Client, hire, deliver_stripe_events) -> None:
    contract, member, freelancer = hire()
    worker = Client()
    worker.force_login(freelancer)
    client.force_login(member.user)

    client.post(f"/contracts/{contract.pk}/milestones/", {"title": "Wireframes", "amount": "300.00"})
    milestone = Milestone.objects.get()
    paying = client.post(f"/milestones/{milestone.pk}/fund/")
    client.post(paying.url, {"payment_method": "pm_card_visa"})
    deliver_stripe_events()
    worker.post(f"/milestones/{milestone.pk}/submit/", {"note": "Here they are"})
    client.post(f"/milestones/{milestone.pk}/request-changes/", {"note": "Add the checkout flow"})
    worker.post(f"/milestones/{milestone.pk}/submit/", {"note": "Checkout added"})
    client.post(f"/milestones/{milestone.pk}/approve/")
    client.post(f"/milestones/{milestone.pk}/release/", {"amount": "100.00"})
    client.post(f"/milestones/{milestone.pk}/release/", {"amount": ""})

    milestone.refresh_from_db()
    assert (milestone.status, milestone.released_amount) == ("released", Decimal("300.00"))
    page = worker.get(f"/contracts/{contract.pk}/")
    assert page.status_code == 200 and "Wireframes" in page.content.decode()


@pytest.mark.django_db
def test_a_refused_step_shows_the_reason_and_changes_nothing(client: Client, hire) -> None:
    contract, member, freelancer = hire()
    client.force_login(member.user)
    client.post(f"/contracts/{contract.pk}/milestones/", {"title": "Build", "amount": "300.00"})
    milestone = Milestone.objects.get()
    client.force_login(freelancer)

    response = client.post(f"/milestones/{milestone.pk}/fund/")

    assert response.status_code == 403
    assert "Only the client can fund milestones." in response.content.decode()
    milestone.refresh_from_db()
    assert milestone.status == "pending"


@pytest.mark.django_db
def test_other_organisations_and_unrelated_freelancers_get_404(client: Client, hire) -> None:
    contract, member, _freelancer = hire()
    client.force_login(member.user)
    client.post(f"/contracts/{contract.pk}/milestones/", {"title": "Build", "amount": "300.00"})
    milestone = Milestone.objects.get()

    for outsider in (MembershipFactory(organization__kind="client").user, TalentProfileFactory().user):
        client.force_login(outsider)
        assert client.get(f"/contracts/{contract.pk}/").status_code == 404
        assert client.post(f"/contracts/{contract.pk}/pause/").status_code == 404
        assert client.post(f"/milestones/{milestone.pk}/fund/").status_code == 404
        assert contract.gig.title not in client.get("/contracts/").content.decode()
    milestone.refresh_from_db()
    contract.refresh_from_db()
    assert (milestone.status, contract.status) == ("pending", "active")


@pytest.mark.django_db
def test_contract_list_query_count_is_flat(client: Client, hire, django_assert_max_num_queries) -> None:
    from marketplace.services.bids import BidInput, bid_accept, bid_create
    from tests.factories import SkillFactory
    from tests.marketplace.conftest import make_gig

    _contract, member, _ = hire()
    hire()  # another organisation's contract never shows up
    client.force_login(member.user)
    client.get("/contracts/")
    with django_assert_max_num_queries(30) as few:
        client.get("/contracts/")
    skill = SkillFactory()
    for _ in range(8):
        gig = make_gig(member, skill)
        bid = bid_create(
            gig_id=gig.pk, data=BidInput(cover_letter="Hi", hourly_rate=Decimal("40")), by=TalentProfileFactory().user
        )
        bid_accept(bid_id=bid.pk, by=member.user)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/contracts/")
    assert len(response.context["page"].object_list) == 9


@pytest.mark.django_db
def test_hourly_week_through_the_pages_with_htmx(client: Client, hire) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from engagements.models import Contract, Timesheet

    contract, member, freelancer = hire(kind="hourly")
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday() + 7)
    Contract.objects.filter(pk=contract.pk).update(start_date=monday - timedelta(days=7))
    worker = Client()
    worker.force_login(freelancer)
    entry = {"work_date": monday.isoformat(), "start_time": "09:00", "hours": "3.5", "description": "Checkout API"}

    logged = worker.post(f"/contracts/{contract.pk}/time/", entry, HTTP_HX_REQUEST="true")
    refused = worker.post(f"/contracts/{contract.pk}/time/", {**entry, "hours": "1.1"}, HTTP_HX_REQUEST="true")

    assert logged.status_code == 200 and "Checkout API" in logged.content.decode()
    assert "Log time in quarter-hours, from 0.25 to 24." in refused.content.decode()
    assert "<html" not in refused.content.decode()  # only the section is swapped
    timesheet = Timesheet.objects.get()
    worker.post(f"/timesheets/{timesheet.pk}/submit/")
    client.force_login(member.user)
    client.post(f"/timesheets/{timesheet.pk}/approve/")
    timesheet.refresh_from_db()
    assert (timesheet.status, timesheet.total_hours) == ("approved", Decimal("3.5"))
    client.force_login(TalentProfileFactory().user)
    assert client.post(f"/timesheets/{timesheet.pk}/reject/", {"reason": "x"}).status_code == 404


@pytest.mark.django_db
def test_timesheet_review_page_query_count_is_flat(client: Client, hire, django_assert_max_num_queries) -> None:
    from datetime import time, timedelta

    from engagements.models import TimeEntry, Timesheet

    contract, member, _ = hire(kind="hourly")

    def add_weeks(first: int, count: int) -> None:
        for week in range(first, first + count):
            monday = contract.created_at.date() - timedelta(days=contract.created_at.weekday() + 7 * (week + 1))
            sheet = Timesheet.objects.create(contract=contract, week_start=monday, status="submitted")
            TimeEntry.objects.bulk_create(
                [
                    TimeEntry(
                        timesheet=sheet,
                        work_date=monday + timedelta(days=d),
                        start_time=time(9),
                        hours=4,
                        description="Work",
                    )
                    for d in range(5)
                ]
            )

    add_weeks(0, 1)
    client.force_login(member.user)
    client.get(f"/contracts/{contract.pk}/")
    with django_assert_max_num_queries(40) as few:
        client.get(f"/contracts/{contract.pk}/")
    add_weeks(1, 6)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"/contracts/{contract.pk}/")
    assert len(response.context["timesheets"]) == 7


@pytest.mark.django_db
def test_micro_task_earnings_add_up_per_worker_per_week() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from engagements.selectors import micro_task_earnings_by_week
    from marketplace.models import TaskUnit
    from tests.marketplace.test_microtasks_support import add_units, make_batch

    batch = make_batch()
    worker = TalentProfileFactory().user
    units = add_units(batch, 5)
    now = timezone.now()
    for unit, (days_ago, amount) in zip(
        units, [(0, "0.30"), (0, "0.30"), (8, "0.25"), (8, "0.25"), (0, None)], strict=True
    ):
        TaskUnit.objects.filter(pk=unit.pk).update(
            claimed_by=worker,
            status="accepted" if amount else "rejected",
            earned_amount=amount,
            submitted_at=now - timedelta(days=days_ago),
            reviewed_at=now - timedelta(days=days_ago),
        )

    weeks = micro_task_earnings_by_week(worker=worker)

    assert [(w["units"], w["earned"]) for w in weeks] == [(2, Decimal("0.60")), (2, Decimal("0.50"))]
    assert micro_task_earnings_by_week(worker=TalentProfileFactory().user) == []


@pytest.mark.django_db
def test_timesheet_pages_are_404_for_other_organisations_and_unrelated_freelancers(client: Client, hire) -> None:
    from datetime import time, timedelta

    from django.utils import timezone

    from engagements.models import Contract, TimeEntry, Timesheet

    contract, _member, _freelancer = hire(kind="hourly")
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday() + 7)
    Contract.objects.filter(pk=contract.pk).update(start_date=monday - timedelta(days=7))
    sheet = Timesheet.objects.create(contract=contract, week_start=monday, status="submitted", total_hours=2)
    entry = TimeEntry.objects.create(
        timesheet=sheet, work_date=monday, start_time=time(9), hours=2, description="Checkout API"
    )
    outsiders = (MembershipFactory(organization__kind="client").user, TalentProfileFactory().user)

    for outsider in outsiders:
        client.force_login(outsider)
        responses = [
            client.get(f"/contracts/{contract.pk}/"),
            client.post(
                f"/contracts/{contract.pk}/time/",
                {"work_date": monday.isoformat(), "start_time": "13:00", "hours": "1", "description": "x"},
            ),
            client.post(f"/time-entries/{entry.pk}/remove/"),
            client.post(f"/timesheets/{sheet.pk}/submit/"),
            client.post(f"/timesheets/{sheet.pk}/approve/"),
            client.post(f"/timesheets/{sheet.pk}/reject/", {"reason": "Not ours"}),
        ]

        assert [response.status_code for response in responses] == [404] * 6
        assert "Checkout API" not in "".join(response.content.decode() for response in responses)
    sheet.refresh_from_db()
    assert (sheet.status, sheet.total_hours, sheet.entries.count()) == ("submitted", Decimal("2.00"), 1)
