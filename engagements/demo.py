"""Demo engagements for `seed_demo`: milestones at every stage on fixed contracts, six weeks of timesheets on
hourly ones, a paused and a disputed contract. Idempotent: contracts that already have milestones or timesheets
are left as they are."""

from __future__ import annotations

import random
from datetime import time, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Membership, User
from billing.demo import Fund
from engagements.models import Contract, Milestone, Timesheet
from engagements.services import (
    MilestoneInput,
    TimeEntryInput,
    contract_dispute,
    contract_pause,
    milestone_approve,
    milestone_create,
    milestone_release,
    milestone_request_changes,
    milestone_submit,
    time_entry_add,
    timesheet_approve,
    timesheet_reject,
    timesheet_submit,
    week_start_of,
)

TASKS = ["API endpoints and tests", "Code review and fixes", "Data model changes", "Bug triage", "Client call"]


def _client(contract: Contract) -> User:
    membership = (
        Membership.objects.filter(organization_id=contract.organization_id)
        .exclude(role=Membership.Role.FINANCE)
        .order_by("created_at")
        .first()
    )
    assert membership is not None, "every client organisation has an owner"
    return membership.user


def _worker(contract: Contract) -> User:
    if contract.freelancer is not None:
        return contract.freelancer
    return Membership.objects.get(organization_id=int(contract.vendor_id or 0), role=Membership.Role.OWNER).user


def seed_engagements_demo(*, rng: random.Random, fund: Fund | None = None) -> dict[str, int]:
    """`fund(milestone_id, by)` pays a milestone through Stripe (billing.demo); without it milestones stay unfunded."""
    active = list(Contract.objects.filter(status=Contract.Status.ACTIVE).select_related("freelancer").order_by("pk"))
    today = timezone.localdate()
    for index, contract in enumerate(active):
        client, worker = _client(contract), _worker(contract)
        if contract.kind == Contract.Kind.FIXED and not Milestone.objects.filter(contract=contract).exists():
            total = contract.fixed_amount or Decimal("1000")
            first = milestone_create(
                contract_id=contract.pk,
                data=MilestoneInput(title="Discovery and plan", amount=(total * Decimal("0.4")).quantize(Decimal("1"))),
                by=client,
            )
            second = milestone_create(
                contract_id=contract.pk,
                data=MilestoneInput(
                    title="Delivery", amount=(total * Decimal("0.6")).quantize(Decimal("1")), due_date=contract.end_date
                ),
                by=client,
            )
            if fund is None:
                continue
            fund(first.pk, client)
            milestone_submit(milestone_id=first.pk, by=worker, note="Plan attached.")
            stage = index % 4
            if stage >= 1:
                milestone_request_changes(milestone_id=first.pk, by=client, note="Please add the rollout steps.")
                milestone_submit(milestone_id=first.pk, by=worker, note="Rollout steps added.")
            if stage >= 2:
                milestone_approve(milestone_id=first.pk, by=client)
                milestone_release(milestone_id=first.pk, by=client, amount=first.amount / 2 if stage == 2 else None)
            if stage == 3:
                fund(second.pk, client)
        if contract.kind == Contract.Kind.HOURLY and not Timesheet.objects.filter(contract=contract).exists():
            this_monday = week_start_of(today)
            Contract.objects.filter(pk=contract.pk).update(start_date=this_monday - timedelta(weeks=7))
            for weeks_ago in range(6, 0, -1):
                monday = this_monday - timedelta(weeks=weeks_ago)
                for day in range(5):
                    hours = Decimal(rng.choice([4, 5, 6, 7, 8])) / 2
                    time_entry_add(
                        contract_id=contract.pk,
                        data=TimeEntryInput(
                            work_date=monday + timedelta(days=day),
                            start_time=time(9),
                            hours=hours,
                            description=rng.choice(TASKS),
                        ),
                        by=worker,
                    )
                sheet = Timesheet.objects.get(contract=contract, week_start=monday)
                if weeks_ago == 1:
                    continue  # last week: still a draft
                timesheet_submit(timesheet_id=sheet.pk, by=worker)
                if weeks_ago == 2:
                    continue  # waiting for the client's review
                if weeks_ago == 4 and index % 3 == 0:
                    timesheet_reject(timesheet_id=sheet.pk, by=client, reason="Please add the ticket links.")
                    timesheet_submit(timesheet_id=sheet.pk, by=worker)
                timesheet_approve(timesheet_id=sheet.pk, by=client)
    if active and not Contract.objects.filter(status=Contract.Status.PAUSED).exists():
        contract_pause(contract_id=active[0].pk, by=_client(active[0]), reason="Waiting for the design sign-off")
    if len(active) > 1 and not Contract.objects.filter(status=Contract.Status.DISPUTED).exists():
        contract_dispute(
            contract_id=active[1].pk, by=_worker(active[1]), reason="Scope grew beyond the agreed milestones."
        )
    return {
        "contracts": Contract.objects.count(),
        "milestones": Milestone.objects.count(),
        "timesheets": Timesheet.objects.count(),
    }
