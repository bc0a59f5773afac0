"""The engagements partner API: contracts, milestones, timesheets and time entries (in bulk), statements of work,
service levels and SLA measurements (in bulk). Each endpoint: success, validation errors, and who may do what
(the other side, another organisation, a read-only key, no key)."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import ApplicationError, BulkApplicationError
from engagements.models import Contract, Milestone, ServiceLevel, SLAMeasurement, StatementOfWork, TimeEntry, Timesheet
from engagements.services import (
    MeasurementInput,
    MilestoneInput,
    TimeEntryInput,
    milestone_create,
    milestone_mark_funded,
    milestone_submit,
    sla_measurement_record,
    sla_measurements_record,
    time_entries_add,
    time_entry_add,
    timesheet_submit,
    week_start_of,
)
from engagements.services.sows import month_start
from tests.api_support import READ_SCOPES, api_client, freelancer_api_key, org_api_key
from tests.factories import OrganizationFactory

CONTRACTS = "/api/v1/contracts/"
SOWS = "/api/v1/sows/"
MONDAY = week_start_of(timezone.localdate() - timedelta(days=7))  # last week: every day is in the past
LAST_MONTH = month_start(month_start(timezone.localdate()) - timedelta(days=1))
NEXT_MONTH = month_start(month_start(timezone.localdate()) + timedelta(days=32))


def _outsider() -> str:
    return org_api_key(OrganizationFactory())


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _count_queries(client, url: str) -> int:
    client.get(url)  # the key's first use records when it was last used: one more query, once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# --- contracts ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_party_lists_its_contracts_and_nobody_else_sees_them(hire) -> None:
    contract, member, freelancer = hire()
    client_key, freelancer_key = org_api_key(member.organization), freelancer_api_key(freelancer)

    client_view = api_client(client_key).get(CONTRACTS)
    freelancer_view = api_client(freelancer_key).get(CONTRACTS)
    outsider_view = api_client(_outsider()).get(CONTRACTS)

    assert _ids(client_view) == [contract.pk]
    assert _ids(freelancer_view) == [contract.pk]
    assert _ids(outsider_view) == []
    row = client_view.json()["results"][0]
    assert {key: row[key] for key in ("kind", "status", "currency", "fixed_amount", "hourly_rate", "vendor")} == {
        "kind": "fixed",
        "status": "active",
        "currency": contract.currency,
        "fixed_amount": "900.00",
        "hourly_rate": None,
        "vendor": None,
    }
    assert row["organization"] == {"id": member.organization_id, "name": member.organization.name}
    assert row["freelancer"] == {"id": freelancer.pk, "name": freelancer.full_name}
    assert row["gig"] == {"id": contract.gig_id, "title": contract.gig.title}


@pytest.mark.django_db
def test_contracts_are_filtered_by_status_and_kind_and_a_bad_filter_is_a_400(hire) -> None:
    fixed, member, _freelancer = hire()
    hourly, _other_member, _other = hire(kind="hourly")
    Contract.objects.filter(pk=hourly.pk).update(organization=member.organization)
    client = api_client(org_api_key(member.organization))

    assert _ids(client.get(CONTRACTS, {"kind": "hourly"})) == [hourly.pk]
    assert _ids(client.get(CONTRACTS, {"kind": "fixed", "status": "active"})) == [fixed.pk]
    assert _ids(client.get(CONTRACTS, {"status": "completed"})) == []
    response = client.get(CONTRACTS, {"status": "finished"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == {"status"}


@pytest.mark.django_db
def test_a_contract_is_read_by_its_parties_only(hire) -> None:
    contract, member, freelancer = hire()
    url = f"{CONTRACTS}{contract.pk}/"

    mine = api_client(org_api_key(member.organization, scopes=READ_SCOPES)).get(url)
    theirs = api_client(freelancer_api_key(freelancer)).get(url)

    assert (mine.status_code, mine.json()["id"], mine.json()["status"]) == (200, contract.pk, "active")
    assert theirs.json() == mine.json()
    assert api_client(_outsider()).get(url).status_code == 404
    assert api_client(org_api_key(member.organization, scopes=["billing:read"])).get(url).status_code == 403
    assert api_client().get(url).status_code == 401
    assert api_client(org_api_key(member.organization)).get(f"{CONTRACTS}999999/").status_code == 404


@pytest.mark.django_db
def test_the_contract_list_costs_the_same_queries_for_one_contract_as_for_three(hire) -> None:
    _contract, member, _freelancer = hire()
    client = api_client(org_api_key(member.organization))
    one = _count_queries(client, CONTRACTS)
    for _ in range(2):
        other, _m, _f = hire()
        Contract.objects.filter(pk=other.pk).update(organization=member.organization)

    three = _count_queries(client, CONTRACTS)

    assert len(_ids(client.get(CONTRACTS))) == 3
    assert three == one


# --- milestones ---------------------------------------------------------------------------------------------------


def _milestone(contract, member, amount: str = "400.00", title: str = "Design") -> Milestone:
    return milestone_create(
        contract_id=contract.pk, data=MilestoneInput(title=title, amount=Decimal(amount)), by=member.user
    )


def _post(raw_key: str | None, url: str, body: dict | None = None):
    return api_client(raw_key).post(url, body or {}, format="json")


@pytest.mark.django_db
def test_a_contracts_milestones_are_listed_for_its_parties_only(hire) -> None:
    contract, member, freelancer = hire()
    first, second = _milestone(contract, member, "300.00", "Design"), _milestone(contract, member, "200.00", "Build")
    url = f"{CONTRACTS}{contract.pk}/milestones/"

    response = api_client(freelancer_api_key(freelancer)).get(url)

    assert _ids(response) == [first.pk, second.pk]
    row = response.json()["results"][0]
    assert {key: row[key] for key in ("title", "status", "amount", "released_amount", "remaining_amount")} == {
        "title": "Design",
        "status": "pending",
        "amount": "300.00",
        "released_amount": "0.00",
        "remaining_amount": "300.00",
    }
    assert _ids(api_client(org_api_key(member.organization)).get(url, {"status": "funded"})) == []
    assert api_client(_outsider()).get(url).status_code == 404


@pytest.mark.django_db
def test_the_client_adds_a_milestone_and_fields_it_may_not_set_are_ignored(hire) -> None:
    contract, member, _freelancer = hire()

    response = _post(
        org_api_key(member.organization),
        f"{CONTRACTS}{contract.pk}/milestones/",
        {
            "title": "Design",
            "amount": "250.00",
            "due_date": None,
            "status": "released",
            "released_amount": "250.00",
            "currency": "JPY",
            "contract_id": 999,
        },
    )

    assert response.status_code == 201, response.content
    milestone = Milestone.objects.get()
    assert (milestone.contract_id, milestone.status, milestone.released_amount, milestone.currency) == (
        contract.pk,
        "pending",
        Decimal("0.00"),
        contract.currency,
    )
    assert response.json()["id"] == milestone.pk
    assert response.json()["amount"] == "250.00"


@pytest.mark.django_db
def test_adding_a_milestone_is_refused_with_the_reason_and_nothing_is_added(hire) -> None:
    contract, member, freelancer = hire()
    url = f"{CONTRACTS}{contract.pk}/milestones/"
    body = {"title": "Design", "amount": "250.00"}

    missing = _post(org_api_key(member.organization), url, {"amount": "abc"})
    too_much = _post(org_api_key(member.organization), url, {"title": "Everything", "amount": "5000.00"})

    assert (missing.status_code, set(missing.json()["errors"])) == (400, {"title", "amount"})
    assert too_much.status_code == 400
    assert "more than the contract's 900.00" in too_much.json()["errors"]["amount"][0]
    assert _post(freelancer_api_key(freelancer), url, body).status_code == 403
    assert _post(org_api_key(member.organization, scopes=READ_SCOPES), url, body).status_code == 403
    assert _post(_outsider(), url, body).status_code == 404
    assert _post(None, url, body).status_code == 401
    assert not Milestone.objects.exists()


@pytest.mark.django_db
def test_a_milestone_goes_from_submission_through_changes_to_approval_and_a_release_in_two_parts(
    hire, fund_milestone
) -> None:
    contract, member, freelancer = hire()
    milestone = _milestone(contract, member)
    fund_milestone(milestone.pk, member.user)
    client_key, freelancer_key = org_api_key(member.organization), freelancer_api_key(freelancer)
    url = f"/api/v1/milestones/{milestone.pk}/"

    submitted = _post(freelancer_key, f"{url}submit/", {"note": "First cut", "status": "approved"})
    changes = _post(client_key, f"{url}request-changes/", {"note": "Use our brand colours"})
    _post(freelancer_key, f"{url}submit/", {"note": "Colours fixed"})
    approved = _post(client_key, f"{url}approve/")
    part = _post(client_key, f"{url}release/", {"amount": "150.00"})
    rest = _post(client_key, f"{url}release/", {})

    assert (submitted.status_code, submitted.json()["status"], submitted.json()["submission_note"]) == (
        200,
        "submitted",
        "First cut",
    )
    assert (changes.json()["status"], changes.json()["change_request_note"]) == ("funded", "Use our brand colours")
    assert approved.json()["status"] == "approved"
    assert {key: part.json()[key] for key in ("status", "released_amount", "remaining_amount")} == {
        "status": "approved",
        "released_amount": "150.00",
        "remaining_amount": "250.00",
    }
    assert {key: rest.json()[key] for key in ("status", "released_amount", "remaining_amount")} == {
        "status": "released",
        "released_amount": "400.00",
        "remaining_amount": "0.00",
    }


@pytest.mark.django_db
def test_milestone_actions_refuse_bad_input_the_wrong_side_and_outsiders_and_change_nothing(hire) -> None:
    contract, member, freelancer = hire()
    milestone = _milestone(contract, member)
    milestone_mark_funded(milestone_id=milestone.pk)
    milestone_submit(milestone_id=milestone.pk, by=freelancer)
    client_key, freelancer_key = org_api_key(member.organization), freelancer_api_key(freelancer)
    url = f"/api/v1/milestones/{milestone.pk}/"

    blank_note = _post(client_key, f"{url}request-changes/", {"note": "  "})
    no_note = _post(client_key, f"{url}request-changes/", {})
    not_yet = _post(client_key, f"{url}release/", {"amount": "100.00"})
    bad_amount = _post(client_key, f"{url}release/", {"amount": "lots"})

    assert (blank_note.status_code, blank_note.json()["errors"]) == (400, {"note": ["Describe the changes."]})
    assert (no_note.status_code, set(no_note.json()["errors"])) == (400, {"note"})
    assert (not_yet.status_code, not_yet.json()["detail"]) == (409, "Approve the work before releasing the payment.")
    assert (bad_amount.status_code, set(bad_amount.json()["errors"])) == (400, {"amount"})
    assert _post(freelancer_key, f"{url}approve/").status_code == 403
    assert _post(org_api_key(member.organization, scopes=READ_SCOPES), f"{url}approve/").status_code == 403
    assert _post(_outsider(), f"{url}approve/").status_code == 404
    assert _post(_outsider(), f"{url}submit/").status_code == 404
    assert _post(None, f"{url}approve/").status_code == 401
    assert _post(client_key, "/api/v1/milestones/999999/approve/").status_code == 404
    milestone.refresh_from_db()
    assert (milestone.status, milestone.change_request_note) == ("submitted", "")


@pytest.mark.django_db
def test_releasing_more_than_remains_is_a_400_naming_the_amount(hire, fund_milestone) -> None:
    contract, member, freelancer = hire()
    milestone = _milestone(contract, member)
    fund_milestone(milestone.pk, member.user)
    milestone_submit(milestone_id=milestone.pk, by=freelancer)
    client_key = org_api_key(member.organization)
    _post(client_key, f"/api/v1/milestones/{milestone.pk}/approve/")

    response = _post(client_key, f"/api/v1/milestones/{milestone.pk}/release/", {"amount": "400.01"})

    assert (response.status_code, response.json()["errors"]) == (400, {"amount": ["At most 400.00 USD."]})
    milestone.refresh_from_db()
    assert (milestone.status, milestone.released_amount) == ("approved", Decimal("0.00"))


# --- time entries and timesheets ----------------------------------------------------------------------------------


def _hourly(hire, cap: int = 40):
    contract, member, freelancer = hire(kind="hourly")
    Contract.objects.filter(pk=contract.pk).update(start_date=MONDAY - timedelta(days=7), weekly_hour_cap=cap)
    return contract, member, freelancer


def _entry(day: int = 0, start: str = "09:00", hours: str = "2", **extra) -> dict:
    return {
        "work_date": (MONDAY + timedelta(days=day)).isoformat(),
        "start_time": start,
        "hours": hours,
        "description": extra.pop("description", "API work"),
        **extra,
    }


def _log(contract, freelancer, day: int = 0, start: str = "09:00", hours: str = "2") -> TimeEntry:
    hour, minute = (int(x) for x in start.split(":"))
    data = TimeEntryInput(
        work_date=MONDAY + timedelta(days=day), start_time=time(hour, minute), hours=Decimal(hours), description="Work"
    )
    return time_entry_add(contract_id=contract.pk, data=data, by=freelancer)


@pytest.mark.django_db
def test_the_worker_logs_several_entries_in_one_request(hire) -> None:
    contract, _member, freelancer = _hourly(hire)

    response = _post(
        freelancer_api_key(freelancer),
        f"{CONTRACTS}{contract.pk}/time-entries/",
        {
            "entries": [
                _entry(0, "09:00", "3.5", evidence_url="https://github.com/acme/app/pull/42"),
                _entry(1, "13:15", "1.25", description="Reviews"),
            ]
        },
    )

    assert response.status_code == 201, response.content
    timesheet = Timesheet.objects.get()
    assert (timesheet.week_start, timesheet.total_hours, timesheet.status) == (MONDAY, Decimal("4.75"), "draft")
    assert [
        (row["timesheet_id"], row["work_date"], row["start_time"], row["hours"], row["description"])
        for row in response.json()["entries"]
    ] == [
        (timesheet.pk, MONDAY.isoformat(), "09:00", "3.50", "API work"),
        (timesheet.pk, (MONDAY + timedelta(days=1)).isoformat(), "13:15", "1.25", "Reviews"),
    ]
    assert response.json()["entries"][0]["evidence_url"] == "https://github.com/acme/app/pull/42"


@pytest.mark.django_db
def test_entries_are_saved_all_or_nothing_with_each_entrys_errors_at_its_index(hire) -> None:
    contract, _member, freelancer = _hourly(hire)

    response = _post(
        freelancer_api_key(freelancer),
        f"{CONTRACTS}{contract.pk}/time-entries/",
        {"entries": [_entry(0, "09:00", "2"), _entry(1, "09:00", "0.3"), _entry(0, "10:00", "1")]},
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "entries": {
            "1": {"hours": ["Log time in quarter-hours, from 0.25 to 24."]},
            "2": {"start_time": [f"This overlaps the entry at 09:00 on {MONDAY}."]},
        }
    }
    assert not TimeEntry.objects.exists()
    assert Timesheet.objects.filter(total_hours__gt=0).count() == 0


def _input(day: int, start: time, hours: str) -> TimeEntryInput:
    return TimeEntryInput(
        work_date=MONDAY + timedelta(days=day), start_time=start, hours=Decimal(hours), description="Work"
    )


@pytest.mark.django_db
def test_the_bulk_time_entry_service_saves_all_or_reports_every_refused_entry_by_index(hire) -> None:
    contract, member, freelancer = _hourly(hire)

    with pytest.raises(BulkApplicationError) as refused:
        time_entries_add(
            contract_id=contract.pk,
            entries=[_input(0, time(9), "2"), _input(1, time(9), "0.3"), _input(0, time(10), "1")],
            by=freelancer,
        )
    assert (refused.value.collection, sorted(refused.value.item_errors)) == ("entries", [1, 2])
    assert refused.value.message == "Nothing was saved: fix the entries at indexes 1, 2."
    assert not TimeEntry.objects.exists()

    with pytest.raises(ApplicationError, match=r"^Nothing was saved\. Entry 0: Only the freelancer") as whole:
        time_entries_add(contract_id=contract.pk, entries=[_input(0, time(9), "2")], by=member.user)
    assert not isinstance(whole.value, BulkApplicationError)

    saved = time_entries_add(
        contract_id=contract.pk, entries=[_input(0, time(9), "2"), _input(1, time(13), "1.5")], by=freelancer
    )
    assert [entry.hours for entry in saved] == [Decimal("2.00"), Decimal("1.50")]
    assert Timesheet.objects.get().total_hours == Decimal("3.50")


@pytest.mark.django_db
def test_the_bulk_measurement_service_saves_all_or_reports_every_refused_row_by_index(make_sow, sow_parties) -> None:
    sow = make_sow()
    rows = [
        MeasurementInput(metric="csat", period=LAST_MONTH, value=Decimal("4.4")),
        MeasurementInput(metric="uptime_pct", period=LAST_MONTH, value=Decimal("99.9")),
    ]

    with pytest.raises(BulkApplicationError) as refused:
        sla_measurements_record(sow_id=sow.pk, measurements=rows, by=sow_parties.vendor_owner)
    assert refused.value.item_errors == {1: {"metric": ["This statement of work has no service level for Uptime (%)."]}}
    assert not SLAMeasurement.objects.exists()

    saved = sla_measurements_record(sow_id=sow.pk, measurements=rows[:1], by=sow_parties.vendor_owner, source="api")
    assert [(row.metric, row.value, row.source) for row in saved] == [("csat", Decimal("4.40"), "api")]


@pytest.mark.django_db
def test_malformed_entries_are_a_400_at_their_index(hire) -> None:
    contract, _member, freelancer = _hourly(hire)
    key = freelancer_api_key(freelancer)
    url = f"{CONTRACTS}{contract.pk}/time-entries/"

    malformed = _post(key, url, {"entries": [_entry(0), _entry(1, work_date="yesterday", hours="x")]})
    empty = _post(key, url, {"entries": []})
    missing = _post(key, url, {})

    assert malformed.status_code == 400
    assert set(malformed.json()["errors"]["entries"]) == {"1"}
    assert set(malformed.json()["errors"]["entries"]["1"]) == {"work_date", "hours"}
    assert (empty.status_code, set(empty.json()["errors"])) == (400, {"entries"})
    assert (missing.status_code, set(missing.json()["errors"])) == (400, {"entries"})
    assert not TimeEntry.objects.exists()


@pytest.mark.django_db
def test_fields_an_entry_may_not_set_are_ignored(hire) -> None:
    contract, _member, freelancer = _hourly(hire)
    other, _m, _f = _hourly(hire)

    response = _post(
        freelancer_api_key(freelancer),
        f"{CONTRACTS}{contract.pk}/time-entries/",
        {
            "status": "approved",
            "contract_id": other.pk,
            "entries": [_entry(0, timesheet_id=123, status="approved", total_hours="40", id=7)],
        },
    )

    assert response.status_code == 201, response.content
    timesheet = Timesheet.objects.get()
    assert (timesheet.contract_id, timesheet.status, timesheet.total_hours) == (contract.pk, "draft", Decimal("2"))


@pytest.mark.django_db
def test_only_the_worker_logs_time_and_a_refusal_names_the_entry(hire) -> None:
    contract, member, freelancer = _hourly(hire)
    url = f"{CONTRACTS}{contract.pk}/time-entries/"
    body = {"entries": [_entry(0)]}

    by_client = _post(org_api_key(member.organization), url, body)

    assert by_client.status_code == 403
    assert by_client.json()["detail"] == (
        "Nothing was saved. Entry 0: Only the freelancer or vendor doing the work logs time."
    )
    assert _post(freelancer_api_key(freelancer, scopes=READ_SCOPES), url, body).status_code == 403
    assert _post(_outsider(), url, body).status_code == 404
    assert _post(None, url, body).status_code == 401
    assert not TimeEntry.objects.exists()


@pytest.mark.django_db
def test_a_submitted_week_refuses_more_time_with_a_409_and_saves_none_of_the_request(hire) -> None:
    contract, _member, freelancer = _hourly(hire)
    _log(contract, freelancer, day=0)
    timesheet_submit(timesheet_id=Timesheet.objects.get().pk, by=freelancer)
    this_week = week_start_of(timezone.localdate())
    fresh = {**_entry(), "work_date": this_week.isoformat()}

    response = _post(
        freelancer_api_key(freelancer), f"{CONTRACTS}{contract.pk}/time-entries/", {"entries": [fresh, _entry(2)]}
    )

    assert response.status_code == 409
    assert response.json()["detail"].startswith(f"Nothing was saved. Entry 1: The week of {MONDAY} is submitted")
    assert TimeEntry.objects.count() == 1


@pytest.mark.django_db
def test_a_contracts_weeks_are_listed_and_read_by_its_parties_only(hire) -> None:
    contract, member, freelancer = _hourly(hire)
    _log(contract, freelancer, day=0)
    _log(contract, freelancer, day=-7, hours="1.5")
    earlier, latest = Timesheet.objects.order_by("week_start")
    client_key = org_api_key(member.organization, scopes=READ_SCOPES)
    url = f"{CONTRACTS}{contract.pk}/timesheets/"

    listed = api_client(client_key).get(url)
    detail = api_client(freelancer_api_key(freelancer)).get(f"/api/v1/timesheets/{earlier.pk}/")

    assert _ids(listed) == [latest.pk, earlier.pk]
    assert [row["total_hours"] for row in listed.json()["results"]] == ["2.00", "1.50"]
    assert [entry["hours"] for entry in listed.json()["results"][0]["entries"]] == ["2.00"]
    assert detail.status_code == 200
    assert {key: detail.json()[key] for key in ("contract_id", "week_start", "status", "total_hours")} == {
        "contract_id": contract.pk,
        "week_start": (MONDAY - timedelta(days=7)).isoformat(),
        "status": "draft",
        "total_hours": "1.50",
    }
    assert _ids(api_client(client_key).get(url, {"status": "submitted"})) == []
    assert api_client(_outsider()).get(url).status_code == 404
    assert api_client(_outsider()).get(f"/api/v1/timesheets/{earlier.pk}/").status_code == 404
    assert api_client().get(f"/api/v1/timesheets/{earlier.pk}/").status_code == 401


@pytest.mark.django_db
def test_the_timesheet_list_costs_the_same_queries_for_one_week_as_for_three(hire) -> None:
    contract, member, freelancer = _hourly(hire)
    Contract.objects.filter(pk=contract.pk).update(start_date=MONDAY - timedelta(days=21))
    _log(contract, freelancer, day=0)
    client = api_client(org_api_key(member.organization))
    url = f"{CONTRACTS}{contract.pk}/timesheets/"
    one = _count_queries(client, url)
    _log(contract, freelancer, day=-7)
    _log(contract, freelancer, day=-14)
    _log(contract, freelancer, day=-14, start="13:00")

    three = _count_queries(client, url)

    assert len(_ids(client.get(url))) == 3
    assert three == one


@pytest.mark.django_db
def test_a_week_is_submitted_rejected_with_a_reason_resubmitted_and_approved(hire) -> None:
    contract, member, freelancer = _hourly(hire)
    _log(contract, freelancer)
    timesheet = Timesheet.objects.get()
    client_key, freelancer_key = org_api_key(member.organization), freelancer_api_key(freelancer)
    url = f"/api/v1/timesheets/{timesheet.pk}/"

    submitted = _post(freelancer_key, f"{url}submit/", {"status": "approved"})
    no_reason = _post(client_key, f"{url}reject/", {"reason": ""})
    rejected = _post(client_key, f"{url}reject/", {"reason": "Tuesday is missing"})
    _post(freelancer_key, f"{url}submit/")
    approved = _post(client_key, f"{url}approve/")

    assert (submitted.status_code, submitted.json()["status"]) == (200, "submitted")
    assert (no_reason.status_code, no_reason.json()["errors"]) == (400, {"reason": ["Required."]})
    assert (rejected.json()["status"], rejected.json()["rejection_reason"]) == ("rejected", "Tuesday is missing")
    assert (approved.status_code, approved.json()["status"], len(approved.json()["entries"])) == (200, "approved", 1)


@pytest.mark.django_db
def test_timesheet_actions_refuse_the_wrong_side_outsiders_and_read_only_keys(hire) -> None:
    contract, member, freelancer = _hourly(hire)
    _log(contract, freelancer)
    timesheet = Timesheet.objects.get()
    url = f"/api/v1/timesheets/{timesheet.pk}/"

    by_client = _post(org_api_key(member.organization), f"{url}submit/")

    assert (by_client.status_code, by_client.json()["detail"]) == (403, "Only the worker submits their week.")
    timesheet_submit(timesheet_id=timesheet.pk, by=freelancer)
    assert _post(freelancer_api_key(freelancer), f"{url}approve/").status_code == 403
    assert _post(org_api_key(member.organization, scopes=READ_SCOPES), f"{url}approve/").status_code == 403
    assert _post(_outsider(), f"{url}approve/").status_code == 404
    assert _post(_outsider(), f"{url}reject/", {"reason": "No"}).status_code == 404
    assert _post(None, f"{url}approve/").status_code == 401
    timesheet.refresh_from_db()
    assert timesheet.status == "submitted"


# --- statements of work -------------------------------------------------------------------------------------------


def _sow_body(counterparty, **overrides) -> dict:
    body = {
        "counterparty_id": counterparty.pk,
        "title": "Tier-1 customer support",
        "scope": "Email and chat support, 7 days a week.",
        "start_date": "2026-01-01",
        "pricing_model": "fixed_monthly",
        "currency": "USD",
        "monthly_fee": "10000.00",
    }
    return {**body, **overrides}


@pytest.mark.django_db
def test_both_sides_list_their_statements_of_work_with_service_levels_and_nobody_else_does(
    make_sow, sow_parties
) -> None:
    active = make_sow()
    draft = make_sow(status="draft", title="Second line")
    client_key = org_api_key(sow_parties.client, scopes=READ_SCOPES)

    mine = api_client(client_key).get(SOWS)
    vendors = api_client(org_api_key(sow_parties.vendor)).get(SOWS)

    assert _ids(mine) == [draft.pk, active.pk]
    assert _ids(vendors) == [draft.pk, active.pk]
    assert _ids(api_client(_outsider()).get(SOWS)) == []
    assert _ids(api_client(client_key).get(SOWS, {"status": "active"})) == [active.pk]
    row = mine.json()["results"][1]
    assert (row["status"], row["monthly_fee"], row["currency"], row["pricing_model"]) == (
        "active",
        "10000.00",
        "USD",
        "outcome_based",
    )
    assert row["organization"] == {"id": sow_parties.client.pk, "name": "Acme Retail"}
    assert row["vendor"] == {"id": sow_parties.vendor.pk, "name": "Helpdesk Partners"}
    assert [(level["metric"], level["direction"], level["target"]) for level in row["service_levels"]] == [
        ("csat", "at_least", "4.20"),
        ("first_response_minutes", "at_most", "60.00"),
    ]
    assert api_client(client_key).get(SOWS, {"status": "signed-ish"}).status_code == 400


@pytest.mark.django_db
def test_the_sow_list_costs_the_same_queries_for_one_as_for_three(make_sow, sow_parties) -> None:
    make_sow()
    client = api_client(org_api_key(sow_parties.client))
    one = _count_queries(client, SOWS)
    make_sow(status="draft")
    make_sow(status="proposed")

    three = _count_queries(client, SOWS)

    assert len(_ids(client.get(SOWS))) == 3
    assert three == one


@pytest.mark.django_db
def test_a_statement_of_work_is_read_with_its_service_levels_by_its_parties_only(make_sow, sow_parties) -> None:
    sow = make_sow()
    url = f"{SOWS}{sow.pk}/"

    response = api_client(org_api_key(sow_parties.vendor, scopes=READ_SCOPES)).get(url)
    levels = api_client(org_api_key(sow_parties.client)).get(f"{url}service-levels/")

    assert (response.status_code, response.json()["id"], response.json()["title"]) == (
        200,
        sow.pk,
        "Tier-1 customer support",
    )
    assert [level["metric"] for level in response.json()["service_levels"]] == ["csat", "first_response_minutes"]
    assert [level["metric"] for level in levels.json()["results"]] == ["first_response_minutes", "csat"]
    assert levels.json()["results"][1] == {
        "id": ServiceLevel.objects.get(sow=sow, metric="csat").pk,
        "metric": "csat",
        "direction": "at_least",
        "target": "4.20",
        "stretch_target": "4.60",
        "credit_pct": "5.00",
        "bonus_pct": "3.00",
    }
    assert api_client(_outsider()).get(url).status_code == 404
    assert api_client(_outsider()).get(f"{url}service-levels/").status_code == 404
    assert api_client().get(url).status_code == 401


@pytest.mark.django_db
def test_a_client_drafts_a_statement_of_work_and_fields_it_may_not_set_are_ignored(sow_parties) -> None:
    other = OrganizationFactory(kind="client")

    response = _post(
        org_api_key(sow_parties.client),
        SOWS,
        _sow_body(
            sow_parties.vendor,
            status="active",
            organization=other.pk,
            vendor=other.pk,
            handles_personal_data=True,
            client_signed_at="2026-01-01T00:00:00Z",
            activated_at="2026-01-01T00:00:00Z",
        ),
    )

    assert response.status_code == 201, response.content
    sow = StatementOfWork.objects.get()
    assert (sow.organization, sow.vendor, sow.status, sow.handles_personal_data, sow.client_signed_at) == (
        sow_parties.client,
        sow_parties.vendor,
        "draft",
        False,
        None,
    )
    assert {key: response.json()[key] for key in ("id", "status", "monthly_fee", "credit_cap_pct")} == {
        "id": sow.pk,
        "status": "draft",
        "monthly_fee": "10000.00",
        "credit_cap_pct": "20.00",
    }


@pytest.mark.django_db
def test_drafting_a_statement_of_work_is_refused_with_the_reasons_and_nothing_is_created(sow_parties) -> None:
    key = org_api_key(sow_parties.client)
    another_client = OrganizationFactory(kind="client")

    invalid = _post(key, SOWS, _sow_body(sow_parties.vendor, pricing_model="cheap", start_date="soon"))
    no_cap = _post(key, SOWS, _sow_body(sow_parties.vendor, pricing_model="time_and_materials"))
    wrong_side = _post(key, SOWS, _sow_body(another_client))

    assert (invalid.status_code, set(invalid.json()["errors"])) == (400, {"pricing_model", "start_date"})
    assert (no_cap.status_code, no_cap.json()["errors"]) == (
        400,
        {"monthly_budget_cap": ["Time and materials needs a monthly budget cap above zero."]},
    )
    assert (wrong_side.status_code, wrong_side.json()["errors"]) == (
        400,
        {"counterparty_id": ["Choose a vendor firm."]},
    )
    assert (
        _post(org_api_key(sow_parties.client, scopes=READ_SCOPES), SOWS, _sow_body(sow_parties.vendor)).status_code
        == 403
    )
    assert _post(None, SOWS, _sow_body(sow_parties.vendor)).status_code == 401
    assert not StatementOfWork.objects.exists()


@pytest.mark.django_db
def test_a_freelancers_key_cannot_draft_a_statement_of_work(hire, sow_parties) -> None:
    _contract, _member, freelancer = hire()

    response = _post(freelancer_api_key(freelancer), SOWS, _sow_body(sow_parties.vendor))

    assert response.status_code == 403
    assert not StatementOfWork.objects.exists()


@pytest.mark.django_db
def test_a_draft_is_proposed_and_signed_by_both_sides_over_the_api(make_sow, sow_parties) -> None:
    sow = make_sow(status="draft")
    client_key, vendor_key = org_api_key(sow_parties.client), org_api_key(sow_parties.vendor)

    proposed = _post(client_key, f"{SOWS}{sow.pk}/propose/", {"status": "active"})
    half = _post(vendor_key, f"{SOWS}{sow.pk}/sign/")
    again = _post(vendor_key, f"{SOWS}{sow.pk}/sign/")
    both = _post(client_key, f"{SOWS}{sow.pk}/sign/")

    assert (proposed.status_code, proposed.json()["status"]) == (200, "proposed")
    assert (half.json()["status"], half.json()["client_signed_at"]) == ("proposed", None)
    assert half.json()["vendor_signed_at"] is not None
    assert (again.status_code, again.json()["detail"]) == (409, "Your firm has already signed.")
    assert (both.status_code, both.json()["status"]) == (200, "active")


@pytest.mark.django_db
def test_signing_is_refused_to_outsiders_read_only_keys_and_drafts(make_sow, sow_parties) -> None:
    sow = make_sow(status="proposed")
    draft = make_sow(status="draft")

    assert _post(_outsider(), f"{SOWS}{sow.pk}/sign/").status_code == 404
    assert _post(_outsider(), f"{SOWS}{draft.pk}/propose/").status_code == 404
    assert _post(org_api_key(sow_parties.client, scopes=READ_SCOPES), f"{SOWS}{sow.pk}/sign/").status_code == 403
    assert _post(None, f"{SOWS}{sow.pk}/sign/").status_code == 401
    assert _post(org_api_key(sow_parties.client), f"{SOWS}{draft.pk}/sign/").status_code == 409
    sow.refresh_from_db()
    assert (sow.status, sow.client_signed_at, sow.vendor_signed_at) == ("proposed", None, None)


@pytest.mark.django_db
def test_service_levels_are_set_on_drafts_only_and_checked_by_the_service(make_sow, sow_parties) -> None:
    draft, active = make_sow(status="draft"), make_sow()
    key = org_api_key(sow_parties.vendor)
    body = {"metric": "uptime_pct", "target": "99.50", "credit_pct": "10", "id": 5, "sow": active.pk}

    added = _post(key, f"{SOWS}{draft.pk}/service-levels/", body)
    out_of_range = _post(key, f"{SOWS}{draft.pk}/service-levels/", {"metric": "csat", "target": "7"})
    unknown = _post(key, f"{SOWS}{draft.pk}/service-levels/", {"metric": "happiness", "target": "1"})
    frozen = _post(key, f"{SOWS}{active.pk}/service-levels/", body)

    assert added.status_code == 200, added.content
    level = ServiceLevel.objects.get(metric="uptime_pct")
    assert (level.sow_id, level.direction, level.target, level.credit_pct) == (
        draft.pk,
        "at_least",
        Decimal("99.50"),
        Decimal("10.00"),
    )
    assert added.json()["id"] == level.pk
    assert (out_of_range.status_code, out_of_range.json()["errors"]) == (
        400,
        {"target": ["Customer satisfaction (1–5) must be between 1 and 5."]},
    )
    assert (unknown.status_code, set(unknown.json()["errors"])) == (400, {"metric"})
    assert frozen.status_code == 409
    assert _post(_outsider(), f"{SOWS}{draft.pk}/service-levels/", body).status_code == 404
    assert (
        _post(
            org_api_key(sow_parties.vendor, scopes=READ_SCOPES), f"{SOWS}{draft.pk}/service-levels/", body
        ).status_code
        == 403
    )
    assert ServiceLevel.objects.filter(metric="uptime_pct").count() == 1


# --- SLA measurements ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_vendor_records_a_months_measurements_in_one_request(make_sow, sow_parties) -> None:
    sow = make_sow()
    key = org_api_key(sow_parties.vendor)
    period = f"{LAST_MONTH:%Y-%m}"

    response = _post(
        key,
        f"{SOWS}{sow.pk}/measurements/",
        {
            "measurements": [
                {"metric": "first_response_minutes", "period": period, "value": "42.50", "note": "From Zendesk"},
                {"metric": "csat", "period": f"{LAST_MONTH:%Y-%m}-15", "value": "4.4", "source": "client_entry"},
            ],
            "source": "client_entry",
        },
    )

    assert response.status_code == 200, response.content
    saved = list(SLAMeasurement.objects.order_by("metric").values_list("metric", "period", "value", "source", "note"))
    assert saved == [
        ("csat", LAST_MONTH, Decimal("4.40"), "api", ""),
        ("first_response_minutes", LAST_MONTH, Decimal("42.50"), "api", "From Zendesk"),
    ]
    assert [(row["metric"], row["period"], row["value"]) for row in response.json()["measurements"]] == [
        ("first_response_minutes", LAST_MONTH.isoformat(), "42.50"),
        ("csat", LAST_MONTH.isoformat(), "4.40"),
    ]


@pytest.mark.django_db
def test_a_measurement_is_corrected_by_recording_the_month_again(make_sow, sow_parties) -> None:
    sow = make_sow()
    sla_measurement_record(
        sow_id=sow.pk, metric="csat", period=LAST_MONTH, value=Decimal("3.9"), by=sow_parties.vendor_owner
    )

    response = _post(
        org_api_key(sow_parties.client),
        f"{SOWS}{sow.pk}/measurements/",
        {"measurements": [{"metric": "csat", "period": f"{LAST_MONTH:%Y-%m}", "value": "4.1"}]},
    )

    assert response.status_code == 200
    assert list(SLAMeasurement.objects.values_list("value", "source")) == [(Decimal("4.10"), "api")]


@pytest.mark.django_db
def test_measurements_are_saved_all_or_nothing_with_each_rows_errors_at_its_index(make_sow, sow_parties) -> None:
    sow = make_sow()
    period = f"{LAST_MONTH:%Y-%m}"

    response = _post(
        org_api_key(sow_parties.vendor),
        f"{SOWS}{sow.pk}/measurements/",
        {
            "measurements": [
                {"metric": "csat", "period": period, "value": "4.4"},
                {"metric": "uptime_pct", "period": period, "value": "99.9"},
                {"metric": "first_response_minutes", "period": f"{NEXT_MONTH:%Y-%m}", "value": "30"},
            ]
        },
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "measurements": {
            "1": {"metric": ["This statement of work has no service level for Uptime (%)."]},
            "2": {"period": ["The month must be within the statement of work and not in the future."]},
        }
    }
    assert not SLAMeasurement.objects.exists()


@pytest.mark.django_db
def test_malformed_or_repeated_measurement_rows_are_a_400_at_their_index(make_sow, sow_parties) -> None:
    sow = make_sow()
    key, url = org_api_key(sow_parties.vendor), f"{SOWS}{sow.pk}/measurements/"
    row = {"metric": "csat", "period": f"{LAST_MONTH:%Y-%m}", "value": "4.4"}

    malformed = _post(key, url, {"measurements": [row, {"metric": "csat", "period": "last month", "value": "x"}]})
    repeated = _post(key, url, {"measurements": [row, {**row, "value": "4.5"}]})
    empty = _post(key, url, {"measurements": []})

    assert malformed.status_code == 400
    assert malformed.json()["errors"]["measurements"]["1"] == {
        "period": ["Give the month as YYYY-MM."],
        "value": ["A valid number is required."],
    }
    assert (repeated.status_code, repeated.json()["errors"]) == (
        400,
        {"measurements": {"1": {"period": [f"csat for {LAST_MONTH:%Y-%m} is already measurement 0."]}}},
    )
    assert (empty.status_code, set(empty.json()["errors"])) == (400, {"measurements"})
    assert not SLAMeasurement.objects.exists()


@pytest.mark.django_db
def test_measurements_are_refused_on_drafts_and_to_outsiders_and_read_only_keys(make_sow, sow_parties) -> None:
    draft, active = make_sow(status="draft"), make_sow()
    body = {"measurements": [{"metric": "csat", "period": f"{LAST_MONTH:%Y-%m}", "value": "4.4"}]}

    on_draft = _post(org_api_key(sow_parties.vendor), f"{SOWS}{draft.pk}/measurements/", body)

    assert (on_draft.status_code, on_draft.json()["detail"]) == (
        409,
        "Nothing was saved. Measurement 0: Measurements can be recorded once the statement of work is active.",
    )
    assert _post(_outsider(), f"{SOWS}{active.pk}/measurements/", body).status_code == 404
    assert (
        _post(org_api_key(sow_parties.vendor, scopes=READ_SCOPES), f"{SOWS}{active.pk}/measurements/", body).status_code
        == 403
    )
    assert _post(None, f"{SOWS}{active.pk}/measurements/", body).status_code == 401
    assert not SLAMeasurement.objects.exists()


@pytest.mark.django_db
def test_measurements_are_listed_for_both_sides_only_filtered_by_metric_and_month(make_sow, sow_parties) -> None:
    sow = make_sow()
    earlier = month_start(LAST_MONTH - timedelta(days=1))
    for metric, period, value in [
        ("csat", LAST_MONTH, "4.4"),
        ("csat", earlier, "4.0"),
        ("first_response_minutes", LAST_MONTH, "50"),
    ]:
        sla_measurement_record(
            sow_id=sow.pk, metric=metric, period=period, value=Decimal(value), by=sow_parties.vendor_owner
        )
    url = f"{SOWS}{sow.pk}/measurements/"
    client = api_client(org_api_key(sow_parties.client, scopes=READ_SCOPES))

    everything = client.get(url)
    csat = client.get(url, {"metric": "csat"})
    last_month = client.get(url, {"period_from": LAST_MONTH.isoformat()})

    assert len(_ids(everything)) == 3
    assert [(row["period"], row["value"]) for row in csat.json()["results"]] == [  # newest record first
        (earlier.isoformat(), "4.00"),
        (LAST_MONTH.isoformat(), "4.40"),
    ]
    assert sorted(row["metric"] for row in last_month.json()["results"]) == ["csat", "first_response_minutes"]
    assert client.get(url, {"metric": "mood"}).status_code == 400
    assert api_client(_outsider()).get(url).status_code == 404
    assert api_client().get(url).status_code == 401


@pytest.mark.django_db
def test_the_measurement_list_costs_the_same_queries_for_one_as_for_three(make_sow, sow_parties) -> None:
    sow = make_sow()
    record = sla_measurement_record
    record(sow_id=sow.pk, metric="csat", period=LAST_MONTH, value=Decimal("4"), by=sow_parties.vendor_owner)
    client = api_client(org_api_key(sow_parties.vendor))
    url = f"{SOWS}{sow.pk}/measurements/"
    one = _count_queries(client, url)
    earlier = month_start(LAST_MONTH - timedelta(days=1))
    record(sow_id=sow.pk, metric="csat", period=earlier, value=Decimal("4"), by=sow_parties.vendor_owner)
    record(
        sow_id=sow.pk, metric="first_response_minutes", period=earlier, value=Decimal("9"), by=sow_parties.vendor_owner
    )

    three = _count_queries(client, url)

    assert len(_ids(client.get(url))) == 3
    assert three == one
